"""`myotwitch report --since DATE`: one page over every session in the log since DATE, day by day.

What a single session cannot show: whether twitching persists or rises over days. For each day (the
local date a session began) and muscle: twitches per minute of monitored rest (signal, less the activity
segments, where the detector counts no twitches), clear and all, episodes, the person's marks, and hours
recorded. Sessions of the demo, the simulated board or a replayed recording are not a measurement of the
person (a replay would count its day twice): they are left out, and the page says how many. Days without a
recording are absent from the plots, never drawn as zero.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np

from myotwitch.errors import MyotwitchError
from myotwitch.recorder import SAMPLES_F32, SESSION_JSON, finite_numbers, read_events, session_channels
from myotwitch.report import figures
from myotwitch.report.page import DISCLAIMER, document, esc, figure_html, table
from myotwitch.report.session import CLEAR_SNR, parse_start
from myotwitch.store import Store

NO_MUSCLE = "muscle not given"
# Boards that play a file (live/recording_board.py, firmware/boards/sim.py): their sessions are not counted.
NOT_A_PERSON_BOARDS = ("sim", "recording")


@dataclass
class SessionFigures:
    """One session of the log, as the trend counts it."""

    id: int
    started: datetime  # local time of this computer
    muscle: str
    recorded_s: float  # samples with signal (lost ones not counted)
    activity_s: float | None  # None: the session's folder is gone, so its activity is not known
    clear: int
    marginal: int
    episodes: int
    mark_labels: list[str]

    @property
    def rest_s(self) -> float:
        return max(self.recorded_s - (self.activity_s or 0.0), 0.0)


@dataclass
class Day:
    day: date
    muscle: str
    sessions: list[SessionFigures] = field(default_factory=list)

    def total(self, name: str) -> float:
        return sum(getattr(s, name) for s in self.sessions)

    @property
    def rest_min(self) -> float:
        return self.total("rest_s") / 60.0

    def per_rest_min(self, count: float) -> float | None:
        return count / self.rest_min if self.rest_min > 0 else None

    @property
    def clear_per_min(self) -> float | None:
        return self.per_rest_min(self.total("clear"))

    @property
    def all_per_min(self) -> float | None:
        return self.per_rest_min(self.total("clear") + self.total("marginal"))

    @property
    def activity_known(self) -> bool:
        return all(s.activity_s is not None for s in self.sessions)


@dataclass
class Trend:
    since: date
    days: list[Day]
    left_out: list[str]  # why sessions were not counted, one line each


def _folder_figures(out_dir: str | None, rate_hz: float,
                    count_samples: bool) -> list[tuple[str | None, float | None, float | None]]:
    """Per channel (one entry for a session of one): (muscle, seconds of signal, seconds of activity) from a
    session's folder, None for what it cannot say. The seconds of signal only if count_samples: a night's
    samples.f32 is hundreds of MB, read only for a session that did not end (the log has the others' counts).
    The folder is untrusted: gone, moved or hand-edited folders give None, not an error."""
    if not out_dir or not Path(out_dir).is_dir():
        return [(None, None, None)]
    folder = Path(out_dir)
    muscles: list[str | None] = [None]
    try:
        meta = json.loads((folder / SESSION_JSON).read_text(encoding="utf-8"))
        if isinstance(meta, dict):
            muscles = [m.strip() if m and m.strip() else None for m in session_channels(meta)]
    except (OSError, ValueError, MyotwitchError):
        pass
    channels = len(muscles)
    recorded_s: list[float | None] = [None] * channels
    raw = folder / SAMPLES_F32
    if count_samples and raw.is_file():
        sets = raw.stat().st_size // (4 * channels)
        samples = np.fromfile(raw, dtype="<f4", count=sets * channels).reshape(sets, channels)
        recorded_s = [int(n) / rate_hz for n in np.count_nonzero(~np.isnan(samples), axis=0)]
    activity_s: list[float | None] = [None] * channels
    with contextlib.suppress(OSError):  # no events file: the activity is not known
        events = read_events(folder)
        activity_s = [sum(e["end_s"] - e["start_s"] for e in events if e["type"] == "activity"
                          and e.get("channel", c) == c and finite_numbers(e, "start_s", "end_s"))
                      for c in range(channels)]
    return list(zip(muscles, recorded_s, activity_s, strict=True))


def collect(store: Store, since: date) -> Trend:
    left_out: list[str] = []
    demos = 0
    sessions: list[SessionFigures] = []
    for row in store.sessions():
        started = parse_start(row["started_utc"])
        if started is None or not row["rate_hz"] > 0:
            left_out.append(f"session {row['id']}: its start time or rate in the log is unreadable")
            continue
        if started.date() < since:
            continue
        if row["kind"] == "demo" or row["board"] in NOT_A_PERSON_BOARDS:
            demos += 1
            continue
        # One entry per channel: a session of several muscles counts each on its own muscle's days.
        folder = _folder_figures(row["out_dir"], row["rate_hz"], row["samples"] is None)
        logged = {r["channel"]: r for r in store.channel_counts(row["id"], CLEAR_SNR)}
        marks = [label for _, label, _ in store.marks(row["id"])]
        for channel in range(max(len(folder), max(logged, default=0) + 1)):
            muscle, folder_s, activity_s = folder[channel] if channel < len(folder) else (None, None, None)
            recorded_s = folder_s if row["samples"] is None else row["samples"] / row["rate_hz"]
            if not recorded_s:
                left_out.append(f"session {row['id']} ({started:%Y-%m-%d %H:%M}): its length is not known "
                                "(it did not end, and its folder is gone)" if recorded_s is None else
                                f"session {row['id']} ({started:%Y-%m-%d %H:%M}): no signal recorded")
                break
            c = logged.get(channel, {"muscle": None, "clear": 0, "marginal": 0, "episodes": 0})
            sessions.append(SessionFigures(row["id"], started, c["muscle"] or muscle or NO_MUSCLE, recorded_s,
                                           activity_s, c["clear"], c["marginal"], c["episodes"], marks))
    if demos:
        left_out.append(f"{demos} session{'s' if demos > 1 else ''} of the demo, the simulated board or a replayed "
                        "recording: not a measurement of you now (a replay would count its day twice)")
    by_day: dict[tuple[date, str], Day] = {}
    for s in sessions:
        by_day.setdefault((s.started.date(), s.muscle), Day(s.started.date(), s.muscle)).sessions.append(s)
    return Trend(since, [by_day[k] for k in sorted(by_day)], left_out)


# -- the page -----------------------------------------------------------------


def daily_rates(days: list[Day]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(matplotlib day numbers, clear per minute of rest, all per minute of rest) for one muscle's days, one
    value for every calendar day from the first to the last: NaN where nothing was recorded, so the plotted
    line breaks there instead of joining across days nobody measured."""
    from matplotlib import dates

    first = dates.date2num(days[0].day)
    line_x = np.arange(first, dates.date2num(days[-1].day) + 1)
    clear, every = np.full(len(line_x), np.nan), np.full(len(line_x), np.nan)
    for d in days:
        at = (d.day - days[0].day).days
        clear[at] = np.nan if d.clear_per_min is None else d.clear_per_min
        every[at] = np.nan if d.all_per_min is None else d.all_per_min
    return line_x, clear, every


def _plot(trend: Trend) -> str:
    from matplotlib import dates

    fig, axes = figures.figure(7.0, "trend", nrows=4)
    (rate_ax,), (episodes_ax,), (hours_ax,), (marks_ax,) = axes
    muscles = sorted({d.muscle for d in trend.days})
    width = 0.8 / len(muscles)
    for i, muscle in enumerate(muscles):
        days = [d for d in trend.days if d.muscle == muscle]
        x = np.array([dates.date2num(d.day) for d in days])
        color = f"C{i}"
        line_x, clear, every = daily_rates(days)
        rate_ax.plot(line_x, clear, "o-", color=color, label=f"{muscle}: clear")
        rate_ax.plot(line_x, every, "s--", color=color, alpha=0.5, mfc="none", label=f"{muscle}: all")
        offset = (i - (len(muscles) - 1) / 2) * width
        episodes_ax.bar(x + offset, [d.total("episodes") for d in days], width=width, color=color, label=muscle)
        hours_ax.bar(x + offset, [d.total("rest_s") / 3600 for d in days], width=width, color=color)
        hours_ax.bar(x + offset, [(d.total("recorded_s") - d.total("rest_s")) / 3600 for d in days], width=width,
                     bottom=[d.total("rest_s") / 3600 for d in days], color=color, alpha=0.35)
        marks_ax.bar(x + offset, [sum(len(s.mark_labels) for s in d.sessions) for d in days], width=width,
                     color=color)
    rate_ax.set_ylabel("twitches per\nminute of rest")
    rate_ax.set_ylim(bottom=0)
    rate_ax.legend(fontsize=7, loc="upper left")
    episodes_ax.set_ylabel("episodes")
    hours_ax.set_ylabel("hours recorded\n(light: activity)")
    marks_ax.set_ylabel("your marks")
    first, last = trend.days[0].day, trend.days[-1].day
    # Ticks on whole days only, at most about 10: an automatic locator ticks every few hours over a day or
    # two, and labelled by the date those ticks read "Nov 19, Nov 19, Nov 20, Nov 20".
    every_days = math.ceil(((last - first).days + 1) / 10)
    for ax in (rate_ax, episodes_ax, hours_ax, marks_ax):
        ax.set_xlim(dates.date2num(first) - 0.7, dates.date2num(last) + 0.7)
        ax.xaxis.set_major_locator(dates.DayLocator(interval=every_days))
        ax.xaxis.set_major_formatter(dates.DateFormatter("%b %d"))
    marks_ax.set_xlabel("day the session began (days without a recording are left out, not zero)")
    return figures.to_svg(fig)


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _rows(trend: Trend) -> list[list[str]]:
    rows = []
    for d in trend.days:
        labels = Counter(label for s in d.sessions for label in s.mark_labels)
        rows.append([d.day.isoformat(), d.muscle, str(len(d.sessions)), f"{d.total('recorded_s') / 3600:.2f}",
                     f"{d.rest_min / 60:.2f}" + ("" if d.activity_known else " *"),
                     f"{int(d.total('clear'))} / {int(d.total('marginal'))}", _number(d.clear_per_min),
                     _number(d.all_per_min), str(int(d.total("episodes"))),
                     ", ".join(f"{n} {label}" for label, n in sorted(labels.items())) or "-"])
    return rows


def _what_it_shows(trend: Trend) -> str:
    lines = []
    for muscle in sorted({d.muscle for d in trend.days}):
        days = [d for d in trend.days if d.muscle == muscle and d.clear_per_min is not None]
        if not days:
            continue
        first, last = days[0], days[-1]
        lines.append(f"<li>{esc(muscle)}: {len(days)} day{'s' if len(days) > 1 else ''} recorded "
                     f"({first.day} to {last.day}); clear twitches per minute of rest "
                     + (f"{first.clear_per_min:.2f} on the first day, {last.clear_per_min:.2f} on the last"
                        if len(days) > 1 else f"{first.clear_per_min:.2f}") + "</li>")
    return f"<ul>{''.join(lines)}</ul>"


def render(trend: Trend) -> str:
    title = f"Twitching over days, since {trend.since}"
    body = [f"<h1>{esc(title)}</h1>", f'<p class="note"><strong>{esc(DISCLAIMER)}</strong></p>',
            ("<p>This page shows whether twitching persists or rises over days, which a single session "
            "cannot: for each day with a recording, twitches per minute of monitored rest (the signal, less "
            f"the activity segments, where no twitch is counted), clear ones (SNR ≥ {CLEAR_SNR:g}) apart from all, "
            "with episodes, your marks and the hours recorded. It informs; it does not diagnose.</p>")]
    if not trend.days:
        body.append(f"<p>No sessions recorded since {trend.since}.</p>")
    else:
        body += [_what_it_shows(trend),
                 figure_html(_plot(trend), "Per day and muscle: twitches per minute of rest (clear: filled, all: "
                                           "open), episodes, hours recorded, your marks"),
                 "<h2>Day by day</h2>",
                 table(["day", "muscle", "sessions", "hours recorded", "hours of rest", "twitches clear / marginal",
                        "clear per min of rest", "all per min of rest", "episodes", "your marks"], _rows(trend),
                       {2, 3, 4, 5, 6, 7, 8}),
                 ("<p>A session is counted on the day it began."
                  + ("" if all(d.activity_known for d in trend.days) else
                     " * the session's folder is gone, so its activity is not known: all its signal is counted "
                     "as rest.") + "</p>")]
    if trend.left_out:
        body.append("<h2>Not counted</h2><ul>" + "".join(f"<li>{esc(why)}</li>" for why in trend.left_out)
                    + "</ul>")
    return document(title, "\n".join(body))


def write_trend(db_path: str | os.PathLike, since: date, page: str | os.PathLike) -> tuple[Path, Trend]:
    if not Path(db_path).exists():
        raise MyotwitchError(f"no log at {db_path}: record a session first (live), or give --db")
    store = Store(db_path)
    try:
        trend = collect(store, since)
    finally:
        store.close()
    page = Path(page)
    try:
        page.write_text(render(trend), encoding="utf-8")
    except OSError as exc:
        raise MyotwitchError(f"cannot write {page}: {exc.strerror}") from None
    return page, trend
