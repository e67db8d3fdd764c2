"""What a candidate potential is: a twitch, or something that only looks like one.

Pure functions over candidates (peaks found by the detector) and what is known
around them. Each rule has its reason in DetectorConfig. The detector calls
`classify` once a candidate is old enough that everything these rules look at
(up to DetectorConfig.decision_delay_s later) has been seen.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

REASON_ACTIVITY = "activity"
REASON_DENSE = "dense firing"
REASON_CONTINUAL = "continual firing"
REASON_ECHO = "echo"
REASON_DOUBLET_SECOND = "doublet second"
REASON_POP = "artifact: electrode pop"
REASON_MOTION = "artifact: motion"
REASON_CLIPPING = "artifact: clipping"
REASON_ECG = "artifact: ECG-like"
REASON_LONG = "too long for a twitch"
REASON_BURST = "burst of activity"


@dataclass
class Candidate:
    peak_index: int
    onset_index: int
    end_index: int
    peak_uv: float  # largest |filtered| excursion
    noise_uv: float
    # Filled in when decided:
    baseline_swing_uv: float = 0.0  # range of the low-passed raw signal around the candidate
    max_jump_uv: float = 0.0  # largest sample-to-sample change of the raw signal
    clipped: bool = False
    features_final: bool = False  # the three above were measured with all their context in hand
    reason: str | None = None  # None: a twitch
    doublet_interval_samples: int | None = None
    echo: bool = False  # below the ringing of an earlier, larger candidate (set when it is found)
    potentials: int = 1  # separate potentials above the delimit threshold in the candidate's run
    snippet: np.ndarray | None = None  # filtered signal around the peak, for shape comparisons (when asked)
    # A second discharge of the same unit in the candidate's own run (too close to be a candidate of its own):
    # the other peak's offset from peak_index in samples, and its size. Looked for when asked, in the run's
    # samples [start, end) kept in `run_to_search` until then (None: nothing there could be one).
    merged: tuple[int, float] | None = None
    run_to_search: tuple[int, int] | None = None


def baseline_moves(c: Candidate, baseline_ratio: float, baseline_min_uv: float) -> bool:
    """Does the signal below the EMG band swing with the candidate? A potential is zero-mean; pops and motion are not."""
    return c.baseline_swing_uv > max(baseline_ratio * c.peak_uv, baseline_min_uv)


def artifact_reason(c: Candidate, baseline_ratio: float, baseline_min_uv: float) -> str | None:
    """Clipping, or a baseline that moves with the candidate: a pop (an abrupt step) or motion (a smooth swing)."""
    if c.clipped:
        return REASON_CLIPPING
    if baseline_moves(c, baseline_ratio, baseline_min_uv):
        return REASON_POP if c.max_jump_uv > 0.5 * c.baseline_swing_uv else REASON_MOTION
    return None


def comparable(a: float, b: float, ratio: float) -> bool:
    """Are two peaks within `ratio` of each other?"""
    return max(a, b) <= ratio * min(a, b)


def in_any(index: int, intervals: Sequence[tuple[int, int]], before: int, after: int) -> bool:
    """Is index inside any [start - before, end + after]? end may be None (still open)."""
    for start, end in intervals:
        if start - before <= index and (end is None or index <= end + after):
            return True
    return False


def ecg_chain(origin: int, similar: list[int], min_beats: int, min_interval: int, max_interval: int,
              tolerance: float) -> bool:
    """Is the peak at `origin` one of at least `min_beats` complexes at a regular heart-rate interval?

    `similar`: the sorted peaks of the candidates of similar amplitude around
    it (`comparable` with it), itself excluded. Walks forward and backward from
    origin through them, their spacing staying within `tolerance` of an
    interval set by one of its neighbours.
    """
    if len(similar) < min_beats - 1:
        return False
    first_steps = [p for p in similar if min_interval <= abs(p - origin) <= max_interval]

    def nearest(want: int, slack: float) -> int | None:
        k = bisect.bisect_left(similar, want)
        best = None
        for j in (k - 1, k):
            if 0 <= j < len(similar) and abs(similar[j] - want) <= slack and similar[j] != origin:
                if best is None or abs(similar[j] - want) < abs(best - want):
                    best = similar[j]
        return best

    for other in first_steps:
        interval = abs(other - origin)
        count = 1
        for direction in (1, -1):
            here = origin
            while True:
                found = nearest(here + direction * interval, tolerance * interval)
                if found is None:
                    break
                here = found
                count += 1
                if count >= min_beats:
                    return True
    return False
