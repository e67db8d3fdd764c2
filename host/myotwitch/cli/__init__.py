"""The `myotwitch` command: demo, live, analyze, report, sessions, mark, flash, ports.

Data (twitch and episode lines, the summary) goes to stdout, as text or as
JSON lines (--format jsonl); status and errors go to stderr. Exit codes:
0 ok, 1 runtime error (bad file, missing port), 2 usage error.

`parser.py` holds the grammar; each command group has its module (`board.py`:
demo, live, flash, ports; `analyze.py`; `sessions.py`: sessions, report, mark),
imported only when one of its commands runs.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TextIO

from myotwitch.cli.output import Output
from myotwitch.cli.parser import build_parser
from myotwitch.errors import MyotwitchError, UsageError

__all__ = ["build_parser", "main", "run"]


# numpy's BLAS (OpenBLAS here) starts a thread per core and keeps it spinning after each call. The linear
# algebra myotwitch does is small (the doublet check's least-squares fits), so those threads only burn CPU:
# 8 % more for a 1-hour analyze, and they fight the other workers of a batch for the cores. One thread,
# unless the person running it chose otherwise. Set before numpy is imported (the CLI imports it lazily);
# batch workers inherit it from this process's environment.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def main(argv: list[str] | None = None, stdout: TextIO | None = None, *, owns_process: bool = False) -> int:
    """`owns_process`: this is the console command, the process is ours (see run): commands may tune it."""
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    args.owns_process = owns_process
    if args.command is None:  # no command: the commands list, as a usage error (as argparse exits on one)
        parser.print_help(sys.stderr)
        raise SystemExit(2)
    out = Output(args.format, stdout)
    try:
        command = getattr(importlib.import_module(f"myotwitch.cli.{args.module}"), args.func)
        return command(args, out)
    except MyotwitchError as exc:
        if args.debug:
            raise
        # A reader says what is wrong with the data; which flag helps is the command line's to say.
        flag = ""
        if getattr(exc, "needs_rate", False):  # demo has no --rate: its recording needs a time column
            flag = "; add a time_s column" if args.command == "demo" else "; give the sampling rate with --rate HZ"
        print(f"myotwitch: error: {exc}{flag}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt:
        print("myotwitch: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """The console command `myotwitch`: main() in a process of its own."""
    sys.exit(main(owns_process=True))
