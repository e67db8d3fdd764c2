"""What a candidate potential is: a twitch, or something that only looks like one.

RULES is the decision, in order: the first rule that names a reason rejects the candidate; a candidate no
rule rejects is a twitch. Each rule is (decisions, i, candidate) -> Reason | None, where `decisions` holds
what is known around candidate i (Decisions: its neighbours, the activity segments, the signal's features).
Each rule's reason is in DetectorConfig. The rules run once a candidate is old enough that everything they
look at (up to DetectorConfig.decision_delay_s later) has been seen. Below them, the pure predicates they use.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from myotwitch.dsp.candidates import Candidate
from myotwitch.dsp.events import Reason

if TYPE_CHECKING:
    from myotwitch.dsp.decisions import Decisions

__all__ = ["RULES", "Candidate", "Reason"]

# The reasons under their former names (callers compare with them; Reason members equal these strings).
REASON_ACTIVITY = Reason.ACTIVITY
REASON_DENSE = Reason.DENSE
REASON_CONTINUAL = Reason.CONTINUAL
REASON_ECHO = Reason.ECHO
REASON_DOUBLET_SECOND = Reason.DOUBLET_SECOND
REASON_POP = Reason.POP
REASON_MOTION = Reason.MOTION
REASON_CLIPPING = Reason.CLIPPING
REASON_ECG = Reason.ECG
REASON_LONG = Reason.LONG
REASON_BURST = Reason.BURST

Rule = Callable[["Decisions", int, Candidate], "Reason | None"]


def echo(d: Decisions, i: int, c: Candidate) -> Reason | None:
    """Below the decaying ringing of an earlier, larger candidate (decided when it was found)."""
    return Reason.ECHO if c.echo else None


def artifact(d: Decisions, i: int, c: Candidate) -> Reason | None:
    """Clipping, pop or motion (the raw signal's shape); heart beats are steep and carry slow waves: named."""
    d.features.measure(c, d.processed)  # an echo's own shape is never asked about: its reason answers for it
    reason = d.artifact_reason(c)
    if reason in (Reason.MOTION, Reason.POP) and d.ecg(i):
        return Reason.ECG
    return reason


def too_long(d: Decisions, i: int, c: Candidate) -> Reason | None:
    """Longer than a twitch, unless it is two discharges of one unit run together. A heart beat's QRS can
    outlast a twitch: named, so that it does not guard the time after it as a short burst would."""
    if (c.end_index - c.onset_index + 1 > d.counts.max_duration and d.features.core_samples(c) > d.counts.max_core
            and not d.features.two_discharges(c)):
        return Reason.ECG if d.ecg(i) else Reason.LONG
    return None


def burst(d: Decisions, i: int, c: Candidate) -> Reason | None:
    """Too many separate potentials in one run for a twitch (a doublet holds two)."""
    return Reason.BURST if c.potentials >= d.config.burst_min_potentials else None


def in_activity(d: Decisions, i: int, c: Candidate) -> Reason | None:
    """Inside an activity segment, or within its guards."""
    return Reason.ACTIVITY if in_any(c.peak_index, d.segments, d.counts.pre_guard, d.counts.guard) else None


def near_a_burst(d: Decisions, i: int, c: Candidate) -> Reason | None:
    """Short bursts (too long or too many potentials for a twitch) get the guard that activity segments get."""
    return Reason.ACTIVITY if d.near_burst(i) else None


def dense(d: Decisions, i: int, c: Candidate) -> Reason | None:
    """Many other candidates of comparable size within busy_window_s: firing, not an isolated twitch; unless
    it stands out above all of them (a potential much larger than its neighbours is not part of their firing)."""
    if d.neighbours(i) >= d.config.busy_min_candidates and not d.stands_out(i):
        return Reason.DENSE
    return None


def doublet_second(d: Decisions, i: int, c: Candidate) -> Reason | None:
    """The second discharge of a doublet already reported with the first."""
    before = d.discharges_before(i)
    if before:
        p = before[-1]
        if p.reason is None and p.doublet_interval_samples == c.peak_index - p.peak_index:
            return Reason.DOUBLET_SECOND
    return None


def continual(d: Decisions, i: int, c: Candidate) -> Reason | None:
    """One unit firing on (Sleutjes et al. 2016): same-unit discharges within continual_isi_ms on both sides.
    Finds the candidate's doublet second on the way (a doublet counts as one discharge)."""
    return Reason.CONTINUAL if d.continual(i) and not d.stands_out(i) else None


def heart_beat(d: Decisions, i: int, c: Candidate) -> Reason | None:
    """One of a regular train of similar complexes at a heart rate."""
    return Reason.ECG if d.ecg(i) else None


def beside_a_heart_beat(d: Decisions, i: int, c: Candidate) -> Reason | None:
    """A heart beat's Q and S waves (a doublet's first or second, or a lone small peak) beside an ECG-like
    R wave belong to that beat."""
    if d.beside_heart_beat(i):
        c.doublet_interval_samples = None
        return Reason.ECG
    return None


RULES: tuple[Rule, ...] = (
    echo,
    artifact,
    too_long,
    burst,
    in_activity,
    near_a_burst,
    dense,
    doublet_second,
    continual,
    heart_beat,
    beside_a_heart_beat,
)


def classify(d: Decisions, i: int, c: Candidate) -> Reason | None:
    """The first reason RULES give, in order; None: a twitch."""
    for rule in RULES:
        reason = rule(d, i, c)
        if reason is not None:
            return reason
    return None


def baseline_moves(c: Candidate, baseline_ratio: float, baseline_min_uv: float) -> bool:
    """Does the signal below the EMG band swing with the candidate? A potential is zero-mean; pops and motion are
    not."""
    return c.baseline_swing_uv > max(baseline_ratio * c.peak_uv, baseline_min_uv)


def artifact_reason(c: Candidate, baseline_ratio: float, baseline_min_uv: float) -> Reason | None:
    """Clipping, or a baseline that moves with the candidate: a pop (an abrupt step) or motion (a smooth swing)."""
    if c.clipped:
        return Reason.CLIPPING
    if baseline_moves(c, baseline_ratio, baseline_min_uv):
        return Reason.POP if c.max_jump_uv > 0.5 * c.baseline_swing_uv else Reason.MOTION
    return None


def comparable(a: float, b: float, ratio: float) -> bool:
    """Are two peaks within `ratio` of each other?"""
    return max(a, b) <= ratio * min(a, b)


def in_any(index: int, intervals: Sequence[tuple[int, int | None]], before: int, after: int) -> bool:
    """Is index inside any [start - before, end + after]? end may be None (still open)."""
    return any(start - before <= index and (end is None or index <= end + after) for start, end in intervals)


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
            if (0 <= j < len(similar) and abs(similar[j] - want) <= slack and similar[j] != origin
                    and (best is None or abs(similar[j] - want) < abs(best - want))):
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
