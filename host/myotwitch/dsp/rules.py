"""What a candidate potential is: a twitch, or something that only looks like one.

Pure functions over candidates (peaks found by the detector) and what is known
around them. Each rule has its reason in DetectorConfig. The detector calls
`classify` once a candidate is old enough that everything these rules look at
(up to DetectorConfig.decision_delay_s later) has been seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    reason: str | None = None  # None: a twitch
    doublet_interval_samples: int | None = None


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


def in_any(index: int, intervals: Sequence[tuple[int, int]], before: int, after: int) -> bool:
    """Is index inside any [start - before, end + after]? end may be None (still open)."""
    for start, end in intervals:
        if start - before <= index and (end is None or index <= end + after):
            return True
    return False


def ecg_chain(peaks: Sequence[int], amplitudes: Sequence[float], i: int, min_beats: int,
              min_interval: int, max_interval: int, tolerance: float, amplitude_ratio: float) -> bool:
    """Is peaks[i] one of at least `min_beats` near-equal complexes at a regular heart-rate interval?

    Walks forward and backward from peaks[i] through candidates of similar
    amplitude whose spacing stays within `tolerance` of the first interval found.
    """
    n = len(peaks)

    def similar(j: int) -> bool:
        a, b = amplitudes[i], amplitudes[j]
        return max(a, b) <= amplitude_ratio * min(a, b)

    best = 1
    for j in range(n):
        if j == i or not similar(j):
            continue
        interval = abs(peaks[j] - peaks[i])
        if not (min_interval <= interval <= max_interval):
            continue
        count = 1
        for direction in (1, -1):
            here = peaks[i]
            while True:
                want = here + direction * interval
                nxt = [k for k in range(n) if k != i and similar(k)
                       and abs(peaks[k] - want) <= tolerance * interval]
                if not nxt:
                    break
                here = peaks[min(nxt, key=lambda k: abs(peaks[k] - want))]
                count += 1
                if count >= min_beats:
                    return True
        best = max(best, count)
    return best >= min_beats
