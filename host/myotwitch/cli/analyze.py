"""analyze: find twitches in a recording file (the work is in myotwitch.analysis)."""

from __future__ import annotations

import argparse
import sys
import time

from myotwitch.cli.output import Output, status


def cmd_analyze(args: argparse.Namespace, out: Output) -> int:
    from myotwitch import batch, heap

    if getattr(args, "owns_process", False):  # the console command, not a program calling main: its malloc is ours
        heap.keep_freed_memory()  # numpy's temporaries stay in the heap (heap.py)
    if batch.batch_requested(args):
        return batch.run_batch(args, out.stream, status)
    # Imported here, not at the top: a batch imports it once, where its workers are made (batch._worker_context).
    from myotwitch.analysis import FileAnalysis

    args.path = args.path[0]
    analysis = FileAnalysis(args.path, args.rate, muscles=args.muscle)
    if args.rate is not None and args.rate != analysis.stream_rate_hz:  # an EDF, WFDB or capture says its own
        status(f"warning: --rate {args.rate:g} not used: {args.path} gives its rate, {analysis.stream_rate_hz:g} Hz")
    last_report = time.monotonic()

    def progress(done_s: float, total_s: float | None) -> None:
        nonlocal last_report
        if sys.stderr.isatty() and time.monotonic() - last_report > 2.0:
            last_report = time.monotonic()
            status(f"analyzed {done_s:.0f} s" + (f" of {total_s:.0f} s" if total_s else ""))

    out.events(analysis.events(progress), analysis.stream_rate_hz)
    try:
        summary = analysis.summary()
    finally:
        for note in analysis.notes:
            status(note)
        for warning in analysis.warnings:
            status(f"warning: {warning}")
    out.summary(summary)
    return 0
