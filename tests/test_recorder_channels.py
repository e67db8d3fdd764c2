"""A session folder of several channels: interleaved samples, one EDF+ signal per channel, annotations naming
the channel; one channel's folder as it always was."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ROOT
from myotwitch.analysis_session import write_analysis_session
from myotwitch.recorder import MAX_LAG_S, SAMPLES_F32, SESSION_JSON, SessionRecorder, write_session_edf
from myotwitch.serialize import annotation
from myotwitch.sources import SampleBlock

RATE_HZ = 500.0
MUSCLES = ["right APB", "right FDI", "right abductor digiti minimi"]
DEMO_3CH = ROOT / "host" / "myotwitch" / "data" / "demo_hand_3ch.edf"


def read_all(path):
    import pyedflib

    with pyedflib.EdfReader(str(path)) as f:
        signals = [f.readSignal(c) for c in range(f.signals_in_file)]
        return f.getSignalLabels(), signals, list(zip(*f.readAnnotations(), strict=True))


def test_one_channel_folder_is_byte_for_byte_as_before(tmp_path):
    """The layout of before: float32 per index, NaN where lost, and a session.json without channel keys."""
    a, b = np.arange(100.0), np.arange(50.0) + 0.5
    for name, muscles in (("none", None), ("one", ["right APB"])):
        rec = SessionRecorder(tmp_path / name, RATE_HZ, {"board": "t"}, muscles=muscles)
        rec.add_block(SampleBlock(0, a))
        rec.add_block(SampleBlock(120, b, lost_before=20))
        rec.close()
        expected = np.concatenate((a, np.full(20, np.nan), b)).astype("<f4").tobytes()
        assert (tmp_path / name / SAMPLES_F32).read_bytes() == expected
        assert json.loads((tmp_path / name / SESSION_JSON).read_text()) == {
            "board": "t", "rate_hz": RATE_HZ, "unit": "uV", "format": 1}


def test_channels_out_of_step_are_interleaved_with_nan_only_where_each_lost(tmp_path):
    rec = SessionRecorder(tmp_path / "s", RATE_HZ, {"board": "t"}, muscles=MUSCLES)
    x = np.arange(3 * 1000.0).reshape(3, 1000) + 1.0
    # channel 1 arrives in other block sizes, and loses 100 samples (200-299) alone; channel 2 ends early
    rec.add_blocks([SampleBlock(0, x[0, :600]), SampleBlock(0, x[1, :200]), SampleBlock(0, x[2, :500])])
    rec.add_blocks([None, SampleBlock(300, x[1, 300:1000], lost_before=100), None])
    rec.add_blocks([SampleBlock(600, x[0, 600:]), None, SampleBlock(500, x[2, 500:900])])
    rec.close()
    meta = json.loads((tmp_path / "s" / SESSION_JSON).read_text())
    assert meta["channels"] == 3 and meta["muscles"] == MUSCLES and "interleaved" in meta["samples_layout"]
    raw = np.fromfile(tmp_path / "s" / SAMPLES_F32, "<f4").reshape(-1, 3)
    lost = np.isnan(raw)
    assert raw.shape == (1000, 3)
    assert np.array_equal(np.flatnonzero(lost[:, 1]), np.arange(200, 300))
    assert np.array_equal(np.flatnonzero(lost[:, 2]), np.arange(900, 1000)) and not lost[:, 0].any()
    assert np.array_equal(raw[~lost], x.T[~lost])

    labels, signals, notes = read_all(write_session_edf(tmp_path / "s"))
    assert labels == ["EMG right APB", "EMG right FDI", "EMG right abduct"]  # EDF labels hold 16 characters
    step = 3000 / 65535 + 1e-3
    assert np.allclose(signals[0][:1000], x[0], atol=step)
    assert np.allclose(signals[1][300:1000], x[1, 300:], atol=step)
    gaps = [(round(o, 3), round(d, 3), t) for o, d, t in notes if "gap" in t]
    assert gaps == [(0.4, 0.2, "ch1 right FDI: gap: samples lost"),
                    (1.8, 0.2, "ch2 right abductor di: gap: samples lost")]


def test_a_run_lost_on_every_channel_is_one_gap_with_its_reason(tmp_path):
    rec = SessionRecorder(tmp_path / "s", RATE_HZ, {"board": "t"}, muscles=MUSCLES[:2])
    rec.add_blocks([SampleBlock(0, np.ones(500)), SampleBlock(0, np.ones(500))])
    rec.add_blocks([SampleBlock(750, np.ones(250), lost_before=250), SampleBlock(750, np.ones(250))])
    rec.add_json([{"type": "gap", "start_s": 1.0, "end_s": 1.5, "samples": 250, "why": "board unplugged"},
                  {"type": "twitch", "channel": 1, "muscle": "right FDI", "t_s": 0.5, "peak_uv": 42.0}])
    rec.close()
    _, _, notes = read_all(write_session_edf(tmp_path / "s"))
    assert [(o, d, t) for o, d, t in notes if "gap" in t] == [(1.0, 0.5, "gap: board unplugged")]
    assert [t for _, _, t in notes if "twitch" in t] == ["ch1 right FDI: twitch 42.0 uV"]


def test_a_channel_far_behind_is_written_as_lost_and_its_late_samples_counted(tmp_path):
    rec = SessionRecorder(tmp_path / "s", RATE_HZ, {"board": "t"}, muscles=MUSCLES[:2])
    ahead = int(MAX_LAG_S * RATE_HZ) + 100
    rec.add_blocks([SampleBlock(0, np.ones(ahead)), SampleBlock(0, np.ones(50))])
    assert rec.samples_written == 100  # what is held stays bounded: at most MAX_LAG_S ahead of what is written
    rec.add_blocks([None, SampleBlock(50, np.full(80, 2.0))])  # 50 arrive after their sets were written
    rec.close()
    raw = np.fromfile(tmp_path / "s" / SAMPLES_F32, "<f4").reshape(-1, 2)
    assert rec.late_samples == [0, 50]
    assert np.isnan(raw[50:100, 1]).all() and (raw[100:130, 1] == 2.0).all() and np.isnan(raw[130:, 1]).all()
    with pytest.raises(ValueError, match="overlaps"):
        rec.add_blocks([SampleBlock(10, np.ones(5)), None])


def test_annotations_name_the_channel_and_keep_what_happened_whole():
    long = {"type": "twitch", "channel": 2, "muscle": "left extensor digitorum communis", "t_s": 1.0,
            "peak_uv": 123.4, "doublet_ms": 12.0}
    assert annotation(long) == (1.0, -1, "ch2 left extens: twitch 123.4 uV doublet")  # 40 characters
    assert annotation({"type": "twitch", "t_s": 1.0, "peak_uv": 5.0}) == (1.0, -1, "twitch 5.0 uV")
    bad = {"type": "twitch", "channel": "2; DROP", "muscle": 7, "t_s": 1.0, "peak_uv": 5.0}
    assert annotation(bad) == (1.0, -1, "twitch 5.0 uV")  # an untrusted channel field is not written


def test_an_analysis_of_the_three_channel_demo_gives_its_session_folder(tmp_path):
    import pyedflib

    path, _ = write_analysis_session(DEMO_3CH, tmp_path / "s")
    labels, signals, notes = read_all(path)
    assert labels == ["EMG right APB", "EMG right FDI", "EMG right FCR"]
    with pyedflib.EdfReader(str(DEMO_3CH)) as f:
        for c in range(3):
            source = f.readSignal(c)
            assert np.allclose(signals[c][: len(source)], source, atol=0.05)
    truth = json.loads(DEMO_3CH.with_suffix(".truth.json").read_text())
    for twitch in truth["twitches"]:
        assert any(abs(o - twitch["t_s"]) <= 0.01 and t.startswith("ch0 right APB: twitch") for o, _, t in notes)
    events = [json.loads(line) for line in (tmp_path / "s" / "events.jsonl").read_text().splitlines()]
    assert events[-1]["type"] == "summary" and [c["muscle"] for c in events[-1]["channels"]] == truth["channels"]


def test_an_analysis_of_one_signal_gives_a_folder_of_one_channel(tmp_path):
    from conftest import DEMO_EDF

    path, summary = write_analysis_session(DEMO_EDF, tmp_path / "s", muscles=["right FDI"])
    meta = json.loads((tmp_path / "s" / SESSION_JSON).read_text())
    assert meta["muscle"] == "right FDI" and "channels" not in meta
    assert (tmp_path / "s" / SAMPLES_F32).stat().st_size == 4 * 60000
    labels, signals, notes = read_all(path)
    assert labels == ["EMG right FDI"] and len(signals) == 1
    assert sum(t.startswith("twitch") for _, _, t in notes) == summary["twitches"]
