"""What the web page is sent, made from the session's blocks and events: no IO, no threads, no clock.

- `ColumnDecimator`: the filtered signal as min/max per column (one column per pixel of the page).
- `CandidateFinder`: potentials marked as soon as they are seen. The detector decides a candidate only
  ~5.5 s after it (it waits to see what follows), so the view finds its own candidates: runs of the
  filtered trace above `peak_sigma` times the noise floor the detector reports, one candidate per run.
- `DecisionMatcher`: a twitch or a rejection from the detector confirms or strikes out the candidate
  whose peak lies within `MATCH_S` (15 ms) of it; a decision with no candidate there is shown alone.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

MATCH_S = 0.015  # a decision's peak and a view candidate's peak this close are the same potential
RUN_END_S = 0.010  # this long below the threshold ends a candidate's run
SETTLE_S = 0.2  # after a (re)start of the view's filter: its transient is not a candidate
FORGET_S = 30.0  # a candidate this much older than a decision will not be decided (the detector saw no potential)


class ColumnDecimator:
    """Min and max of each `samples_per_column` filtered samples; column k holds the samples whose
    absolute index // samples_per_column is k, so columns line up however the stream is cut."""

    def __init__(self, samples_per_column: int) -> None:
        self.samples_per_column = max(1, int(samples_per_column))
        self._pending: tuple[int, float, float] | None = None  # (column, min, max) still filling

    def add(self, start_index: int, y_uv: np.ndarray) -> list[tuple[int, float, float]]:
        """Feed filtered samples; return the columns completed, as (first sample index, min, max).
        After a gap, the partly filled column is shown with what it had."""
        spc = self.samples_per_column
        n = len(y_uv)
        if n == 0:
            return []
        first = (-start_index) % spc or spc  # offset of the first column boundary inside the block
        starts = np.concatenate(([0], np.arange(first, n, spc))).astype(np.intp)
        lo = np.minimum.reduceat(y_uv, starts)
        hi = np.maximum.reduceat(y_uv, starts)
        columns = (start_index + starts) // spc
        done: list[tuple[int, float, float]] = []
        if self._pending is not None:
            column, p_lo, p_hi = self._pending
            if column == columns[0]:
                lo[0], hi[0] = min(lo[0], p_lo), max(hi[0], p_hi)
            else:
                done.append((column * spc, round(p_lo, 2), round(p_hi, 2)))
            self._pending = None
        last_complete = (start_index + n) % spc == 0
        whole = len(starts) if last_complete else len(starts) - 1
        done += [(int(c) * spc, round(float(a), 2), round(float(b), 2))
                 for c, a, b in zip(columns[:whole], lo[:whole], hi[:whole], strict=True)]
        if not last_complete:
            self._pending = (int(columns[-1]), float(lo[-1]), float(hi[-1]))
        return done


@dataclass
class Candidate:
    id: int
    peak_index: int
    peak_uv: float
    verdict: str | None = None  # None while undecided, then "twitch" or "rejected"


class CandidateFinder:
    """Runs of |filtered| above the threshold; each run's largest sample is a candidate, reported when
    the run ends (RUN_END_S below the threshold), so a candidate is known RUN_END_S after its last sample."""

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        self._end_samples = max(1, round(RUN_END_S * rate_hz))
        self._settle_until_index = 0
        self._run_peak: tuple[int, float] | None = None  # (index, |uv|) of the open run's largest sample
        self._below = 0  # samples below the threshold since the open run's last one above it
        self._next_id = 0

    def restart(self, at_index: int) -> None:
        """The filter restarted at this index (a gap, a new design): wait for it to settle."""
        self._run_peak = None
        self._below = 0
        self._settle_until_index = at_index + round(SETTLE_S * self.rate_hz)

    def add(self, start_index: int, y_uv: np.ndarray, threshold_uv: float | None) -> list[Candidate]:
        found: list[Candidate] = []
        if threshold_uv is None or not len(y_uv):
            return found
        a = np.abs(y_uv)
        skip = max(0, self._settle_until_index - start_index)
        above = a > threshold_uv
        above[:skip] = False
        idx = np.flatnonzero(above)
        position = 0  # samples of this block already accounted for
        for k in idx.tolist():
            if self._run_peak is not None:
                self._below += k - position
                if self._below >= self._end_samples:
                    found.append(self._emit())
            position = k + 1
            if self._run_peak is None or a[k] > self._run_peak[1]:
                self._run_peak = (start_index + k, float(a[k]))
            self._below = 0
        if self._run_peak is not None:
            self._below += len(a) - position
            if self._below >= self._end_samples:
                found.append(self._emit())
        return found

    def _emit(self) -> Candidate:
        assert self._run_peak is not None
        index, uv = self._run_peak
        self._run_peak, self._below = None, 0
        self._next_id += 1
        return Candidate(self._next_id, index, round(uv, 2))


class DecisionMatcher:
    """Pairs the detector's decisions with the view's candidates by peak index, within MATCH_S."""

    def __init__(self, rate_hz: float, keep: int = 2000) -> None:
        self.tolerance_samples = round(MATCH_S * rate_hz)
        self._forget_samples = round(FORGET_S * rate_hz)
        self._open: deque[Candidate] = deque(maxlen=keep)

    def add(self, candidate: Candidate) -> None:
        self._open.append(candidate)

    def decide(self, peak_index: int, verdict: str) -> Candidate | None:
        """The undecided candidate nearest to `peak_index` within the tolerance, now decided; or None."""
        best = None
        for c in self._open:
            distance = abs(c.peak_index - peak_index)
            if c.verdict is None and distance <= self.tolerance_samples and (
                    best is None or distance < abs(best.peak_index - peak_index)):
                best = c
        if best is None:
            return None
        best.verdict = verdict
        # Candidates decided, or older than anything still to be decided, need no keeping.
        while self._open and (self._open[0].verdict is not None
                              or self._open[0].peak_index < peak_index - self._forget_samples):
            self._open.popleft()
        return best
