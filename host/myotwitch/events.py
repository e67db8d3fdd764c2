"""The events of a stream, typed, on absolute sample indices, from the detector to the edges.

From the detector (`dsp/detector.py`): Twitch (a counted fasciculation-like
potential), Rejected (a candidate not counted, and why), ActivitySegment
(sustained activity: contraction, cramp or spasm), SignalIssue (flat or
clipped signal). From the episode grouper (`episodes.py`): Episode. From
the sources and the session: Gap, StreamNote and Mark, declared here. With
several channels (`dsp/channels.py`), each event travels in a ChannelEvent
naming its channel and muscle.

Only `serialize.py` turns them into JSON objects, SQLite rows, EDF+
annotations and LSL markers, in seconds from the first sample.
"""

from __future__ import annotations

from dataclasses import dataclass

from myotwitch.dsp.channels import ChannelEvent
from myotwitch.dsp.detector import ActivitySegment, Rejected, SignalIssue, Twitch
from myotwitch.episodes import Episode


@dataclass(frozen=True)
class Gap:
    """Samples missing from the stream: counted as lost, never filled in, and why."""

    first_index: int
    samples: int
    why: str


@dataclass(frozen=True)
class StreamNote:
    """A condition of the data stream (noise skipped, a pause, the board's clock), not of the muscle."""

    at_index: int
    what: str  # noise, pause or clock
    value: float  # bytes skipped, seconds paused, ppm off
    text: str


@dataclass(frozen=True)
class Mark:
    """What the person said of a moment (a felt twitch, a cramp): `m + Enter` live, or `myotwitch mark`."""

    at_index: int
    label: str
    note: str | None = None


Event = Twitch | Rejected | ActivitySegment | SignalIssue | Episode | Gap | StreamNote | Mark | ChannelEvent

__all__ = [
    "ActivitySegment", "ChannelEvent", "Episode", "Event", "Gap", "Mark", "Rejected", "SignalIssue", "StreamNote",
    "Twitch",
]
