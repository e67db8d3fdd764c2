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
the shares, not the totals). Target: below 1 % of one core at 2 kHz. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import os
import pstats
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


def children(pid: int) -> list[int]:
    pids: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            pids += [int(p) for p in f.read().split()]
    return pids


def live_command(seconds: float, rate_hz: int, out: Path, python: list[str]) -> list[str]:
    return [*python, "live", "--source", "sim", "--speed", "1", "--rate", str(rate_hz), "--duration", f"{seconds:g}",
            "--no-view", "--format", "jsonl", "--out", str(out / "session"), "--db", str(out / "log.sqlite")]


def measure(seconds: float, settle_s: float, rate_hz: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="myotwitch-live-") as tmp:
        command = live_command(settle_s + seconds + 5, rate_hz, Path(tmp), [sys.executable, "-m", "myotwitch"])
        env = dict(os.environ, PYTHONPATH=str(ROOT / "host"), XDG_DATA_HOME=tmp)
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        try:
            time.sleep(settle_s)
            firmware = [p for p in children(proc.pid) if "micropython" in Path(f"/proc/{p}/cmdline").read_text()]
            host0, wall0 = cpu_s(proc.pid), time.perf_counter()
            fw0 = sum(cpu_s(p) for p in firmware)
            time.sleep(seconds)
            host1, wall1 = cpu_s(proc.pid), time.perf_counter()
            fw1 = sum(cpu_s(p) for p in firmware)
        finally:
            proc.wait(timeout=settle_s + seconds + 60)
        if proc.returncode != 0:
            raise SystemExit(f"the session failed: {proc.stderr.read() if proc.stderr else ''}")
    wall = wall1 - wall0
    return {"wall_s": wall, "host_cpu_s": host1 - host0, "host_share": (host1 - host0) / wall,
            "firmware_share": (fw1 - fw0) / wall}


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
    args = parser.parse_args(argv)
    r = measure(args.seconds, args.settle, args.rate)
    print(f"load average {os.getloadavg()[0]:.2f} (other processes on these cores)", file=sys.stderr)
    print("| rate | seconds in real time | host CPU | host share of one core | firmware process (the board's stand-in) |")
    print("|---|---|---|---|---|")
    print(f"| {args.rate} Hz | {r['wall_s']:.1f} s | {r['host_cpu_s']:.2f} s | {r['host_share'] * 100:.2f} % "
          f"| {r['firmware_share'] * 100:.2f} % |")
    if args.profile:
        profile(args.seconds, args.rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
