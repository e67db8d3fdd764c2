"""Features' shape comparison and noise-floor helpers against their plain numpy statements (the oracles)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from myotwitch.dsp.config import DetectorConfig, SampleCounts
from myotwitch.dsp.features import Features
from myotwitch.dsp.streaming import Ring


def _best_r(sa: np.ndarray, sb: np.ndarray, h: int, lag: int) -> np.ndarray:
    """The correlations `similar` compares, as numpy's own mean and sliding windows give them."""
    core = sa[lag : lag + 2 * h + 1]
    core = core - core.mean()
    others = np.lib.stride_tricks.sliding_window_view(sb, 2 * h + 1)
    others = others - others.mean(axis=1, keepdims=True)
    denom = np.sqrt(np.dot(core, core) * np.einsum("ij,ij->i", others, others))
    fit = denom > 0
    return others[fit] @ core / denom[fit]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.01, 1e4), st.floats(-1e3, 1e3), st.booleans(), st.booleans())
def test_similar_is_the_sliding_window_correlation_to_the_bit(seed, scale, offset, quantized, alike):
    # Features.similar centres each lag's window by its own sums (not ndarray.mean's wrapper) and copies the
    # windows out by one index: the same numbers to the bit, so its answer at the threshold is the same too.
    config = DetectorConfig()
    counts = SampleCounts.of(config, 2000.0)
    features = Features(config, counts, Ring(10), Ring(10))
    h, lag = counts.shape_half, counts.shape_lag
    rng = np.random.default_rng(seed)
    n = 2 * (h + lag) + 1
    sa = rng.normal(offset, scale, n)
    sb = sa + rng.normal(0, scale / 4, n) if alike else rng.normal(offset, scale, n)
    if quantized:
        sa, sb = np.round(sa), np.round(sb)
    r = _best_r(sa, sb, h, lag)
    # the threshold set at the best correlation itself: passes only if `similar` computes it to the bit
    best = float(r.max()) if len(r) else 0.5
    assert features.similar(sa, sb, threshold=best) is bool(len(r))
    assert features.similar(sa, sb, threshold=float(np.nextafter(best, 2.0))) is False
