"""The bundled three-channel demo recording: built from its source, and analyze finds what was injected where."""

from __future__ import annotations

import io
import json
import sys

import pytest

from conftest import ROOT
from myotwitch.cli import main

sys.path.insert(0, str(ROOT / "tools"))

import make_demo_recording as demo

DEMO_3CH = ROOT / "host" / "myotwitch" / "data" / "demo_hand_3ch.edf"
TOLERANCE_S = 0.010


@pytest.fixture(scope="module")
def analysed() -> tuple[list[dict], dict]:
    out = io.StringIO()
    assert main(["analyze", str(DEMO_3CH), "--format", "jsonl"], stdout=out) == 0
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    return events, json.loads(DEMO_3CH.with_suffix(".truth.json").read_text())


def twitches_near(events: list[dict], t_s: float, tolerance_s: float = TOLERANCE_S) -> list[dict]:
    return [e for e in events if e["type"] == "twitch" and abs(e["t_s"] - t_s) <= tolerance_s]


def test_the_bundled_file_is_what_the_tool_builds(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "OUT_3CH", tmp_path / "demo_hand_3ch.edf")
    demo.main(["hand_3ch"])
    assert (tmp_path / "demo_hand_3ch.edf").read_bytes() == DEMO_3CH.read_bytes()
    assert (tmp_path / "demo_hand_3ch.truth.json").read_text() == DEMO_3CH.with_suffix(".truth.json").read_text()


def test_every_injected_twitch_is_found_on_its_channel_and_named_by_its_muscle(analysed):
    events, truth = analysed
    assert truth["channels"] == ["right APB", "right FDI", "right FCR"]
    for twitch in truth["twitches"]:
        found = twitches_near(events, twitch["t_s"])
        assert [(e["channel"], e["muscle"]) for e in found] == [(0, "right APB")], twitch


def test_crosstalk_is_counted_once_on_the_muscle_that_twitched(analysed):
    events, truth = analysed
    rejected = [e for e in events if e["type"] == "rejected" and e["reason"] == "crosstalk" and e["channel"] == 1]
    for copy in truth["crosstalk"]:
        assert not [e for e in twitches_near(events, copy["t_s"]) if e["channel"] == 1], copy
    said = [c for c in truth["crosstalk"] if any(abs(e["t_s"] - c["t_s"]) <= TOLERANCE_S for e in rejected)]
    assert len(said) >= 0.9 * len(truth["crosstalk"])  # measured: 21 of the 23 copies


def test_common_mode_swings_and_heart_beats_are_not_twitches_on_any_channel(analysed):
    events, truth = analysed
    injected = [t["t_s"] for t in truth["twitches"]]

    def not_injected(found: list[dict]) -> list[dict]:
        return [e for e in found if not any(abs(e["t_s"] - t_s) <= TOLERANCE_S for t_s in injected)]

    for r_peak_s in truth["ecg_r_peaks_s"]:
        assert not not_injected(twitches_near(events, r_peak_s, 0.030)), r_peak_s
    for swing in truth["motion_swings"]:
        middle_s, half_s = (swing["start_s"] + swing["end_s"]) / 2, (swing["end_s"] - swing["start_s"]) / 2
        assert not not_injected(twitches_near(events, middle_s, half_s + 0.05)), swing


def test_the_summary_counts_per_channel_and_names_the_supply(analysed):
    events, _ = analysed
    summary = events[-1]
    assert summary["type"] == "summary"
    channels = summary["channels"]
    assert [(c["muscle"], c["nerve"], c["roots"]) for c in channels] == [
        ("right APB", "median", "C8-T1"), ("right FDI", "ulnar", "C8-T1"), ("right FCR", "median", "C6-C7")]
    assert [c["twitches"] for c in channels] == [
        sum(1 for e in events if e["type"] == "twitch" and e["channel"] == c) for c in range(3)]
