"""Activity (voluntary contraction, cramp, spasm): an envelope (RMS over envelope_window_ms) above
activity_on_sigma x the floor for activity_min_s opens a segment; below activity_off_sigma for
activity_hold_s closes it."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from myotwitch.dsp import streaming
from myotwitch.dsp.config import DetectorConfig, SampleCounts
from myotwitch.dsp.events import ActivitySegment


class ActivityTracker:
    """A state machine over the envelope; segments go to `emit` as they close, and stay in `segments` (the
    open one with end None) for the rules until `forget_before` drops them."""

    def __init__(self, config: DetectorConfig, counts: SampleCounts, rate_hz: float,
                 emit: Callable[[object], None]) -> None:
        self._config = config
        self._counts = counts
        self._rate_hz = rate_hz
        self._emit = emit
        self._open: int | None = None  # start of the open segment
        self._above_start: int | None = None
        self._below_start: int | None = None
        self._sum = 0.0
        self._peak = 0.0
        self._count = 0
        # The envelope of a stretch that has not yet shown whether it belongs to a segment, in the pieces
        # it spans so far: above the on threshold but not yet for activity_min_s (a segment if it lasts),
        # or below the off threshold inside a segment but not yet for activity_hold_s (the segment goes on
        # if it ends before).
        self._held: list[np.ndarray] = []
        self.segments: deque[tuple[int, int | None]] = deque()  # recent activity, for the rules

    def forget_before(self, horizon: int) -> None:
        """Drop the segments that ended before `horizon` (the last one stays)."""
        while len(self.segments) > 1 and self.segments[0][1] is not None and self.segments[0][1] < horizon:
            self.segments.popleft()

    def feed(self, abs_start: int, envelope_sums: np.ndarray, floors_sq: np.ndarray) -> None:
        """The envelope (RMS over envelope_window_ms) against the on and off thresholds (in floors)."""
        w = self._counts.envelope_window
        on = envelope_sums > floors_sq * (w * self._config.activity_on_sigma**2)
        off = None  # needed only once a segment is open
        n = len(envelope_sums)
        i = 0
        while i < n:
            if self._open is None:
                # Closed: wait for `act_min` samples in a row above the on threshold.
                if self._above_start is None:
                    i = streaming.first(on, i, True)
                    if i == n:
                        return
                    self._above_start = abs_start + i
                run_end = streaming.first(on, i, False)
                if abs_start + run_end - self._above_start >= self._counts.act_min:
                    self._open, self._above_start = self._above_start, None
                    self._sum, self._peak, self._count = 0.0, 0.0, 0
                    self._take_held()  # the segment's start, in earlier pieces
                    self._below_start = None
                    self.segments.append((self._open, None))
                    continue
                if run_end == n:
                    self._held.append(streaming.rms(envelope_sums[i:n], w))  # may yet open a segment
                    return
                self._held = []
                self._above_start = None
                i = run_end
            else:
                # Open: until `act_hold` samples in a row below the off threshold.
                if off is None:
                    off = envelope_sums < floors_sq * (w * self._config.activity_off_sigma**2)
                if self._below_start is None:
                    q = streaming.first(off, i, True)
                    self._accumulate(streaming.rms(envelope_sums[i:q], w))
                    if q == n:
                        return
                    i = q
                    self._below_start = abs_start + q
                quiet_end = streaming.first(off, i, False)
                if abs_start + quiet_end - self._below_start >= self._counts.act_hold:
                    resume = max(i, self._below_start + self._counts.act_hold - abs_start)
                    self._held = []  # after the segment's end
                    self.close(self._below_start - 1)
                    i = resume
                    continue
                self._held.append(streaming.rms(envelope_sums[i:quiet_end], w))
                if quiet_end == n:
                    return
                self._take_held()  # a dip inside the segment
                self._below_start = None
                i = quiet_end

    def _accumulate(self, env: np.ndarray) -> None:
        if len(env):
            self._sum += float(env.sum())
            self._peak = max(self._peak, float(env.max()))
            self._count += len(env)

    def _take_held(self) -> None:
        for env in self._held:
            self._accumulate(env)
        self._held = []

    def close(self, end: int) -> None:
        if self._open is None:
            self._above_start = None
            self._held = []
            return
        self._take_held()  # at the end of the stream or a gap, a quiet stretch still open lies inside [start, end]
        start = self._open
        self.segments[-1] = (start, end)
        mean = self._sum / self._count if self._count else 0.0
        cramp = (end - start + 1) >= self._config.cramp_min_s * self._rate_hz
        self._emit(ActivitySegment(start, end, mean, self._peak, cramp))
        self._open = None
        self._above_start = None
        self._below_start = None
