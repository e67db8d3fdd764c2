"""A streaming, causal twitch detector.

1. Condition: band-pass 20-450 Hz and notch the mains and its harmonics
   (filters.py; 50 or 60 Hz chosen from the first seconds unless forced).
2. Track the noise floor: sigma of each 0.5 s window (1.4826 x median |x|),
   and a low quantile of the last 20 s of windows, so activity filling most
   of that time does not raise it, while a lasting change of electrode
   contact does.
3. Find candidates: detect high on a short-window RMS (8 ms, about a
   twitch's width, so a one-sample spike does not pass where a 4-sigma
   potential of 10 ms does), delimit low on |x|.
4. Track activity: an envelope (RMS over 100 ms) above 3 sigma for at
   least 0.5 s opens an activity segment, below 2 sigma for 0.3 s closes
   it; six or more candidates within a second are activity too.
5. Decide each candidate once `decision_delay_s` of signal after it has been
   seen (rules.py): artifact (clipping, pop, motion, ECG-like train),
   activity, continual firing, echo, doublet, or twitch.

Everything is keyed to absolute sample indices (noise windows are aligned to
multiples of their length from sample 0, events carry indices), so the output
does not depend on how the stream is cut into blocks.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from myotwitch.dsp import rules
from myotwitch.dsp.filters import (
    FilterConfig,
    StreamingSosFilter,
    choose_mains,
    design_bandpass_sos,
    design_mains_sos,
)

# For Gaussian noise, sigma = 1.4826 * median(|x|): an estimate a few potentials in the window do not move.
_MAD_TO_SIGMA = 1.4826
MIN_RATE_HZ = 450.0  # below this the 20-450 Hz band does not fit; 500 Hz is the lowest supported rate
MAX_RATE_HZ = 20000.0


@dataclass(frozen=True)
class DetectorConfig:
    filters: FilterConfig = field(default_factory=FilterConfig)
    # -- noise floor --
    noise_window_s: float = 0.5
    noise_history_s: float = 20.0
    # The floor is this quantile of the window sigmas: rest, even if activity
    # filled three quarters of the last 20 s.
    noise_quantile: float = 0.25
    warmup_windows: int = 2  # no detection before one second of noise floor
    flat_uv: float = 0.05  # a window whose sigma is below this is flat: lead off, not rest
    # -- candidates --
    # Detect on an RMS over 8 ms (and 8 samples at least): fasciculation
    # potentials last 3-40 ms (needle: 12.6 +/- 4.4 ms); a one-sample spike is
    # diluted eightfold.
    energy_window_ms: float = 8.0
    detect_sigma: float = 2.5  # RMS threshold, in noise sigmas
    peak_sigma: float = 3.5  # and the largest |x| must reach this
    # Onset and end: where |x| last exceeds the larger of these (relative to
    # the peak, so a large potential's tail and the filter's ringing do not
    # stretch it).
    delimit_sigma: float = 2.0
    delimit_share: float = 0.2  # the mains notches ring at about 10 % of a peak for 100 ms
    merge_gap_ms: float = 8.0  # phases of one potential are closer than this
    max_duration_ms: float = 40.0  # longer is activity, not a twitch
    # One run above the detection threshold holding this many separate
    # potentials (each above a fifth of the largest) is a burst of voluntary
    # activity, however short the largest one is; a doublet holds two.
    burst_min_potentials: int = 4
    # -- doublets and echoes --
    # A doublet: the same unit firing again 10-110 ms later (data/README.md).
    # When the two potentials run into each other (an interval shorter than
    # about a potential and the merge gap), they form one candidate: a second
    # peak of the same sign, size and shape in its run makes it a doublet
    # too, reported at the first peak. Measured on one-unit doublets in noise
    # (units of 8, 12 and 20 ms, intervals 10-100 ms, 8-20 sigma): 3,780 of
    # 3,780 found within 15 ms of the first peak and 3,744 flagged; without
    # this, 3,429 and 2,003 (20 ms units 20-30 ms apart were half lost as too
    # long for a twitch). Single potentials of 8-30 ms: none flagged.
    doublet_min_ms: float = 10.0
    doublet_max_ms: float = 110.0
    # A much smaller peak after a larger one is its tail or filter ringing:
    # the 2 Hz mains notches ring for hundreds of ms (time constant about
    # 1 / (pi x 2 Hz) = 160 ms). An echo is below echo_ratio x the earlier
    # peak x exp(-delay / echo_decay_ms), within echo_window_ms.
    echo_window_ms: float = 500.0
    echo_ratio: float = 0.25
    echo_decay_ms: float = 200.0
    # -- activity (voluntary contraction, cramp, spasm) --
    # An RMS over 100 ms: smooth enough that a weak contraction does not dip
    # below threshold between motor-unit potentials, while sparse firing at
    # 5-15 Hz stays near 1.5 sigma.
    envelope_window_ms: float = 100.0
    # Rest noise wanders up to twice the floor (a low quantile), so the on
    # threshold sits above that.
    activity_on_sigma: float = 3.0
    activity_off_sigma: float = 2.0
    activity_min_s: float = 0.5  # longer than a doublet or a pair of large twitches with their ringing
    activity_hold_s: float = 0.3  # quiet this long ends a segment
    activity_guard_s: float = 0.5  # twitches this soon after activity are not counted
    activity_pre_guard_s: float = 0.2  # nor this soon before it (recruitment at its onset)
    cramp_min_s: float = 2.0  # sustained segments this long are cramp or spasm candidates
    # Dense firing is activity even where the envelope cannot tell (no rest to
    # set the floor by, as in a needle recording during contraction): this many
    # other candidates of any kind within +/- half this window, at least
    # 1 / busy_ratio of its size (a large twitch's ringing tail is not firing).
    busy_window_s: float = 1.0
    busy_min_candidates: int = 6
    busy_ratio: float = 3.0  # 2 let needle continual firing through (4.7 twitches/min); 4 lost large twitches amid small bursts
    # -- continual firing (Sleutjes et al. 2016): intervals of 250 ms or less on both sides --
    continual_isi_ms: float = 250.0
    # The rule is about one motor unit firing on; one channel cannot sort units,
    # so neighbours count only if their peak is within this ratio (the same
    # unit gives near-equal potentials). The same holds for a doublet's second.
    same_unit_ratio: float = 2.0
    # A doublet's second is the same unit again, so the same shape too: the
    # filtered signal over +/- shape_half_ms around the two peaks correlates at
    # least this well at some lag within +/- shape_lag_ms. Measured on the
    # synthetic motor units (8-30 ms, bi- and triphasic) in Gaussian noise:
    # two copies of one 4-sigma potential correlate at 0.84 (median; 84 % at
    # 0.6 or more, 97 % at 10 sigma), two different units at 0.3-0.4 (38 %
    # still reach 0.6: units of similar shape stay indistinguishable).
    same_unit_similarity: float = 0.6
    shape_half_ms: float = 8.0
    shape_lag_ms: float = 2.0
    # -- artifacts --
    baseline_lowpass_hz: float = 10.0  # below the EMG band: pops and motion live here
    baseline_ratio: float = 0.5  # the baseline moving by half the peak or more: not a potential
    baseline_min_sigma: float = 4.0  # and by more than this many noise sigmas
    clip_run_ms: float = 4.0  # this long at one value, at the extreme of the candidate: clipped
    # ECG-like: 5 or more similar complexes at 50-150 beats/min, intervals
    # within 10 % (heart-rate variability at rest is a few %; chance chains of
    # spontaneous potentials rarely last five beats).
    ecg_min_beats: int = 5
    ecg_interval_s: tuple[float, float] = (0.4, 1.2)
    ecg_tolerance: float = 0.1
    ecg_amplitude_ratio: float = 1.5
    # A QRS complex lasts 80-120 ms: its Q and S waves lie within 40 ms of the
    # R wave, and a smaller peak that close to an ECG-like one is part of it.
    ecg_complex_ms: float = 40.0
    # Every rule above looks at most this far past a candidate (the ECG chain
    # reaches 4 intervals of up to 1.2 s); it is decided this late.
    decision_delay_s: float = 5.5
    settle_s: float = 0.2  # after a gap in the stream, while the filters settle


@dataclass(frozen=True)
class Twitch:
    peak_index: int
    onset_index: int  # first sample above the delimit threshold
    end_index: int  # last sample above it
    peak_uv: float  # largest absolute excursion of the filtered signal
    noise_uv: float  # noise sigma when it was detected
    doublet_interval_samples: int | None = None  # a second discharge followed this soon

    @property
    def snr(self) -> float:
        return self.peak_uv / self.noise_uv if self.noise_uv > 0 else float("inf")

    def duration_ms(self, rate_hz: float) -> float:
        return (self.end_index - self.onset_index + 1) * 1000.0 / rate_hz


@dataclass(frozen=True)
class Rejected:
    """A candidate that is not counted, and why."""

    peak_index: int
    peak_uv: float
    reason: str


@dataclass(frozen=True)
class ActivitySegment:
    start_index: int
    end_index: int
    mean_envelope_uv: float
    peak_envelope_uv: float
    cramp_candidate: bool  # sustained long enough to be a cramp or a spasm (or a held contraction)


@dataclass(frozen=True)
class SignalIssue:
    """Part of the signal that is not usable EMG: flat (lead off; skipped) or clipped (at the ADC's rails)."""

    kind: str
    start_index: int
    end_index: int


@dataclass
class DetectorStats:
    samples: int = 0
    candidates: int = 0
    twitches: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    gaps: int = 0
    flat_samples: int = 0


class _Ring:
    """The last `size` samples of a stream, addressed by absolute index."""

    def __init__(self, size: int) -> None:
        self.buf = np.zeros(size)
        self.size = size
        self.end = 0  # absolute index after the last sample written

    def write(self, start: int, values: np.ndarray) -> None:
        if len(values) >= self.size:
            start, values = start + len(values) - self.size, values[-self.size :]
        pos = start % self.size
        first = min(len(values), self.size - pos)
        self.buf[pos : pos + first] = values[:first]
        self.buf[: len(values) - first] = values[first:]
        self.end = start + len(values)

    def span(self, a: int, b: int) -> tuple[int, int]:
        """[a, b) cut to what the ring still holds."""
        return max(a, self.end - self.size, 0), min(b, self.end)

    def read(self, a: int, b: int) -> np.ndarray:
        a, b = self.span(a, b)
        if b <= a:
            return np.empty(0)
        pa, pb = a % self.size, b % self.size
        if pa < pb:
            return self.buf[pa:pb]
        return np.concatenate((self.buf[pa:], self.buf[:pb]))


class _MovingSquares:
    """Sums of x**2 over the last w samples, for several windows w, carried across blocks.

    The RMS over w is sqrt(sum / w); the thresholds are compared with the sums
    (threshold squared times w), so the RMS itself is computed only where it is reported."""

    def __init__(self, windows: tuple[int, ...]) -> None:
        self.windows = tuple(max(1, w) for w in windows)
        self._keep = max(self.windows) - 1
        self.reset()

    def reset(self) -> None:
        self._tail = np.zeros(self._keep)

    def process(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        keep, n = self._keep, len(x)
        sq = np.empty(keep + n)
        sq[:keep] = self._tail
        np.multiply(x, x, out=sq[keep:])
        c = np.empty(keep + n + 1)
        c[0] = 0.0
        np.cumsum(sq, out=c[1:])
        if keep:
            self._tail = sq[n:].copy()
        return tuple(c[keep + 1 :] - c[keep + 1 - w : len(c) - w] for w in self.windows)


def _rms(sums: np.ndarray, window: int) -> np.ndarray:
    """The RMS from `_MovingSquares` sums over `window` samples (a sum a rounding error below zero is zero)."""
    return np.sqrt(np.maximum(sums / window, 0.0))


def _first(mask: np.ndarray, i: int, value: bool) -> int:
    """Index of the first element equal to `value` from i on, or len(mask); stops there (argmax on booleans)."""
    rest = mask[i:]
    if not len(rest):
        return len(mask)
    k = int(rest.argmax() if value else rest.argmin())
    return i + k if rest[k] == value else len(mask)


def _medians(a: np.ndarray) -> np.ndarray:
    """Median along the last axis, by one partition: np.median, or a partition at the two middle ranks, costs
    several times more (measured: 6x on 0.5 s windows at 2 kHz). Of an even count, the lower middle value is
    the largest of the lower half."""
    n = a.shape[-1]
    half = n // 2
    part = np.partition(a, half, axis=-1)
    return part[..., half] if n % 2 else 0.5 * (part[..., :half].max(axis=-1) + part[..., half])


def _low_passed(raw: np.ndarray, windows: tuple[int, ...]) -> np.ndarray:
    """Moving averages in cascade (the signal below the EMG band): output k is the baseline at
    raw[k + sum(windows)], every average ending there; len(raw) - sum(windows) values."""
    base = raw
    for w in windows:
        sums = np.cumsum(base)
        base = (sums[w:] - sums[:-w]) / w
    return base


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The indices of the ranges [lo[k], hi[k]) end to end, and where each range starts among them."""
    lengths = hi - lo
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    return np.arange(int(lengths.sum())) + np.repeat(lo - offsets, lengths), offsets


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and (exclusive) ends of the True runs of a boolean array."""
    if not len(mask):
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    changes = np.flatnonzero(mask[1:] != mask[:-1]) + 1
    rising = mask[changes]
    starts, ends = changes[rising], changes[~rising]
    if mask[0]:
        starts = np.concatenate(([0], starts))
    if mask[-1]:
        ends = np.append(ends, len(mask))
    return starts, ends


class _CandidateArrays:
    """Figures of the detector's candidates (same order, same first one), as arrays."""

    def __init__(self) -> None:
        self.peak_index = np.empty(0, dtype=np.int64)
        self.peak_uv = np.empty(0)
        self.echo = np.empty(0, dtype=bool)
        self.excluded = np.empty(0, dtype=bool)  # decided as an echo or a doublet's second: not a heart beat

    def extend(self, peak_index: np.ndarray, peak_uv: np.ndarray, echo: np.ndarray) -> None:
        self.peak_index = np.concatenate((self.peak_index, peak_index))
        self.peak_uv = np.concatenate((self.peak_uv, peak_uv))
        self.echo = np.concatenate((self.echo, echo))
        self.excluded = np.concatenate((self.excluded, np.zeros(len(peak_index), dtype=bool)))

    def drop(self, n: int) -> None:
        """Forget the first n."""
        self.peak_index, self.peak_uv = self.peak_index[n:], self.peak_uv[n:]
        self.echo, self.excluded = self.echo[n:], self.excluded[n:]


class TwitchDetector:
    """Feed blocks of µV with the absolute index of their first sample; get events in index order."""

    def __init__(self, rate_hz: float, config: DetectorConfig = DetectorConfig()) -> None:
        if not (MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ):
            raise ValueError(f"sampling rate {rate_hz:g} Hz is not supported (500 Hz to {MAX_RATE_HZ:g} Hz)")
        self.rate_hz = float(rate_hz)
        self.config = config
        ms = rate_hz / 1000.0
        c = config
        self._window_samples = max(1, round(c.noise_window_s * rate_hz))
        self._merge = round(c.merge_gap_ms * ms)
        self._max_duration = round(c.max_duration_ms * ms)
        self._doublet = (round(c.doublet_min_ms * ms), round(c.doublet_max_ms * ms))
        self._echo = round(c.echo_window_ms * ms)
        self._echo_decay = c.echo_decay_ms * ms
        self._isi = round(c.continual_isi_ms * ms)
        self._ecg_complex = round(c.ecg_complex_ms * ms)
        ecg_reach_s = c.ecg_interval_s[1] * (c.ecg_min_beats - 1) * (1 + c.ecg_tolerance)  # 4 long beats on
        self._ecg_reach = round(ecg_reach_s * rate_hz)
        self._ecg_intervals = tuple(round(s * rate_hz) for s in c.ecg_interval_s)
        self._shape_half = max(2, round(c.shape_half_ms * ms))
        self._shape_lag = round(c.shape_lag_ms * ms)
        self._act_min = round(c.activity_min_s * rate_hz)
        self._act_hold = round(c.activity_hold_s * rate_hz)
        self._guard = round(c.activity_guard_s * rate_hz)
        self._pre_guard = round(c.activity_pre_guard_s * rate_hz)
        self._delay = round(c.decision_delay_s * rate_hz)
        reach_s = max(ecg_reach_s, c.busy_window_s / 2 + c.echo_window_ms / 1000, c.activity_pre_guard_s + c.activity_min_s,
                      (c.continual_isi_ms + c.doublet_max_ms) / 1000)
        if c.decision_delay_s < reach_s:
            raise ValueError(f"decision_delay_s must be at least {reach_s:.2f} s: the rules look that far ahead")
        if not (c.delimit_sigma < c.peak_sigma and 0 <= c.delimit_share < 1):
            raise ValueError("delimit_sigma must be below peak_sigma and delimit_share below 1: "
                             "a candidate's peak must stand above the threshold that delimits it")
        # Work in pieces of 16.384 s: numpy on large arrays, little Python per sample. Measured on an hour
        # at 2 kHz: 4 s pieces 6-8 % slower, 32 s slower again; 16.384 s (2**15 samples at 2 kHz) cuts
        # the readers' 65,536-sample blocks in two, 5 % faster than 16 s, which left a short third piece.
        self._piece = round(16.384 * rate_hz)
        self._busy_half = round(c.busy_window_s * rate_hz / 2)
        self._clip_run = max(2, round(c.clip_run_ms * ms))
        # At least 8 samples: an RMS over fewer (8 ms at 500 Hz is 4) lets Gaussian noise through.
        self._energy_window = max(8, round(c.energy_window_ms * ms))
        self._probe_samples = round(c.filters.mains_probe_s * rate_hz) if c.filters.mains == "auto" else 0
        self._bandpass_sos = design_bandpass_sos(rate_hz, c.filters)
        self._baseline_window = max(2, round(rate_hz / (2 * c.baseline_lowpass_hz)))
        self._feature_ctx = round(0.1 * rate_hz)  # the artifact features look 100 ms either side of a candidate
        self.reset()

    # -- state ----------------------------------------------------------------
    def reset(self) -> None:
        self.mains_hz: tuple[float, ...] | None = None
        self._baseline_windows: tuple[int, ...] = (self._baseline_window,)  # mains periods added once known
        self._filter: StreamingSosFilter | None = None
        self._probe: list[np.ndarray] = []
        self._probe_start: int | None = None
        self._envelope_window = max(1, round(self.config.envelope_window_ms * self.rate_hz / 1000.0))
        self._squares = _MovingSquares((self._energy_window, self._envelope_window))
        ring = self._delay + self._piece + round(1.5 * self.rate_hz)
        self._ring_y, self._ring_raw = _Ring(ring), _Ring(ring)
        self._window = np.empty(self._window_samples)
        self._window_fill = 0
        self._window_raw_min = np.inf
        self._window_raw_max = -np.inf
        self._window_clipped = 0
        self._sigmas: deque[float] = deque(maxlen=max(1, round(self.config.noise_history_s / self.config.noise_window_s)))
        self._floor: float | None = None
        self._next_index: int | None = None
        self._processed = 0  # absolute index after the last sample run through the detector
        self._settle_until = 0
        # Candidates being built: an energy run still open, and a finished one within the merge gap.
        self._run_start: int | None = None
        self._pending: list[int] | None = None  # [first, last] energy-above indices
        self._pending_noise = 0.0
        self._closed: list[tuple[int, int, float]] = []  # complete run groups (first, last, floor), not yet measured
        self._run_floor = 0.0
        self._candidates: list[rules.Candidate] = []  # found, in peak order; kept a while for context after deciding
        self._peaks: list[int] = []  # their peak indices, for bisecting without a key function
        # The same candidates as arrays, for the rules that count or filter many neighbours at once.
        self._arrays = _CandidateArrays()
        self._burst_peaks: list[int] = []  # peaks of the candidates too long or with too many potentials for a twitch
        self._neighbours = np.empty(0, dtype=np.intp)  # for the candidates being decided: see _count_neighbours
        self._decided_from = 0
        self._decided = 0  # how many of self._candidates are decided
        # Activity: state machine over the envelope.
        self._act_open: int | None = None  # start of the open segment
        self._act_above_start: int | None = None
        self._act_below_start: int | None = None
        self._act_sum = 0.0
        self._act_peak = 0.0
        self._act_count = 0
        # The envelope of a stretch that has not yet shown whether it belongs to a segment, in the pieces
        # it spans so far: above the on threshold but not yet for activity_min_s (a segment if it lasts),
        # or below the off threshold inside a segment but not yet for activity_hold_s (the segment goes on
        # if it ends before).
        self._held: list[np.ndarray] = []
        self._segments: deque[tuple[int, int | None]] = deque()  # recent activity, for the rules
        self._issue: list | None = None  # [kind, start, end] being extended
        self._out: list = []
        self.stats = DetectorStats()

    @property
    def warmup_s(self) -> float:
        """Signal needed before anything can be detected: the first noise windows."""
        return self.config.warmup_windows * self.config.noise_window_s

    @property
    def noise_uv(self) -> float | None:
        """Current noise floor (sigma of the filtered signal at rest), or None while warming up."""
        return self._floor

    @property
    def settled_index(self) -> int:
        """Every twitch peaking before this index has been returned already."""
        undecided = [c.peak_index for c in self._candidates[self._decided : self._decided + 1]]
        if self._pending is not None:
            undecided.append(self._pending[0] - self._energy_window)
        if self._run_start is not None:
            undecided.append(self._run_start - self._energy_window)
        if self._probe_start is not None:
            undecided.append(self._probe_start)
        return min(undecided, default=self._processed)

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
            if sum(len(p) for p in self._probe) < self._probe_samples:
                return self._take()
            self._start_filter()
        else:
            self._run(start_index, block_uv)
        return self._take()

    def flush(self) -> list:
        """End of stream: decide everything still open."""
        if self._filter is None and self._probe:
            self._start_filter()
        self._close_candidate()
        self._measure_closed()
        self._close_activity(self._processed)
        self._close_issue()
        self._decide(upto=None)
        return self._take()

    def _take(self) -> list:
        out, self._out = self._out, []
        return out

    def _start_filter(self) -> None:
        probe = np.concatenate(self._probe) if self._probe else np.empty(0)
        # Exactly the first probe_samples decide, however the stream was cut into blocks.
        measured = probe[: self._probe_samples] if self._probe_samples else None
        self.mains_hz = choose_mains(self.config.filters, measured, self.rate_hz)
        sos = np.vstack([self._bandpass_sos, design_mains_sos(self.rate_hz, self.mains_hz, self.config.filters)])
        # The signal below the EMG band, for the artifact rules (measured around
        # each candidate): moving averages, each nulling 1 / its length and the
        # multiples. 50 ms passes below about 10 Hz; one period of each mains
        # line removes that line and all its harmonics, which a 50 ms window
        # alone lets through at an eighth.
        self._baseline_windows = (self._baseline_window, *(max(1, round(self.rate_hz / f)) for f in self.mains_hz))
        self._filter = StreamingSosFilter(sos)
        start = self._probe_start if self._probe_start is not None else self._processed
        self._probe, self._probe_start = [], None
        if len(probe):
            self._run(start, probe)

    def _discontinuity(self, next_index: int) -> None:
        """Samples are missing: close what is open, restart the filters, let them settle."""
        self.stats.gaps += 1
        if self._filter is None:
            if self._probe:
                self._start_filter()
        self._close_candidate()
        self._measure_closed()
        self._close_activity(self._processed)
        self._close_issue()
        if self._filter is not None:
            self._filter.reset()
        self._squares.reset()
        self._window_fill = 0
        self._window_clipped = 0
        self._window_raw_min, self._window_raw_max = np.inf, -np.inf
        self._processed = next_index
        self._settle_until = next_index + round(self.config.settle_s * self.rate_hz)

    # -- the stream -----------------------------------------------------------
    def _run(self, start: int, x: np.ndarray) -> None:
        """In pieces of at most 16.384 s, deciding after each: the rings that the
        rules read hold a piece and the decision delay, whatever the caller's block size."""
        for i in range(0, len(x), self._piece):
            self._run_piece(start + i, x[i : i + self._piece])
            self._decide(upto=self._processed - self._delay)

    def _run_piece(self, start: int, x: np.ndarray) -> None:
        y = self._filter.process(x)
        energy_sums, envelope_sums = self._squares.process(y)
        self._ring_y.write(start, y)
        self._ring_raw.write(start, x)
        # The noise floor in force at each sample: set by the windows before its own.
        floors = np.full(len(y), np.nan)
        magnitude = np.abs(y)
        clip_mask = self._clip_mask(x)
        if clip_mask.any():
            clipped_before = np.concatenate(([0], np.cumsum(clip_mask)))
        else:
            clipped_before = np.zeros(len(x) + 1, dtype=np.intp)  # the usual case: no pass over the piece
        w = self._window_samples
        i = 0
        while i < len(y):
            abs_i = start + i
            window_end = (abs_i // w + 1) * w
            if self._window_fill == 0 and abs_i % w == 0 and len(y) - i >= 2 * w:
                i = self._whole_windows(start, i, x, magnitude, clipped_before, floors)
                continue
            j = min(len(y), i + window_end - abs_i)
            self._fill_floor(floors, start, i, j)
            self._window[self._window_fill : self._window_fill + (j - i)] = magnitude[i:j]
            self._window_fill += j - i
            self._window_raw_min = min(self._window_raw_min, float(x[i:j].min()))
            self._window_raw_max = max(self._window_raw_max, float(x[i:j].max()))
            self._window_clipped += int(clipped_before[j] - clipped_before[i])
            if abs_i + (j - i) == window_end:
                self._close_window(window_end)
            i = j
        floors_sq = floors * floors  # NaN while warming up or settling: no threshold is ever passed there
        self._candidates_in(start, energy_sums, floors, floors_sq)
        self._activity_in(start, envelope_sums, floors_sq)
        self._processed = start + len(y)

    def _whole_windows(self, start: int, i: int, x: np.ndarray, magnitude: np.ndarray,
                       clipped_before: np.ndarray, floors: np.ndarray) -> int:
        """Noise windows lying whole in this piece from offset i, at once (numpy on all of them); returns
        the offset after them. The same figures as filling and closing them one by one."""
        w = self._window_samples
        k = (len(magnitude) - i) // w
        j = i + k * w
        medians = _medians(magnitude[i:j].reshape(k, w))
        raws = x[i:j].reshape(k, w)
        ranges = raws.max(axis=1) - raws.min(axis=1)
        clipped = clipped_before[i + w : j + 1 : w] - clipped_before[i:j:w]
        if self._steady_windows(start, i, j, medians, ranges, clipped, floors):
            return j
        for n in range(k):
            a = i + n * w
            self._fill_floor(floors, start, a, a + w)
            self._window_done(start + a + w, w, float(medians[n]), float(ranges[n]), int(clipped[n]))
        return j

    def _steady_windows(self, start: int, i: int, j: int, medians: np.ndarray, ranges: np.ndarray,
                        clipped: np.ndarray, floors: np.ndarray) -> bool:
        """`_whole_windows` in the usual case, without a loop: the floor's history full, no window flat or clipped,
        no issue open. The floor in force in each window is the quantile of the history as it was before that
        window: a sliding window over the history followed by the new sigmas. Returns False if not the usual case."""
        history = self._sigmas
        w, k, cfg = self._window_samples, len(medians), self.config
        if self._floor is None or self._issue is not None or len(history) != history.maxlen:
            return False
        sigmas = _MAD_TO_SIGMA * medians
        if ((sigmas < cfg.flat_uv) & (ranges < 10 * cfg.flat_uv)).any() or (clipped >= 0.01 * w).any():
            return False
        windows = np.lib.stride_tricks.sliding_window_view(np.concatenate((list(history), sigmas)), len(history))
        after = self._floor_of(np.sort(windows, axis=1))  # after[n]: the floor after n of the new windows
        floors[i:j].reshape(k, w)[:] = after[:k, None]
        if self._settle_until - start > i:
            floors[i : min(j, self._settle_until - start)] = np.nan
        history.extend(sigmas.tolist())
        self._floor = float(after[k])
        return True

    def _fill_floor(self, floors: np.ndarray, start: int, i: int, j: int) -> None:
        """floors[i:j] (offsets in the piece starting at `start`) get the floor in force, once settled."""
        if self._floor is not None:
            lo = max(i, self._settle_until - start)
            if lo < j:
                floors[lo:j] = self._floor

    def _clip_mask(self, raw: np.ndarray) -> np.ndarray:
        """Samples held at the highest or lowest value of `raw` for clip_run or longer: the ADC's rails."""
        mask = np.zeros(len(raw), dtype=bool)
        for extreme in (raw.max(), raw.min()):
            at = raw == extreme
            if np.count_nonzero(at) < self._clip_run:
                continue  # not held long enough anywhere
            starts, ends = _runs(at)
            for s, e in zip(starts.tolist(), ends.tolist()):
                if e - s >= self._clip_run:
                    mask[s:e] = True
        return mask

    def _close_window(self, window_end: int) -> None:
        fill = self._window_fill
        clipped, self._window_clipped = self._window_clipped, 0
        if fill >= self._window_samples // 2:
            median = float(_medians(self._window[:fill]))
            self._window_done(window_end, fill, median, self._window_raw_max - self._window_raw_min, clipped)
        self._window_fill = 0
        self._window_raw_min, self._window_raw_max = np.inf, -np.inf

    def _window_done(self, window_end: int, fill: int, median: float, raw_range: float, clipped: int) -> None:
        """A noise window's figures are in: flat, clipped, or a new sigma for the floor."""
        sigma = _MAD_TO_SIGMA * median
        if sigma < self.config.flat_uv and raw_range < 10 * self.config.flat_uv:
            self.stats.flat_samples += fill
            self._note_issue("flat", window_end - fill, window_end - 1)
            return
        if clipped >= 0.01 * fill:
            self._note_issue("clipped", window_end - fill, window_end - 1)
        else:
            self._close_issue()
        self._sigmas.append(sigma)
        if len(self._sigmas) >= self.config.warmup_windows:
            self._floor = float(self._floor_of(np.sort(np.array(self._sigmas))))

    def _floor_of(self, ordered: np.ndarray) -> np.ndarray:
        """The noise floor from sorted window sigmas (along the last axis): their noise_quantile, linear
        between ranks."""
        m = ordered.shape[-1]
        position = self.config.noise_quantile * (m - 1)
        k = int(position)
        frac = position - k
        return ordered[..., k] + frac * (ordered[..., min(k + 1, m - 1)] - ordered[..., k])

    def _note_issue(self, kind: str, start: int, end: int) -> None:
        if self._issue is not None and self._issue[0] == kind and start <= self._issue[2] + 1:
            self._issue[2] = end
            return
        self._close_issue()
        self._issue = [kind, start, end]

    def _close_issue(self) -> None:
        if self._issue is not None:
            self._out.append(SignalIssue(*self._issue))
            self._issue = None

    # -- candidates -------------------------------------------------------------
    def _candidates_in(self, abs_start: int, energy_sums: np.ndarray, floors: np.ndarray,
                       floors_sq: np.ndarray) -> None:
        # The RMS over the energy window above detect_sigma x the floor
        above = energy_sums > floors_sq * (self._energy_window * self.config.detect_sigma**2)
        n = len(energy_sums)
        if self._run_start is not None and not above[0]:
            self._end_run_before(abs_start)
        starts, ends = _runs(above)
        if len(starts):
            firsts, lasts, run_floors = starts + abs_start, ends - 1 + abs_start, floors[starts]
            if starts[0] == 0 and self._run_start is not None:  # continues from the previous piece
                firsts[0], run_floors[0] = self._run_start, self._run_floor
            self._run_start = None
            if ends[-1] == n:  # still above at the end: continues in the next piece
                self._add_runs(firsts[:-1], lasts[:-1], run_floors[:-1])
                self._run_start, self._run_floor = int(firsts[-1]), float(run_floors[-1])
            else:
                self._add_runs(firsts, lasts, run_floors)
        if self._run_start is None and self._pending is not None and abs_start + n - 1 - self._pending[1] > self._merge:
            self._close_candidate()
        self._measure_closed()

    def _end_run_before(self, index: int) -> None:
        start, self._run_start = self._run_start, None
        if start is not None:
            self._add_runs(np.array([start]), np.array([index - 1]), np.array([self._run_floor]))

    def _add_runs(self, firsts: np.ndarray, lasts: np.ndarray, floors: np.ndarray) -> None:
        """Complete runs above the detection threshold, in index order: runs closer than the merge gap form a
        group (one candidate); the last group stays pending, as a later run may still join it."""
        if not len(firsts):
            return
        p = self._pending
        opens = np.empty(len(firsts), dtype=bool)  # this run starts a new group
        opens[0] = p is None or int(firsts[0]) - p[1] > self._merge
        opens[1:] = firsts[1:] - lasts[:-1] > self._merge
        starts = np.flatnonzero(opens)
        if not len(starts):  # all of them extend the pending group
            p[1] = int(lasts[-1])
            return
        if starts[0] > 0:
            p[1] = int(lasts[starts[0] - 1])
        self._close_candidate()
        group_lasts = lasts[np.append(starts[1:] - 1, len(firsts) - 1)]
        self._closed.extend(zip(firsts[starts[:-1]].tolist(), group_lasts[:-1].tolist(), floors[starts[:-1]].tolist()))
        self._pending = [int(firsts[starts[-1]]), int(group_lasts[-1])]
        self._pending_noise = float(floors[starts[-1]])

    def _close_candidate(self) -> None:
        """The pending run group is complete: queue it for `_measure_closed`."""
        if self._run_start is not None:
            self._end_run_before(self._processed)
        p, self._pending = self._pending, None
        if p is not None:
            self._closed.append((p[0], p[1], self._pending_noise))

    def _measure_closed(self) -> None:
        """Turn the queued run groups into candidates: peak, onset, end, potentials, all groups at once.

        For each group: the peak is the largest |filtered| sample from one RMS
        window before its first sample to its last; a group whose peak is below
        peak_sigma is part of the background. Onset and end: the stretch of
        samples above the delimit threshold around the peak whose gaps are no
        longer than the merge gap (later ringing is not part of the potential)."""
        groups, self._closed = self._closed, []
        if not groups:
            return
        ring = self._ring_y
        first, last, floor = (np.array(column) for column in zip(*groups))
        lo = np.maximum(first - self._energy_window, max(ring.end - ring.size, 0))  # the RMS window lags the signal
        hi = np.minimum(last + 1, ring.end)
        keep = hi > lo
        if not keep.all():
            floor, lo, hi = floor[keep], lo[keep], hi[keep]
            if not len(lo):
                return
        span_lo = int(lo.min())
        mag_span = np.abs(ring.read(span_lo, int(hi.max())))

        def gather(lo: np.ndarray, hi: np.ndarray):
            """The groups' samples of |y| end to end, with where each starts and which group each is."""
            index, offsets = _ranges(lo, hi)
            mag = mag_span[index - span_lo]
            base = lo - offsets  # absolute index = position in mag + base of its group
            return hi - lo, offsets, base, mag, np.maximum.reduceat(mag, offsets)

        lengths, offsets, base, mag, peak_uv = gather(lo, hi)
        cfg = self.config
        strong = peak_uv >= cfg.peak_sigma * floor  # the others are broad and low: background, not potentials
        if not strong.all():
            floor, lo, hi = floor[strong], lo[strong], hi[strong]
            if not len(lo):
                return
            lengths, offsets, base, mag, peak_uv = gather(lo, hi)
        segment = np.repeat(np.arange(len(lengths)), lengths)
        peak_each = np.repeat(peak_uv, lengths)  # each sample's group's peak
        at_max = np.flatnonzero(mag == peak_each)
        starts_at_max = np.concatenate(([True], segment[at_max[1:]] != segment[at_max[:-1]]))
        peak_pos = at_max[starts_at_max]  # the first largest sample of each group, as np.argmax gives it
        # The peak is above this threshold (peak_sigma > delimit_sigma, delimit_share < 1: checked at start).
        threshold = np.maximum(cfg.delimit_sigma * floor, cfg.delimit_share * peak_uv)
        over = np.flatnonzero(mag > np.repeat(threshold, lengths))
        over_segment = segment[over]
        new_group = np.concatenate(([True], (np.diff(over) > self._merge) | (over_segment[1:] != over_segment[:-1])))
        group_id = np.cumsum(new_group) - 1
        peak_group = group_id[np.searchsorted(over, peak_pos)]
        onset_pos = over[np.searchsorted(group_id, peak_group, side="left")]
        end_pos = over[np.searchsorted(group_id, peak_group, side="right") - 1]
        seg_first = np.searchsorted(over_segment, np.arange(len(lengths)), side="left")
        seg_last = np.searchsorted(over_segment, np.arange(len(lengths)), side="right") - 1
        potentials = group_id[seg_last] - group_id[seg_first] + 1
        echoes = np.zeros(len(lengths), dtype=bool)
        self.stats.candidates += len(lengths)
        # Could it hold a second discharge (see _two_discharges)? Only if some sample a doublet's interval
        # from the peak is at least 1 / same_unit_ratio of it; most candidates have none.
        sized = np.flatnonzero(mag * cfg.same_unit_ratio >= peak_each)  # few: the peaks and their like
        from_peak = np.abs(sized - peak_pos[segment[sized]])
        may_hold_two = np.unique(segment[sized[(from_peak >= self._doublet[0]) & (from_peak <= self._doublet[1])]])
        first_new = len(self._candidates)
        columns = (peak_pos + base, onset_pos + base, end_pos + base, peak_uv, floor, potentials)
        for g, (peak, onset, end, peak_uv_g, floor_g, potentials_g) in enumerate(zip(*(a.tolist() for a in columns))):
            c = rules.Candidate(peak, onset, end, peak_uv_g, floor_g, potentials=potentials_g)
            c.echo = echoes[g] = self._under_ringing(c)
            self._candidates.append(c)
            self._peaks.append(peak)
        for g in may_hold_two.tolist():
            self._candidates[first_new + g].run_to_search = (int(lo[g]), int(hi[g]))
        activity_like = (potentials >= cfg.burst_min_potentials) | (end_pos - onset_pos + 1 > self._max_duration)
        self._arrays.extend(peak_pos + base, peak_uv, echoes)
        self._burst_peaks.extend((peak_pos + base)[activity_like & ~echoes].tolist())

    # -- activity ----------------------------------------------------------------
    def _activity_in(self, abs_start: int, envelope_sums: np.ndarray, floors_sq: np.ndarray) -> None:
        """The envelope (RMS over envelope_window_ms) against the on and off thresholds (in floors)."""
        w = self._envelope_window
        on = envelope_sums > floors_sq * (w * self.config.activity_on_sigma**2)
        off = None  # needed only once a segment is open
        n = len(envelope_sums)
        i = 0
        while i < n:
            if self._act_open is None:
                # Closed: wait for `act_min` samples in a row above the on threshold.
                if self._act_above_start is None:
                    i = _first(on, i, True)
                    if i == n:
                        return
                    self._act_above_start = abs_start + i
                run_end = _first(on, i, False)
                if abs_start + run_end - self._act_above_start >= self._act_min:
                    self._act_open, self._act_above_start = self._act_above_start, None
                    self._act_sum, self._act_peak, self._act_count = 0.0, 0.0, 0
                    self._take_held()  # the segment's start, in earlier pieces
                    self._act_below_start = None
                    self._segments.append((self._act_open, None))
                    continue
                if run_end == n:
                    self._held.append(_rms(envelope_sums[i:n], w))  # may yet open a segment
                    return
                self._held = []
                self._act_above_start = None
                i = run_end
            else:
                # Open: until `act_hold` samples in a row below the off threshold.
                if off is None:
                    off = envelope_sums < floors_sq * (w * self.config.activity_off_sigma**2)
                if self._act_below_start is None:
                    q = _first(off, i, True)
                    self._accumulate(_rms(envelope_sums[i:q], w))
                    if q == n:
                        return
                    i = q
                    self._act_below_start = abs_start + q
                quiet_end = _first(off, i, False)
                if abs_start + quiet_end - self._act_below_start >= self._act_hold:
                    resume = max(i, self._act_below_start + self._act_hold - abs_start)
                    self._held = []  # after the segment's end
                    self._close_activity(self._act_below_start - 1)
                    i = resume
                    continue
                self._held.append(_rms(envelope_sums[i:quiet_end], w))
                if quiet_end == n:
                    return
                self._take_held()  # a dip inside the segment
                self._act_below_start = None
                i = quiet_end

    def _accumulate(self, env: np.ndarray) -> None:
        if len(env):
            self._act_sum += float(env.sum())
            self._act_peak = max(self._act_peak, float(env.max()))
            self._act_count += len(env)

    def _take_held(self) -> None:
        for env in self._held:
            self._accumulate(env)
        self._held = []

    def _close_activity(self, end: int) -> None:
        if self._act_open is None:
            self._act_above_start = None
            self._held = []
            return
        self._take_held()  # at the end of the stream or a gap, a quiet stretch still open lies inside [start, end]
        start = self._act_open
        self._segments[-1] = (start, end)
        mean = self._act_sum / self._act_count if self._act_count else 0.0
        cramp = (end - start + 1) >= self.config.cramp_min_s * self.rate_hz
        self._out.append(ActivitySegment(start, end, mean, self._act_peak, cramp))
        self._act_open = None
        self._act_above_start = None
        self._act_below_start = None

    # -- decisions ----------------------------------------------------------------
    def _decide(self, upto: int | None) -> None:
        cands = self._candidates
        due = len(cands) if upto is None else bisect.bisect_left(self._peaks, upto, lo=self._decided)
        self._features_batch(cands[self._decided : due])
        self._count_neighbours(self._decided, due)
        while self._decided < due:
            c = cands[self._decided]
            self._classify(self._decided)
            if c.reason in _NOT_IN_ECG_CHAINS:
                self._arrays.excluded[self._decided] = True
            self._decided += 1
            if c.reason is None:
                self.stats.twitches += 1
                self._out.append(self._twitch(c))
            else:
                self.stats.rejected[c.reason] = self.stats.rejected.get(c.reason, 0) + 1
                self._out.append(Rejected(c.peak_index, c.peak_uv, c.reason))
        # Forget what no later rule can look back at (in batches: deleting from a list's front is linear).
        horizon = (self._processed if upto is None else upto) - self._delay
        old = bisect.bisect_left(self._peaks, horizon, hi=self._decided)
        if old > 256 or (upto is None and old):
            del cands[:old]
            del self._peaks[:old]
            self._arrays.drop(old)
            del self._burst_peaks[: bisect.bisect_left(self._burst_peaks, self._peaks[0] if self._peaks else horizon)]
            self._decided -= old
        while len(self._segments) > 1 and self._segments[0][1] is not None and self._segments[0][1] < horizon:
            self._segments.popleft()

    def _count_neighbours(self, first: int, due: int) -> None:
        """For the dense-firing rule, candidates first..due-1 at once: how many others within busy_window_s
        (centred), no echo, at least 1 / busy_ratio of its peak."""
        self._decided_from = first
        if due <= first:
            return
        arrays = self._arrays
        peaks, amps = arrays.peak_index[first:due], arrays.peak_uv[first:due]
        lo = np.searchsorted(arrays.peak_index, peaks - self._busy_half, side="left")
        hi = np.searchsorted(arrays.peak_index, peaks + self._busy_half, side="right")
        other, offsets = _ranges(lo, hi)  # each window holds its own candidate: never empty
        lengths = hi - lo
        counted = ~arrays.echo[other] & (arrays.peak_uv[other] >= np.repeat(amps / self.config.busy_ratio, lengths))
        counted &= other != np.repeat(np.arange(first, due), lengths)
        self._neighbours = np.add.reduceat(counted.astype(np.intp), offsets)

    def _twitch(self, c: rules.Candidate) -> Twitch:
        if c.merged is None or c.doublet_interval_samples != abs(c.merged[0]):
            return Twitch(c.peak_index, c.onset_index, c.end_index, c.peak_uv, c.noise_uv, c.doublet_interval_samples)
        # Two discharges in one candidate: the twitch is the first.
        offset, other_uv = c.merged
        peak, onset, end = self._first_of_two(c, offset)
        return Twitch(peak, onset, end, other_uv if offset < 0 else c.peak_uv, c.noise_uv, abs(offset))

    def _between(self, lo: int, hi: int) -> tuple[int, int]:
        """Indices [a, b) of the candidates whose peak lies in [lo, hi]."""
        return bisect.bisect_left(self._peaks, lo), bisect.bisect_right(self._peaks, hi)

    def _features_batch(self, batch: list[rules.Candidate]) -> None:
        """`_features` for candidates about to be decided, the numpy work done once for all of them.

        The same figures as one by one: the baseline's moving sums cover the
        same samples, the clipping test runs only where the raw signal holds
        a run of equal values long enough to be clipped."""
        ctx = self._feature_ctx
        todo = [c for c in batch if not c.features_final and not c.echo and c.end_index + ctx + 1 <= self._processed]
        if len(todo) < 2:
            return
        reach = sum(self._baseline_windows)
        lo, hi = min(c.onset_index for c in todo) - ctx - reach, max(c.end_index for c in todo) + ctx + 1
        if self._ring_raw.span(lo, hi) != (lo, hi):
            return  # part of it is gone: one by one, as far as the ring still reaches
        raw = self._ring_raw.read(lo, hi)
        base = _low_passed(raw, self._baseline_windows)  # base[k] is the baseline at sample lo + reach + k
        starts = np.array([c.onset_index - ctx - lo - reach for c in todo])
        ends = np.array([c.end_index + ctx + 1 - lo - reach for c in todo])
        bounds = np.empty(2 * len(todo), dtype=np.intp)
        bounds[0::2], bounds[1::2] = starts, ends
        padded = np.append(base, 0.0)  # reduceat wants every bound inside the array; the pad is never in a range
        top = np.maximum.reduceat(padded, bounds)[0::2]
        bottom = np.minimum.reduceat(padded, bounds)[0::2]
        # Where could a clipped run be: clip_run equal values in a row, raw[j] to raw[j + r] (j in held_from).
        r = self._clip_run - 1
        equal_next = np.flatnonzero(raw[1:] == raw[:-1])  # raw[k + 1] == raw[k]: rare in a live signal
        # raw[j..j+r] all equal: j, ..., j+r-1 all in equal_next. Fewer than r equal pairs hold no run (a slice
        # to a negative end would count from the back instead).
        firsts = equal_next[: max(0, len(equal_next) - r + 1)]
        held_from = firsts[equal_next[r - 1 :] - firsts == r - 1].tolist()
        for n, c in enumerate(todo):
            c.baseline_swing_uv = float(top[n] - bottom[n])
            c.features_final = True
            self._measure_jump(c)
            a, b = c.onset_index - lo, c.end_index + 1 - lo  # the candidate in raw
            if b - a >= self._clip_run and bisect.bisect_left(held_from, b - r) > bisect.bisect_left(held_from, a):
                c.clipped = bool(self._clip_mask(raw[a:b]).any())
            else:
                c.clipped = False

    def _measure_jump(self, c: rules.Candidate) -> None:
        """The largest sample-to-sample step of the raw signal: only a moving baseline needs telling pop from motion."""
        if c.baseline_swing_uv > 0.5 * self.config.baseline_min_sigma * c.noise_uv:
            around = self._ring_raw.read(c.onset_index - self._merge, c.end_index + 1)
            if len(around) > 1:
                c.max_jump_uv = float(np.abs(np.diff(around)).max())

    def _features(self, c: rules.Candidate) -> None:
        """The raw signal's shape around a candidate, for the artifact rules; measured once its context is in."""
        if c.features_final:
            return
        ctx = self._feature_ctx
        c.features_final = c.end_index + ctx + 1 <= self._processed
        reach = sum(self._baseline_windows)
        raw_ctx = self._ring_raw.read(c.onset_index - ctx - reach, c.end_index + ctx + 1)
        if len(raw_ctx) > reach:
            base = _low_passed(raw_ctx, self._baseline_windows)
            c.baseline_swing_uv = float(base.max() - base.min())
        self._measure_jump(c)
        raw = self._ring_raw.read(c.onset_index, c.end_index + 1)
        if len(raw) >= self._clip_run:
            c.clipped = bool(self._clip_mask(raw).any())

    def _classify(self, i: int) -> None:
        cfg = self.config
        cands = self._candidates
        c = cands[i]
        at = c.peak_index
        reason = rules.REASON_ECHO if c.echo else None
        if reason is None:
            self._features(c)  # an echo's own shape is never asked about: its reason answers for it
            reason = self._artifact_reason(c)
            if reason in (rules.REASON_MOTION, rules.REASON_POP) and self._ecg(i):
                reason = rules.REASON_ECG  # heart beats are steep and carry slow waves: name them
        if (reason is None and c.end_index - c.onset_index + 1 > self._max_duration
                and not self._two_discharges(c)):
            # A heart beat's QRS can outlast a twitch: name it, so that it does
            # not guard the time after it as a short burst would.
            reason = rules.REASON_ECG if self._ecg(i) else rules.REASON_LONG
        if reason is None and c.potentials >= cfg.burst_min_potentials:
            reason = rules.REASON_BURST
        if reason is None and rules.in_any(at, self._segments, self._pre_guard, self._guard):
            reason = rules.REASON_ACTIVITY
        if reason is None:
            # Short bursts (too long or too many potentials for a twitch) get
            # the guard that activity segments get.
            bursts = self._burst_peaks  # few: most windows hold none
            a = bisect.bisect_left(bursts, at - self._guard - self._max_duration)
            b = bisect.bisect_right(bursts, at + self._pre_guard + self._max_duration)
            for k in (bisect.bisect_left(self._peaks, p) for p in bursts[a:b]):
                n = cands[k]
                if (k != i and n.onset_index - self._pre_guard <= at <= n.end_index + self._guard
                        and not self._looks_like_artifact(n) and not self._heart_beat(k)
                        and (n.potentials >= cfg.burst_min_potentials or not self._two_discharges(n))):
                    reason = rules.REASON_ACTIVITY
                    break
        if reason is None and self._neighbours[i - self._decided_from] >= cfg.busy_min_candidates:
            reason = rules.REASON_DENSE
        discharges_before: list[rules.Candidate] = []
        if reason is None:
            a, _ = self._between(at - self._isi, at)
            discharges_before = [p for p in cands[a:i] if p.reason not in _NOT_DISCHARGES]
        if reason is None and discharges_before:
            p = discharges_before[-1]
            if p.reason is None and p.doublet_interval_samples == at - p.peak_index:
                reason = rules.REASON_DOUBLET_SECOND
        if reason is None:
            def same_unit(n: rules.Candidate) -> bool:
                return rules.comparable(n.peak_uv, c.peak_uv, cfg.same_unit_ratio)

            _, b = self._between(at, at + self._doublet[1] + self._isi)
            later = [n for n in cands[i + 1 : b] if same_unit(n) and not self._looks_like_artifact(n)]
            second = next((n for n in later if self._doublet[0] <= n.peak_index - at <= self._doublet[1]
                           and self._same_shape(c, n)), None)
            if second is not None:
                c.doublet_interval_samples = second.peak_index - at
                after = [n for n in later if n.peak_index > second.peak_index]
                last_of_discharge = second.peak_index
            else:
                after = later
                last_of_discharge = at
            prev = [p for p in discharges_before if same_unit(p)]
            before_isi = at - prev[-1].peak_index if prev else None
            after_isi = after[0].peak_index - last_of_discharge if after else None
            if before_isi is not None and after_isi is not None and before_isi <= self._isi and after_isi <= self._isi:
                reason = rules.REASON_CONTINUAL
                c.doublet_interval_samples = None
        if reason is None and self._ecg(i):
            reason = rules.REASON_ECG
        if reason is None:
            # A heart beat's Q and S waves (a doublet's first or second, or a
            # lone small peak) beside an ECG-like R wave belong to that beat.
            a, b = self._between(at - self._ecg_complex, at + self._ecg_complex)
            for k in range(a, b):
                n = cands[k]
                if k != i and n.peak_uv >= c.peak_uv and (
                        n.reason == rules.REASON_ECG if k < i else (n.reason is None and self._ecg(k))):
                    reason = rules.REASON_ECG
                    c.doublet_interval_samples = None
                    break
        if reason is None and c.doublet_interval_samples is None and self._two_discharges(c):
            c.doublet_interval_samples = abs(c.merged[0])
        c.reason = reason

    def _under_ringing(self, n: rules.Candidate) -> bool:
        """A much smaller peak after a larger one (itself no echo; found before it), below its decaying ringing."""
        ratio = self.config.echo_ratio
        cands = self._candidates
        for k in range(bisect.bisect_left(self._peaks, n.peak_index - self._echo), len(cands)):
            p = cands[k]
            delay = n.peak_index - p.peak_index
            if 0 < delay and not p.echo and n.peak_uv < ratio * p.peak_uv * math.exp(-delay / self._echo_decay):
                return True
        return False

    def _artifact_reason(self, c: rules.Candidate) -> str | None:
        cfg = self.config
        return rules.artifact_reason(c, cfg.baseline_ratio, cfg.baseline_min_sigma * c.noise_uv)

    def _looks_like_artifact(self, c: rules.Candidate) -> bool:
        if c.reason is not None:
            return c.reason in _ARTIFACTS
        self._features(c)
        return self._artifact_reason(c) is not None

    def _snippet_at(self, index: int) -> np.ndarray:
        """The filtered signal around a peak, with room for the lags `_similar` tries (empty if not all held)."""
        reach = self._shape_half + self._shape_lag
        y = self._ring_y.read(index - reach, index + reach + 1)
        return y.copy() if len(y) == 2 * reach + 1 else np.empty(0)

    def _snippet(self, c: rules.Candidate) -> np.ndarray:
        if c.snippet is None:
            c.snippet = self._snippet_at(c.peak_index)
        return c.snippet

    def _same_shape(self, a: rules.Candidate, b: rules.Candidate) -> bool:
        """Do two potentials look alike (one motor unit firing twice)? Not enough signal to tell: amplitude
        alone decides (True)."""
        return self._similar(self._snippet(a), self._snippet(b)) is not False

    def _similar(self, sa: np.ndarray, sb: np.ndarray) -> bool | None:
        """Correlation of two snippets at the best small lag reaches same_unit_similarity; None if one is empty."""
        if not len(sa) or not len(sb):
            return None
        h, lag = self._shape_half, self._shape_lag
        core = sa[lag : lag + 2 * h + 1]
        core = core - core.mean()
        others = np.lib.stride_tricks.sliding_window_view(sb, 2 * h + 1)  # one row per lag
        others = others - others.mean(axis=1, keepdims=True)
        denom = np.sqrt(np.dot(core, core) * np.einsum("ij,ij->i", others, others))
        fit = denom > 0
        return bool(fit.any()) and float((others[fit] @ core / denom[fit]).max()) >= self.config.same_unit_similarity

    def _two_discharges(self, c: rules.Candidate) -> bool:
        """Is the candidate one unit firing twice, the two potentials too close to be two candidates (they
        overlap or nearly touch)? Another peak of the same sign, size (same_unit_ratio) and shape, a doublet's
        interval from the candidate's peak, in its run, each potential no longer than a twitch."""
        if c.run_to_search is not None:
            c.merged = self._merged_peak(c, *c.run_to_search)
            c.run_to_search = None
        return c.merged is not None

    def _merged_peak(self, c: rules.Candidate, start: int, end: int) -> tuple[int, float] | None:
        """`_two_discharges`'s search in the run's filtered samples [start, end): (offset, size) of the other peak."""
        lo, hi = self._doublet
        y = self._ring_y.read(start, end)
        if len(y) != end - start or end - start <= lo:
            return None  # no longer held, or too short for two
        p = c.peak_index - start
        s = y if y[p] > 0 else -y  # the peak's sign up
        turns = np.flatnonzero((s[1:-1] > s[:-2]) & (s[1:-1] >= s[2:])) + 1
        distance = np.abs(turns - p)
        turns = turns[(distance >= lo) & (distance <= hi) & (s[turns] * self.config.same_unit_ratio >= s[p])]
        if not len(turns):
            return None
        q = int(turns[np.argmax(s[turns])])
        _, onset, last = self._first_of_two(c, q - p)
        if last - onset + 1 > self._max_duration:
            return None  # one potential would be longer than a twitch
        if not self._similar(self._snippet(c), self._snippet_at(start + q)):
            return None
        return q - p, float(s[q])

    @staticmethod
    def _first_of_two(c: rules.Candidate, offset: int) -> tuple[int, int, int]:
        """Peak, onset and end of the first of two potentials of one unit, `offset` samples apart (the other
        peak from the candidate's): both have the same shape. The candidate's onset and end span both if the
        other peak lies between them, else only the candidate's own potential."""
        if c.onset_index <= c.peak_index + offset <= c.end_index:
            return min(c.peak_index, c.peak_index + offset), c.onset_index, c.end_index - abs(offset)
        shift = min(offset, 0)
        return c.peak_index + shift, c.onset_index + shift, c.end_index + shift

    def _heart_beat(self, k: int) -> bool:
        c = self._candidates[k]
        return c.reason == rules.REASON_ECG if k < self._decided else self._ecg(k)

    def _ecg(self, i: int) -> bool:
        cfg = self.config
        at = self._peaks[i]
        a, b = self._between(at - self._ecg_reach, at + self._ecg_reach)
        arrays = self._arrays
        amps, own = arrays.peak_uv[a:b], arrays.peak_uv[i]
        # rules.comparable with this one, for all at once; echoes and doublet seconds already decided are no beats
        similar = (np.maximum(amps, own) <= cfg.ecg_amplitude_ratio * np.minimum(amps, own)) & ~arrays.excluded[a:b]
        similar[i - a] = False
        return rules.ecg_chain(at, arrays.peak_index[a:b][similar].tolist(), cfg.ecg_min_beats, *self._ecg_intervals,
                               cfg.ecg_tolerance)


_ARTIFACTS = (rules.REASON_POP, rules.REASON_MOTION, rules.REASON_CLIPPING)
_NOT_IN_ECG_CHAINS = (rules.REASON_ECHO, rules.REASON_DOUBLET_SECOND)
_NOT_DISCHARGES = _ARTIFACTS + _NOT_IN_ECG_CHAINS
