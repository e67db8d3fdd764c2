"""Device faults injected by the simulated board (the real firmware in the MicroPython Unix port), through
a real pty into a live session: each is detected, reported with its cause and recorded in the session,
and every sample is either stored or counted lost, adding up to what the board produced.

(A reset mid-stream and a pulled cable are in test_live_session.py; a drifting crystal, which a
wall clock under load cannot measure the same way twice, is in test_replug.py on an injected clock.)
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from test_end_to_end import read_edf, run


def live_sim(tmp_path, *fault, speed="0", extra=()):
    out = tmp_path / "s"
    code, printed = run(["live", "--source", "sim", "--speed", speed, *fault, *extra, "--out", str(out),
                         "--format", "jsonl", "--db", str(tmp_path / "l.sqlite")])
    assert code == 0
    logged = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    return printed[-1], logged, read_edf(out / "session.edf"), np.fromfile(out / "samples.f32", dtype="<f4")


def test_a_long_stall_overflows_the_board_ring_counted_and_annotated(tmp_path):
    # The main loop is held for 5 s of signal while the timer keeps sampling into a 2048-sample ring.
    summary, logged, edf, raw = live_sim(tmp_path, "--sim-stall-at", "10", "--sim-stall-for", "5")
    gaps = [e for e in logged if e["type"] == "gap"]
    assert len(gaps) == 1 and gaps[0]["why"] == "board buffer overflow (stall)"
    lost = gaps[0]["samples"]
    assert 5000 - 2048 <= lost <= 5000 and 10.0 <= gaps[0]["start_s"] <= 10.3
    # The board's own count of what it lost agrees, and everything adds up to what it produced.
    assert summary["device_lost_samples"] == lost == summary["lost_samples"]
    assert summary["samples"] + summary["lost_samples"] == summary["samples_produced"] == 60_000
    assert np.isnan(raw).sum() == lost and len(raw) == 60_000  # lost samples are NaN in the raw file
    assert [t for t in edf.texts if t.startswith("gap")] == ["gap: board buffer overflow (stall)"]


@pytest.mark.slow  # 5 s of real time
def test_a_short_stall_loses_nothing_and_is_noted_as_a_pause(tmp_path):
    # 1.5 s of signal held on the board (its ring holds 2 s): late, but complete.
    summary, logged, edf, _ = live_sim(tmp_path, "--sim-stall-at", "2", "--sim-stall-for", "1.5", speed="1",
                                       extra=("--duration", "5"))
    assert summary["lost_samples"] == 0 and summary["samples"] == 5000
    pauses = [e for e in logged if e["type"] == "stream" and e["what"] == "pause"]
    assert len(pauses) == 1 and 1.0 < pauses[0]["value"] < 2.0 and 1.9 <= pauses[0]["t_s"] <= 2.6
    assert any(t.startswith("stream paused") for t in edf.texts)


def test_a_burst_of_line_noise_is_skipped_and_noted_without_losing_a_sample(tmp_path):
    summary, logged, edf, raw = live_sim(tmp_path, "--sim-noise-at", "20", "--sim-noise-bytes", "3000")
    noise = [e for e in logged if e["type"] == "stream" and e["what"] == "noise"]
    assert len(noise) == 1 and noise[0]["value"] == 3000 and 20.0 <= noise[0]["t_s"] <= 20.2
    assert summary["lost_samples"] == 0 and summary["samples"] == summary["samples_produced"] == 60_000
    assert summary["skipped_bytes"] == 3000 and not np.isnan(raw).any()
    assert any(t == "3000 bytes of line noise skipped" for t in edf.texts)


# -- a capture of the session replays to the same timeline (issue 15, items 7 and 8) ---------------------------
_MUSCLE_AND_STREAM = ("twitch", "episode", "rejected", "activity", "gap", "stream")


def demo_and_replay(tmp_path, *fault):
    cap = tmp_path / "session.mtwcap"
    code, live = run(["demo", "--speed", "0", *fault, "--capture", str(cap), "--format", "jsonl",
                      "--db", str(tmp_path / "l.sqlite"), "--out", str(tmp_path / "s")])
    assert code == 0
    code, replayed = run(["analyze", str(cap), "--format", "jsonl"])
    assert code == 0
    return live, replayed


def same_events(live, replayed):
    """Every twitch, episode, rejection, activity segment, gap and stream note, in order, live and replayed.
    (Live pause notes come from host timing; none arise at --speed 0.)"""
    def pick(events):
        return [e for e in events if e["type"] in _MUSCLE_AND_STREAM and e.get("what") != "pause"]

    assert pick(replayed) == pick(live)
    return pick(live)


@pytest.mark.slow  # the firmware streams a whole demo
def test_a_capture_of_a_board_reset_replays_to_the_live_timeline(tmp_path):
    # Before: the replay had no gap after the reset, so every twitch after 20 s came 0.2 s early.
    live, replayed = demo_and_replay(tmp_path, "--sim-reset-at", "20")
    events = same_events(live, replayed)
    gaps = [e for e in events if e["type"] == "gap"]
    assert len(gaps) == 1 and gaps[0]["why"] == "board restarted" and gaps[0]["samples"] > 0
    assert [e for e in events if e["type"] == "twitch" and e["t_s"] > 21]  # twitches after it, at the same times
    for key in ("samples", "lost_samples", "seconds", "frames", "gaps", "reconnects"):
        assert replayed[-1][key] == live[-1][key], key


@pytest.mark.slow  # the firmware streams a whole demo
def test_a_capture_of_an_unplugged_board_replays_to_the_live_timeline(tmp_path):
    live, replayed = demo_and_replay(tmp_path, "--sim-unplug-at", "10", "--sim-unplug-for", "0.5")
    events = same_events(live, replayed)
    assert [e["why"] for e in events if e["type"] == "gap"] == ["board unplugged"]
    for key in ("samples", "lost_samples", "seconds", "gaps", "reconnects"):
        assert replayed[-1][key] == live[-1][key], key


def test_analyze_of_a_capture_reports_the_wire_figures_and_gaps_as_the_live_summary_does(tmp_path):
    # Line noise and a stall that overflows the board's ring: skipped bytes, a noise note and a sequence gap.
    live, replayed = demo_and_replay(tmp_path, "--sim-noise-at", "5", "--sim-stall-at", "20", "--sim-stall-for", "5")
    events = same_events(live, replayed)
    assert [e["why"] for e in events if e["type"] == "gap"] == ["board buffer overflow (stall)"]
    assert [e["what"] for e in events if e["type"] == "stream"] == ["noise"]
    for key in ("frames", "crc_errors", "skipped_bytes", "samples", "lost_samples"):
        assert replayed[-1][key] == live[-1][key], key
    assert replayed[-1]["skipped_bytes"] > 0 and replayed[-1]["lost_samples"] > 0
