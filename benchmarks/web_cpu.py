"""Host CPU of the live path at 2 kHz with and without the live page open, side by side in one run.

    .venv/bin/python benchmarks/web_cpu.py [--seconds 30]

Writes throughput.py's 2 kHz signal (real surface-EMG rest, twitches, 50 Hz mains) as EDF+, then runs
`myotwitch live --source FILE --speed 1` twice on it, in real time as a board would stream: once plain
(`--no-view`), once with `--web --no-browser` and the page open in headless chromium (Debian's, driven
by playwright). The myotwitch process's CPU time (user + system, from its rusage when it exits) is
divided by the seconds of signal. Each is run for a short and a long stretch, and the CPU of the
short run taken from the long one: what is left is the steady cost per second of signal, without
starting Python, importing numpy and scipy, or writing the EDF+ at the end. The browser's CPU is its
own process and is not counted. Target: the live path with the page open below 3 % of one core.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "host"))

from live_path import write_edf_hourly
from web_browser import browser, browser_missing

SHORT_S = 5.0  # the short run, taken from the long one


def run_live(edf: Path, tmp: Path, seconds: float, web: bool) -> tuple[float, str]:
    """CPU seconds of one `myotwitch live` process, and its stderr."""
    name = f"{'web' if web else 'plain'}-{seconds:g}"
    argv = [sys.executable, "-m", "myotwitch", "live", "--source", str(edf), "--speed", "1", "--duration",
            f"{seconds:g}", "--format", "jsonl", "--no-view", "--out", str(tmp / name), "--db", str(tmp / "l.sqlite")]
    if web:
        argv += ["--web", "--no-browser"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr = []
    if web:
        with browser() as chromium:
            for line in process.stderr:
                stderr.append(line)
                found = re.search(r"live page: (\S+)", line)
                if found:
                    page = chromium.new_page(viewport={"width": 1280, "height": 800})
                    page.goto(found.group(1))
                    break
            stderr += process.stderr.readlines()
            _, status, usage = os.wait4(process.pid, 0)
    else:
        stderr += process.stderr.readlines()
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"myotwitch live failed:\n{''.join(stderr)}")
    return usage.ru_utime + usage.ru_stime, "".join(stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds of 2 kHz signal per run (default 30)")
    args = parser.parse_args(argv)
    missing = browser_missing()
    if missing:
        print(f"web_cpu: {missing}", file=sys.stderr)
        return 1
    short_s = SHORT_S
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        edf = tmp / "signal.edf"
        write_edf_hourly(edf, args.seconds + 2, seed=11)
        cpu = {(web, seconds): run_live(edf, tmp, seconds, web)[0]
               for web in (False, True) for seconds in (short_s, args.seconds)}
    print(f"live path at 2 kHz in real time, CPU of the myotwitch process, steady state ({args.seconds:g} s run "
          f"less a {short_s:g} s run):")
    steady = {}
    for web, name in ((False, "plain"), (True, "with the page open")):
        steady[web] = (cpu[web, args.seconds] - cpu[web, short_s]) / (args.seconds - short_s)
        print(f"  {name}: {100 * steady[web]:.2f} % of one core (whole {args.seconds:g} s run: "
              f"{cpu[web, args.seconds]:.2f} s CPU, start-up and EDF+ included)")
    print(f"  the page's own cost: {100 * (steady[True] - steady[False]):.2f} % of one core (target for the "
          "whole path with the page open: < 3 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
