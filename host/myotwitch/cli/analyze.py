"""analyze: find twitches in a recording file."""

from __future__ import annotations

import argparse
import sys
import time

from myotwitch.cli.output import Output, status
from myotwitch.errors import MyotwitchError
from myotwitch.monitor import NAN_GAP, Monitor, gap_event


def monitor_for(rate_hz: float) -> Monitor:
    try:
        return Monitor(rate_hz)
    except ValueError as exc:
        raise MyotwitchError(str(exc)) from None


def cmd_analyze(args: argparse.Namespace, out: Output) -> int:
    from myotwitch.recordings import open_recording
    from myotwitch.sources.capture import CAPTURE_SUFFIX, CaptureSource
    from myotwitch.sources.replay import ReplaySource

    if str(args.path).lower().endswith(CAPTURE_SUFFIX):
        source = CaptureSource(args.path)
        rate_hz, total_s, label = source.rate_hz, None, source.path
    else:
        recording = open_recording(args.path, args.rate)
        source = ReplaySource(recording)
        rate_hz, total_s, label = recording.rate_hz, recording.duration_s, recording.path
    monitor = monitor_for(rate_hz)
    last_report = time.monotonic()
    reported_gaps = 0
    for block in source.blocks():
        out.events(monitor.feed(block))
        skipped = source.skipped
        for first, count in skipped[reported_gaps : len(skipped) - 1]:
            out.event(gap_event(first, count, rate_hz, NAN_GAP))
        reported_gaps = max(reported_gaps, len(skipped) - 1)
        if sys.stderr.isatty() and time.monotonic() - last_report > 2.0:
            last_report = time.monotonic()
            done_s = monitor.samples / rate_hz
            status(f"analyzed {done_s:.0f} s" + (f" of {total_s:.0f} s" if total_s else ""))
    out.events(monitor.finish())
    for first, count in source.skipped[reported_gaps:]:
        out.event(gap_event(first, count, rate_hz, NAN_GAP))
    if monitor.samples == 0:
        raise MyotwitchError(f"{label}: no samples" + (" that are numbers within ±10 V" if source.skipped else ""))
    if source.skipped:
        skipped_s = sum(count for _, count in source.skipped) / rate_hz
        status(f"warning: {label}: {skipped_s:.3f} s of values that are not numbers or beyond ±10 V were skipped "
               f"in {len(source.skipped)} place{'' if len(source.skipped) == 1 else 's'} (listed as gaps), "
               "never filled in")
    if monitor.detector.noise_uv is None:
        flat_s = monitor.skipped_s.get("flat", 0.0)
        if flat_s:
            raise MyotwitchError(f"{label}: the signal is flat ({flat_s:.1f} s: electrode off or no sensor?), "
                                 "nothing to analyze")
        needed_s = monitor.detector.warmup_s
        raise MyotwitchError(f"{label}: too short to estimate the noise floor "
                             f"({monitor.samples / rate_hz:.2f} s of signal, at least {needed_s:g} s needed)")
    out.summary({
        "seconds": round((monitor.samples + monitor.lost_samples) / rate_hz, 3),
        "samples": monitor.samples,
        "lost_samples": monitor.lost_samples,
        "rate_hz": rate_hz,
        **monitor.summary(),
        "path": str(label),
    })
    return 0
