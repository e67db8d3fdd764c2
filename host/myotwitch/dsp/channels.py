"""Cross-channel rules, after one TwitchDetector per channel: common-mode artifacts and crosstalk.

Each channel has its own detector (the same streaming pipeline as one channel). What one channel cannot
tell, several can:

- **Common-mode**: a potential on *every* channel within `max_skew_ms` with one shape is motion, the
  cable or the heart (ECG), not a motor unit: a unit's potential reaches only the electrodes over its
  muscle. Such a twitch is rejected as REASON_COMMON_MODE on each channel.
- **Crosstalk**: the same potential, smaller, on a neighbouring channel is volume conduction from the
  muscle under the other electrodes. It is one twitch, kept on the channel where it is largest; the
  smaller copy is rejected as REASON_CROSSTALK.

With two channels "on every channel" and "on the neighbour" are the same thing, so common-mode also
needs the copies to be of comparable size there (`common_mode_min_ratio`); crosstalk is smaller.

"The same potential" is judged on this module's own band-passed copy of each channel (kept in a
small buffer per channel, by absolute sample index): the twitch's snippet (+/- shape_half_ms around
its peak for crosstalk, +/- common_mode_half_ms for common-mode) correlates at `min_similarity` or more
with the other channel's snippet at some lag within
+/- max_skew_ms, and the other channel's copy stands out of its own noise by `min_sigma`.

A twitch is decided only once every channel's detector has settled past its peak plus the window the
rules look at, and decisions are released in order of (peak index, channel): the output does not
depend on how the streams are cut into blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from myotwitch.dsp.detector import Rejected, Twitch
from myotwitch.dsp.events import Reason
from myotwitch.dsp.filters import FilterConfig, StreamingSosFilter, design_bandpass_sos

REASON_COMMON_MODE = Reason.COMMON_MODE
REASON_CROSSTALK = Reason.CROSSTALK
_MAD_TO_SIGMA = 1.4826  # sigma of Gaussian noise from the median of |x|


@dataclass(frozen=True)
class ChannelRulesConfig:
    filters: FilterConfig = field(default_factory=FilterConfig)
    # Electrodes on one limb see a common-mode potential within a sample or two; the Pico's round-robin
    # ADC adds a constant skew of 1/(N x rate) (0.17 ms for 3 channels at 2 kHz). 3 ms leaves room for a
    # slightly different waveform (a potential's phases are 3-10 ms long) without pairing unrelated units.
    max_skew_ms: float = 3.0
    shape_half_ms: float = 8.0  # the snippet compared for crosstalk: about a twitch's width each side of its peak
    # Common-mode sources last longer than a potential (a QRS complex 80-120 ms, a cable's swing longer):
    # compared over this much each side, their copies on quieter channels still stand out of the noise.
    # Measured on benchmarks/channels.py (20 seeds): with 8 ms for both rules, 9 of the 33 artifacts that
    # gave a twitch on some channel alone were rejected; with 20 ms here, 22. Crosstalk keeps its 8 ms:
    # with 20 ms it counted 95.2 % of twitches once instead of 98.4 % (noise around a short potential).
    common_mode_half_ms: float = 20.0
    # Two copies of one potential (crosstalk, common-mode) correlate near 1 where they stand out of the
    # noise; a different unit, or noise, correlates at 0.3-0.4 (DetectorConfig.same_unit_similarity).
    min_similarity: float = 0.7
    min_sigma: float = 3.0  # a copy must reach this many noise sigmas of its own channel to count
    noise_window_s: float = 0.5  # the noise sigma of a channel: median |x| over this window around the peak
    common_mode_min_ratio: float = 0.6  # two channels only: the smaller copy at least this share of the larger


@dataclass(frozen=True)
class ChannelEvent:
    """An event of one channel: the detector's (or the rules') event and the channel it is on (0-based)."""

    channel: int
    event: object
    muscle: str | None = None  # the channel's muscle, as named by the user or the file's signal label


class _Buffer:
    """A channel's band-passed samples by absolute index; samples not received are NaN. Trimmed from the front."""

    def __init__(self) -> None:
        self.first_index = 0
        self.data = np.empty(0)

    @property
    def end_index(self) -> int:
        return self.first_index + len(self.data)

    def append(self, start_index: int, values: np.ndarray) -> None:
        if not len(self.data):
            self.first_index = start_index
        elif start_index > self.end_index:
            values = np.concatenate((np.full(start_index - self.end_index, np.nan), values))
        elif start_index < self.end_index:  # overlapping input (never from a detector's stream): keep the first
            values = values[self.end_index - start_index :]
        self.data = np.concatenate((self.data, values))

    def trim(self, keep_from_index: int) -> None:
        drop = min(max(0, keep_from_index - self.first_index), len(self.data))
        if drop:
            self.data = self.data[drop:]
            self.first_index += drop

    def read(self, a: int, b: int) -> np.ndarray:
        """Samples [a, b); NaN where not held."""
        out = np.full(b - a, np.nan)
        lo, hi = max(a, self.first_index), min(b, self.end_index)
        if hi > lo:
            out[lo - a : hi - a] = self.data[lo - self.first_index : hi - self.first_index]
        return out


class ChannelRules:
    """Decides each channel's twitches against the other channels' signal.

    Feed every channel's blocks (`feed`), with the events its detector returned for them; then
    `decide(settled_indexes)` with each detector's `settled_index` returns the twitches decided so far as
    ChannelEvents holding a Twitch (kept) or a Rejected (common-mode or crosstalk), in order of peak
    index then channel. `flush()` at the end of the streams decides the rest.
    """

    def __init__(self, rate_hz: float, n_channels: int, config: ChannelRulesConfig | None = None) -> None:
        if n_channels < 1:
            raise ValueError(f"{n_channels} channels")
        self.rate_hz = float(rate_hz)
        self.n_channels = n_channels
        self.config = config = config or ChannelRulesConfig()
        self._half = max(2, round(config.shape_half_ms * rate_hz / 1000.0))
        self._common_half = max(self._half, round(config.common_mode_half_ms * rate_hz / 1000.0))
        self._lag = max(1, round(config.max_skew_ms * rate_hz / 1000.0))
        self._noise_half = max(self._half, round(config.noise_window_s * rate_hz / 2))
        # A twitch at p needs each channel's samples up to p + reach
        self.reach = max(self._common_half + self._lag, self._noise_half)
        sos = design_bandpass_sos(rate_hz, config.filters)
        self._filters = [StreamingSosFilter(sos) for _ in range(n_channels)]
        self._buffers = [_Buffer() for _ in range(n_channels)]
        self._next_index: list[int | None] = [None] * n_channels
        self._pending: list[tuple[int, int, Twitch]] = []  # (peak index, channel, twitch)
        self.frontier_index = 0  # every twitch peaking before this has been decided
        self.twitches = [0] * n_channels
        self.rejected: list[dict[str, int]] = [{} for _ in range(n_channels)]

    def feed(self, channel: int, start_index: int, block_uv: np.ndarray, detected: list) -> None:
        """A channel's block and the events its detector returned for it (only its twitches are held)."""
        if self._next_index[channel] is not None and start_index != self._next_index[channel]:
            self._filters[channel].reset()  # a gap: the filter starts again after it, as the detector's does
        self._next_index[channel] = start_index + len(block_uv)
        if len(block_uv):
            filtered = self._filters[channel].process(np.asarray(block_uv, dtype=np.float64))
            self._buffers[channel].append(start_index, filtered)
        self.hold(channel, detected)

    def hold(self, channel: int, detected: list) -> None:
        """Events a channel's detector returned without new samples (its flush): its twitches are held."""
        self._pending += [(e.peak_index, channel, e) for e in detected if isinstance(e, Twitch)]

    def decide(self, settled_indexes: list[int]) -> list[ChannelEvent]:
        """The twitches no later input can change: every channel settled past them and holding their window."""
        ends = [b.end_index if n is not None else 0 for b, n in zip(self._buffers, self._next_index, strict=True)]
        # No twitch can still come before min(settled); each one needs its window in every channel.
        frontier = min(min(settled_indexes), min(ends) - self.reach)
        out = self._release(frontier)
        self.frontier_index = max(self.frontier_index, frontier)
        keep_from = min([frontier] + [p for p, _, _ in self._pending]) - self.reach
        for b in self._buffers:
            b.trim(keep_from)
        return out

    def flush(self) -> list[ChannelEvent]:
        """End of the streams: decide every twitch held, on the signal there is."""
        return self._release(None)

    def _release(self, frontier: int | None) -> list[ChannelEvent]:
        self._pending.sort(key=lambda item: (item[0], item[1]))
        n = len(self._pending) if frontier is None else next(
            (i for i, item in enumerate(self._pending) if item[0] >= frontier), len(self._pending))
        due, self._pending = self._pending[:n], self._pending[n:]
        return [self._decide_one(channel, twitch) for _, channel, twitch in due]

    def _decide_one(self, channel: int, twitch: Twitch) -> ChannelEvent:
        reason = self.reason(channel, twitch.peak_index)
        if reason is None:
            self.twitches[channel] += 1
            return ChannelEvent(channel, twitch)
        self.rejected[channel][reason] = self.rejected[channel].get(reason, 0) + 1
        return ChannelEvent(channel, Rejected(twitch.peak_index, twitch.peak_uv, reason))

    def reason(self, channel: int, peak_index: int) -> Reason | None:
        """Why the twitch at peak_index on channel is not one of its own, or None: it is."""
        if self.n_channels == 1:
            return None
        others = [k for k in range(self.n_channels) if k != channel]
        own = self._snippet(channel, peak_index, self._common_half)
        if own is not None:
            copies = [self._copy_uv(k, own, peak_index, self._common_half) for k in others]
            sizes = [c for c in copies if c is not None]
            if len(sizes) == len(others):
                sizes.append(float(np.max(np.abs(own))))
                if self.n_channels >= 3 or min(sizes) >= self.config.common_mode_min_ratio * max(sizes):
                    return REASON_COMMON_MODE
        own = self._snippet(channel, peak_index, self._half)
        if own is None:
            return None
        own_uv = float(np.max(np.abs(own)))
        for k in others:
            size_uv = self._copy_uv(k, own, peak_index, self._half)
            # The largest copy keeps the twitch; an exact tie goes to the lower channel.
            if size_uv is not None and (size_uv > own_uv or (size_uv == own_uv and k < channel)):
                return REASON_CROSSTALK
        return None

    def _snippet(self, channel: int, peak_index: int, half: int) -> np.ndarray | None:
        own = self._buffers[channel].read(peak_index - half, peak_index + half + 1)
        return own if np.isfinite(own).all() else None

    def _copy_uv(self, k: int, own: np.ndarray, peak_index: int, h: int) -> float | None:
        """The size (µV) of the copy of `own` (peak_index +/- h) on channel k within the skew, or None if none."""
        lag = self._lag
        other = self._buffers[k].read(peak_index - h - lag, peak_index + h + lag + 1)
        around = self._buffers[k].read(peak_index - self._noise_half, peak_index + self._noise_half)
        around = around[np.isfinite(around)]
        if not np.isfinite(other).all() or len(around) < self._noise_half:
            return None
        sigma_uv = _MAD_TO_SIGMA * float(np.median(np.abs(around)))
        a = own - own.mean()
        norm_a = math.sqrt(float(a @ a))
        best, best_at = -1.0, 0
        for shift in range(2 * lag + 1):
            b = other[shift : shift + 2 * h + 1]
            b = b - b.mean()
            denominator = norm_a * math.sqrt(float(b @ b))
            if denominator > 0:
                r = float(a @ b) / denominator
                if r > best:
                    best, best_at = r, shift
        if best < self.config.min_similarity:
            return None
        size_uv = float(np.max(np.abs(other[best_at : best_at + 2 * h + 1])))
        if size_uv < self.config.min_sigma * sigma_uv:
            return None
        return size_uv
