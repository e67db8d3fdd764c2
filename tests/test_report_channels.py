"""The report of a session of several channels: a per-muscle table, what supplies the muscles that twitch
(information, not diagnosis), and each channel's figures; made from a real multi-channel session folder."""

from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT
from myotwitch.analysis_session import write_analysis_session
from myotwitch.report import load_session, write_report
from myotwitch.report.session import CLEAR_SNR, muscle_name

pytestmark = pytest.mark.slow  # three-channel sessions and their reports, about 1 s each

DEMO_3CH = ROOT / "host" / "myotwitch" / "data" / "demo_hand_3ch.edf"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hand") / "session"
    write_analysis_session(DEMO_3CH, folder)
    page, summary = write_report(folder)
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    return folder, page.read_text(), summary, events


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.slow  # a three-channel session
def test_each_channel_is_counted_from_its_own_events(report):
    _, _, summary, events = report
    assert [c["muscle"] for c in summary["channels"]] == ["right APB", "right FDI", "right FCR"]
    for c in summary["channels"]:
        mine = [e for e in events if e["type"] == "twitch" and e["channel"] == c["channel"]]
        clear = [e for e in mine if e["snr"] >= CLEAR_SNR]
        assert (c["twitches"], c["clear_twitches"]) == (len(mine), len(clear))
        assert c["episodes"] == sum(1 for e in events if e["type"] == "episode" and e["channel"] == c["channel"])
    assert summary["twitches"] == sum(c["twitches"] for c in summary["channels"])
    # the injected twitches (25-150 uV on a 1.4 uV floor) are clear, on the APB: most of its clear ones
    truth = json.loads(DEMO_3CH.with_suffix(".truth.json").read_text())
    apb, fdi = summary["channels"][0], summary["channels"][1]
    assert apb["clear_twitches"] >= len(truth["twitches"]) and fdi["clear_twitches"] == 0
    assert apb["clear_per_min_rest"] == pytest.approx(apb["clear_twitches"] / (apb["rest_s"] / 60), abs=0.01)


def test_the_page_names_the_supply_of_the_muscles_that_twitch_as_information(report):
    _, html, _, events = report
    text = text_of(html)
    where = text[text.index("Where it twitches"):text.index("Channel 0:")]
    floors = [f"{e['noise_uv']:.2f}" for e in events[-1]["channels"]]  # each channel's, from the session
    assert f"right APB 1.0 24 17 24.00 41.00 4 {floors[0]} median, C8-T1" in where  # a row of the table
    assert ("right APB: 24 clear twitches; supplied by the median nerve, roots C8-T1. Twitching here is one of "
            "the things a clinician may look at") in where
    assert "right FDI:" not in where  # no clear twitch on the FDI: nothing said about the ulnar nerve
    assert "ulnar, C8-T1" in where  # but its row is in the table
    assert not re.search(r"\b(you have|diagnosis of|caused by|indicates)\b", where, re.I)
    assert "it does not diagnose" in text


def test_each_channel_has_its_figures_and_tables(report):
    _, html, _, _ = report
    for c, muscle in enumerate(["right APB", "right FDI", "right FCR"]):
        assert f"Channel {c}: {muscle}" in html
        assert f"{muscle}: twitches per minute" in html and f"{muscle}: episodes, activity" in html
    assert html.count("<figure>") >= 3 * 3


def test_a_channel_view_holds_its_own_samples_and_events(report):
    folder, _, _, _ = report
    data = load_session(folder)
    assert data.muscles == ["right APB", "right FDI", "right FCR"] and data.channels_uv.shape == (60000, 3)
    fdi = data.channel(1)
    assert fdi.meta["muscle"] == "right FDI" and len(fdi.samples_uv) == 60000
    assert {e.get("channel") for e in fdi.events} <= {1, None}
    assert (fdi.samples_uv == data.channels_uv[:, 1]).all()


def test_a_file_label_names_the_muscle_the_table_knows():
    assert muscle_name("EMG right APB") == "right APB" and muscle_name("right APB") == "right APB"
    assert muscle_name("EMG") == "EMG"


@pytest.mark.slow  # a whole three-channel report
def test_the_report_command_says_each_channel(report):
    import io

    from myotwitch.cli import main

    folder, _, _, _ = report
    out = io.StringIO()
    assert main(["report", str(folder), "--out", str(folder / "again.html")], stdout=out) == 0
    lines = out.getvalue().splitlines()
    assert "  channel 0   right APB: 41 (24 clear; 24.0 clear per minute of rest), median nerve, roots C8-T1" in lines
    assert any(line.startswith("  channel 2   right FCR:") for line in lines)


@pytest.mark.slow  # a whole three-channel report
def test_a_folder_with_only_its_edf_reports_every_channel(report, tmp_path):
    import shutil

    folder, _, summary, _ = report
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "samples.f32").unlink()
    data = load_session(copy)
    assert data.channels_uv.shape == (60000, 3)
    _, again = write_report(copy)
    assert again["channels"] == summary["channels"]


def test_the_summary_names_the_muscles_and_says_its_rate_is_summed_over_them(report):
    _, html, summary, events = report
    text = text_of(html)
    facts = text[text.index("Summary"):text.index("Where it twitches")]
    assert "muscle right APB, right FDI, right FCR" in facts  # not "not given (record with --muscle)"
    assert f"({summary['twitches_per_min']:.1f} per minute of signal in all, summed over the 3 muscles)" in facts
    assert "noise floor " + ", ".join(f"{c['noise_uv']:.2f} µV" for c in events[-1]["channels"]) in facts
