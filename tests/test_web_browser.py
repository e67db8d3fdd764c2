"""The live page in a real browser (headless chromium driven by playwright) against the simulated board.

Each test runs the demo at a few times real time for a few seconds; unplugging needs real time, since
"disconnected" is the host's clock noticing no samples.
"""

from __future__ import annotations

import json
import sys

import pytest
from test_end_to_end import read_edf
from web_browser import WebSession, browser, browser_missing

pytestmark = [pytest.mark.slow, pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))]

FIRST_TWITCH_S = 3.1  # demo_forearm_rest.truth.json: the recording's first injected twitch
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


def test_the_page_refuses_a_request_without_its_token(tmp_path, chromium):
    session = WebSession(tmp_path, "--speed", "4", "--duration", "4")
    try:
        page = chromium.new_page()
        assert page.goto(session.url.split("?")[0]).status == 403
        assert page.goto(session.url.replace("token=", "token=x")).status == 403
        assert page.goto(session.url).status == 200
        page.wait_for_function("window.mtw && window.mtw.updates > 0", timeout=WAIT_MS)
    finally:
        session.stop()


def test_the_trace_advances_and_a_known_twitch_of_the_recording_appears_confirmed(tmp_path, chromium):
    session = WebSession(tmp_path, "--speed", "3", "--duration", "12")
    try:
        page = chromium.new_page()
        page.goto(session.url)
        page.wait_for_function("window.mtw.lastIndex > 0", timeout=WAIT_MS)
        first = page.evaluate("window.mtw.lastIndex")
        page.wait_for_function(f"window.mtw.lastIndex > {first}", timeout=WAIT_MS)
        assert page.evaluate("window.mtw.columns.length") > 0
        # The twitch at 3.1 s is decided ~5.5 s later; the page marked it as a candidate before that.
        twitch = f"""() => {{
            const rate = window.mtw.rateHz, at = {FIRST_TWITCH_S} * rate, near = 0.015 * rate;
            return [...window.mtw.markers.values()].some(k => k.state === "twitch" && Math.abs(k.index - at) <= near);
        }}"""
        page.wait_for_function(twitch, timeout=WAIT_MS)
        shown = page.evaluate("window.mtw.shown")
        rate = page.evaluate("window.mtw.rateHz")
        candidate = [s for s in shown if s["kind"] == "candidate" and abs(s["index"] / rate - FIRST_TWITCH_S) <= 0.015]
        confirmed = [s for s in shown if s["kind"] == "twitch" and abs(s["index"] / rate - FIRST_TWITCH_S) <= 0.015]
        assert candidate and confirmed
        assert confirmed[0]["id"] == candidate[0]["id"]  # the decision confirmed the page's own candidate
        assert candidate[0]["shown_epoch_s"] < confirmed[0]["shown_epoch_s"]
    finally:
        session.stop()


def test_a_mark_from_the_page_lands_in_events_jsonl_and_the_edf(tmp_path, chromium):
    session = WebSession(tmp_path, "--speed", "2", "--duration", "4")
    try:
        page = chromium.new_page()
        page.goto(session.url)
        page.wait_for_function("window.mtw.updates > 0", timeout=WAIT_MS)
        page.click("#mark")
        page.keyboard.press("m")
        page.wait_for_function("document.getElementById('marks').textContent === '2'", timeout=WAIT_MS)
        session.wait()
    finally:
        session.stop()
    events = [json.loads(line) for line in (session.out_dir / "events.jsonl").read_text().splitlines()]
    marks = [e for e in events if e["type"] == "mark"]
    assert [m["label"] for m in marks] == ["felt-twitch", "felt-twitch"]
    edf = read_edf(session.out_dir / "session.edf")
    assert sum(1 for text in edf.texts if text == "mark: felt-twitch") == 2


def test_unplugging_the_board_shows_disconnected_then_reconnected(tmp_path, chromium):
    session = WebSession(tmp_path, "--speed", "1", "--duration", "6", "--sim-unplug-at", "1.5",
                         "--sim-unplug-for", "2")
    try:
        page = chromium.new_page()
        page.goto(session.url)
        page.wait_for_function("window.mtw.connectionHistory.includes('reconnected')", timeout=WAIT_MS)
        history = page.evaluate("window.mtw.connectionHistory")
        assert history.index("disconnected") < history.index("reconnected")
        session.wait()
    finally:
        session.stop()


def test_three_channels_get_a_lane_each_and_twitches_are_marked_on_their_channel(tmp_path, chromium):
    """demo --channels 3 --web: the page keeps a trace per channel and names each; the scene's twitches
    (channel 0 only, crosstalk on 1, common-mode on all) are confirmed on channel 0 and nowhere else."""
    import numpy as np
    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "tools"))
    import recording_files as rf
    from test_channels import RATE_HZ, scene

    x, twitches, _ = scene(seconds=12.0)
    path = tmp_path / "hand.edf"
    path.write_bytes(rf.edf_bytes([np.round(row).astype(np.int64) for row in x], rate_hz=RATE_HZ,
                                  annotations=True, labels=["EMG APB", "EMG FDI", "EMG FCR"]))
    errors: list[str] = []
    session = WebSession(tmp_path, "--channels", "3", "--recording", str(path), "--speed", "3", "--duration", "12")
    try:
        page = chromium.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(session.url)
        page.wait_for_function("[...window.mtw.markers.values()].some(k => k.state === 'twitch')", timeout=WAIT_MS)
        page.wait_for_function("window.mtw.traces.every(t => t.length > 0)", timeout=WAIT_MS)
        assert page.evaluate("window.mtw.traces.length") == 3
        decided = page.evaluate("[...window.mtw.markers.values()].filter(k => k.state === 'twitch')"
                                ".map(k => [k.channel, k.index])")
        assert {c for c, _ in decided} == {0}
        assert all(min(abs(i - t) for t in twitches) <= 0.015 * RATE_HZ for _, i in decided)
        assert "3 channels" in page.text_content("#muscle")
        page.wait_for_function("document.getElementById('channels').textContent.includes('[0] EMG APB')",
                               timeout=WAIT_MS)
        assert errors == []
    finally:
        session.stop()
