"""A streaming, causal twitch detector.

Conditioning (band-pass and mains notches, see filters.py), a robust noise
floor, one detection threshold, merging of the phases of one potential, a
dead time, and a ceiling on duration so sustained activity is not counted
as twitching.

Everything is keyed to absolute sample indices: noise windows are aligned to
multiples of their length from sample 0, and events carry indices, not
times. So the output does not depend on how the stream is cut into blocks.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from myotwitch.dsp.filters import FilterConfig, StreamingSosFilter, design_conditioning_sos

# For Gaussian noise, sigma = 1.4826 * median(|x|): a noise estimate that a
# few twitches in the window do not move.
_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class DetectorConfig:
    filters: FilterConfig = field(default_factory=FilterConfig)
    # Noise floor: sigma of each 0.5 s window, and the median over the last
    # 10 s of windows, so a burst of twitches or a short movement barely moves it.
    noise_window_s: float = 0.5
    noise_history_windows: int = 20
    warmup_windows: int = 2  # no detection in the first second: no noise floor yet
    # Detection threshold in noise sigmas. Gaussian noise would need only 6,
    # but real rest EMG is heavier-tailed: data/biosppy-emg/emg.txt has
    # excursions up to about 9 sigma of its median-based floor (small motor-unit
    # potentials, quantisation). 10 keeps those out; surface fasciculations
    # (tens to hundreds of µV) stand far above a rest floor of 1-3 µV.
    threshold_sigma: float = 10.0
    # Phases of one bi- or triphasic potential are at most a few ms apart.
    merge_gap_ms: float = 8.0
    # One motor unit cannot fire again this soon; a later phase is not a new twitch.
    dead_time_ms: float = 25.0
    # A smaller peak soon after a twitch is its last phase or the band-pass
    # ringing, not a new twitch: within this window, peaks under this share of
    # the twitch's peak are not counted.
    echo_window_ms: float = 60.0
    echo_ratio: float = 0.3
    # Fasciculation potentials last about 3-40 ms (needle: 12.6 +/- 4.4 ms);
    # anything above threshold for longer is activity, not a twitch.
    max_duration_ms: float = 40.0
    # After a gap in the stream the filter restarts: no detection while it settles.
    settle_s: float = 0.2


@dataclass(frozen=True)
class Twitch:
    peak_index: int
    onset_index: int  # first sample above the threshold
    end_index: int  # last sample above the threshold
    peak_uv: float  # largest absolute excursion of the filtered signal
    noise_uv: float  # noise sigma when it was detected

    @property
    def snr(self) -> float:
        return self.peak_uv / self.noise_uv if self.noise_uv > 0 else float("inf")

    def duration_ms(self, rate_hz: float) -> float:
        """Time the filtered signal spent above the detection threshold."""
        return (self.end_index - self.onset_index + 1) * 1000.0 / rate_hz


@dataclass
class DetectorStats:
    samples: int = 0
    rejected_long: int = 0  # above threshold too long: activity, not a twitch
    suppressed: int = 0  # within the dead time or while settling
    echoes: int = 0  # small peaks just after a twitch: its tail or the filter ringing
    gaps: int = 0


@dataclass
class _Pending:
    onset_index: int
    last_index: int
    peak_index: int
    peak_abs: float
    noise_uv: float
    suppressed: bool


class TwitchDetector:
    """Feed blocks of µV with the absolute index of their first sample; get twitches."""

    def __init__(self, rate_hz: float, config: DetectorConfig = DetectorConfig()) -> None:
        self.rate_hz = float(rate_hz)
        self.config = config
        self._filter = StreamingSosFilter(design_conditioning_sos(rate_hz, config.filters))
        self._window_samples = max(1, round(config.noise_window_s * rate_hz))
        self._merge_gap_samples = round(config.merge_gap_ms * rate_hz / 1000.0)
        self._dead_samples = round(config.dead_time_ms * rate_hz / 1000.0)
        self._echo_samples = round(config.echo_window_ms * rate_hz / 1000.0)
        self._max_duration_samples = round(config.max_duration_ms * rate_hz / 1000.0)
        self._settle_samples = round(config.settle_s * rate_hz)
        self.reset()

    def reset(self) -> None:
        self._filter.reset()
        self._window = np.empty(self._window_samples)
        self._window_fill = 0
        self._sigmas: deque[float] = deque(maxlen=self.config.noise_history_windows)
        self._next_index: int | None = None
        self._pending: _Pending | None = None
        self._last_peak_index: int | None = None
        self._last_peak_uv = 0.0
        self._settle_until = 0
        self.stats = DetectorStats()

    @property
    def noise_uv(self) -> float | None:
        """Current noise floor (sigma of the filtered signal), or None while warming up."""
        if len(self._sigmas) < self.config.warmup_windows:
            return None
        return float(np.median(self._sigmas))

    @property
    def settled_index(self) -> int:
        """Every twitch peaking before this index has been returned already."""
        if self._pending is not None:
            return self._pending.onset_index
        return self._next_index or 0

    def process(self, start_index: int, block_uv: np.ndarray) -> list[Twitch]:
        block_uv = np.asarray(block_uv, dtype=np.float64)
        out: list[Twitch] = []
        if self._next_index is not None and start_index != self._next_index:
            out += self._discontinuity(start_index)
        self._next_index = start_index + len(block_uv)
        self.stats.samples += len(block_uv)
        filtered = self._filter.process(block_uv)
        w = self._window_samples
        i = 0
        while i < len(filtered):
            abs_i = start_index + i
            window_end = (abs_i // w + 1) * w
            seg = filtered[i : min(len(filtered), i + window_end - abs_i)]
            noise_uv = self.noise_uv
            if noise_uv is not None:
                self._detect(abs_i, seg, self.config.threshold_sigma * noise_uv, noise_uv, out)
            self._window[self._window_fill : self._window_fill + len(seg)] = np.abs(seg)
            self._window_fill += len(seg)
            if abs_i + len(seg) == window_end:
                if self._window_fill >= w // 2:
                    self._sigmas.append(_MAD_TO_SIGMA * float(np.median(self._window[: self._window_fill])))
                self._window_fill = 0
            i += len(seg)
        return out

    def flush(self) -> list[Twitch]:
        """End of stream: emit the event still open."""
        out: list[Twitch] = []
        self._finalize(out)
        return out

    def _discontinuity(self, next_index: int) -> list[Twitch]:
        """Samples are missing: close what is open, restart the filter, let it settle."""
        out = self.flush()
        self.stats.gaps += 1
        self._filter.reset()
        self._window_fill = 0
        self._settle_until = next_index + self._settle_samples
        return out

    def _detect(self, abs_start: int, seg: np.ndarray, threshold_uv: float, noise_uv: float, out: list) -> None:
        magnitude = np.abs(seg)
        above = magnitude > threshold_uv
        if above.any():
            edges = np.flatnonzero(np.diff(np.concatenate(([0], above.view(np.int8), [0]))))
            for s, e in zip(edges[0::2].tolist(), edges[1::2].tolist()):
                run_peak = s + int(np.argmax(magnitude[s:e]))
                peak_abs = float(magnitude[run_peak])
                onset, last, peak_index = abs_start + s, abs_start + e - 1, abs_start + run_peak
                p = self._pending
                if p is not None and onset - p.last_index <= self._merge_gap_samples:
                    p.last_index = last
                    if peak_abs > p.peak_abs:
                        p.peak_abs, p.peak_index = peak_abs, peak_index
                    continue
                self._finalize(out)
                suppressed = onset < self._settle_until or (
                    self._last_peak_index is not None and onset - self._last_peak_index < self._dead_samples
                )
                self._pending = _Pending(onset, last, peak_index, peak_abs, noise_uv, suppressed)
        p = self._pending
        if p is not None and abs_start + len(seg) - 1 - p.last_index > self._merge_gap_samples:
            self._finalize(out)

    def _finalize(self, out: list) -> None:
        p = self._pending
        if p is None:
            return
        self._pending = None
        if p.suppressed:
            self.stats.suppressed += 1
        elif p.last_index - p.onset_index + 1 > self._max_duration_samples:
            self.stats.rejected_long += 1
        elif (
            self._last_peak_index is not None
            and p.peak_index - self._last_peak_index < self._echo_samples
            and p.peak_abs < self.config.echo_ratio * self._last_peak_uv
        ):
            self.stats.echoes += 1
        else:
            self._last_peak_index = p.peak_index
            self._last_peak_uv = p.peak_abs
            out.append(Twitch(p.peak_index, p.onset_index, p.last_index, p.peak_abs, p.noise_uv))
