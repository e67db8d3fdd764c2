"""Output helpers: events as text lines or JSON lines on stdout, status lines on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from myotwitch.summary_text import frames_line, rate_line

if TYPE_CHECKING:
    from myotwitch.events import Event

DISCLAIMER = "myotwitch informs; it does not diagnose. Bring the log to a clinician."
CRAMP_NOTE = "one channel cannot tell a cramp from a voluntary contraction"
_LINES_A_WRITE = 256  # Output.events: lines joined into one write


class Output:
    """Writes events as text lines or JSON lines."""

    def __init__(self, fmt: str, stream: TextIO | None = None) -> None:
        self.fmt = fmt
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        # Looked up on each write when not given: the live view redirects sys.stdout above itself.
        return self._stream if self._stream is not None else sys.stdout

    def event(self, event: Event, rate_hz: float) -> None:
        """One event of a stream at rate_hz, written at once (the live view prints events as found)."""
        self.stream.write(self._line(event, rate_hz))
        self.stream.flush()

    def events(self, events: Iterable[Event], rate_hz: float) -> None:
        """A file's events, 256 lines a write, flushed at the end: a write or a flush a line is a system call
        each where stdout is unbuffered (PYTHONUNBUFFERED) or flushed, 10,000 of them for a 1-hour file."""
        lines: list[str] = []
        line = self._line
        if self.fmt == "jsonl":  # nearly every line of a file's analysis: the serializer looked up once
            from myotwitch.serialize import to_json_line

            def line(event: Event, rate_hz: float) -> str:
                return to_json_line(event, rate_hz) + "\n"
        try:
            for e in events:
                lines.append(line(e, rate_hz))
                if len(lines) >= _LINES_A_WRITE:
                    self.stream.write("".join(lines))
                    lines.clear()
        finally:  # a file that fails part way (a damaged record) still has its events so far written
            self.stream.write("".join(lines))
            self.stream.flush()

    def _line(self, event: Event, rate_hz: float) -> str:
        """Its JSON object's line, or a line for people ("" for an event people are not shown)."""
        from myotwitch import serialize

        if self.fmt == "jsonl":
            return serialize.to_json_line(event, rate_hz) + "\n"
        e = serialize.to_json(event, rate_hz)  # the text shows the same rounded figures as the JSON
        from myotwitch.events import (
            ActivitySegment,
            ChannelEvent,
            Episode,
            Gap,
            Mark,
            Rejected,
            SignalIssue,
            StreamNote,
            Twitch,
        )

        if isinstance(event, ChannelEvent):  # one channel of several: its line, after the muscle's name
            if isinstance(event.event, Rejected):
                return ""
            return f"[{event.channel} {event.muscle}] " + self._line(event.event, rate_hz)  # type: ignore[arg-type]
        if isinstance(event, Twitch):
            return (f"twitch   {e['t_s']:10.3f} s   peak {e['peak_uv']:7.1f} µV   {e['duration_ms']:5.1f} ms"
                    f"   SNR {e['snr']:5.1f}\n")
        if isinstance(event, Episode):
            return (f"episode  {e['start_s']:10.3f} - {e['end_s']:.3f} s   {e['count']} twitches"
                    f"   {e['rate_per_min']:.1f}/min   median peak {e['median_peak_uv']:.1f} µV\n")
        if isinstance(event, ActivitySegment):
            kind = f"sustained: cramp, spasm or held contraction ({CRAMP_NOTE}: `myotwitch mark` it)" \
                if e["cramp_candidate"] else "muscle activity (not twitching)"
            return (f"activity {e['start_s']:10.3f} - {e['end_s']:.3f} s   {e['duration_s']:.1f} s"
                    f"   mean envelope {e['mean_envelope_uv']:.1f} µV   {kind}\n")
        if isinstance(event, SignalIssue):
            what = "flat signal (electrode off?): skipped" if e["kind"] == "flat" else "clipped at the ADC's range"
            return f"signal   {e['start_s']:10.3f} - {e['end_s']:.3f} s   {what}\n"
        if isinstance(event, Gap):
            return f"gap      {e['start_s']:10.3f} - {e['end_s']:.3f} s   {e['why']}: {e['samples']} samples lost\n"
        if isinstance(event, Mark):
            return f"mark     {e['t_s']:10.3f} s   {e['label']}\n"
        if isinstance(event, StreamNote):
            return f"stream   {e['t_s']:10.3f} s   {e['text']}\n"
        return ""  # a Rejected: counted in the summary, not shown

    def records(self, records: Iterable[dict]) -> None:
        """JSON objects that are not events of a stream (the sessions in the log), one a line."""
        for r in records:
            self.stream.write(json.dumps(r) + "\n")
        self.stream.flush()

    def summary(self, s: dict) -> None:
        if self.fmt == "jsonl":
            from myotwitch.serialize import summary_json

            self.stream.write(json.dumps(summary_json(s)) + "\n")
            self.stream.flush()
            return
        lines = [f"summary ({DISCLAIMER})"]
        if "seconds" in s:
            lines.append(f"  streamed      {s['seconds']:.1f} s")
        # A recording replayed (live --source PATH) has no board, firmware or frames to speak of.
        from_board = s.get("firmware") not in (None, "-") or bool(s.get("frames"))
        if from_board and "firmware" in s:
            lines.append(f"  board         {s.get('board')} running {s['firmware']}")
        if from_board and "frames" in s:
            lines.append(f"  frames        {frames_line(s['frames'], s.get('frames_sent'))}")
        lines.append(f"  samples       {s['samples']} received, {s['lost_samples']} lost")
        if s.get("gaps"):
            lines.append(f"  gaps          {s['gaps']} (board reconnected {s.get('reconnects', 0)} times)")
        if s.get("effective_rate_hz"):
            lines.append(f"  rate          {rate_line(s['rate_hz'], s['effective_rate_hz'], s.get('speed'))}")
        if s.get("device_rate_hz"):
            lines.append(f"  board clock   {s['device_rate_hz']:.2f} samples per second of the board's clock; frame "
                         f"timing jitter {s['device_jitter_us_rms']:g} µs RMS, "
                         f"{s['device_jitter_us_max']:g} µs at most")
        if from_board and "crc_errors" in s:
            lines.append(f"  CRC errors    {s['crc_errors']}")
        if s.get("saturated_frames") or s.get("flat_frames"):
            lines.append(f"  signal        {s['saturated_frames']} frames at the ADC's rails, "
                         f"{s['flat_frames']} flat frames (electrode off?)")
        lines.append(f"  twitches      {s['twitches']}")
        for c in s.get("channels", ()):
            lines.append(channel_line(c))
        lines.append(f"  episodes      {s['episodes']}")
        if s.get("activity_segments") is not None:
            lines.append(f"  activity      {s['activity_segments']} segments")
        rejected = s.get("rejected") or _all_channels(s.get("channels", ()))
        if rejected:
            lines.append("  not counted   " + ", ".join(f"{n} {why}" for why, n in rejected.items())
                         + (" (all channels)" if not s.get("rejected") else ""))
        if s.get("noise_uv") is not None:
            mains = " and ".join(f"{f:g} Hz" for f in s.get("mains_hz", [])) or "none (no mains line found)"
            lines.append(f"  noise floor   {s['noise_uv']:.2f} µV   mains notched: {mains}")
        if s.get("db"):
            lines.append(f"  log           {s['db']} (session {s['session']})")
        if s.get("out_dir"):
            lines.append(f"  recording     {s['out_dir']} (session.edf, events.jsonl; `myotwitch report` it)")
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()


def _all_channels(channels) -> dict[str, int]:
    """Several channels: what was not counted, summed over the channels, by reason."""
    total: dict[str, int] = {}
    for c in channels:
        for why, n in c.get("rejected", {}).items():
            total[why] = total.get(why, 0) + n
    return dict(sorted(total.items()))


def channel_line(c: dict) -> str:
    """A channel of several in the text summary: its muscle, its counts, and what supplies the muscle."""
    supply = f"; the muscle is supplied by the {c['nerve']} nerve, roots {c['roots']}" if c.get("nerve") else ""
    rejected = sum(n for why, n in c["rejected"].items() if why in ("artifact: common-mode", "crosstalk"))
    others = f", {rejected} seen on other channels too (common-mode or crosstalk)" if rejected else ""
    counts = f"{c['twitches']} twitch{'' if c['twitches'] == 1 else 'es'}, " \
        f"{c['episodes']} episode{'' if c['episodes'] == 1 else 's'}"
    noise = f", noise floor {c['noise_uv']:.2f} µV" if c.get("noise_uv") is not None else ""
    return f"    [{c['channel']}] {c['muscle']}: {counts}{noise}{others}{supply}"


def status(message: str) -> None:
    print(f"myotwitch: {message}", file=sys.stderr, flush=True)
