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

A file with several EMG signals (EDF/BDF signals, CSV columns) is analysed
channel by channel, one detector each, and the cross-channel rules
(dsp/channels.py) reject common-mode artifacts and crosstalk; every event is
then a ChannelEvent naming its channel and muscle, and the summary holds one
entry per channel under "channels". One signal gives the events and summary
of before, unchanged.

A recording of one signal is read and filtered (dsp/conditioning.py) one
block ahead in a second thread (read_ahead.py) where more than one core is
available, while this thread runs the rest of the detector: the same events,
sooner. `analyze_file(..., read_ahead=False)` or `with one_thread():` keep to
one thread (batch.py's workers do: they are one per core).
"""

from __future__ import annotations

import bisect
import contextlib
import contextvars
import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from myotwitch.errors import MyotwitchError
from myotwitch.events import ChannelEvent, Event, Gap
from myotwitch.monitor import Monitor, MultiMonitor, muscle_fields
from myotwitch.sources import SampleBlock
from myotwitch.sources.replay import NAN_GAP

if TYPE_CHECKING:
    from myotwitch.dsp.conditioning import Conditioned
    from myotwitch.sources.capture import CaptureSource

FILE_GAP = "no samples in the file: a pause between its records, or a jump in its time column"

# A batch's workers are one per core already: a second thread each would only make them take turns.
_ONE_THREAD = contextvars.ContextVar("myotwitch_one_thread", default=False)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Analyses started inside run in one thread, whatever the cores (batch.py's workers)."""
    token = _ONE_THREAD.set(True)
    try:
        yield
    finally:
        _ONE_THREAD.reset(token)


def read_ahead_by_default() -> bool:
    """A second thread reads and conditions the next block while this one runs the detector where more than
    one core is available, unless inside `one_thread()`."""
    from myotwitch.read_ahead import usable_cores

    return not _ONE_THREAD.get() and usable_cores() > 1


def monitor_for(rate_hz: float) -> Monitor:
    """The detection pipeline for a rate; an unsupported rate is a MyotwitchError (said to the user)."""
    try:
        return Monitor(rate_hz)
    except ValueError as exc:
        raise MyotwitchError(str(exc)) from None


def is_capture(path: str | os.PathLike) -> bool:
    """A raw capture of a board's bytes (`--capture`), told by its first bytes (a version 1 capture by its name)."""
    from myotwitch.recordings import sniff_format

    return Path(path).is_file() and sniff_format(Path(path)) == "capture"


def open_source(path: str | os.PathLike, rate_hz: float | None = None):
    """A recording file or a raw capture (*.mtwcap) as a source; returns (source, rate Hz, length s or None,
    the file's own gaps: samples it says are missing, as EDF+D pauses or a time column's jumps)."""
    from myotwitch.recordings import open_recording
    from myotwitch.sources.replay import ReplaySource

    if is_capture(path):
        from myotwitch.sources.capture import CaptureSource  # with the live session's modules: only for a capture

        capture = CaptureSource(Path(path))
        return capture, capture.rate_hz, None, []
    recording = open_recording(path, rate_hz)
    # The recording's gaps grow while a CSV is read.
    return ReplaySource(recording), recording.rate_hz, recording.duration_s, recording.gaps


def split_gap(file_gaps: list[tuple[int, int]], first: int, count: int) -> Iterator[Gap]:
    """A run of missing samples as gaps, each with its reason. The replay source joins runs that touch, so
    one run may hold pauses of the file's own and invalid values next to them: each is said apart."""
    # The file's gaps are in order of their first sample: found by bisection, not by scanning the list
    # (a file may have thousands), which grows while a CSV is read
    at, end = first, first + count
    i = bisect.bisect_left(file_gaps, (first, 0))
    while i < len(file_gaps) and sum(file_gaps[i]) <= end:
        start, missing = file_gaps[i]
        if start > at:
            yield Gap(at, start - at, NAN_GAP)
        yield Gap(start, missing, FILE_GAP)
        at, i = start + missing, i + 1
    if at < end:
        yield Gap(at, end - at, NAN_GAP)


@dataclass
class FileAnalysis:
    """One file's analysis, run step by step: iterate `events()`, then read `summary()`.

    `on_progress(done_s, total_s)` is called after each block (total_s is None when the
    length is not known beforehand, as for a capture).

    `read_ahead`: a recording of one signal is read and filtered (conditioning.py) one block ahead in a
    second thread while this one runs the rest of the detector: the same events, sooner where a second core
    is free. None: `read_ahead_by_default()`.
    """

    path: str | os.PathLike
    rate_hz: float | None = None  # for a CSV without a time column
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said on stderr, not warnings: a file's own pauses
    muscles: list[str] | None = None  # where each channel's electrodes are, one name per EMG signal
    read_ahead: bool | None = None

    def __post_init__(self) -> None:
        if self.read_ahead is None:
            self.read_ahead = read_ahead_by_default()
        self.multi: MultiChannelAnalysis | None = None
        self.label: Path = Path(self.path)
        capture = is_capture(self.path)
        if not capture:
            from myotwitch.dsp.detector import MIN_RATE_HZ
            from myotwitch.recordings import open_signals

            try:
                recordings, skipped = open_signals(self.path, self.rate_hz, MIN_RATE_HZ)
            except MyotwitchError:
                recordings, skipped = [], []  # the one-signal path below says what is wrong, as it always has
            if len(recordings) > 1:
                self.multi = MultiChannelAnalysis(recordings, skipped, self.muscles)
                self.stream_rate_hz, self.total_s = self.multi.rate_hz, recordings[0].duration_s
                self.label = recordings[0].path
                self.notes += [f"{self.label}: skipped {s}" for s in skipped]
                return
        if self.muscles is not None and len(self.muscles) > 1:
            raise MyotwitchError(f"{len(self.muscles)} muscles named for {self.path}, which has one EMG signal")
        self.source, self.stream_rate_hz, self.total_s, self.file_gaps = open_source(self.path, self.rate_hz)
        # A raw capture replays the live session's gap and noise notes; its module (and the live session's
        # behind it, a tenth of analyze's start-up) is imported by open_source only for a capture.
        self.capture: CaptureSource | None = self.source if capture else None
        label = getattr(self.source, "recording", None)
        self.label = label.path if label is not None else Path(self.source.path)
        self.monitor = monitor_for(self.stream_rate_hz)

    def _gaps(self, first: int, count: int) -> Iterator[Gap]:
        return split_gap(self.file_gaps, first, count)

    def events(self, on_progress: Callable[[float, float | None], None] | None = None) -> Iterator[Event]:
        if self.multi is not None:
            yield from self.multi.events(on_progress, self.total_s)
            return
        source, monitor, rate_hz = self.source, self.monitor, self.stream_rate_hz
        reported_gaps = 0
        capture = self.capture
        stream: Generator[tuple[SampleBlock, Conditioned | None, int | None], None, None]
        if self.read_ahead and capture is None:
            from myotwitch.read_ahead import read_ahead

            stream = read_ahead(self._conditioned_blocks())
        else:
            stream = ((block, None, None) for block in source.blocks())
        try:
            for block, conditioned, skipped_runs in stream:
                if capture is not None:  # the live session's gap and noise notes, as it had them
                    yield from capture.events_for(block)
                yield from monitor.feed(block, conditioned)
                # A run of skipped values is reported once the next block shows it has ended. Read ahead, the
                # source's list may hold later runs: only those it held when this block was read count.
                skipped = source.skipped
                # Not below 0: skipped[:-1] would be every run but the last, the source's list read ahead.
                ended = max((len(skipped) if skipped_runs is None else skipped_runs) - 1, 0)
                for first, count in skipped[reported_gaps:ended]:
                    yield from self._gaps(first, count)
                reported_gaps = max(reported_gaps, ended)
                if on_progress is not None:
                    on_progress(monitor.samples / rate_hz, self.total_s)
        finally:
            stream.close()  # read ahead: the thread stops with the loop, however it ends
        yield from monitor.finish()
        for first, count in source.skipped[reported_gaps:]:
            yield from self._gaps(first, count)

    def _conditioned_blocks(self) -> Iterator[tuple[SampleBlock, Conditioned, int]]:
        """In the read-ahead thread: each block, filtered, with the count of skipped runs the source had then
        (runs before the last of them are over; the last may grow with the next block)."""
        source, detector = self.source, self.monitor.detector
        for block in source.blocks():
            yield block, detector.condition(block.start_index, block.samples_uv), len(source.skipped)

    def summary(self) -> dict:
        """The summary, once events() is exhausted; raises MyotwitchError if the file held nothing to analyze."""
        if self.multi is not None:
            return self.multi.summary(self.warnings, self.notes)
        source, monitor, rate_hz, label = self.source, self.monitor, self.stream_rate_hz, self.label
        if monitor.samples == 0:
            raise MyotwitchError(f"{label}: no samples" + (" that are numbers within ±10 V" if source.skipped else ""))
        if monitor.detector.noise_uv is None:
            flat = _flat(monitor)
            if flat:
                raise MyotwitchError(f"{label}: {flat}")
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
        implausible = _implausible_floor(monitor.detector.noise_uv)
        if implausible:
            self.warnings.append(f"{label}: {implausible}")
        summary = {
            "seconds": round((monitor.samples + monitor.lost_samples) / rate_hz, 3),
            "samples": monitor.samples,
            "lost_samples": monitor.lost_samples,
            "rate_hz": rate_hz,
            **monitor.summary(),
            **(self.capture.summary() if self.capture is not None else {}),
            "path": str(label),
        }
        if self.muscles:  # named on the command line: said in the summary, the events stay as they were
            summary.update(muscle_fields(self.muscles[0]))
        return summary


# Surface EMG's noise floor in the 20-450 Hz band: about 0.5-10 µV (electrodes, amplifier, the ADC's step).
# Ten times below the lowest, a file's values are not µV at the electrodes: volts or millivolts read as µV
# (10^6 or 10^3 too small), or a signal with no noise at all (made by a program, or a smooth drift).
IMPLAUSIBLE_FLOOR_UV = 0.05


def _implausible_floor(noise_uv: float | None) -> str | None:
    if noise_uv is None or noise_uv >= IMPLAUSIBLE_FLOOR_UV:
        return None
    return (f"noise floor {noise_uv:.3g} µV, far below any electrode's (0.5-10 µV): are the values µV? Volts or "
            "millivolts read as µV are 10^6 or 10^3 too small, and amplitudes and twitches with them")


def _flat(monitor: Monitor) -> str | None:
    """Why nothing could be analyzed if the signal was flat (skipped as such), or None."""
    flat_s = monitor.skipped_s.get("flat", 0.0)
    if not flat_s:
        return None
    return (f"the signal is flat ({flat_s:.1f} s: electrode off, no sensor, or values in V or mV, not µV?), "
            "nothing to analyze")


def _no_floor(monitor: Monitor, skipped: list[tuple[int, int]], rate_hz: float) -> str | None:
    """Why a channel gave no noise floor (nothing could be detected on it), or None: it did."""
    if monitor.samples == 0:
        return "no samples" + (" that are numbers within ±10 V" if skipped else "")
    if monitor.detector.noise_uv is not None:
        return None
    flat = _flat(monitor)
    if flat:
        return flat
    needed_s = monitor.detector.warmup_s
    return (f"too short to estimate the noise floor ({monitor.samples / rate_hz:.2f} s of signal without a gap, "
            f"at least {needed_s:g} s needed)")


class MultiChannelAnalysis:
    """A file with several EMG signals: one ReplaySource each, read in step, through a MultiMonitor."""

    def __init__(self, recordings: list, skipped: list[str], muscles: list[str] | None) -> None:
        from myotwitch.sources.replay import ReplaySource

        if muscles is not None and len(muscles) != len(recordings):
            names = ", ".join(repr(r.label) for r in recordings)
            raise MyotwitchError(f"{recordings[0].path}: {len(muscles)} muscle name{'' if len(muscles) == 1 else 's'} "
                                 f"for {len(recordings)} EMG signals ({names}): name one per signal, in that order")
        self.recordings = recordings
        self.skipped_signals = skipped
        self.rate_hz = recordings[0].rate_hz
        self.muscles = muscles if muscles is not None else [r.label for r in recordings]
        self.sources = [ReplaySource(r) for r in recordings]
        self.monitor = MultiMonitor(self.rate_hz, self.muscles)

    def _gaps(self, channel: int, first: int, count: int) -> list[ChannelEvent]:
        return [ChannelEvent(channel, gap, self.muscles[channel])
                for gap in split_gap(self.recordings[channel].gaps, first, count)]

    def events(self, on_progress: Callable[[float, float | None], None] | None,
               total_s: float | None) -> Iterator[Event]:
        """Each channel read up to the same index before the detectors are fed: a block of every channel."""
        streams = [s.blocks() for s in self.sources]
        held: list[SampleBlock | None] = [next(s, None) for s in streams]
        reported = [0] * len(streams)
        step = self.sources[0].block_samples
        target = 0
        while any(b is not None for b in held):
            target += step
            while True:
                due = [b if b is not None and b.start_index < target else None for b in held]
                if all(b is None for b in due):
                    break
                yield from self.monitor.feed(due)
                held = [next(streams[c], None) if due[c] is not None else held[c] for c in range(len(held))]
            for c, source in enumerate(self.sources):
                skipped, upto = source.skipped, held[c]
                # A run of skipped values is over once a later block was read; at the end of the file, all are.
                ended = len(skipped) if upto is None else sum(1 for first, _ in skipped if first < upto.start_index)
                for first, count in skipped[reported[c] : ended]:
                    yield from self._gaps(c, first, count)
                reported[c] = max(reported[c], ended)
            if on_progress is not None:
                on_progress(min(target, max(m.samples + m.lost_samples for m in self.monitor.channels))
                            / self.rate_hz, total_s)
        yield from self.monitor.finish()

    def summary(self, warnings: list[str], notes: list[str]) -> dict:
        label = self.recordings[0].path
        totals = self.monitor.summary()
        channels = totals["channels"]
        unusable = {}
        for c, (monitor, source) in enumerate(zip(self.monitor.channels, self.sources, strict=True)):
            why = _no_floor(monitor, source.skipped, self.rate_hz)
            if why is not None:
                unusable[c] = why
            implausible = _implausible_floor(monitor.detector.noise_uv)
            if implausible:
                warnings.append(f"{label}: {self.muscles[c]}: {implausible}")
            invalid = [g for run in source.skipped for g in split_gap(self.recordings[c].gaps, *run)
                       if g.why != FILE_GAP]
            if invalid:
                skipped_s = sum(g.samples for g in invalid) / self.rate_hz
                warnings.append(f"{label}: {self.muscles[c]}: {skipped_s:.3f} s of "
                                f"values that are not numbers or beyond ±10 V were skipped in {len(invalid)} "
                                f"place{'' if len(invalid) == 1 else 's'} (listed as gaps), never filled in")
        if len(unusable) == len(channels):
            raise MyotwitchError(f"{label}: {self.muscles[0]}: {unusable[0]}")
        for c, why in unusable.items():
            warnings.append(f"{label}: {self.muscles[c]}: {why}")
        paused = self.recordings[0].gaps
        if paused:
            notes.append(f"{label}: {sum(n for _, n in paused) / self.rate_hz:.3f} s missing from the file in "
                         f"{len(paused)} place{'' if len(paused) == 1 else 's'}, listed as gaps")
        time = {key: totals.pop(key) for key in ("seconds", "samples", "lost_samples")}
        return {
            **time,
            "rate_hz": self.rate_hz,
            **totals,
            "skipped_signals": self.skipped_signals,
            "path": str(label),
        }


@dataclass(frozen=True)
class AnalysisResult:
    events: list[Event]
    summary: dict
    warnings: list[str]
    rate_hz: float


def analyze_file(path: str | os.PathLike, rate_hz: float | None = None,
                 muscles: list[str] | None = None, read_ahead: bool | None = None) -> AnalysisResult:
    """Analyze a whole file at once (a program's entry point; the CLI streams with FileAnalysis)."""
    analysis = FileAnalysis(path, rate_hz, muscles=muscles, read_ahead=read_ahead)
    events = list(analysis.events())
    return AnalysisResult(events, analysis.summary(), analysis.warnings, analysis.stream_rate_hz)
