"""The CLI's output of events: the same bytes whether written one at a time (live) or as a file's stream."""

from __future__ import annotations

import io
import json

import pytest

from myotwitch.cli.output import Output
from myotwitch.events import Rejected, Twitch

RATE_HZ = 2000.0
EVENTS = [Twitch(peak_index=4001 + 300 * i, onset_index=3990 + 300 * i, end_index=4019 + 300 * i, peak_uv=42.1,
                 noise_uv=2.0) for i in range(599)] + [Rejected(peak_index=9000, peak_uv=9.9, reason="echo")]


class CountingStream(io.StringIO):
    """A stdout that counts its writes and flushes: where stdout is unbuffered (PYTHONUNBUFFERED) each write is a
    system call, and each flush is one wherever something is held."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.flushes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


@pytest.mark.parametrize("fmt", ["jsonl", "text"])
def test_a_files_events_are_written_many_lines_at_a_time_and_flushed_once(fmt):
    # A 1-hour file gives about 10,000 JSON lines: a write system call each where stdout is unbuffered.
    stream = CountingStream()
    Output(fmt, stream).events(iter(EVENTS), RATE_HZ)
    assert stream.flushes == 1
    assert stream.writes == 3  # 600 events: 256, 256 and the rest
    assert len(stream.getvalue().splitlines()) == (len(EVENTS) if fmt == "jsonl" else len(EVENTS) - 1)


@pytest.mark.parametrize("fmt", ["jsonl", "text"])
def test_live_events_are_flushed_as_found_with_the_same_bytes(fmt):
    live, stream = CountingStream(), CountingStream()
    for e in EVENTS:
        Output(fmt, live).event(e, RATE_HZ)
    Output(fmt, stream).events(EVENTS, RATE_HZ)
    assert live.flushes == len(EVENTS)  # the live view shows each event the moment it is decided
    assert live.getvalue() == stream.getvalue()
    if fmt == "jsonl":
        assert json.loads(stream.getvalue().splitlines()[0])["t_s"] == 2.0005


def test_the_events_before_a_failure_part_way_through_a_file_are_written():
    def failing():
        yield from EVENTS[:3]
        raise OSError("a damaged record")

    stream = CountingStream()
    with pytest.raises(OSError, match="damaged"):
        Output("jsonl", stream).events(failing(), RATE_HZ)
    assert len(stream.getvalue().splitlines()) == 3 and stream.flushes == 1
