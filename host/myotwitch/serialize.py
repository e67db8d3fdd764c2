"""Events at the edges: JSON objects, SQLite rows, EDF+ annotations and LSL markers.

The one place where typed events (`events.py`) on sample indices become
seconds from the first sample and rounded figures. The JSON objects are what
`analyze --format jsonl` prints and a session's events.jsonl holds:

  twitch    t_s (its peak), onset_s, duration_ms, peak_uv, snr, noise_uv, doublet_ms
  rejected  t_s, peak_uv, reason
  activity  start_s, end_s, duration_s, mean_envelope_uv, peak_envelope_uv, cramp_candidate
  signal    kind (flat, clipped), start_s, end_s
  episode   start_s, end_s (first and last peak), count, rate_per_min, median_peak_uv, max_peak_uv
  gap       start_s, end_s, samples, why
  stream    t_s, what, value, text
  mark      t_s, label, note

With several channels every event also carries `channel` (0-based) and `muscle`
(the name given, or the file's signal label); one channel's carry neither.

EDF+ annotations (and the LSL markers, which carry the same text) are made
from these JSON objects, because the EDF+ is written from a session's
events.jsonl, which is read back as untrusted input. An event of one channel
of several names its channel and muscle first: "ch0 right APB: twitch 42.1 uV".
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from myotwitch.events import (
    ActivitySegment,
    ChannelEvent,
    Episode,
    Event,
    Gap,
    Mark,
    Rejected,
    SignalIssue,
    StreamNote,
    Twitch,
)


def to_json(event: Event, rate_hz: float) -> dict:
    """The JSON object of an event (see the module's docstring), times in seconds from the first sample."""
    match event:
        case ChannelEvent():
            inner = to_json(event.event, rate_hz)  # type: ignore[arg-type]
            return {"type": inner["type"], "channel": event.channel, "muscle": event.muscle, **inner}
        case Twitch():
            return {
                "type": "twitch",
                "t_s": round(event.peak_index / rate_hz, 4),
                "onset_s": round(event.onset_index / rate_hz, 4),
                "duration_ms": round(event.duration_ms(rate_hz), 2),
                "peak_uv": round(event.peak_uv, 2),
                "snr": round(event.snr, 2),
                "noise_uv": round(event.noise_uv, 3),
                "doublet_ms": None if event.doublet_interval_samples is None
                else round(event.doublet_interval_samples * 1000.0 / rate_hz, 1),
            }
        case Rejected():
            return {"type": "rejected", "t_s": round(event.peak_index / rate_hz, 4),
                    "peak_uv": round(event.peak_uv, 2), "reason": str(event.reason)}
        case ActivitySegment():
            return {"type": "activity", "start_s": round(event.start_index / rate_hz, 4),
                    "end_s": round((event.end_index + 1) / rate_hz, 4),
                    "duration_s": round((event.end_index - event.start_index + 1) / rate_hz, 3),
                    "mean_envelope_uv": round(event.mean_envelope_uv, 2),
                    "peak_envelope_uv": round(event.peak_envelope_uv, 2),
                    "cramp_candidate": event.cramp_candidate}
        case SignalIssue():
            return {"type": "signal", "kind": event.kind, "start_s": round(event.start_index / rate_hz, 4),
                    "end_s": round((event.end_index + 1) / rate_hz, 4)}
        case Episode():
            return {
                "type": "episode",
                "start_s": round(event.start_index / rate_hz, 4),
                "end_s": round(event.end_index / rate_hz, 4),
                "count": event.count,
                "rate_per_min": round(event.rate_per_min(rate_hz), 2),
                "median_peak_uv": round(event.median_peak_uv, 2),
                "max_peak_uv": round(event.max_peak_uv, 2),
            }
        case Gap():
            return {"type": "gap", "start_s": round(event.first_index / rate_hz, 4),
                    "end_s": round((event.first_index + event.samples) / rate_hz, 4), "samples": event.samples,
                    "why": event.why}
        case StreamNote():
            return {"type": "stream", "t_s": round(event.at_index / rate_hz, 3), "what": event.what,
                    "value": event.value, "text": event.text}
        case Mark():
            return mark_json(round(event.at_index / rate_hz, 3), event.label, event.note)
    raise TypeError(f"not an event: {event!r}")


def to_json_line(event: Event, rate_hz: float) -> str:
    """`json.dumps(to_json(event, rate_hz))`, the same bytes: a twitch's or a rejection's line (nearly all of a
    file's events) written straight from its fields, at a fifth of the cost of building the dict and encoding
    it (about 1.2 against 6 us an event); any other event through to_json."""
    kind = type(event)
    if kind is Twitch:
        twitch: Twitch = event  # type: ignore[assignment]
        doublet = twitch.doublet_interval_samples
        return _TWITCH_LINE % (_rounded(twitch.peak_index / rate_hz, 4), _rounded(twitch.onset_index / rate_hz, 4),
                               _rounded(twitch.duration_ms(rate_hz), 2), _rounded(twitch.peak_uv, 2),
                               _rounded(twitch.snr, 2), _rounded(twitch.noise_uv, 3),
                               "null" if doublet is None else _rounded(doublet * 1000.0 / rate_hz, 1))
    if kind is Rejected:
        rejected: Rejected = event  # type: ignore[assignment]
        reason = _REASON_JSON.get(rejected.reason)
        if reason is None:
            reason = _REASON_JSON[rejected.reason] = json.dumps(str(rejected.reason))
        return _REJECTED_LINE % (_rounded(rejected.peak_index / rate_hz, 4), _rounded(rejected.peak_uv, 2), reason)
    return json.dumps(to_json(event, rate_hz))


_TWITCH_LINE = ('{"type": "twitch", "t_s": %s, "onset_s": %s, "duration_ms": %s, "peak_uv": %s, "snr": %s, '
                '"noise_uv": %s, "doublet_ms": %s}')
_REJECTED_LINE = '{"type": "rejected", "t_s": %s, "peak_uv": %s, "reason": %s}'
_REASON_JSON: dict[object, str] = {}  # each reason's JSON string, encoded once
# digits after the point -> its format, and the size below which the decimal has at most 15 significant digits
_FIXED = {digits: (f"%.{digits}f", 10.0 ** (15 - digits)) for digits in range(1, 5)}


def _rounded(value: object, digits: int) -> str:
    """`json.dumps(round(value, digits))`, the same characters, for a third of the cost where value is a float
    with at most 15 significant digits before and `digits` after the point: round() and "%.{digits}f" both take
    the correctly rounded decimal digits of the double (CPython's dtoa, mode 3), and the double nearest a
    decimal of at most 15 significant digits reprs as that decimal without its trailing zeros. Anything else
    (integers, numpy floats, NaN, infinities, larger sizes) as json.dumps."""
    fixed, limit = _FIXED[digits]
    if type(value) is float and -limit < value < limit:  # NaN compares False
        text = (fixed % value).rstrip("0")
        return text + "0" if text[-1] == "." else text
    return _json_value(round(value, digits))  # type: ignore[call-overload]


def _json_value(value: object) -> str:
    """A value as json.dumps writes it: a finite float as its repr (json's own), anything else by json.dumps."""
    if type(value) is float and math.isfinite(value):
        return float.__repr__(value)
    return json.dumps(value)


def mark_json(t_s: float, label: str, note: str | None) -> dict:
    """A mark given in seconds (`myotwitch mark --at S`), as events.jsonl holds it."""
    return {"type": "mark", "t_s": t_s, "label": label, "note": note}


def summary_json(summary: dict) -> dict:
    return dict({"type": "summary"}, **summary)


@dataclass
class StoreRows:
    """The rows of the SQLite log (store.py) that a batch of events adds: the JSON objects' fields."""

    twitches: list[dict] = field(default_factory=list)
    episodes: list[dict] = field(default_factory=list)
    gaps: list[dict] = field(default_factory=list)
    marks: list[dict] = field(default_factory=list)


def store_rows(events: Iterable[Event], rate_hz: float) -> StoreRows:
    """The rows of the events the log keeps: twitches, episodes, gaps and marks. A ChannelEvent's row carries
    its `channel` and `muscle` (store.py fills in channel 0 and the session's muscle for rows without)."""
    rows = StoreRows()
    for event in events:
        inner = event.event if isinstance(event, ChannelEvent) else event
        match inner:
            case Twitch():
                rows.twitches.append(to_json(event, rate_hz))
            case Episode():
                rows.episodes.append(to_json(event, rate_hz))
            case Gap():
                rows.gaps.append(to_json(event, rate_hz))
            case Mark():
                rows.marks.append(to_json(event, rate_hz))
    return rows


_ANNOTATION_CHARS = 40


def annotation(event: dict) -> tuple[float, float, str] | None:
    """(onset s, duration s or -1, text) of a JSON event in the EDF+, or None for events not annotated.

    An event of one channel of several names it first: "ch0 right APB: twitch 42.1 uV" (the muscle is
    shortened so that what happened fits). EDF+ annotation texts are cut at 40 characters where free text
    can make them long."""
    note = _annotation(event)
    channel = event.get("channel")
    if note is None or not isinstance(channel, int) or isinstance(channel, bool) or channel < 0:
        return note
    onset_s, duration_s, text = note
    muscle = event.get("muscle")
    head = f"ch{channel}" + (f" {muscle}" if isinstance(muscle, str) and muscle else "")
    room = max(len(f"ch{channel}"), _ANNOTATION_CHARS - len(text) - 2)
    return onset_s, duration_s, f"{head[:room].rstrip()}: {text}"[:_ANNOTATION_CHARS]


def _annotation(event: dict) -> tuple[float, float, str] | None:
    kind = event["type"]
    if kind == "twitch":
        doublet = " doublet" if event.get("doublet_ms") else ""
        return event["t_s"], -1, f"twitch {event['peak_uv']:.1f} uV{doublet}"
    if kind == "episode":
        return event["start_s"], event["end_s"] - event["start_s"], f"episode {event['count']} twitches"
    if kind == "activity":
        what = "cramp/spasm/held contraction" if event.get("cramp_candidate") else "muscle activity"
        return event["start_s"], event["duration_s"], f"activity: {what}"
    if kind == "signal":
        return event["start_s"], event["end_s"] - event["start_s"], f"signal {event['kind']}"
    if kind == "gap":
        return event["start_s"], event["end_s"] - event["start_s"], f"gap: {event['why']}"[:40]
    if kind == "mark":
        return event["t_s"], -1, f"mark: {event['label']}"[:40]
    if kind == "stream":
        return event["t_s"], -1, event["text"][:40]
    return None


def lsl_marker(event: Event, rate_hz: float) -> tuple[float, str] | None:
    """(seconds from the first sample, text) of an event's LSL marker: its EDF+ annotation's text."""
    note = annotation(to_json(event, rate_hz))
    return None if note is None else (note[0], note[2])
