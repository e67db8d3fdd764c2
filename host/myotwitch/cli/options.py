"""The options several commands share, each defined once, and the argument types.

Every command takes its shared options from the parent parsers here: `--debug`
(also accepted before the command), `--format` where a program may read the
output, `--db` where the SQLite log is read or written.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from datetime import date
from pathlib import Path


def _finite_float(allow_zero: bool, requirement: str) -> Callable[[str], float]:
    """An argparse type: a finite number above zero (or at least zero)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not (math.isfinite(value) and (value >= 0 if allow_zero else value > 0)):
            raise argparse.ArgumentTypeError(f"{requirement}: {text!r}")
        return value

    return parse


positive_float = _finite_float(False, "must be a positive number")
non_negative_float = _finite_float(True, "must be 0 or more")
speed = _finite_float(True, "must be 0 (as fast as possible) or a positive factor")

def positive_int(text: str) -> int:
    """An argparse type: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text!r}")
    return value


DEBUG_HELP = "show tracebacks on errors"
MIN_ANALYZE_RATE_HZ = 500.0  # the README's lowest supported rate: the 20-450 Hz band needs it


def analyze_rate(text: str) -> float:
    value = positive_float(text)
    if value < MIN_ANALYZE_RATE_HZ:
        raise argparse.ArgumentTypeError(f"{text} Hz is below {MIN_ANALYZE_RATE_HZ:g} Hz, the lowest rate supported")
    return value


def day(text: str) -> date:
    """An argparse type: a calendar date, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def shared_parent(*, jsonl: bool, db: bool, db_help: str | None = None) -> argparse.ArgumentParser:
    """The parent parser of a command: --debug always, --format and --db where the command has them.

    --debug's default is suppressed here so that `myotwitch --debug COMMAND` (the main parser's flag)
    is not overwritten by the command's own parser.
    """
    parent = argparse.ArgumentParser(add_help=False)
    if jsonl:
        parent.add_argument("--format", choices=("text", "jsonl"), default="text",
                            help="text for people, jsonl (one JSON object per line) for programs")
    else:
        parent.set_defaults(format="text")
    if db:
        parent.add_argument("--db", metavar="PATH",
                            help=db_help or "SQLite log (default: myotwitch.sqlite in the per-user data folder)")
    parent.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    return parent


def db_path(args: argparse.Namespace) -> Path:
    """--db, or the log in the per-user data folder."""
    if args.db:
        return Path(args.db)
    from myotwitch.store import default_data_dir

    return default_data_dir() / "myotwitch.sqlite"
