"""The detector's conditioning stage: its steps depend only on the samples and their indices, so they can be
made ahead of the detector (analysis.py's second thread) and give the same events."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myotwitch.dsp.conditioning import Conditioned, Filtered, MainsChosen, Piece, Restart
from myotwitch.dsp.detector import DetectorConfig, SignalIssue, TwitchDetector
from myotwitch.dsp.filters import FilterConfig, StreamingSosFilter, design_conditioning_sos
from myotwitch.sources import synthetic as syn
from myotwitch.sources.synthetic import SyntheticConfig, SyntheticSource

RATE_HZ = 2000.0


def _signal(seconds: float, seed: int, mains_hz: float | None = 50.0) -> np.ndarray:
    x = SyntheticSource(SyntheticConfig(rate_hz=RATE_HZ, duration_s=seconds, peak_sigma_range=(6, 30),
                                        twitch_rate_per_min=60, seed=seed)).signal_uv.copy()
    if mains_hz is not None:
        syn.add_mains(x, RATE_HZ, mains_hz, 8.0)
    return x


def _blocks(x: np.ndarray, sizes: list[int], gaps: dict[int, int]) -> list[tuple[int, np.ndarray]]:
    """(start index, samples) blocks of the given sizes in turn; gaps: block number -> samples missing before it."""
    out, index, k, i = [], 0, 0, 0
    while i < len(x):
        index += gaps.get(k, 0)
        n = sizes[k % len(sizes)]
        out.append((index, x[i : i + n]))
        index, i, k = index + len(x[i : i + n]), i + n, k + 1
    return out


def _run_in_step(blocks) -> list:
    det = TwitchDetector(RATE_HZ)
    out: list = []
    for start, block in blocks:
        out += det.process(start, block)
        out.append(("settled", det.settled_index))
    return out + det.flush() + [("mains", det.mains_hz)]


def _run_ahead(blocks, filter_only: bool = True) -> list:
    """Every block conditioned before the detector sees any: the most the second thread can run ahead. That
    thread runs the filter alone (`condition`); `filter_only=False`: the whole conditioning made ahead."""
    det = TwitchDetector(RATE_HZ)
    make = det.condition if filter_only else det.conditioner.feed
    flush = det.conditioner.flush_filter if filter_only else det.conditioner.flush
    conditioned = [make(start, block) for start, block in blocks] + [flush()]
    out: list = []
    for c in conditioned[:-1]:
        out += det.consume(c)
        out.append(("settled", det.settled_index))
    return out + det.consume(conditioned[-1]) + [("mains", det.mains_hz)]


@pytest.mark.parametrize("mains_hz", [50.0, 60.0, None])
@pytest.mark.parametrize("gaps", [{}, {1: 700, 5: 3}, {0: 0, 1: 5}])
def test_steps_made_ahead_give_the_same_events_in_the_same_order(mains_hz, gaps):
    # Blocks of 1000 samples: a gap before block 1 falls inside the 2 s mains probe; block 5's after it.
    blocks = _blocks(_signal(40, seed=3, mains_hz=mains_hz), [1000, 65536, 333], gaps)
    in_step = _run_in_step(blocks)
    assert sum(1 for e in in_step if type(e).__name__ == "Twitch") >= 10  # the comparison holds twitches
    assert _run_ahead(blocks) == in_step
    assert _run_ahead(blocks, filter_only=False) == in_step
    expected = {50.0: (50.0,), 60.0: (60.0,), None: ()}[mains_hz]
    if not gaps:
        assert in_step[-1] == ("mains", expected)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 40000), min_size=1, max_size=8))
def test_the_filtered_signal_does_not_depend_on_the_blocks(sizes):
    x = _signal(20, seed=5)
    det = TwitchDetector(RATE_HZ)
    whole = det.conditioner.feed(0, x).steps + det.conditioner.flush().steps
    det = TwitchDetector(RATE_HZ)
    cut = [s for start, b in _blocks(x, sizes, {}) for s in det.conditioner.feed(start, b).steps]
    cut += det.conditioner.flush().steps
    assert [s for s in cut if type(s) is MainsChosen] == [s for s in whole if type(s) is MainsChosen]
    joined = np.concatenate([s.filtered_uv for s in cut if type(s) is Piece])
    # to the bit: the filter's state is carried sample by sample, wherever the stream is cut
    assert np.array_equal(joined, np.concatenate([s.filtered_uv for s in whole if type(s) is Piece]))
    assert len(joined) == len(x)


def test_the_mains_probe_holds_back_its_samples_and_says_from_where():
    det = TwitchDetector(RATE_HZ)
    x = _signal(4, seed=6)
    first = det.conditioner.feed(100, x[:1000])
    # Nothing conditioned before the mains lines are chosen; the detector cannot settle past what is held.
    assert first == Conditioned([], 1000, 100)
    second = det.conditioner.feed(1100, x[1000:5000])
    kinds = [type(s) for s in second.steps]
    assert kinds == [MainsChosen, Piece] and second.held_from_index is None
    piece = second.steps[1]
    assert isinstance(piece, Piece) and piece.start_index == 100 and len(piece.raw_uv) == 5000


def test_a_gap_restarts_the_filter_in_steady_state_at_the_next_sample():
    """After missing samples the filter starts afresh (no ringing of what came before the gap into what follows)."""
    config = DetectorConfig(filters=FilterConfig(mains="off"))
    det = TwitchDetector(RATE_HZ, config)
    x = _signal(10, seed=7, mains_hz=None)
    det.conditioner.feed(0, x[:8000])
    after = det.conditioner.feed(9000, x[8000:])
    assert type(after.steps[0]) is Restart and after.steps[0].next_index == 9000
    filtered = np.concatenate([s.filtered_uv for s in after.steps if type(s) is Piece])
    fresh = StreamingSosFilter(design_conditioning_sos(RATE_HZ, config.filters, ())).process(x[8000:])
    assert np.array_equal(filtered, fresh)
    # and not what the filter carried on from before the gap would have given
    carried = TwitchDetector(RATE_HZ, config)
    carried.conditioner.feed(0, x[:8000])
    continued = np.concatenate([s.filtered_uv for s in carried.conditioner.feed(8000, x[8000:]).steps])
    assert not np.array_equal(filtered, continued)


def test_signal_issues_made_ahead_come_where_they_come_in_step():
    """Flat and clipped stretches, each cut by a gap: the floor's issues travel with the steps, and the detector
    emits them where it emits them running the floor itself (an issue open at a gap closes with the gap)."""
    x = _signal(60, seed=8)
    x[10000:22000] = 3.0  # electrode off
    x[40000:60000] = np.clip(x[40000:60000] * 40, -400, 400)  # at the ADC's rails
    x[90000:100000] = 0.0
    blocks = _blocks(x, [7000, 333, 4096], {})
    blocks = [(s + (700 if s >= 14000 else 0) + (300 if s >= 50000 else 0) + (5 if s >= 95000 else 0), b)
              for s, b in blocks]  # gaps inside each stretch
    in_step = _run_in_step(blocks)
    kinds = {e.kind for e in in_step if isinstance(e, SignalIssue)}
    assert kinds == {"flat", "clipped", "settling"}
    assert _run_ahead(blocks) == in_step


_RICH = _signal(30, seed=9)
_RICH[20000:26000] = 2.0  # flat
_RICH[40000:44000] = np.clip(_RICH[40000:44000] * 40, -300, 300)  # clipped


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(200, 9000), min_size=1, max_size=12),
       st.dictionaries(st.integers(0, 30), st.integers(1, 3000), max_size=4))
def test_any_blocks_and_gaps_give_the_same_events_made_ahead(sizes, gaps):
    blocks = _blocks(_RICH, sizes, gaps)
    assert _run_ahead(blocks) == _run_in_step(blocks)


def test_the_thread_ahead_hands_over_the_samples_and_their_filtered_values_only():
    # The reading thread runs the filter and nothing else: each numpy call there gives the GIL up and waits to
    # take it back while the detector runs Python (a context switch each). The sums, rails and noise floor are
    # finished by the detector, in stream order, into the pieces `feed` makes.
    x = _signal(12, seed=5)
    blocks = _blocks(x, [4000, 6000], {2: 500})
    ahead, whole = TwitchDetector(RATE_HZ), TwitchDetector(RATE_HZ)
    made = [ahead.condition(start, block) for start, block in blocks] + [ahead.conditioner.flush_filter()]
    kinds = {type(step).__name__ for c in made for step in c.steps}
    assert kinds == {"MainsChosen", "Filtered", "_Gap", "_Flush"}, kinds  # no sums, no floors: no Piece
    filtered = [step for c in made for step in c.steps if isinstance(step, Filtered)]
    assert sum(len(f.raw_uv) for f in filtered) == len(x)
    assert all(len(f.filtered_uv) == len(f.raw_uv) for f in filtered)
    finished = [ahead.conditioner.finish(c) for c in made]
    fed = [whole.conditioner.feed(start, block) for start, block in blocks] + [whole.conditioner.flush()]
    for a, b in zip(finished, fed, strict=True):
        assert [type(s) for s in a.steps] == [type(s) for s in b.steps]
        for sa, sb in zip(a.steps, b.steps, strict=True):
            if isinstance(sa, Piece):
                assert all(np.array_equal(getattr(sa, f), getattr(sb, f), equal_nan=True)
                           for f in ("raw_uv", "filtered_uv", "energy_sums", "envelope_sums", "floors_uv", "floors_sq"))
            else:
                assert sa == sb
