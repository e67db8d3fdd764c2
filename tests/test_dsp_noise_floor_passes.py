"""The noise floor's and rails' shortcuts for the usual piece (conditioning.py): no pass over a piece for clipped
samples there are none of, the floor's whole windows partitioned in place, only the unknown floors written NaN.
Each gives the figures of the long way, to the bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from myotwitch.dsp.conditioning import Piece
from myotwitch.dsp.config import DetectorConfig
from myotwitch.dsp.detector import TwitchDetector
from myotwitch.dsp.noise_floor import NoiseFloor
from myotwitch.dsp.streaming import RailRuns, medians

RATE_HZ = 2000.0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 41), st.integers(0, 2**32 - 1))
def test_medians_in_place_are_the_medians_of_a_copy(rows, width, seed):
    a = np.random.default_rng(seed).integers(-5, 5, size=(rows, width)).astype(float)  # ties: quantized input
    kept = a.copy()
    expected = medians(a)
    assert np.array_equal(a, kept)  # the copying form leaves its input alone
    got = medians(a, in_place=True)
    assert np.array_equal(got, expected)
    assert np.array_equal(got, np.median(kept, axis=-1))
    assert np.array_equal(np.sort(a, axis=-1), np.sort(kept, axis=-1))  # reordered along the rows, nothing lost


def test_rail_runs_say_none_only_where_every_count_is_zero():
    raw = np.array([0.0, 1.0, -1.0, 0.5, 1.0, 1.0, 1.0, 0.0, 0.2])
    rails, whole = RailRuns(3), RailRuns(3)
    first = rails.counts_if_any(raw[:4])
    assert first is not None and np.array_equal(first, whole.counts(raw[:4]))  # the first samples set extremes
    assert rails.counts_if_any(np.array([0.1, 0.2])) is None  # inside the extremes, no run: the usual case
    assert not whole.counts(np.array([0.1, 0.2])).any()
    held = rails.counts_if_any(raw[4:])  # three at the top: clipped
    assert held is not None and np.array_equal(held, whole.counts(raw[4:])) and held.sum() == 3


def _floors(piece_samples: int, seed: int, settle_at: int | None, no_clip_array: bool) -> list[np.ndarray]:
    cfg = DetectorConfig()
    window = round(cfg.noise_window_s * RATE_HZ)
    floor = NoiseFloor(cfg, window, lambda issue: None)
    x = np.random.default_rng(seed).normal(0.0, 5.0, 40 * window + 123)
    out = []
    for start in range(0, len(x), piece_samples):
        if settle_at is not None and start <= settle_at < start + piece_samples:
            floor.restart()
            floor.settle_until = settle_at + window // 3
        part = x[start : start + piece_samples]
        clipped_before = None if no_clip_array else np.zeros(len(part) + 1, dtype=np.intp)
        out.append(floor.update(start, part, np.abs(part), clipped_before))
    return out


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([317, 1000, 2500, 6000]), st.integers(0, 2**32 - 1),
       st.one_of(st.none(), st.integers(0, 20_000)))
def test_floors_are_nan_exactly_where_unknown_or_settling(piece_samples, seed, settle_after):
    cfg = DetectorConfig()
    window = round(cfg.noise_window_s * RATE_HZ)
    known_from = cfg.warmup_windows * window  # the first windows make the floor; nothing is flat or clipped
    settle_at = None if settle_after is None else known_from + piece_samples + settle_after  # once the floor is known
    floors = np.concatenate(_floors(piece_samples, seed, settle_at, no_clip_array=True))
    assert np.array_equal(floors, np.concatenate(_floors(piece_samples, seed, settle_at, no_clip_array=False)),
                          equal_nan=True)  # no clipped samples said as None or as zeros: the same floors
    index = np.arange(len(floors))
    unknown = index < known_from
    if settle_at is not None:  # no floor in force before settle_until, from the start of the piece restarted
        unknown |= (index >= settle_at - settle_at % piece_samples) & (index < settle_at + window // 3)
    # np.empty's leftovers would show here as numbers where NaN belongs
    assert np.isnan(floors[unknown]).all()
    assert np.isfinite(floors[~unknown]).all()


def test_the_detectors_pieces_carry_nan_floors_while_warming_up():
    det = TwitchDetector(RATE_HZ)
    x = np.random.default_rng(3).normal(0.0, 5.0, int(30 * RATE_HZ))
    pieces = [s for s in det.conditioner.feed(0, x).steps + det.conditioner.flush().steps if isinstance(s, Piece)]
    floors = np.concatenate([p.floors_uv for p in pieces])
    warm = int(det.warmup_s * RATE_HZ)
    assert np.isnan(floors[:warm]).all() and np.isfinite(floors[warm:]).all()
    assert np.array_equal(np.concatenate([p.floors_sq for p in pieces]), floors * floors, equal_nan=True)
