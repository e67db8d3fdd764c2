"""The noise floor: sigma of each noise window (1.4826 x median |x| of the filtered signal), and a low
quantile of the last noise_history_s of windows, so activity filling most of that time does not raise it,
while a lasting change of electrode contact does. Windows are aligned to multiples of their length from
sample 0, so the floor does not depend on how the stream is cut into blocks. Flat windows (lead off) and
clipped ones are reported as SignalIssue."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from myotwitch.dsp import streaming
from myotwitch.dsp.config import DetectorConfig
from myotwitch.dsp.events import SignalIssue

# For Gaussian noise, sigma = 1.4826 * median(|x|): an estimate a few potentials in the window do not move.
_MAD_TO_SIGMA = 1.4826


class NoiseFloor:
    """Feed each piece's |filtered| and raw samples; get the floor in force at each sample (NaN before it is
    known or while the filters settle). Issues go to `emit` as they end."""

    def __init__(self, config: DetectorConfig, window_samples: int, emit: Callable[[object], None]) -> None:
        self._config = config
        self._window_samples = window_samples
        self._emit = emit
        self._window = np.empty(window_samples)
        self._window_raw = np.empty(window_samples)  # the raw samples of the window being filled, for its range
        self.sigmas: deque[float] = deque(maxlen=max(1, round(config.noise_history_s / config.noise_window_s)))
        self.floor: float | None = None
        self.settle_until = 0  # no floor before this index: the filters settle after a gap
        self.flat_samples = 0
        self._issue: list | None = None  # [kind, start, end] being extended
        self._unwritten = 0  # in `update`: the floors before this offset of the piece are not written (NaN)
        self.restart()

    def restart(self) -> None:
        """A gap in the stream: the window being filled is dropped (the history and the floor stay)."""
        self._window_fill = 0
        self._window_clipped = 0

    def update(self, start: int, x: np.ndarray, magnitude: np.ndarray,
               clipped_before: np.ndarray | None) -> np.ndarray:
        """The floor in force at each sample of a piece starting at absolute index `start`: set by the windows
        before its own. `x` raw, `magnitude` |filtered| (used as scratch: its whole windows are partitioned in
        place), `clipped_before[k]` clipped samples in x[:k] (None: none in the piece)."""
        # What is not written is NaN: a prefix of the piece, as the floor once known stays known and the
        # filters' settling after a gap is a prefix too (`_fill_floor`). One pass fewer than filling it all.
        floors = np.empty(len(magnitude))
        self._unwritten = len(magnitude)
        w = self._window_samples
        i = 0
        while i < len(magnitude):
            abs_i = start + i
            window_end = (abs_i // w + 1) * w
            if self._window_fill == 0 and abs_i % w == 0 and len(magnitude) - i >= 2 * w:
                i = self._whole_windows(start, i, x, magnitude, clipped_before, floors)
                continue
            j = min(len(magnitude), i + window_end - abs_i)
            self._fill_floor(floors, start, i, j)
            self._window[self._window_fill : self._window_fill + (j - i)] = magnitude[i:j]
            self._window_raw[self._window_fill : self._window_fill + (j - i)] = x[i:j]  # its range: when asked
            self._window_fill += j - i
            if clipped_before is not None:
                self._window_clipped += int(clipped_before[j] - clipped_before[i])
            if abs_i + (j - i) == window_end:
                self._close_window(window_end)
            i = j
        floors[: self._unwritten] = np.nan
        return floors

    def _whole_windows(self, start: int, i: int, x: np.ndarray, magnitude: np.ndarray,
                       clipped_before: np.ndarray | None, floors: np.ndarray) -> int:
        """Noise windows lying whole in this piece from offset i, at once (numpy on all of them); returns
        the offset after them. The same figures as filling and closing them one by one."""
        w = self._window_samples
        k = (len(magnitude) - i) // w
        j = i + k * w
        medians = streaming.medians(magnitude[i:j].reshape(k, w), in_place=True)
        # The raw range tells a flat window only where its sigma is below flat_uv (rare): elsewhere it is never
        # read, so it is not measured (two passes over the piece saved).
        low = np.flatnonzero(_MAD_TO_SIGMA * medians < self._config.flat_uv)
        ranges = np.full(k, np.inf)
        if len(low):
            raws = x[i:j].reshape(k, w)[low]
            ranges[low] = raws.max(axis=1) - raws.min(axis=1)
        clipped = (np.zeros(k, dtype=np.intp) if clipped_before is None
                   else clipped_before[i + w : j + 1 : w] - clipped_before[i:j:w])
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
        history = self.sigmas
        w, k, cfg = self._window_samples, len(medians), self._config
        if self.floor is None or self._issue is not None or len(history) != history.maxlen:
            return False
        sigmas = _MAD_TO_SIGMA * medians
        if ((sigmas < cfg.flat_uv) & (ranges < 10 * cfg.flat_uv)).any() or (clipped >= 0.01 * w).any():
            return False
        windows = streaming.windows(np.concatenate((list(history), sigmas)), len(history))
        after = self._floor_of(np.sort(windows, axis=1))  # after[n]: the floor after n of the new windows
        floors[i:j].reshape(k, w)[:] = after[:k, None]
        self._unwritten = min(self._unwritten, max(i, self.settle_until - start))
        history.extend(sigmas.tolist())
        self.floor = float(after[k])
        return True

    def _fill_floor(self, floors: np.ndarray, start: int, i: int, j: int) -> None:
        """floors[i:j] (offsets in the piece starting at `start`) get the floor in force, once settled."""
        if self.floor is not None:
            lo = max(i, self.settle_until - start)
            if lo < j:
                floors[lo:j] = self.floor
                self._unwritten = min(self._unwritten, lo)

    def _close_window(self, window_end: int) -> None:
        fill = self._window_fill
        clipped, self._window_clipped = self._window_clipped, 0
        if fill >= self._window_samples // 2:
            median = float(streaming.medians(self._window[:fill], in_place=True))
            # As for whole windows, the raw range tells a flat window only where its sigma is below flat_uv (rare)
            raw = self._window_raw[:fill]
            raw_range = float(raw.max() - raw.min()) if _MAD_TO_SIGMA * median < self._config.flat_uv else np.inf
            self._window_done(window_end, fill, median, raw_range, clipped)
        self._window_fill = 0

    def _window_done(self, window_end: int, fill: int, median: float, raw_range: float, clipped: int) -> None:
        """A noise window's figures are in: flat, clipped, or a new sigma for the floor."""
        sigma = _MAD_TO_SIGMA * median
        if sigma < self._config.flat_uv and raw_range < 10 * self._config.flat_uv:
            self.flat_samples += fill
            self._note_issue("flat", window_end - fill, window_end - 1)
            return
        if clipped >= 0.01 * fill:
            self._note_issue("clipped", window_end - fill, window_end - 1)
        else:
            self.close_issue()
        self.sigmas.append(sigma)
        if len(self.sigmas) >= self._config.warmup_windows:
            self.floor = float(self._floor_of(np.sort(np.array(self.sigmas))))

    def _floor_of(self, ordered: np.ndarray) -> np.ndarray:
        """The noise floor from sorted window sigmas (along the last axis): their noise_quantile, linear
        between ranks."""
        m = ordered.shape[-1]
        position = self._config.noise_quantile * (m - 1)
        k = int(position)
        frac = position - k
        return ordered[..., k] + frac * (ordered[..., min(k + 1, m - 1)] - ordered[..., k])

    def _note_issue(self, kind: str, start: int, end: int) -> None:
        if self._issue is not None and self._issue[0] == kind and start <= self._issue[2] + 1:
            self._issue[2] = end
            return
        self.close_issue()
        self._issue = [kind, start, end]

    def close_issue(self) -> None:
        if self._issue is not None:
            self._emit(SignalIssue(*self._issue))
            self._issue = None
