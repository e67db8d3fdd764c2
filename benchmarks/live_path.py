"""The whole live path at 2 kHz: CPU share of one core and memory over a long run.

    .venv/bin/python benchmarks/live_path.py [--minutes 60]

A 2 kHz recording (benchmarks/throughput.py's: real surface-EMG rest from
data/biosppy-emg, upsampled, with twitches and 50 Hz mains added, as EDF+) is played by our firmware in the
MicroPython Unix port as fast as it can, through a pseudo-terminal, into the
host's live session: frame decoding, detection, episodes, the SQLite log,
the session folder (raw samples, events.jsonl) and the EDF+ at the end:
everything `myotwitch live` does except drawing the terminal view.

Reported: the host process's CPU seconds per second of signal (its share of
one core at 2 kHz in real time; the firmware's own process is not counted,
it stands in for the board), and the host's resident memory sampled at each
quarter of the run (flat means nothing grows with the session's length).
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

from myotwitch.live.connection import ReconnectingBoard  # noqa: E402
from myotwitch.live.session import Session, SessionOptions  # noqa: E402
from myotwitch.monitor import Monitor  # noqa: E402
from myotwitch.recordings import open_recording  # noqa: E402
from myotwitch.sources.serial_source import SerialSource  # noqa: E402
from myotwitch.sources.simboard import SimBoard  # noqa: E402
from throughput import RATE_HZ, make_signal, rss_mib, write_edf  # noqa: E402  (the same 2 kHz signal)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="minutes of 2 kHz signal (default 60)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"writing {args.minutes:g} min of 2 kHz signal ...", flush=True)
        write_edf(tmp / "long.edf", make_signal(args.minutes * 60, seed=11))
        recording = open_recording(tmp / "long.edf")
        with SimBoard(recording, speed=0) as board:
            source = ReconnectingBoard(lambda: _open(board.port), "sim", give_up_after_s=5)
            session = Session(SessionOptions("live", tmp / "log.sqlite", tmp / "session"), emit=lambda e: None)
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
    signal_s = summary["samples"] / RATE_HZ
    print(f"live path, 2 kHz, {signal_s / 60:.0f} min of signal through the sim board at maximum speed:")
    print(f"  samples {summary['samples']} received, {summary['lost_samples']} lost; "
          f"{summary['twitches']} twitches; wall {wall_s:.1f} s")
    print(f"  host CPU {cpu_s:.1f} s for {signal_s:.0f} s of signal = {100 * cpu_s / signal_s:.2f} % of one core "
          "in real time (target: below 2 %)")
    print("  resident memory at " + ", ".join(f"{int(f * 100)} %: {m:.0f} MiB" for f, m in samples))
    return 0


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
