"""A live session of a board with several channels: one detector per channel and the cross-channel rules.

Through `main(argv)` on the simulated board (the real firmware in the MicroPython Unix port, 3 channels on
a pty) at --speed 0, playing a 3-signal EDF made here: twitches in channel 0 with a smaller copy on
channel 1 (crosstalk), common-mode potentials on all three (tests/test_channels.py's scene).
"""

from __future__ import annotations

import io
import json
import sqlite3
import sys

import numpy as np
import pytest

from conftest import ROOT
from myotwitch.cli import main
from myotwitch.live.channels import LiveChannels, channel_names, skew_shifts
from myotwitch.sources import SampleBlock
from test_channels import RATE_HZ, potential, scene

sys.path.insert(0, str(ROOT / "tools"))

import recording_files as rf

SECONDS = 14.0  # 3 twitches in channel 0 (crosstalk on 1) and 2 common-mode potentials: each kind more than once
LABELS = ["EMG APB", "EMG FDI", "EMG FCR"]


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    """Three EMG signals (and an ECG signal the board does not play), with the scene's truth."""
    x, twitches, common = scene(seconds=SECONDS)
    counts = np.round(x).astype(np.int64)
    path = tmp_path_factory.mktemp("hand") / "hand.edf"
    path.write_bytes(rf.edf_bytes([counts[0], counts[1], counts[2], np.zeros(counts.shape[1], dtype=np.int64)],
                                  rate_hz=RATE_HZ, annotations=True, labels=[*LABELS, "ECG"]))
    return path, twitches, common


def demo(tmp_path, *argv: str) -> tuple[int, list[dict]]:
    out = io.StringIO()
    code = main(["demo", "--speed", "0", "--format", "jsonl", "--no-view", "--out", str(tmp_path / "session"),
                 "--db", str(tmp_path / "log.sqlite"), *argv], stdout=out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_demo_of_three_channels_names_each_twitchs_channel_and_muscle(hand, tmp_path):
    """The issue's contract: twitch events carry "channel" and "muscle", the summary counts per channel; each
    twitch is counted once, on its own muscle, and the common-mode potentials on none."""
    path, twitches, common = hand
    code, lines = demo(tmp_path, "--channels", "3", "--recording", str(path))
    assert code == 0
    events, summary = lines[:-1], lines[-1]
    assert all(e["channel"] in (0, 1, 2) and e["muscle"] == LABELS[e["channel"]] for e in events)
    found = [e for e in events if e["type"] == "twitch"]
    assert len(found) == len(twitches) and {e["channel"] for e in found} == {0}
    # On channel 0's time base: the board converts a set's channels in turn, the host shifts them back.
    assert all(min(abs(e["t_s"] * RATE_HZ - t) for t in twitches) < 40 for e in found)
    rejected = [e["reason"] for e in events if e["type"] == "rejected"]
    assert rejected.count("artifact: common-mode") >= len(common)
    assert summary["twitches"] == len(twitches)
    assert [(c["channel"], c["muscle"], c["twitches"]) for c in summary["channels"]] == [
        (0, "EMG APB", len(twitches)), (1, "EMG FDI", 0), (2, "EMG FCR", 0)]
    assert summary["samples"] == len(scene(seconds=SECONDS)[0][0]) and summary["lost_samples"] == 0
    # The events the session wrote are the ones printed, and the EDF+ labels the signals by muscle.
    logged = [json.loads(line) for line in (tmp_path / "session" / "events.jsonl").read_text().splitlines()]
    assert [e for e in logged if e["type"] != "summary"] == events
    session = json.loads((tmp_path / "session" / "session.json").read_text())
    assert session["muscles"] == LABELS and session["channels"] == 3
    with sqlite3.connect(tmp_path / "log.sqlite") as db:  # the log keeps each twitch's channel and muscle
        rows = db.execute("SELECT channel, muscle FROM twitches").fetchall()
    assert rows == [(0, "EMG APB")] * len(twitches)


def test_muscles_named_on_the_command_line_name_the_channels(hand, tmp_path, capsys):
    path, _, _ = hand
    code, lines = demo(tmp_path, "--channels", "2", "--recording", str(path),
                       "--muscle", "right APB", "--muscle", "right FDI")
    assert code == 0
    found = [e for e in lines if e["type"] == "twitch"]
    assert found and {(e["channel"], e["muscle"]) for e in found} == {(0, "right APB")}
    channels = lines[-1]["channels"]
    assert [(c["muscle"], c["nerve"]) for c in channels] == [("right APB", "median"), ("right FDI", "ulnar")]
    assert "[0] right APB, [1] right FDI" in capsys.readouterr().err


def test_one_muscle_too_few_or_too_many_is_said_in_one_line(hand, tmp_path, capsys):
    path, _, _ = hand
    code, _ = demo(tmp_path, "--channels", "3", "--recording", str(path), "--muscle", "a", "--muscle", "b")
    err = capsys.readouterr().err
    assert code == 1 and "2 muscles named for a board streaming 3 channels" in err
    assert len([line for line in err.splitlines() if "error" in line]) == 1


def test_a_missing_three_signal_recording_is_a_clear_error(tmp_path, capsys):
    code, _ = demo(tmp_path, "--channels", "3", "--recording", str(tmp_path / "nowhere.edf"))
    assert code == 1 and "no recording with 3 signals at" in capsys.readouterr().err


def test_a_recording_with_too_few_signals_is_refused(tmp_path, capsys):
    from conftest import DEMO_EDF

    code, _ = demo(tmp_path, "--channels", "2", "--recording", str(DEMO_EDF))
    assert code == 1 and "has 1 EMG signal: the simulated board cannot play 2 channels" in capsys.readouterr().err


def test_channel_names_come_from_the_user_then_the_recording():
    assert channel_names(2, ["a", "b"], ["x", "y"]) == ["a", "b"]
    assert channel_names(2, None, ["x", "y"]) == ["x", "y"]
    assert channel_names(2, None, None) == ["channel 0", "channel 1"]


def test_skew_shift_puts_each_channel_on_channel_0s_time_base():
    # 3 channels converted in turn at 2 kHz: channel 2's value is 2/3 of a sample later, nearest sample 1.
    assert skew_shifts(3, 1 / (3 * 2000), 2000) == [0, 0, 1]
    assert skew_shifts(3, 0.0, 2000) == [0, 0, 0]
    assert skew_shifts(2, 0.0025, 2000) == [0, 5]


def _common_mode_blocks(skew_samples: int, n: int = int(12 * RATE_HZ)):
    """One potential on both channels at once, channel 1 recorded skew_samples late: as a board whose channel 1
    is converted skew_samples after channel 0 would send it (its sample k is the world at k + skew)."""
    rng = np.random.default_rng(3)
    world = rng.normal(0, 5.0, (2, n + skew_samples))
    wide = potential(RATE_HZ, 16.0)
    peaks = [int(t * RATE_HZ) for t in np.arange(5.0, 11.0, 1.5)]
    for p in peaks:
        for c in range(2):
            world[c, p - len(wide) // 2 : p - len(wide) // 2 + len(wide)] += 150 * wide
    rows = np.stack([world[0, :n], world[1, skew_samples : skew_samples + n]])
    return [SampleBlock(s, rows[0, s : s + 500], channels_uv=rows[:, s : s + 500]) for s in range(0, n, 500)], peaks


def _run(live: LiveChannels, blocks) -> list:
    events = []
    for b in blocks:
        events += live.feed(b)
    return events + live.finish()


def test_the_skew_correction_lets_the_rules_compare_the_right_samples():
    """The reason for the correction: a common-mode potential reaches every electrode at once, but a board
    converting channels in turn records it later on later channels. 12 samples (6 ms) of skew is beyond the
    rules' lag search (3 ms): uncorrected, the potential looks like two twitches; corrected, it is rejected."""
    skew_s = 12 / RATE_HZ
    blocks, peaks = _common_mode_blocks(12)
    uncorrected = _run(LiveChannels(RATE_HZ, ["a", "b"], 0.0), blocks)
    corrected = _run(LiveChannels(RATE_HZ, ["a", "b"], skew_s), blocks)
    kept = [e for e in corrected if type(e.event).__name__ == "Twitch"]
    assert kept == []
    assert sum(type(e.event).__name__ == "Twitch" for e in uncorrected) >= len(peaks)
    common = [e for e in corrected if type(e.event).__name__ == "Rejected"
              and str(e.event.reason) == "artifact: common-mode"]
    assert len(common) >= len(peaks)
    # Channel 1's events are on channel 0's time base: found where channel 0's are, not 12 samples before.
    def offsets(events):
        at = {c: [e.event.peak_index for e in events if e.channel == c and hasattr(e.event, "peak_index")]
              for c in (0, 1)}
        return [min(abs(i - j) for j in at[0]) for i in at[1]]

    assert max(offsets(common)) <= 2
    assert min(offsets([e for e in uncorrected if type(e.event).__name__ == "Twitch"])) >= 10


def test_one_channel_demo_keeps_its_events_and_summary_as_they_were(tmp_path):
    """One channel's JSON carries neither channel nor muscle, and its summary no per-channel list."""
    code, lines = demo(tmp_path, "--duration", "20")
    assert code == 0 and any(e["type"] == "twitch" for e in lines)
    assert not any("channel" in e or "muscle" in e for e in lines[:-1])
    assert "channels" not in lines[-1] and lines[-1]["samples"] == 20_000


# 60 s of three channels through the firmware. The quick run keeps its parts: the same contract through the
# firmware on the 14 s scene above, and this recording's truth analysed in test_demo_recordings.py.
@pytest.mark.slow
def test_the_contract_on_the_bundled_three_channel_recording(tmp_path):
    """`myotwitch demo --channels 3 --speed 0 --format jsonl`: the bundled hand recording (twitches in the APB,
    crosstalk on the FDI, motion and heart beats on all); every injected twitch found on its own channel."""
    from conftest import ROOT

    truth = json.loads((ROOT / "host" / "myotwitch" / "data" / "demo_hand_3ch.truth.json").read_text())
    code, lines = demo(tmp_path, "--channels", "3")
    assert code == 0
    events, summary = lines[:-1], lines[-1]
    muscles = ["right APB", "right FDI", "right FCR"]
    assert all(e["muscle"] == muscles[e["channel"]] for e in events)
    found = [e for e in events if e["type"] == "twitch"]
    for t in truth["twitches"]:
        assert any(e["channel"] == t["channel"] and abs(e["t_s"] - t["t_s"]) < 0.02 for e in found), t
    assert [(c["channel"], c["muscle"]) for c in summary["channels"]] == list(enumerate(muscles))
    assert sum(c["twitches"] for c in summary["channels"]) == summary["twitches"] == len(found)
    assert summary["channels"][1]["rejected"].get("crosstalk", 0) > 0
