"""The session folder: raw samples written through, lost samples never filled in, an EDF+ at the end
(or afterwards, from what a crashed session left)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from myotwitch.errors import MyotwitchError
from myotwitch.recorder import SAMPLES_F32, SessionRecorder, read_events, write_session_edf
from myotwitch.sources import SampleBlock
from test_end_to_end import read_edf


def record(tmp_path, blocks, events=(), rate_hz=500.0):
    rec = SessionRecorder(tmp_path / "s", rate_hz, {"board": "test", "firmware": "t"})
    for b in blocks:
        rec.add_block(b)
        rec.flush()
    rec.add_json(events)  # as events.jsonl holds them (typed events go through add_events)
    return rec


def test_lost_samples_are_nan_on_disk_and_one_gap_in_the_edf(tmp_path):
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 5, 1000), rng.normal(0, 5, 1500)
    rec = record(tmp_path, [SampleBlock(0, a), SampleBlock(1250, b, lost_before=250)],
                 [{"type": "gap", "start_s": 2.0, "end_s": 2.5, "samples": 250, "why": "board unplugged"},
                  {"type": "twitch", "t_s": 3.0, "peak_uv": 42.0, "doublet_ms": None}])
    rec.close()
    raw = np.fromfile(tmp_path / "s" / SAMPLES_F32, "<f4")
    assert len(raw) == 2750 and np.isnan(raw[1000:1250]).all() and not np.isnan(raw[:1000]).any()
    edf = read_edf(write_session_edf(tmp_path / "s"))
    step = (a.max() - a.min()) / 65535 + 1e-3
    assert np.allclose(edf.samples[:1000], a, atol=step) and np.allclose(edf.samples[1250:2750], b, atol=step)
    notes = list(zip(edf.onsets_s, edf.durations_s, edf.texts))
    assert [(o, d) for o, d, t in notes if t.startswith("gap")] == [(2.0, 0.5)]
    assert [t for *_, t in notes if t.startswith("gap")] == ["gap: board unplugged"]
    assert [t for *_, t in notes if t.startswith("twitch")] == ["twitch 42.0 uV"]


def test_a_session_cut_short_by_a_crash_still_gives_its_edf(tmp_path):
    """No close(), no summary, the last event line half written: the EDF+ comes from what is on disk."""
    rec = record(tmp_path, [SampleBlock(0, np.arange(710.0))],
                 [{"type": "twitch", "t_s": 0.5, "peak_uv": 9.0, "doublet_ms": None}])
    rec.flush()
    with open(tmp_path / "s" / "events.jsonl", "a") as f:
        f.write('{"type": "twitch", "t_s": 1.')  # the kill came mid-line
    edf = read_edf(write_session_edf(tmp_path / "s"))
    assert len(edf.samples) == 725  # 710 samples, then padding to the 50 ms record's end, annotated
    assert np.allclose(edf.samples[:710], np.arange(710.0), atol=0.02)
    assert [t for t in edf.texts if t.startswith(("twitch", "padding"))] == ["twitch 9.0 uV", "padding (not recorded)"]
    assert len(read_events(tmp_path / "s")) == 1


def test_events_from_a_file_are_untrusted(tmp_path):
    rec = record(tmp_path, [SampleBlock(0, np.zeros(500) + 1.0)],
                 [{"type": "twitch", "t_s": "soon", "peak_uv": 1.0}, {"type": "episode"}, {"no": "type"}])
    rec.close()
    with open(tmp_path / "s" / "events.jsonl", "a") as f:
        f.write("[1, 2]\nnot json\n")
    edf = read_edf(write_session_edf(tmp_path / "s"))
    assert not any(t.startswith(("twitch", "episode")) for t in edf.texts)


def test_blocks_may_not_overlap(tmp_path):
    rec = record(tmp_path, [SampleBlock(0, np.zeros(100))])
    with pytest.raises(ValueError, match="overlaps"):
        rec.add_block(SampleBlock(50, np.zeros(10)))
    rec.close()


def test_nothing_recorded_is_a_clear_error(tmp_path):
    record(tmp_path, []).close()
    with pytest.raises(MyotwitchError, match="no samples were recorded"):
        write_session_edf(tmp_path / "s")
    with pytest.raises(MyotwitchError, match="not a myotwitch session folder"):
        write_session_edf(tmp_path)


def test_many_twitches_all_reach_the_edf(tmp_path):
    """edflib keeps one annotation per annotation signal per record and drops the rest silently."""
    events = [{"type": "twitch", "t_s": round(k * 0.01, 3), "peak_uv": 5.0, "doublet_ms": None} for k in range(1000)]
    record(tmp_path, [SampleBlock(0, np.zeros(5000))], events).close()
    edf = read_edf(write_session_edf(tmp_path / "s"))
    assert sum(t.startswith("twitch") for t in edf.texts) == 1000


def test_session_json_says_what_the_session_is(tmp_path):
    rec = record(tmp_path, [SampleBlock(0, np.zeros(10))])
    rec.close()
    meta = json.loads((tmp_path / "s" / "session.json").read_text())
    assert meta["rate_hz"] == 500.0 and meta["unit"] == "uV" and meta["board"] == "test"
