"""The whole live path at 2 kHz: CPU share of one core, memory, loss and agreement with analyze over a long run.

    .venv/bin/python benchmarks/live_path.py [--minutes 60]
    .venv/bin/python benchmarks/live_path.py --minutes 1440     # the 24-hour soak
    .venv/bin/python benchmarks/live_path.py --channels 3 --minutes 60   # 3 x 2 kHz through the wire

With --channels N (2 to 4), N different 2 kHz signals (the same generator,
other seeds) are played by the firmware as N channels, and the host's serial
source (decoder, per-channel scaling) reads them as fast as they come: the
firmware, the pty and the v2 decoder, not the live session (whose detectors
per channel are other work). Reported: sample sets received and lost against
what the board produced, every byte the board wrote (data, STATS, END: the
decoder's bytes_in) per sample per channel, each channel compared with its
own signal, and the host's CPU.

A 2 kHz recording (benchmarks/throughput.py's: real surface-EMG rest from
data/biosppy-emg, upsampled, with twitches and 50 Hz mains added, as EDF+) is played by our firmware in the
MicroPython Unix port as fast as it can, through a pseudo-terminal, into the
host's live session: frame decoding, detection, episodes, the SQLite log,
the session folder (raw samples, events.jsonl) and the EDF+ at the end:
everything `myotwitch live` does except drawing the terminal view.

Reported: the host process's CPU seconds per second of signal (its share of
one core at 2 kHz in real time; the firmware's own process is not counted,
it stands in for the board), the host's resident memory sampled at each
quarter of the run (flat means nothing grows with the session's length),
samples received and lost against what the board produced, and the twitch
count against offline analysis of the very samples the board sent: the
session's raw file, turned back into the board's 12-bit counts (exact in
float32) and fed to a fresh Monitor in other block sizes, as `analyze`
would. The signal is generated an hour at a time, so a day of it never sits
in memory.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "host"))

from myotwitch.sources.reconnecting import ReconnectingBoard  # noqa: E402
from myotwitch.live.session import Session, SessionOptions  # noqa: E402
from myotwitch.monitor import Monitor  # noqa: E402
from myotwitch.protocol import BoardInfo  # noqa: E402
from myotwitch.recordings import open_recording  # noqa: E402
from myotwitch.sources import SampleBlock  # noqa: E402
from myotwitch.sources.serial_source import SerialSource  # noqa: E402
from myotwitch.sources.simboard import SimBoard  # noqa: E402
from throughput import RATE_HZ, make_signal, rss_mib  # noqa: E402  (the same 2 kHz signal)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="minutes of 2 kHz signal (default 60)")
    parser.add_argument("--channels", type=int, default=1, choices=(1, 2, 3, 4),
                        help="channels the board streams (default 1: the whole live session)")
    args = parser.parse_args(argv)
    if args.channels > 1:
        return wire_path(args.minutes, args.channels)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"writing {args.minutes:g} min of 2 kHz signal ...", flush=True)
        write_edf_hourly(tmp / "long.edf", args.minutes * 60, seed=11)
        recording = open_recording(tmp / "long.edf")
        with SimBoard(recording, speed=0) as board:
            source = ReconnectingBoard(lambda: _open(board.port), "sim", give_up_after_s=5)
            session = Session(SessionOptions("live", tmp / "log.sqlite", tmp / "session"), emit=lambda e, rate_hz: None)
            samples = []
            done = threading.Event()
            expected = recording.n_samples

            def sample_memory() -> None:
                marks = [0.25, 0.5, 0.75]
                while not done.wait(0.05) and marks:
                    written = _written(tmp / "session")
                    if written >= marks[0] * expected:
                        samples.append((marks.pop(0), rss_mib()))

            watcher = threading.Thread(target=sample_memory, daemon=True)
            watcher.start()
            c0, t0 = time.process_time(), time.perf_counter()
            summary = session.run(source, Monitor)
            cpu_s, wall_s = time.process_time() - c0, time.perf_counter() - t0
            done.set()
            samples.append((1.0, rss_mib()))
            print("analyzing the recorded samples offline ...", flush=True)
            offline_twitches = offline_twitch_count(tmp / "session" / "samples.f32", source.info)
            produced = summary["samples_produced"]
    signal_s = summary["samples"] / RATE_HZ
    print(f"live path, 2 kHz, {signal_s / 60:.0f} min of signal through the sim board at maximum speed:")
    print(f"  samples {summary['samples']} received, {summary['lost_samples']} lost; the board produced {produced}; "
          f"wall {wall_s:.1f} s")
    same = "equal" if offline_twitches == summary["twitches"] else "DIFFERENT"
    print(f"  twitches: live {summary['twitches']}, offline analysis of the same samples {offline_twitches} ({same})")
    print(f"  host CPU {cpu_s:.1f} s for {signal_s:.0f} s of signal = {100 * cpu_s / signal_s:.2f} % of one core "
          "in real time (target: below 2 %)")
    print("  resident memory at " + ", ".join(f"{int(f * 100)} %: {m:.0f} MiB" for f, m in samples))
    return 0


def wire_path(minutes: float, channels: int) -> int:
    """N channels x 2 kHz: the firmware (Unix port, maximum speed), the pty and the host's v2 serial source."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"writing {minutes:g} min of 2 kHz signal on {channels} channels ...", flush=True)
        recordings = []
        for c in range(channels):
            write_edf_hourly(tmp / f"ch{c}.edf", minutes * 60, seed=11 + 100 * c)
            recordings.append(open_recording(tmp / f"ch{c}.edf"))
        with SimBoard(recordings[0], speed=0, more_channels=tuple(recordings[1:])) as board:
            # The board's own counts of each channel, to compare what arrives with (read_u16 >> 4).
            sent_counts = np.fromfile(board._adc_path, dtype="<u2").reshape(-1, channels) >> 4
            source = _open(board.port)
            info = source.info
            assert info is not None and info.channels == channels
            lsb_uv = info.vref_mv * 1000.0 / (1 << info.adc_bits) / info.gain
            mid = 1 << (info.adc_bits - 1)
            c0, t0 = time.process_time(), time.perf_counter()
            source.start()
            received = mismatched = 0
            for block in source.blocks():
                assert block.channels_uv is not None
                counts = np.round(block.channels_uv.T / lsb_uv + mid).astype(np.int64)
                start = block.start_index
                mismatched += int(np.count_nonzero(counts != sent_counts[start : start + len(counts)]))
                received += len(counts)
            cpu_s, wall_s = time.process_time() - c0, time.perf_counter() - t0
            stats, produced = source.decoder.stats, source.board_counters.get("samples")
            source.close()
    signal_s = received / RATE_HZ
    bytes_per_sample = stats.bytes_in / (received * channels)
    print(f"wire path, {channels} channels x 2 kHz, {signal_s / 60:.1f} min of signal through the sim board's "
          f"firmware at maximum speed (wall {wall_s:.1f} s):")
    print(f"  sample sets {received} received, {stats.lost_samples} lost; the board produced {produced}; "
          f"CRC errors {stats.crc_errors}, skipped bytes {stats.skipped_bytes}")
    print(f"  values differing from the board's own counts: {mismatched}")
    print(f"  bytes on the wire {stats.bytes_in} = {bytes_per_sample:.3f} per sample per channel (target: <= 2.0)")
    print(f"  host CPU {cpu_s:.1f} s for {signal_s:.0f} s of signal = {100 * cpu_s / signal_s:.2f} % of one core "
          "(decoding and scaling only)")
    ok = stats.lost_samples == 0 and mismatched == 0 and produced == received and bytes_per_sample <= 2.0
    return 0 if ok else 1


def write_edf_hourly(path: Path, seconds: float, seed: int) -> None:
    """throughput.py's signal, made and written an hour at a time (1 s EDF records)."""
    import pyedflib

    w = pyedflib.EdfWriter(str(path), 1, file_type=pyedflib.FILETYPE_EDFPLUS)
    w.setSignalHeaders([{"label": "EMG", "dimension": "uV", "sample_frequency": RATE_HZ, "physical_max": 3000.0,
                         "physical_min": -3000.0, "digital_max": 32767, "digital_min": -32768}])
    hour = 0
    while hour * 3600 < seconds:
        x = make_signal(min(3600.0, seconds - hour * 3600), seed=seed + hour)
        for start in range(0, len(x) - len(x) % RATE_HZ, RATE_HZ):
            w.writePhysicalSamples(x[start : start + RATE_HZ])
        hour += 1
    w.close()


def offline_twitch_count(raw_path: Path, info: BoardInfo, block_samples: int = 65536) -> int:
    """Twitches found offline in the samples the board sent: its counts recovered from the float32 µV, then µV
    by the live path's own BoardInfo.counts_to_uv, fed in blocks unlike the live 50-sample frames."""
    lsb_uv = info.vref_mv * 1000.0 / (1 << info.adc_bits) / info.gain
    mid = 1 << (info.adc_bits - 1)
    raw = np.memmap(raw_path, dtype="<f4", mode="r")
    monitor = Monitor(RATE_HZ)
    for start in range(0, len(raw), block_samples):
        uv32 = np.asarray(raw[start : start + block_samples], dtype=np.float64)
        if not np.isfinite(uv32).all():  # lost samples are NaN in the raw file
            raise SystemExit("samples were lost in the live run; the offline comparison needs a complete stream")
        monitor.feed(SampleBlock(start, info.counts_to_uv(np.round(uv32 / lsb_uv) + mid)))
    monitor.finish()
    return monitor.twitches


def _open(port: str) -> SerialSource:
    source = SerialSource(port, silence_timeout_s=10.0)
    source.open()
    return source


def _written(folder: Path) -> int:
    try:
        return (folder / "samples.f32").stat().st_size // 4
    except OSError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
