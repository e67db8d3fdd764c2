"""The page's data, made without IO: columns, view-side candidates, and decisions matched to them."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from myotwitch.web.feed import MATCH_S, CandidateFinder, ColumnDecimator, DecisionMatcher
from myotwitch.web.model import SILENT_S, Handed, ViewModel

RATE_HZ = 1000.0


def cut(x: np.ndarray, sizes: list[int]) -> list[tuple[int, np.ndarray]]:
    pieces, i = [], 0
    for n in sizes:
        if i >= len(x):
            break
        pieces.append((i, x[i:i + n]))
        i += n
    if i < len(x):
        pieces.append((i, x[i:]))
    return pieces


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 97), min_size=1, max_size=40), st.integers(1, 13))
def test_columns_are_the_min_and_max_of_their_samples_however_the_stream_is_cut(sizes, spc):
    x = np.random.default_rng(1).normal(size=600)
    d = ColumnDecimator(spc)
    columns = []
    for start, piece in cut(x, sizes):
        columns += d.add(start, piece)
    whole = len(x) // spc
    assert [c[0] for c in columns] == [k * spc for k in range(whole)]
    assert np.allclose([c[1] for c in columns], x[: whole * spc].reshape(-1, spc).min(axis=1), atol=0.01)
    assert np.allclose([c[2] for c in columns], x[: whole * spc].reshape(-1, spc).max(axis=1), atol=0.01)


def test_a_gap_closes_the_partly_filled_column_and_later_columns_keep_their_place():
    d = ColumnDecimator(10)
    assert d.add(0, np.arange(15.0)) == [(0, 0.0, 9.0)]
    assert d.add(40, np.full(10, 7.0)) == [(10, 10.0, 14.0), (40, 7.0, 7.0)]


def spikes(at_index: list[int], n: int = 5000, height_uv: float = 20.0) -> np.ndarray:
    x = np.random.default_rng(2).normal(scale=1.0, size=n)
    for i in at_index:
        x[i - 3:i + 4] += height_uv * np.array([0.2, 0.5, 0.8, 1.0, 0.8, 0.5, 0.2])
    return x


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=30))
def test_candidates_are_the_peaks_of_runs_above_the_threshold_however_the_stream_is_cut(sizes):
    truth = [800, 1500, 1530, 3000, 4200]
    x = spikes(truth)
    finder = CandidateFinder(RATE_HZ)
    found = []
    for start, piece in cut(x, sizes):
        found += finder.add(start, piece, threshold_uv=5.0)
    # 1500 and 1530 are 30 ms apart: two runs, two candidates; this noise (1 uV RMS) stays below 5 uV
    assert [c.peak_index for c in found] == truth


def test_no_candidate_before_the_noise_floor_is_known_nor_in_the_filter_transient_after_a_restart():
    x = spikes([100, 300])
    finder = CandidateFinder(RATE_HZ)
    assert finder.add(0, x[:200], threshold_uv=None) == []
    finder.restart(200)  # the view's filter restarted here: 0.2 s of settling
    assert [c.peak_index for c in finder.add(200, x[200:], 5.0)] == []
    assert finder.add(5000, spikes([100])[:300], 5.0)[0].peak_index == 5100


def test_a_decision_confirms_the_candidate_within_15_ms_and_no_further():
    """The detector's peak and the page's can differ by a few samples (different filters, and a doublet
    is reported at one of its two peaks): within MATCH_S they are the same potential, beyond it not."""
    tolerance = round(MATCH_S * RATE_HZ)
    finder_candidates = CandidateFinder(RATE_HZ).add(0, spikes([1000, 2000]), 5.0)
    matcher = DecisionMatcher(RATE_HZ)
    for c in finder_candidates:
        matcher.add(c)
    assert matcher.decide(1000 + tolerance + 1, "twitch") is None
    assert matcher.decide(1000 + tolerance, "twitch").peak_index == 1000
    assert matcher.decide(1000, "rejected") is None  # decided once only
    struck = matcher.decide(2000 - 3, "rejected")
    assert struck.peak_index == 2000 and struck.verdict == "rejected"


def handed(start: int, x: np.ndarray, arrival_s: float, noise_uv: float | None = 1.0) -> Handed:
    return Handed(start, x, 0, {"noise_uv": noise_uv, "mains_hz": None}, 1_000_000.0 + arrival_s, arrival_s)


def test_the_model_marks_a_candidate_then_confirms_it_and_tells_a_silent_board():
    model = ViewModel(RATE_HZ, peak_sigma=3.5)
    model.open_page(1, columns_per_s=100)
    x = spikes([1500], n=3000, height_uv=60)
    for start in range(0, 3000, 50):
        model.add_block(handed(start, x[start:start + 50], start / RATE_HZ))
    first = model.messages(now_s=3.0)[1]
    assert first["reset"] and first["samples_per_column"] == 10 and len(first["columns"]) == 300
    candidates = [m for m in first["markers"] if m["kind"] == "candidate"]
    assert len(candidates) == 1 and abs(candidates[0]["index"] - 1500) <= 3
    model.add_events([{"type": "twitch", "t_s": 1.502, "peak_uv": 58.0, "snr": 20.0}], decided_epoch_s=1.0)
    second = model.messages(now_s=3.0)[1]
    assert not second["reset"] and second["columns"] == []
    assert second["markers"][0]["kind"] == "twitch" and second["markers"][0]["id"] == candidates[0]["id"]
    assert second["status"]["connection"] == "receiving" and second["status"]["twitches"] == 1
    assert model.messages(now_s=3.0 + SILENT_S + 0.1)[1]["status"]["connection"] == "disconnected"


def test_several_channels_get_a_trace_each_and_a_decision_marks_its_own_channel():
    """Each channel's candidates come from its own trace and noise floor; the detector's twitch on channel 2
    confirms channel 2's candidate, not channel 0's at the same moment (a common-mode potential)."""
    model = ViewModel(RATE_HZ, peak_sigma=3.5, info={"muscles": ["a", "b", "c"]}, channels=3)
    model.open_page(1, columns_per_s=100)
    rows = np.stack([spikes([1500], n=3000, height_uv=60), spikes([], n=3000), spikes([1500, 2200], n=3000,
                                                                                      height_uv=60)])
    for start in range(0, 3000, 50):
        status = {"noise_uv": 1.0, "mains_hz": None, "channel_noise_uv": [1.0, 1.0, 1.0]}
        model.add_block(Handed(start, rows[0, start:start + 50], 0, status, 1_000_000.0 + start / RATE_HZ,
                               start / RATE_HZ, rows[:, start:start + 50]))
    first = model.messages(now_s=3.0)[1]
    assert "columns" not in first and [len(t) for t in first["traces"]] == [300, 300, 300]
    assert int(np.argmax([hi for _, _, hi in first["traces"][2]])) in (149, 150, 219, 220)
    candidates = [m for m in first["markers"] if m["kind"] == "candidate"]
    def near(channel, index):
        return [m["id"] for m in candidates if m["channel"] == channel and abs(m["index"] - index) <= 3]

    assert len(near(0, 1500)) == len(near(2, 1500)) == len(near(2, 2200)) == 1
    assert not near(0, 2200) and not [m for m in candidates if m["channel"] == 1]
    model.add_events([{"type": "twitch", "channel": 2, "muscle": "c", "t_s": 2.201, "peak_uv": 58.0, "snr": 20.0},
                      {"type": "rejected", "channel": 0, "muscle": "a", "t_s": 1.501, "peak_uv": 58.0,
                       "reason": "artifact: common-mode"}], decided_epoch_s=1.0)
    second = model.messages(now_s=3.0)[1]
    decided = {(m["channel"], m["kind"]): m["id"] for m in second["markers"]}
    assert decided == {(2, "twitch"): near(2, 2200)[0], (0, "rejected"): near(0, 1500)[0]}
    assert second["status"]["channel_twitches"] == [0, 0, 1] and second["status"]["twitches"] == 1
    assert model.hello()["channels"] == 3 and model.hello()["muscles"] == ["a", "b", "c"]
