"""A session folder read back for the report: samples, events, and the mapping of sample time to clock time.

Reads only the folder (session.json, events.jsonl, samples.f32 or session.edf), so a folder copied to
another computer reports the same. Events read back are untrusted: a field missing or not a number
leaves that event out of the figure that needs it, never the report.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from myotwitch.errors import MyotwitchError
from myotwitch.recorder import (
    SAMPLES_F32,
    SESSION_EDF,
    finite_numbers,
    read_events,
    read_meta,
    session_channels,
    write_session_edf,
)

# A twitch is "clear" at a peak of 10 noise sigmas or more. The detector accepts peaks from 3.5 sigma
# (DetectorConfig.peak_sigma), where Gaussian noise alone reaches 3.5 sigma about once in 2,000 samples
# and 5 sigma once in 1.7 million (about once in half an hour at 1 kHz): at 10 sigma noise alone cannot
# make the potential, and its shape is kept (the detector's shape rule: two copies of one 4-sigma
# potential reach a correlation of 0.6 in 84 % of cases, at 10 sigma in 97 %). The bundled forearm
# recording falls apart there: 23 twitches at SNR 4-9 (peaks 5-11 uV) and 23 at SNR 23-103 (31-117 uV).
CLEAR_SNR = 10.0


@dataclass
class SessionData:
    """A session, or one channel of a session of several (`channel(c)`).

    With several channels, samples_uv is not a signal: 0 where any channel has a sample, NaN where every
    channel lost it (the session's time with signal); each channel's own samples are in channel(c)."""

    dir: Path
    meta: dict
    events: list[dict]
    samples_uv: np.ndarray  # NaN where lost
    outside: int = 0  # events left out: their times lie outside the recorded samples
    channels_uv: np.ndarray | None = None  # several channels: (sample sets, channels), NaN where lost

    @property
    def muscles(self) -> list[str | None]:
        """The muscle of each channel, as session.json names them (one entry for one channel)."""
        return session_channels(self.meta)

    def channel(self, c: int) -> SessionData:
        """One channel of several as a session of its own: its samples, its events and those of the whole
        session (gaps, marks, the summary), and its muscle as the session's."""
        if self.channels_uv is None:
            raise ValueError("a session of one channel has no channel views")
        events = [_summary_of_channel(e, c) for e in self.events if e.get("channel", c) == c]
        meta = {k: v for k, v in self.meta.items() if k not in ("channels", "muscles")}
        if self.muscles[c] is not None:
            meta["muscle"] = self.muscles[c]
        return SessionData(self.dir, meta, events, np.ascontiguousarray(self.channels_uv[:, c]))

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e.get("type") == kind]

    @property
    def rate_hz(self) -> float:
        return float(self.meta["rate_hz"])

    @property
    def duration_s(self) -> float:
        return len(self.samples_uv) / self.rate_hz


def _summary_of_channel(event: dict, c: int) -> dict:
    """The session's summary as channel c's: with its own noise floor and mains (a file's, maybe edited)."""
    channels = event.get("channels") if event.get("type") == "summary" else None
    if not isinstance(channels, list):
        return event
    mine = next((row for row in channels if isinstance(row, dict) and row.get("channel") == c), {})
    return dict(event, noise_uv=mine.get("noise_uv"), mains_hz=mine.get("mains_hz", []))


def load_session(out_dir: str | os.PathLike, say: Callable[[str], None] = lambda message: None) -> SessionData:
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise MyotwitchError(f"{out_dir} is not a folder (give a session folder or a session number)")
    meta = read_meta(out_dir)
    channels = len(session_channels(meta))
    raw = out_dir / SAMPLES_F32
    if raw.exists() and not (out_dir / SESSION_EDF).exists():
        say("the session did not end cleanly: writing its EDF+ from the raw samples first")
        write_session_edf(out_dir)
    if raw.exists():
        sets = raw.stat().st_size // (4 * channels)  # a set cut short by a crash is left out
        samples = np.fromfile(raw, dtype="<f4", count=sets * channels).reshape(sets, channels)
    elif (out_dir / SESSION_EDF).exists():
        import pyedflib

        with pyedflib.EdfReader(str(out_dir / SESSION_EDF)) as f:
            signals = [f.readSignal(c).astype(np.float32) for c in range(min(channels, f.signals_in_file))]
        length = min(len(x) for x in signals)
        samples = np.stack([x[:length] for x in signals], axis=1)
        if samples.shape[1] < channels:
            raise MyotwitchError(f"{out_dir / SESSION_EDF} holds {samples.shape[1]} signals, not {channels}")
    else:
        raise MyotwitchError(f"{out_dir} holds no samples ({SAMPLES_F32} or {SESSION_EDF})")
    try:
        events = read_events(out_dir)
    except FileNotFoundError:
        events = []
    duration_s = len(samples) / float(meta["rate_hz"])
    kept = [e for e in events if _within(e, duration_s)]
    if channels == 1:
        return SessionData(out_dir, meta, kept, samples[:, 0], len(events) - len(kept))
    presence = np.where(np.isnan(samples).all(axis=1), np.float32(np.nan), np.float32(0.0))
    return SessionData(out_dir, meta, kept, presence, len(events) - len(kept), channels_uv=samples)


# Events may end a little after the last sample on disk: samples.f32 is fsynced once a second.
_OUTSIDE_SLACK_S = 2.0


def _within(event: dict, duration_s: float) -> bool:
    """Whether the event's times lie on the recording (hand-edited or cut-short files can put them anywhere,
    even beyond the calendar's year 9999)."""
    return all(-_OUTSIDE_SLACK_S <= event[k] <= duration_s + _OUTSIDE_SLACK_S
               for k in ("t_s", "start_s", "end_s") if finite_numbers(event, k))


def twitch_snr(twitch: dict) -> float | None:
    """The twitch's peak over the noise sigma when it was found; None if the event does not say."""
    if finite_numbers(twitch, "snr"):
        return float(twitch["snr"])
    if finite_numbers(twitch, "peak_uv", "noise_uv") and twitch["noise_uv"] > 0:
        return float(twitch["peak_uv"]) / float(twitch["noise_uv"])
    return None


def split_by_snr(twitches: list[dict], clear_snr: float = CLEAR_SNR) -> tuple[list[dict], list[dict], list[dict]]:
    """(clear, marginal, unknown): SNR >= clear_snr, below it, and events that give no SNR."""
    clear: list[dict] = []
    marginal: list[dict] = []
    unknown: list[dict] = []
    for t in twitches:
        snr = twitch_snr(t)
        (unknown if snr is None else clear if snr >= clear_snr else marginal).append(t)
    return clear, marginal, unknown


def _median_peak_uv(twitches: list[dict]) -> float | None:
    return round(float(np.median([t["peak_uv"] for t in twitches])), 2) if twitches else None


def summarise(data: SessionData) -> dict:
    twitches = data.of("twitch")
    clear, marginal, unknown = split_by_snr(twitches)
    lost = int(np.count_nonzero(np.isnan(data.samples_uv)))
    minutes = max(data.duration_s - lost / data.rate_hz, 1e-9) / 60.0
    last = _last_summary(data)
    summary = {
        "start_utc": data.meta.get("start_utc"),
        "duration_s": round(data.duration_s, 3),
        "recorded_s": round(data.duration_s - lost / data.rate_hz, 3),
        "lost_samples": lost,
        "gaps": len(data.of("gap")),
        "twitches": len(twitches),
        "twitches_per_min": round(len(twitches) / minutes, 2),
        "clear_snr": CLEAR_SNR,
        "clear_twitches": len(clear),
        "clear_per_min": round(len(clear) / minutes, 2),
        "marginal_twitches": len(marginal),
        "snr_unknown_twitches": len(unknown),
        "clear_median_peak_uv": _median_peak_uv(clear),
        "marginal_median_peak_uv": _median_peak_uv(marginal),
        "median_peak_uv": _median_peak_uv(twitches),
        "episodes": len(data.of("episode")),
        "activity_segments": len(data.of("activity")),
        "marks": len(data.of("mark")),
        "noise_uv": last.get("noise_uv"),
        "board": data.meta.get("board"),
        "muscle": data.meta.get("muscle") if isinstance(data.meta.get("muscle"), str) else None,
        "rate_hz": data.rate_hz,
        "effective_rate_hz": last.get("effective_rate_hz"),
    }
    if data.channels_uv is not None:  # several channels: the whole session's counts, then each channel's
        summary["channels"] = [dict(channel_summary(data.channel(c)), channel=c) for c in range(len(data.muscles))]
    return summary


def channel_summary(data: SessionData) -> dict:
    """One channel's figures for the per-muscle table: twitches per minute of monitored rest (its signal,
    less its activity segments, where the detector counts no twitches), clear and marginal, episodes, and
    the nerve and roots that supply its muscle where the table knows it."""
    from myotwitch.anatomy import placement

    s = summarise(data)
    activity_s = sum(e["end_s"] - e["start_s"] for e in data.of("activity") if finite_numbers(e, "start_s", "end_s"))
    rest_min = max(s["recorded_s"] - activity_s, 0.0) / 60.0
    known = placement(muscle_name(s["muscle"])).muscle if s["muscle"] else None
    return {
        "muscle": s["muscle"], "nerve": known.nerve if known else None, "roots": known.roots if known else None,
        "rest_s": round(rest_min * 60.0, 3), "clear_twitches": s["clear_twitches"],
        "marginal_twitches": s["marginal_twitches"], "twitches": s["twitches"],
        "clear_per_min_rest": round(s["clear_twitches"] / rest_min, 2) if rest_min > 0 else None,
        "per_min_rest": round(s["twitches"] / rest_min, 2) if rest_min > 0 else None,
        "episodes": s["episodes"], "activity_segments": s["activity_segments"], "noise_uv": s["noise_uv"],
    }


def muscle_name(label: str) -> str:
    """A muscle as the table looks it up: a file's signal label "EMG right APB" is the muscle "right APB"."""
    words = label.split(maxsplit=1)
    return words[1] if len(words) == 2 and words[0].upper() in ("EMG", "SEMG") else label


def _last_summary(data: SessionData) -> dict:
    summary: dict = next((e for e in reversed(data.events) if e.get("type") == "summary"), {})
    return {k: v for k, v in summary.items() if k in ("noise_uv", "effective_rate_hz")
            and isinstance(v, (int, float)) and math.isfinite(v) and v > 0}


@dataclass(frozen=True)
class SessionClock:
    """Maps seconds from the session's first sample to the local clock time of day.

    start is the host's clock at the first sample, in the local zone of the computer making the report
    (naive: plotting takes it as is); None when session.json does not say, and then times stay seconds.
    host_s_per_sample_s: the board's crystal runs a little fast or slow against the host's clock.
    """

    start: datetime | None
    host_s_per_sample_s: float = 1.0

    @classmethod
    def of(cls, data: SessionData) -> SessionClock:
        effective = _last_summary(data).get("effective_rate_hz")
        # A crystal is off by parts per million, a board's clock by a few percent at worst: a ratio beyond
        # 1:2 is a damaged summary, not a clock.
        ratio = data.rate_hz / effective if effective and 0.5 <= data.rate_hz / effective <= 2.0 else 1.0
        clock = cls(parse_start(data.meta.get("start_utc")), ratio)
        if clock.start is not None:
            try:
                clock.at(data.duration_s + _OUTSIDE_SLACK_S)
            except OverflowError:  # a start at the calendar's end (a hand-edited session.json)
                return cls(None, ratio)
        return clock

    def at(self, t_s: float) -> datetime:
        if self.start is None:
            raise ValueError("the session's start time is not known")
        return self.start + timedelta(seconds=t_s * self.host_s_per_sample_s)

    def text(self, t_s: float, fmt: str = "%H:%M:%S") -> str:
        return "?" if self.start is None else self.at(t_s).strftime(fmt)

    @property
    def zone(self) -> str:
        return "" if self.start is None else (self.start.astimezone().strftime("%Z") or "local time")


def parse_start(start: object) -> datetime | None:
    """An ISO 8601 time with its zone, as local naive time of this computer; None if absent or not one."""
    if not isinstance(start, str):
        return None
    try:
        parsed = datetime.fromisoformat(start)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None  # a time without its zone cannot be placed on this computer's clock
    try:
        return parsed.astimezone().replace(tzinfo=None)
    except OverflowError:  # within a day of the calendar's ends (year 1 or 9999)
        return None
