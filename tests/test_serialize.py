"""Typed events become JSON objects, SQLite rows, EDF+ annotations and LSL markers in one place."""

from __future__ import annotations

import pytest
from myotwitch.events import ActivitySegment, Episode, Gap, Mark, Rejected, SignalIssue, StreamNote, Twitch
from myotwitch.serialize import annotation, lsl_marker, store_rows, to_json

RATE_HZ = 2000.0
EVENTS = [
    Twitch(peak_index=4001, onset_index=3990, end_index=4019, peak_uv=42.123, noise_uv=2.0,
           doublet_interval_samples=30),
    Rejected(peak_index=5000, peak_uv=9.876, reason="echo"),
    ActivitySegment(start_index=6000, end_index=7999, mean_envelope_uv=20.004, peak_envelope_uv=55.5,
                    cramp_candidate=False),
    SignalIssue(kind="flat", start_index=8000, end_index=8999),
    Episode(start_index=4001, end_index=10001, count=4, median_peak_uv=30.0, max_peak_uv=42.123),
    Gap(first_index=12000, samples=1000, why="board unplugged"),
    StreamNote(at_index=13000, what="noise", value=2000, text="2000 bytes of line noise skipped"),
    Mark(at_index=14001, label="felt-twitch"),
]


def test_each_event_has_its_json_object_in_seconds():
    assert [to_json(e, RATE_HZ) for e in EVENTS] == [
        {"type": "twitch", "t_s": 2.0005, "onset_s": 1.995, "duration_ms": 15.0, "peak_uv": 42.12, "snr": 21.06,
         "noise_uv": 2.0, "doublet_ms": 15.0},
        {"type": "rejected", "t_s": 2.5, "peak_uv": 9.88, "reason": "echo"},
        {"type": "activity", "start_s": 3.0, "end_s": 4.0, "duration_s": 1.0, "mean_envelope_uv": 20.0,
         "peak_envelope_uv": 55.5, "cramp_candidate": False},
        {"type": "signal", "kind": "flat", "start_s": 4.0, "end_s": 4.5},
        {"type": "episode", "start_s": 2.0005, "end_s": 5.0005, "count": 4, "rate_per_min": 60.0,
         "median_peak_uv": 30.0, "max_peak_uv": 42.12},
        {"type": "gap", "start_s": 6.0, "end_s": 6.5, "samples": 1000, "why": "board unplugged"},
        {"type": "stream", "t_s": 6.5, "what": "noise", "value": 2000, "text": "2000 bytes of line noise skipped"},
        {"type": "mark", "t_s": 7.0, "label": "felt-twitch", "note": None},
    ]


def test_rows_for_the_log_are_the_json_objects_of_their_kind():
    rows = store_rows(EVENTS, RATE_HZ)
    assert rows.twitches == [to_json(EVENTS[0], RATE_HZ)] and rows.episodes == [to_json(EVENTS[4], RATE_HZ)]
    assert rows.gaps == [to_json(EVENTS[5], RATE_HZ)] and rows.marks == [to_json(EVENTS[7], RATE_HZ)]


def test_annotations_and_markers_carry_the_same_text():
    notes = [annotation(to_json(e, RATE_HZ)) for e in EVENTS]
    assert [n[2] if n else None for n in notes] == [
        "twitch 42.1 uV doublet", None, "activity: muscle activity", "signal flat", "episode 4 twitches",
        "gap: board unplugged", "2000 bytes of line noise skipped", "mark: felt-twitch"]
    assert lsl_marker(EVENTS[0], RATE_HZ) == (2.0005, "twitch 42.1 uV doublet")
    assert lsl_marker(EVENTS[1], RATE_HZ) is None  # rejected candidates are not annotated


def test_anything_else_is_not_an_event():
    with pytest.raises(TypeError):
        to_json({"type": "twitch"}, RATE_HZ)  # type: ignore[arg-type]
