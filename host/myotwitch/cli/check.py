"""check: is a build (board, sensor, electrodes) working? The work is in myotwitch.check."""

from __future__ import annotations

import argparse

from myotwitch import check
from myotwitch.cli.output import Output, status


def cmd_check(args: argparse.Namespace, out: Output) -> int:
    return check.run(args, out.stream, status)
