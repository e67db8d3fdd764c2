"""The detector's array helpers (dsp/streaming.py) where a long stream takes them: far from sample 0."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from myotwitch.dsp.detector import TwitchDetector
from myotwitch.dsp.streaming import Ring, covering, low_passed, medians
from myotwitch.sources.synthetic import SyntheticConfig, SyntheticSource

RATE_HZ = 2000.0
FAR_INDEX = 10**12  # 16 years of 2 kHz signal: a multiple of the noise window, as sample 0 is


def test_ring_rows_are_the_samples_at_their_absolute_indices_far_into_a_stream():
    ring = Ring(1000)
    values = np.arange(2500, dtype=float)
    ring.write(FAR_INDEX, values)  # wraps twice; the ring holds the last 1000
    starts = np.array([FAR_INDEX + 1500, FAR_INDEX + 1990, FAR_INDEX + 2300])
    rows = ring.rows(starts, 200)
    for row, start in zip(rows, starts.tolist(), strict=True):
        np.testing.assert_array_equal(row, ring.read(start, start + 200))
        np.testing.assert_array_equal(row, values[start - FAR_INDEX : start - FAR_INDEX + 200])


def wrapped_takes(monkeypatch) -> list[tuple[int, int]]:
    """np.take's calls in "wrap" mode, as (largest index, length of the array): that mode subtracts the length
    until an index fits, a step per length, so an index must already be within the ring (one step at most)."""
    calls: list[tuple[int, int]] = []
    take = np.take

    def spy(a, indices, axis=None, out=None, mode="raise"):
        if mode == "wrap":
            calls.append((int(np.max(indices)), len(a)))
        return take(a, indices, axis=axis, out=out, mode=mode)

    monkeypatch.setattr(np, "take", spy)
    return calls


def run(x: np.ndarray, start_index: int) -> list:
    det = TwitchDetector(RATE_HZ)
    out = []
    for i in range(0, len(x), 4096):
        out += det.process(start_index + i, x[i : i + 4096])
    return out + det.flush()


def test_reading_the_rings_costs_the_same_far_into_a_stream(monkeypatch):
    x = SyntheticSource(SyntheticConfig(duration_s=60, rate_hz=RATE_HZ, peak_sigma_range=(10, 40),
                                        twitch_rate_per_min=30, seed=5)).signal_uv
    near = run(x, 0)
    calls = wrapped_takes(monkeypatch)
    far = run(x, FAR_INDEX)
    assert calls, "the rules read the rings in rows (recorded-peak placement): the spy saw none"
    # Before, the absolute index went to np.take: 10**12 / the ring's ~40,000 samples = 25 million steps a
    # sample, the 10-hour file's analysis 1.3 s slower than ten 1-hour ones.
    assert all(largest < 2 * length for largest, length in calls)
    shifted = [dataclasses.replace(e, **{f.name: getattr(e, f.name) - FAR_INDEX for f in dataclasses.fields(e)
                                         if f.name.endswith("_index")}) for e in far]
    assert shifted == near
    assert sum(type(e).__name__ == "Twitch" for e in near) >= 20


@given(st.lists(st.floats(min_value=0.0, max_value=1e300, allow_subnormal=True), min_size=1, max_size=80))
def test_medians_is_np_median_to_the_bit(values):
    # The mains choice compares a spectral line with the median of its neighbours: the same figure as np.median
    # gave, for any count (an even count: the mean of the two middle values).
    a = np.array(values)
    assert float(medians(a)) == float(np.median(a))


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 30)), min_size=1, max_size=25))
def test_covering_is_the_union_of_the_ranges(ranges):
    # Disjoint, ascending, not touching, and covering exactly the samples some range covers.
    starts = np.array([s for s, _ in ranges])
    ends = starts + np.array([n for _, n in ranges])
    lo, hi = covering(starts, ends)
    assert (hi > lo).all() and (lo[1:] > hi[:-1]).all()
    covered = np.zeros(300, dtype=bool)
    for s, e in zip(starts, ends, strict=True):
        covered[s:e] = True
    union = np.zeros(300, dtype=bool)
    for s, e in zip(lo, hi, strict=True):
        union[s:e] = True
    assert np.array_equal(union, covered)


@given(st.integers(0, 2**32 - 1), st.lists(st.tuples(st.integers(0, 3000), st.integers(1, 400)), min_size=2,
                                           max_size=12))
def test_baseline_swings_over_the_candidates_stretches_are_those_over_the_whole_span(seed, spans):
    # Features._baseline_swings low-passes only the candidates' stretches, end to end: each candidate's swing
    # is the one the whole span's moving averages give (to rounding: the running sums start elsewhere).
    from myotwitch.dsp.candidates import Candidate
    from myotwitch.dsp.config import DetectorConfig, SampleCounts
    from myotwitch.dsp.features import Features

    config = DetectorConfig()
    counts = SampleCounts.of(config, 2000.0)
    ring = Ring(10)
    features = Features(config, counts, ring, ring)
    features.baseline_windows = (counts.baseline_window, 40)
    ctx, reach = counts.feature_ctx, sum(features.baseline_windows)
    rng = np.random.default_rng(seed)
    todo = [Candidate(onset + length // 2, onset, onset + length, 1.0, 1.0) for onset, length in spans]
    lo = min(c.onset_index for c in todo) - ctx - reach
    raw = np.cumsum(rng.normal(0, 1, max(c.end_index for c in todo) + ctx + 1 - lo))  # a wandering baseline
    base = low_passed(raw, features.baseline_windows)  # base[k]: the baseline at raw[k + reach]
    expected = [np.ptp(base[c.onset_index - ctx - lo - reach : c.end_index + ctx + 1 - lo - reach]) for c in todo]
    assert np.allclose(features._baseline_swings(raw, lo, todo), expected, rtol=1e-9, atol=1e-9)


def test_covering_of_no_ranges_is_none():
    empty = np.empty(0, dtype=np.intp)
    lo, hi = covering(empty, empty)
    assert len(lo) == len(hi) == 0
