"""What a live session costs in real time: the host process's own CPU while the board streams at its pace.

    .venv/bin/python benchmarks/live_realtime.py [--seconds 40] [--rate 2000] [--profile]

Runs `myotwitch live --source sim --speed 1 --rate R` (the firmware in the
MicroPython Unix port, paced by its timer like a board, the bundled recording
resampled to R) and reads the host process's utime + stime from
/proc/PID/stat at two moments `--seconds` apart once streaming has settled
(after `--settle` seconds: imports, start-up, the first filter designs). The
share of one core is that CPU over that wall time. The firmware's own process
(a stand-in for the board) is read the same way and reported apart: it is not
the host's cost.

Unlike benchmarks/throughput.py's live figure (the pipeline fed as fast as it
goes), this includes what real time costs: a wake-up per frame, timers, the
per-second flushes. `--profile` runs the same session under cProfile and
prints where the host's time goes (cProfile slows the calls it counts: read
the shares, not the totals; the whole run, so start-up imports dominate). For
the steady state alone, sample the running session after it settled:

    .venv/bin/pip install py-spy
    .venv/bin/myotwitch live --source sim --rate 2000 --speed 1 --duration 45 --no-view & sleep 9
    .venv/bin/py-spy record --pid $! --duration 30 --rate 500 --format raw -o live.txt --nonblocking

(py-spy leaves out idle threads by default; on 2026-12-01 its 208 samples at 500 Hz, 0.42 s, matched the
0.37-0.43 s of CPU /proc gave for 30 s.)
Target: below 1 % of one core at 2 kHz. Linux only (/proc).

Before and after, side by side in one run (the same load on the machine):

    git worktree add --detach /tmp/myotwitch-main main
    .venv/bin/python benchmarks/live_realtime.py --compare /tmp/myotwitch-main --rounds 3

runs that checkout's host code and this one's in turn, `--rounds` times each,
and prints every run, the medians and their ratio. Each run also reports the
host's wake-ups a second: its voluntary context switches (every thread's, from
/proc/PID/task/*/status) over the same window, the count that per-frame reads
and timers drive up.

Several channels (target: below 3 % of one core for 3 channels at 2 kHz):

    .venv/bin/python benchmarks/live_realtime.py --channels 3 --rounds 3

runs `myotwitch demo --channels 3 --speed 1` (the simulated board streaming 3 channels, one detector
each and the cross-channel rules on the host) and, in turn in the same run, `demo --channels 1` on the
same recording's first signal, and prints both and their ratio. The recording is --recording PATH (3 EMG
signals at --rate), else host/myotwitch/data/demo_hand_3ch.edf if it is there at --rate, else one made
here from the bundled forearm recording resampled to --rate: channel 0 the recording, channels 1 and 2
the same rest signal started a third and two thirds of the way in (other samples, the same statistics).
"""

from __future__ import annotations

import argparse
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """utime + stime of one process, from /proc/PID/stat (fields 14 and 15, after the command's parentheses)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def wakeups(pid: int) -> int:
    """Voluntary context switches of every thread of one process: the times it blocked and was woken."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/status") as f:
            total += sum(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))
    return total


def children(pid: int) -> list[int]:
    pids: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            pids += [int(p) for p in f.read().split()]
    return pids


def live_command(seconds: float, rate_hz: int, out: Path, python: list[str],
                 channels: tuple[int, Path] | None = None) -> list[str]:
    """`live --source sim`, or with `channels` (N, recording) `demo --channels N --recording PATH`."""
    source = ["live", "--source", "sim", "--rate", str(rate_hz)] if channels is None else \
        ["demo", "--channels", str(channels[0]), "--recording", str(channels[1])]
    return [*python, *source, "--speed", "1", "--duration", f"{seconds:g}",
            "--no-view", "--format", "jsonl", "--out", str(out / "session"), "--db", str(out / "log.sqlite")]


def three_signal_recording(rate_hz: int, folder: Path, given: Path | None = None) -> Path:
    """The recording of several EMG signals the --channels runs play (see the module's docstring)."""
    if given is not None:
        return given
    bundled = ROOT / "host" / "myotwitch" / "data" / "demo_hand_3ch.edf"
    sys.path.insert(0, str(ROOT / "host"))
    sys.path.insert(0, str(ROOT / "tools"))
    import numpy as np
    import recording_files

    from myotwitch.recordings import open_recording, open_signals
    from myotwitch.sources.simboard import at_rate

    if bundled.is_file() and open_signals(bundled)[0][0].rate_hz == rate_hz:
        return bundled
    recording = at_rate(open_recording(ROOT / "host" / "myotwitch" / "data" / "demo_forearm_rest.edf"), rate_hz)
    x = np.concatenate(list(recording.blocks()))
    rows = [np.roll(x, -k * len(x) // 3) for k in range(3)]
    # 0.1 µV per count, as the bundled recording's own EDF step allows.
    counts = [np.clip(np.round(r * 10), -32768, 32767).astype(np.int64) for r in rows]
    path = folder / f"three-signals-{rate_hz}.edf"
    path.write_bytes(recording_files.edf_bytes(counts, rate_hz=rate_hz, physical=(-3276.8, 3276.7),
                                               digital=(-32768, 32767), labels=["EMG one", "EMG two", "EMG three"]))
    return path


def measure(seconds: float, settle_s: float, rate_hz: int, root: Path = ROOT,
            channels: tuple[int, Path] | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="myotwitch-live-") as tmp:
        python = [sys.executable, "-m", "myotwitch"]
        command = live_command(settle_s + seconds + 5, rate_hz, Path(tmp), python, channels)
        env = dict(os.environ, PYTHONPATH=str(root / "host"), XDG_DATA_HOME=tmp)
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        try:
            time.sleep(settle_s)
            firmware = [p for p in children(proc.pid) if "micropython" in Path(f"/proc/{p}/cmdline").read_text()]
            host0, wall0, woken0 = cpu_s(proc.pid), time.perf_counter(), wakeups(proc.pid)
            fw0 = sum(cpu_s(p) for p in firmware)
            time.sleep(seconds)
            host1, wall1, woken1 = cpu_s(proc.pid), time.perf_counter(), wakeups(proc.pid)
            fw1 = sum(cpu_s(p) for p in firmware)
        finally:
            proc.wait(timeout=settle_s + seconds + 60)
        if proc.returncode != 0:
            raise SystemExit(f"the session failed: {proc.stderr.read() if proc.stderr else ''}")
    wall = wall1 - wall0
    return {"wall_s": wall, "host_cpu_s": host1 - host0, "host_share": (host1 - host0) / wall,
            "firmware_share": (fw1 - fw0) / wall, "wakeups_per_s": (woken1 - woken0) / wall}


def profile(seconds: float, rate_hz: int, top: int = 25) -> None:
    with tempfile.TemporaryDirectory(prefix="myotwitch-live-") as tmp:
        stats_path = Path(tmp) / "live.prof"
        command = live_command(seconds, rate_hz, Path(tmp),
                               [sys.executable, "-m", "cProfile", "-o", str(stats_path), "-m", "myotwitch"])
        env = dict(os.environ, PYTHONPATH=str(ROOT / "host"), XDG_DATA_HOME=tmp)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        stats = pstats.Stats(str(stats_path))
        stats.sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--settle", type=float, default=8.0, help="seconds before the first reading")
    parser.add_argument("--rate", type=int, default=2000, choices=(500, 1000, 2000))
    parser.add_argument("--profile", action="store_true", help="also run under cProfile and print the top functions")
    parser.add_argument("--compare", type=Path, metavar="CHECKOUT",
                        help="also run another checkout's host code (before), in turn with this one's")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each variant, interleaved")
    parser.add_argument("--channels", type=int, choices=(2, 3),
                        help="the simulated board streams N channels; compared with 1 channel in the same run")
    parser.add_argument("--recording", type=Path, help="with --channels: the recording of N EMG signals to play")
    args = parser.parse_args(argv)
    if args.channels:
        return compare_channels(args)
    if args.compare:
        return compare(args)
    r = measure(args.seconds, args.settle, args.rate)
    print(f"load average {os.getloadavg()[0]:.2f} (other processes on these cores)", file=sys.stderr)
    print("| rate | seconds in real time | host CPU | host share of one core | host wake-ups a second "
          "| firmware process (the board's stand-in) |")
    print("|---|---|---|---|---|---|")
    print(f"| {args.rate} Hz | {r['wall_s']:.1f} s | {r['host_cpu_s']:.2f} s | {r['host_share'] * 100:.2f} % "
          f"| {r['wakeups_per_s']:.0f} | {r['firmware_share'] * 100:.2f} % |")
    if args.profile:
        profile(args.seconds, args.rate)
    return 0


def compare(args: argparse.Namespace) -> int:
    variants = [(f"{args.compare}", args.compare.resolve()), ("this checkout", ROOT)]
    shares: dict[str, list[float]] = {name: [] for name, _ in variants}
    print("| round | variant | rate | seconds in real time | host CPU | host share of one core "
          "| host wake-ups a second |")
    print("|---|---|---|---|---|---|---|")
    for n in range(args.rounds):
        for name, root in variants:
            r = measure(args.seconds, args.settle, args.rate, root)
            shares[name].append(r["host_share"])
            print(f"| {n + 1} | {name} | {args.rate} Hz | {r['wall_s']:.1f} s | {r['host_cpu_s']:.2f} s "
                  f"| {r['host_share'] * 100:.2f} % | {r['wakeups_per_s']:.0f} |", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} (other processes on these cores)", file=sys.stderr)
    first = statistics.median(shares[variants[0][0]])
    for name, values in shares.items():
        median = statistics.median(values)
        print(f"median {name}: {median * 100:.2f} % of one core, {median / first:.2f}x the first")
    return 0


def compare_channels(args: argparse.Namespace) -> int:
    """N channels and 1 channel of the same recording, in turn, `--rounds` times: each run and the medians."""
    with tempfile.TemporaryDirectory(prefix="myotwitch-channels-") as tmp:
        recording = three_signal_recording(args.rate, Path(tmp), args.recording)
        shares: dict[int, list[float]] = {1: [], args.channels: []}
        print("| round | channels | rate | seconds in real time | host CPU | host share of one core "
              "| firmware process |")
        print("|---|---|---|---|---|---|---|")
        for n in range(args.rounds):
            for channels in (1, args.channels):
                r = measure(args.seconds, args.settle, args.rate, channels=(channels, recording))
                shares[channels].append(r["host_share"])
                print(f"| {n + 1} | {channels} | {args.rate} Hz | {r['wall_s']:.1f} s | {r['host_cpu_s']:.2f} s "
                      f"| {r['host_share'] * 100:.2f} % | {r['firmware_share'] * 100:.2f} % |", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} (other processes on these cores)", file=sys.stderr)
    one, several = statistics.median(shares[1]), statistics.median(shares[args.channels])
    print(f"median 1 channel: {one * 100:.2f} % of one core; {args.channels} channels: {several * 100:.2f} % "
          f"({several / one:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
