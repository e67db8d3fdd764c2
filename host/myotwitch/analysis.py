"""Analysis of one recording file: blocks through the detector, gaps listed, one summary.

What `myotwitch analyze` runs, callable from a program:

    result = analyze_file("rest.edf")
    result.events   # typed events (events.py), in stream order: Twitch, Rejected, Episode, Gap, ...
    [serialize.to_json(e, result.rate_hz) for e in result.events]  # as `analyze --format jsonl` prints them
    result.summary  # counts, noise floor, mains lines found

Values a file holds that are not numbers (or beyond ±10 V) are never filled
in: each run of them becomes a gap event, counted as lost samples. A file
with no usable samples, a flat signal or too little signal for the noise
floor raises MyotwitchError saying which.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from myotwitch.errors import MyotwitchError
from myotwitch.events import Event, Gap
from myotwitch.monitor import Monitor
from myotwitch.sources.capture import CaptureSource
from myotwitch.sources.replay import NAN_GAP

FILE_GAP = "no samples in the file: a pause between its records, or a jump in its time column"


def monitor_for(rate_hz: float) -> Monitor:
    """The detection pipeline for a rate; an unsupported rate is a MyotwitchError (said to the user)."""
    try:
        return Monitor(rate_hz)
    except ValueError as exc:
        raise MyotwitchError(str(exc)) from None


def open_source(path: str | os.PathLike, rate_hz: float | None = None):
    """A recording file or a raw capture (*.mtwcap) as a source; returns (source, rate Hz, length s or None,
    the file's own gaps: samples it says are missing, as EDF+D pauses or a time column's jumps)."""
    from myotwitch.recordings import open_recording, sniff_format
    from myotwitch.sources.replay import ReplaySource

    if Path(path).is_file() and sniff_format(Path(path)) == "capture":  # by its first bytes, not its name alone
        capture = CaptureSource(Path(path))
        return capture, capture.rate_hz, None, []
    recording = open_recording(path, rate_hz)
    return ReplaySource(recording), recording.rate_hz, recording.duration_s, recording.gaps  # gaps grow while a CSV is read


@dataclass
class FileAnalysis:
    """One file's analysis, run step by step: iterate `events()`, then read `summary()`.

    `on_progress(done_s, total_s)` is called after each block (total_s is None when the
    length is not known beforehand, as for a capture).
    """

    path: str | os.PathLike
    rate_hz: float | None = None  # for a CSV without a time column
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said on stderr, not warnings: a file's own pauses

    def __post_init__(self) -> None:
        self.source, self.stream_rate_hz, self.total_s, self.file_gaps = open_source(self.path, self.rate_hz)
        label = getattr(self.source, "recording", None)
        self.label: Path = label.path if label is not None else Path(self.source.path)
        self.monitor = monitor_for(self.stream_rate_hz)

    def _gaps(self, first: int, count: int) -> Iterator[Gap]:
        """A run of missing samples as gaps, each with its reason. The replay source joins runs that touch, so
        one run may hold pauses of the file's own and invalid values next to them: each is said apart."""
        # The file's gaps are in order of their first sample: found by bisection, not by scanning the list
        # (a file may have thousands), which grows while a CSV is read
        at, end = first, first + count
        i = bisect.bisect_left(self.file_gaps, (first, 0))
        while i < len(self.file_gaps) and sum(self.file_gaps[i]) <= end:
            start, missing = self.file_gaps[i]
            if start > at:
                yield Gap(at, start - at, NAN_GAP)
            yield Gap(start, missing, FILE_GAP)
            at, i = start + missing, i + 1
        if at < end:
            yield Gap(at, end - at, NAN_GAP)

    def events(self, on_progress: Callable[[float, float | None], None] | None = None) -> Iterator[Event]:
        source, monitor, rate_hz = self.source, self.monitor, self.stream_rate_hz
        reported_gaps = 0
        capture = source if isinstance(source, CaptureSource) else None
        for block in source.blocks():
            if capture is not None:  # the live session's gap and noise notes, as it had them
                yield from capture.events_for(block)
            yield from monitor.feed(block)
            # A run of skipped values is reported once the next block shows it has ended.
            skipped = source.skipped
            for first, count in skipped[reported_gaps : len(skipped) - 1]:
                yield from self._gaps(first, count)
            reported_gaps = max(reported_gaps, len(skipped) - 1)
            if on_progress is not None:
                on_progress(monitor.samples / rate_hz, self.total_s)
        yield from monitor.finish()
        for first, count in source.skipped[reported_gaps:]:
            yield from self._gaps(first, count)

    def summary(self) -> dict:
        """The summary, once events() is exhausted; raises MyotwitchError if the file held nothing to analyze."""
        source, monitor, rate_hz, label = self.source, self.monitor, self.stream_rate_hz, self.label
        if monitor.samples == 0:
            raise MyotwitchError(f"{label}: no samples" + (" that are numbers within ±10 V" if source.skipped else ""))
        if monitor.detector.noise_uv is None:
            flat_s = monitor.skipped_s.get("flat", 0.0)
            if flat_s:
                raise MyotwitchError(f"{label}: the signal is flat ({flat_s:.1f} s: electrode off or no sensor?), "
                                     "nothing to analyze")
            needed_s = monitor.detector.warmup_s
            if source.skipped and monitor.samples >= needed_s * rate_hz:
                raise MyotwitchError(f"{label}: no stretch of {needed_s:g} s without a gap, so no noise floor "
                                     f"({monitor.samples / rate_hz:.2f} s of signal cut by {len(source.skipped)} gaps)")
            raise MyotwitchError(f"{label}: too short to estimate the noise floor "
                                 f"({monitor.samples / rate_hz:.2f} s of signal, at least {needed_s:g} s needed)")
        gaps = [g for run in source.skipped for g in self._gaps(*run)]
        invalid = [(g.first_index, g.samples) for g in gaps if g.why != FILE_GAP]
        paused = [(g.first_index, g.samples) for g in gaps if g.why == FILE_GAP]
        if paused:
            self.notes.append(
                f"{label}: {sum(n for _, n in paused) / rate_hz:.3f} s missing from the file in {len(paused)} "
                f"place{'' if len(paused) == 1 else 's'} (a pause between its records, or a jump in its time "
                "column), listed as gaps")
        if invalid:
            skipped_s = sum(count for _, count in invalid) / rate_hz
            self.warnings.append(
                f"{label}: {skipped_s:.3f} s of values that are not numbers or beyond ±10 V were skipped "
                f"in {len(invalid)} place{'' if len(invalid) == 1 else 's'} (listed as gaps), never filled in")
        return {
            "seconds": round((monitor.samples + monitor.lost_samples) / rate_hz, 3),
            "samples": monitor.samples,
            "lost_samples": monitor.lost_samples,
            "rate_hz": rate_hz,
            **monitor.summary(),
            **(source.summary() if isinstance(source, CaptureSource) else {}),
            "path": str(label),
        }


@dataclass(frozen=True)
class AnalysisResult:
    events: list[Event]
    summary: dict
    warnings: list[str]
    rate_hz: float


def analyze_file(path: str | os.PathLike, rate_hz: float | None = None) -> AnalysisResult:
    """Analyze a whole file at once (a program's entry point; the CLI streams with FileAnalysis)."""
    analysis = FileAnalysis(path, rate_hz)
    events = list(analysis.events())
    return AnalysisResult(events, analysis.summary(), analysis.warnings, analysis.stream_rate_hz)
