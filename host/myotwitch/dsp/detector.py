"""A streaming, causal twitch detector.

1. Condition: band-pass 20-450 Hz and notch the mains and its harmonics
   (filters.py; 50 or 60 Hz chosen from the first seconds unless forced).
2. Track the noise floor (noise_floor.py): sigma of each 0.5 s window (1.4826 x median |x|),
   and a low quantile of the last 20 s of windows, so activity filling most
   of that time does not raise it, while a lasting change of electrode
   contact does.
3. Find candidates (candidates.py): detect high on a short-window RMS (8 ms, about a
   twitch's width, so a one-sample spike does not pass where a 4-sigma
   potential of 10 ms does), delimit low on |x|.
4. Track activity (activity.py): an envelope (RMS over 100 ms) above 3 sigma for at
   least 0.5 s opens an activity segment, below 2 sigma for 0.3 s closes
   it; six or more candidates within a second are activity too.
5. Decide each candidate once `decision_delay_s` of signal after it has been
   seen (decisions.py, by the table in rules.py, on features.py's measures): artifact (clipping, pop, motion,
   ECG-like train),
   activity, continual firing, echo, doublet, or twitch.

Everything is keyed to absolute sample indices (noise windows are aligned to
multiples of their length from sample 0, events carry indices), so the output
does not depend on how the stream is cut into blocks. This module only wires the stages together.
"""


from __future__ import annotations

import numpy as np

from myotwitch.dsp import streaming
from myotwitch.dsp.activity import ActivityTracker
from myotwitch.dsp.candidates import CandidateFinder
from myotwitch.dsp.config import MAX_RATE_HZ, MIN_RATE_HZ, DetectorConfig, SampleCounts
from myotwitch.dsp.decisions import Decisions
from myotwitch.dsp.events import ActivitySegment, DetectorStats, Reason, Rejected, SignalIssue, Twitch
from myotwitch.dsp.features import Features
from myotwitch.dsp.filters import StreamingSosFilter, choose_mains, design_bandpass_sos, design_mains_sos
from myotwitch.dsp.noise_floor import NoiseFloor

__all__ = ["MAX_RATE_HZ", "MIN_RATE_HZ", "ActivitySegment", "DetectorConfig", "DetectorStats", "Reason", "Rejected",
           "SignalIssue", "Twitch", "TwitchDetector"]


_DEFAULT_CONFIG = DetectorConfig()


class TwitchDetector:
    """Feed blocks of µV with the absolute index of their first sample; get events in index order."""

    def __init__(self, rate_hz: float, config: DetectorConfig = _DEFAULT_CONFIG) -> None:
        self.counts = SampleCounts.of(config, rate_hz)  # checks the rate and the config
        self.rate_hz = float(rate_hz)
        self.config = config
        self._bandpass_sos = design_bandpass_sos(rate_hz, config.filters)
        self.reset()

    # -- state ----------------------------------------------------------------
    def reset(self) -> None:
        counts = self.counts
        self.mains_hz: tuple[float, ...] | None = None
        self._filter: StreamingSosFilter | None = None
        self._probe: list[np.ndarray] = []
        self._probe_start: int | None = None
        self._squares = streaming.MovingSquares((counts.energy_window, counts.envelope_window))
        self._rails = streaming.RailRuns(counts.clip_run)
        ring = counts.delay + counts.piece + round(1.5 * self.rate_hz)
        self._ring_y, self._ring_raw = streaming.Ring(ring), streaming.Ring(ring)
        self._next_index: int | None = None
        self._processed = 0  # absolute index after the last sample run through the detector
        self._settling: tuple[int, int] | None = None  # after a gap: [start, end) where nothing can be detected
        self._out: list = []
        self.stats = DetectorStats()
        emit = self._out.append
        self._floor = NoiseFloor(self.config, counts.window, emit)
        self._finder = CandidateFinder(self.config, counts, self._ring_y)
        self._activity = ActivityTracker(self.config, counts, self.rate_hz, emit)
        self._features = Features(self.config, counts, self._ring_y, self._ring_raw, self.rate_hz)
        self._decisions = Decisions(self.config, counts, self._features, self._activity.segments, self.stats, emit)

    @property
    def warmup_s(self) -> float:
        """Signal needed before anything can be detected: the first noise windows."""
        return self.config.warmup_windows * self.config.noise_window_s

    @property
    def noise_uv(self) -> float | None:
        """Current noise floor (sigma of the filtered signal at rest), or None while warming up."""
        return self._floor.floor

    @property
    def held_samples(self) -> int:
        """How far back the rules can read the signal: the decision delay, a piece, and 1.5 s."""
        return self._ring_y.size

    @property
    def settled_index(self) -> int:
        """Every twitch peaking before this index has been returned already."""
        undecided = [self._decisions.first_undecided_peak, self._finder.open_from, self._probe_start]
        return min((u for u in undecided if u is not None), default=self._processed)

    # -- input ------------------------------------------------------------------
    def process(self, start_index: int, block_uv: np.ndarray) -> list:
        block_uv = np.asarray(block_uv, dtype=np.float64)
        if self._next_index is not None and start_index != self._next_index:
            self._discontinuity(start_index)
        self._next_index = start_index + len(block_uv)
        self.stats.samples += len(block_uv)
        if self._filter is None:
            if self._probe_start is None:
                self._probe_start = start_index
            self._probe.append(block_uv)
            if sum(len(p) for p in self._probe) < self.counts.probe:
                return self._take()
            self._start_filter()
        else:
            self._run(start_index, block_uv)
        return self._take()

    def flush(self) -> list:
        """End of stream: decide everything still open."""
        if self._filter is None and self._probe:
            self._start_filter()
        self._close_open()
        self._end_settling()
        self._decide(upto=None)
        return self._take()

    def _take(self) -> list:
        out = self._out[:]
        self._out.clear()  # the stages hold its append
        return out

    def _close_open(self) -> None:
        """End of stream or a gap: the candidate, the activity segment and the issue still open are complete."""
        self._add_candidates(self._finder.close(self._processed))
        self._activity.close(self._processed)
        self._floor.close_issue()

    def _add_candidates(self, found: list) -> None:
        self.stats.candidates += len(found)
        self._decisions.add(found)

    def _start_filter(self) -> None:
        probe = np.concatenate(self._probe) if self._probe else np.empty(0)
        # Exactly the first probe_samples decide, however the stream was cut into blocks.
        probe_samples = self.counts.probe
        measured = probe[:probe_samples] if probe_samples else None
        self.mains_hz = choose_mains(self.config.filters, measured, self.rate_hz)
        sos = np.vstack([self._bandpass_sos, design_mains_sos(self.rate_hz, self.mains_hz, self.config.filters)])
        # The signal below the EMG band, for the artifact rules (measured around
        # each candidate): moving averages, each nulling 1 / its length and the
        # multiples. 50 ms passes below about 10 Hz; one period of each mains
        # line removes that line and all its harmonics, which a 50 ms window
        # alone lets through at an eighth.
        self._features.baseline_windows = (self.counts.baseline_window,
                                           *(max(1, round(self.rate_hz / f)) for f in self.mains_hz))
        self._filter = StreamingSosFilter(sos)
        self._features.sos = self._bandpass_sos  # run back over the filtered signal: see Features.raw_peak
        start = self._probe_start if self._probe_start is not None else self._processed
        self._probe, self._probe_start = [], None
        if len(probe):
            self._run(start, probe)

    def _discontinuity(self, next_index: int) -> None:
        """Samples are missing: close what is open, restart the filters, let them settle."""
        self.stats.gaps += 1
        self._end_settling()
        if self._filter is None and self._probe:
            self._start_filter()
        self._close_open()
        self._features.stream_ends.append(self._processed)
        if self._filter is not None:
            self._filter.reset()
        self._squares.reset()
        self._rails.restart()
        self._floor.restart()
        self._processed = next_index
        self._floor.settle_until = next_index + self.counts.settle
        self._settling = (next_index, next_index + self.counts.settle)

    def _end_settling(self) -> None:
        """The stretch after a gap where the filters settle is kept but cannot be analysed: say so (a signal
        issue, as flat stretches are), up to where the stream got, so no twitch in it is lost unsaid."""
        if self._settling is None:
            return
        start, end = self._settling
        self._settling = None
        end = min(end, self._processed)
        if end > start:
            self._out.append(SignalIssue("settling", start, end - 1))

    # -- the stream -----------------------------------------------------------
    def _run(self, start: int, x: np.ndarray) -> None:
        """In pieces of at most 16.384 s, deciding after each: the rings that the
        rules read hold a piece and the decision delay, whatever the caller's block size."""
        piece = self.counts.piece
        for i in range(0, len(x), piece):
            self._run_piece(start + i, x[i : i + piece])
            if self._settling is not None and self._processed >= self._settling[1]:
                self._end_settling()
            self._decide(upto=self._processed - self.counts.delay)

    def _run_piece(self, start: int, x: np.ndarray) -> None:
        assert self._filter is not None
        y = self._filter.process(x)
        energy_sums, envelope_sums = self._squares.process(y)
        self._ring_y.write(start, y)
        self._ring_raw.write(start, x)
        clipped = self._rails.counts(x)
        if clipped.any():
            clipped_before = np.concatenate(([0], np.cumsum(clipped)))
        else:
            clipped_before = np.zeros(len(x) + 1, dtype=np.intp)  # the usual case: no pass over the piece
        floors = self._floor.update(start, x, np.abs(y), clipped_before)
        self.stats.flat_samples = self._floor.flat_samples
        floors_sq = floors * floors  # NaN while warming up or settling: no threshold is ever passed there
        self._add_candidates(self._finder.feed(start, energy_sums, floors, floors_sq))
        self._activity.feed(start, envelope_sums, floors_sq)
        self._processed = start + len(y)

    def _decide(self, upto: int | None) -> None:
        horizon = self._decisions.decide(upto, self._processed)
        self._activity.forget_before(horizon)
