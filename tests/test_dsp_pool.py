"""The doublet test's average of a unit's like discharges (Features._pooled), on a signal written straight
into the detector's ring."""

from __future__ import annotations

import numpy as np
import pytest

from myotwitch.dsp import streaming
from myotwitch.dsp.candidates import Candidate
from myotwitch.dsp.config import DetectorConfig, SampleCounts
from myotwitch.dsp.features import Features
from myotwitch.dsp.repeat import BACKGROUND_MS
from myotwitch.sources import synthetic as syn

RATE_HZ = 1000.0
SPACING = 10  # the two-lobed shape's lobes, 10 ms apart at 1 kHz
CONFIG = DetectorConfig()
COUNTS = SampleCounts.of(CONFIG, RATE_HZ)
BEFORE = COUNTS.max_duration // 2 + COUNTS.merge
AFTER = COUNTS.max_duration + COUNTS.merge
BACKGROUND = round(BACKGROUND_MS * RATE_HZ / 1000)


def features_over(x: np.ndarray) -> Features:
    ring = streaming.Ring(len(x))
    ring.write(0, x)
    return Features(CONFIG, COUNTS, ring, ring, RATE_HZ)


def averaged(features: Features, first: int, peers: list[Candidate], noise_uv: float = 1.0):
    """_pooled for the pair whose first peak is at `first` (the candidate's peak), as _repeats reads it."""
    start = first - BEFORE - BACKGROUND
    y = features._ring_y.read(start, first + SPACING + AFTER + 1).copy()
    return y, features._pooled(y, first - start, SPACING, (BEFORE, AFTER), first, first, noise_uv, peers)


def candidate(peak_index: int) -> Candidate:
    return Candidate(peak_index, peak_index - 5, peak_index + 15, 1.0, 1.0)


def signal_with(shape: np.ndarray, firsts: list[int], sizes: list[float], length: int = 20_000) -> np.ndarray:
    x = np.zeros(length)
    for first, size in zip(firsts, sizes, strict=True):
        syn.add_potential(x, first, shape, size)
    return x


UNIT = syn.two_lobed_potential(RATE_HZ, 10.0)
FIRSTS = [2000, 4000, 6000, 8000, 10_000]
SIZES = [20.0, 40.0, 10.0, 30.0, 20.0]


def test_like_discharges_average_to_the_pair_and_shrink_the_noise_by_their_sizes():
    features = features_over(signal_with(UNIT, FIRSTS, SIZES))
    y, pooled = averaged(features, 6000, [candidate(i) for i in FIRSTS])
    assert pooled is not None
    average, scale = pooled
    np.testing.assert_allclose(average, y, atol=1e-9 * np.abs(y).max())  # the same shape, at y's size
    assert scale == pytest.approx(10.0 / np.sqrt(sum(s * s for s in SIZES)))  # sigma x its size / sqrt(sum size^2)


def test_a_peer_peaking_on_its_other_lobe_lines_up():
    # A candidate's peak can be the second lobe: the peer is lined up by its whole stretch, not by its peak.
    features = features_over(signal_with(UNIT, FIRSTS, SIZES))
    y, pooled = averaged(features, 6000, [candidate(i + SPACING) for i in (2000, 4000)] + [candidate(6000)])
    assert pooled is not None
    np.testing.assert_allclose(pooled[0], y, atol=1e-9 * np.abs(y).max())


def test_another_shape_or_a_gap_between_is_not_averaged_in():
    other = syn.motor_unit_potential(RATE_HZ, 8.0, 2, np.random.default_rng(5))
    x = signal_with(UNIT, [6000], [20.0]) + signal_with(other, [2000, 4000], [20.0, 30.0])
    assert averaged(features_over(x), 6000, [candidate(2000), candidate(4000), candidate(6000)])[1] is None
    features = features_over(signal_with(UNIT, FIRSTS, SIZES))
    features.stream_ends.append(4000 - 100)  # a gap in the stream inside the peer's stretch
    assert averaged(features, 6000, [candidate(4000)])[1] is None
    assert averaged(features, 6000, [candidate(8000)])[1] is not None


def test_the_average_has_the_noise_its_scale_says():
    # Nine like discharges of equal size in white noise: the average's noise is a tenth of the variance.
    rng = np.random.default_rng(3)
    firsts = [2000 * k for k in range(1, 11)]
    clean = signal_with(UNIT, firsts, [20.0] * len(firsts), length=24_000)
    features = features_over(clean + rng.normal(0.0, 1.0, len(clean)))
    _, pooled = averaged(features, 10_000, [candidate(i) for i in firsts])
    assert pooled is not None
    average, scale = pooled
    assert scale == pytest.approx(1.0 / np.sqrt(10.0), rel=0.05)  # weights are the peaks, noise and all
    start = 10_000 - BEFORE - BACKGROUND
    left = average - clean[start : start + len(average)]
    assert 0.8 < float(np.std(left)) / scale < 1.2
