"""Many recordings at once: `myotwitch analyze FOLDER --out DIR --jobs 2` against `--jobs 1`.

    .venv/bin/python benchmarks/batch.py [--files 8] [--hours 1] [--jobs 2] [--repeat 1]

Writes `--files` EDF+ recordings of `--hours` each at 2 kHz (real surface-EMG
rest tiled to length, twitches every ~3 s, 50 Hz mains: benchmarks/throughput.py's
signal, a different seed per file), then analyzes the folder through the
command line, one after another (`--jobs 1`) and `--jobs N` processes, each a
whole `myotwitch` process (start-up included), taking turns `--repeat` times. Reports the best
wall time of each and their ratio (the figure that matters: this machine's
speed varies from run to run), and checks both wrote the same summary table.
Target: `--jobs 2` at least 1.8x faster than one after another, on 2 free cores: the load average is
printed before and after, since other processes on the same cores make the ratio meaningless.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from throughput import make_signal, write_edf


def run_batch(folder: Path, out_dir: Path, jobs: int) -> tuple[float, str]:
    """Wall seconds of one whole `myotwitch analyze FOLDER --out OUT --jobs N` process, and its summary table.

    A whole process each time, so both ways pay the start-up (imports) they pay for a user."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "myotwitch", "analyze", str(folder), "--out", str(out_dir),
                             "--jobs", str(jobs)], check=False, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT / "host")))
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"analyze --jobs {jobs} failed: {result.stderr.strip()[-500:]}")
    return elapsed, (out_dir / "summary.csv").read_text()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="myotwitch-batch-") as tmp:
        folder = Path(tmp) / "recordings"
        folder.mkdir()
        for i in range(args.files):
            write_edf(folder / f"subject{i + 1:02d}.edf", make_signal(args.hours * 3600, seed=100 + i))
        size_mib = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
        print(f"{args.files} recordings of {args.hours:g} h at 2 kHz ({size_mib:.0f} MiB of EDF+), "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before", file=sys.stderr)
        times: dict[int, list[float]] = {1: [], args.jobs: []}
        tables: dict[int, str] = {}
        for r in range(args.repeat):
            for jobs in (1, args.jobs):
                elapsed, tables[jobs] = run_batch(folder, Path(tmp) / f"out-{jobs}-{r}", jobs)
                times[jobs].append(elapsed)
                print(f"  --jobs {jobs}: {elapsed:.1f} s", file=sys.stderr)
        if tables[1] != tables[args.jobs]:
            raise SystemExit("the two runs wrote different summary tables")
    print(f"load average {os.getloadavg()[0]:.2f} after", file=sys.stderr)
    one, many = min(times[1]), min(times[args.jobs])
    print(f"| files | hours each | --jobs 1 | --jobs {args.jobs} | speed-up |")
    print("|---|---|---|---|---|")
    print(f"| {args.files} | {args.hours:g} | {one:.1f} s | {many:.1f} s | {one / many:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
