"""ReplaySource keeps a block whole only when every sample is a number within +-MAX_PLAUSIBLE_UV (two reductions
in the usual case); anything else is cut out and counted lost, never filled in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myotwitch.recordings import Recording
from myotwitch.sources.replay import MAX_PLAUSIBLE_UV, ReplaySource


@dataclass
class _Blocks(Recording):
    given_blocks: tuple = ()

    def blocks(self, block_samples: int = 0):
        yield from self.given_blocks


def _source(*blocks: np.ndarray) -> ReplaySource:
    return ReplaySource(_Blocks(Path("x"), "test", 1000.0, None, "x", given_blocks=blocks))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, MAX_PLAUSIBLE_UV * 1.0000001, -2 * MAX_PLAUSIBLE_UV])
def test_a_sample_beyond_belief_is_lost_and_counted(bad):
    x = np.linspace(-MAX_PLAUSIBLE_UV, MAX_PLAUSIBLE_UV, 9)  # the bounds themselves are plausible
    x[4] = bad
    source = _source(x)
    out = list(source.blocks())
    assert [(b.start_index, len(b.samples_uv)) for b in out] == [(0, 4), (5, 4)]
    assert out[1].lost_before == 1 and source.skipped == [(4, 1)]


def test_an_empty_block_passes_as_it_did():
    out = list(_source(np.empty(0), np.zeros(3)).blocks())
    assert [(b.start_index, len(b.samples_uv), b.lost_before) for b in out] == [(0, 0, 0), (0, 3, 0)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3).map(float)),
                min_size=0, max_size=30))
def test_the_kept_samples_are_those_the_mask_keeps(values):
    x = np.array(values, dtype=float)
    source = _source(x)
    kept = np.concatenate([b.samples_uv for b in source.blocks()] + [np.empty(0)])
    with np.errstate(invalid="ignore"):
        plausible = np.abs(x) <= MAX_PLAUSIBLE_UV
    assert np.array_equal(kept, x[plausible])
    assert sum(n for _, n in source.skipped) == int((~plausible).sum())
