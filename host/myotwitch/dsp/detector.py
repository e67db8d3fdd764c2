"""A streaming, causal twitch detector.

1. Condition (conditioning.py): band-pass 20-450 Hz and notch the mains and its harmonics
   (filters.py; 50 or 60 Hz chosen from the first seconds unless forced), and the
   moving sums of the filtered signal's squares.
2. Track the noise floor (noise_floor.py, run by conditioning.py): sigma of each 0.5 s
   window (1.4826 x median |x|), and a low quantile of the last 20 s of windows, so
   activity filling most of that time does not raise it, while a lasting change of
   electrode contact does.
   Stages 1 and 2 depend only on the samples: `process(start, block)` runs them;
   `consume(conditioned)` takes the filter's part made elsewhere (analysis.py: one
   block ahead, in a second thread) and finishes the rest in stream order.
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
from myotwitch.dsp.conditioning import Conditioned, Conditioner, End, MainsChosen, Piece, Restart
from myotwitch.dsp.config import MAX_RATE_HZ, MIN_RATE_HZ, DetectorConfig, SampleCounts
from myotwitch.dsp.decisions import Decisions
from myotwitch.dsp.events import ActivitySegment, DetectorStats, Reason, Rejected, SignalIssue, Twitch
from myotwitch.dsp.features import Features
from myotwitch.dsp.filters import design_bandpass_sos

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
        self.conditioner = Conditioner(self.rate_hz, self.config, counts, self._bandpass_sos)
        self._held_from: int | None = None  # the conditioner's: the first sample it holds back for the mains probe
        self._floor_uv: float | None = None  # the conditioner's, after the last piece run here
        # Back from the candidates being decided: 1.5 s for the rules, more for the doublet test's average.
        ring = counts.delay + counts.piece + max(round(1.5 * self.rate_hz), counts.pool_back)
        self._ring_y, self._ring_raw = streaming.Ring(ring), streaming.Ring(ring)
        self._processed = 0  # absolute index after the last sample run through the detector
        self._settling: tuple[int, int] | None = None  # after a gap: [start, end) where nothing can be detected
        self._out: list = []
        self.stats = DetectorStats()
        emit = self._out.append
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
        return self._floor_uv

    @property
    def held_samples(self) -> int:
        """How far back the rules can read the signal: the decision delay, a piece, and 1.5 s for most rules or
        what the doublet test's average reads behind a candidate, if more (about 5.5 s)."""
        return self._ring_y.size

    @property
    def settled_index(self) -> int:
        """Every twitch peaking before this index has been returned already."""
        undecided = [self._decisions.first_undecided_peak, self._finder.open_from, self._held_from]
        return min((u for u in undecided if u is not None), default=self._processed)

    # -- input ------------------------------------------------------------------
    def process(self, start_index: int, block_uv: np.ndarray) -> list:
        return self.consume(self.condition(start_index, block_uv))

    def condition(self, start_index: int, block_uv: np.ndarray) -> Conditioned:
        """The filter (conditioning.py's `Conditioner.filter`), alone: blocks are filtered in stream order and
        consumed in that order, but this may run ahead of `consume`, in another thread."""
        return self.conditioner.filter(start_index, np.asarray(block_uv, dtype=np.float64))

    def consume(self, conditioned: Conditioned) -> list:
        """The steps of `self.condition(...)` or `self.conditioner.feed(...)` (or of their flush), made here or
        earlier elsewhere, finished here in stream order (the sums and the noise floor): the events."""
        conditioned = self.conditioner.finish(conditioned)
        self.stats.samples += conditioned.samples
        for step in conditioned.steps:
            if type(step) is Piece:
                self._run_piece(step)
                if self._settling is not None and self._processed >= self._settling[1]:
                    self._end_settling()
                self._decide(upto=self._processed - self.counts.delay)
            elif type(step) is Restart:
                self._discontinuity(step.next_index, step.closed_issues)
            elif type(step) is MainsChosen:
                self._mains_chosen(step.mains_hz)
            elif type(step) is End:  # the conditioner's flush: decide everything still open
                self._close_open(step.closed_issues)
                self._end_settling()
                self._decide(upto=None)
        self._held_from = conditioned.held_from_index
        return self._take()

    def flush(self) -> list:
        """End of stream: decide everything still open."""
        return self.consume(self.conditioner.flush_filter())

    def _take(self) -> list:
        out = self._out[:]
        self._out.clear()  # the stages hold its append
        return out

    def _close_open(self, closed_issues: list[SignalIssue]) -> None:
        """End of stream or a gap: the candidate, the activity segment and the issue still open are complete."""
        self._add_candidates(self._finder.close(self._processed))
        self._activity.close(self._processed)
        self._out += closed_issues

    def _add_candidates(self, found: list) -> None:
        self.stats.candidates += len(found)
        self._decisions.add(found)

    def _mains_chosen(self, mains_hz: tuple[float, ...]) -> None:
        self.mains_hz = mains_hz
        # The signal below the EMG band, for the artifact rules (measured around
        # each candidate): moving averages, each nulling 1 / its length and the
        # multiples. 50 ms passes below about 10 Hz; one period of each mains
        # line removes that line and all its harmonics, which a 50 ms window
        # alone lets through at an eighth.
        self._features.baseline_windows = (self.counts.baseline_window,
                                           *(max(1, round(self.rate_hz / f)) for f in mains_hz))
        self._features.sos = self._bandpass_sos  # run back over the filtered signal: see Features.raw_peak

    def _discontinuity(self, next_index: int, closed_issues: list[SignalIssue]) -> None:
        """Samples are missing: close what is open, let the filters (restarted by the conditioner) settle."""
        self.stats.gaps += 1
        self._end_settling()
        self._close_open(closed_issues)
        self._features.stream_ends.append(self._processed)
        self._processed = next_index
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
    def _run_piece(self, piece: Piece) -> None:
        """One piece of at most 65,536 samples (SampleCounts.piece), decided after: the rings that the rules
        read hold a piece and the decision delay, whatever the caller's block size."""
        start, y = piece.start_index, piece.filtered_uv
        self._ring_y.write(start, y)
        self._ring_raw.write(start, piece.raw_uv)
        self._out += piece.issues  # where the floor found them: before the piece's candidates and activity
        self._floor_uv = piece.floor_uv
        self.stats.flat_samples = piece.flat_samples
        self._add_candidates(self._finder.feed(start, piece.energy_sums, piece.floors_uv, piece.floors_sq))
        self._activity.feed(start, piece.envelope_sums, piece.floors_sq)
        self._processed = start + len(y)

    def _decide(self, upto: int | None) -> None:
        horizon = self._decisions.decide(upto, self._processed)
        self._activity.forget_before(horizon)
