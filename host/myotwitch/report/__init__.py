"""`myotwitch report`: one self-contained HTML page for a session folder, and a plain summary.

session.py reads the folder, figures.py draws (inline SVG), page.py writes the HTML; the trend over
days is myotwitch.trend. The page says first that myotwitch informs and does not diagnose.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from myotwitch.errors import MyotwitchError
from myotwitch.report import figures
from myotwitch.report.page import (
    DISCLAIMER,
    document,
    episode_section,
    esc,
    facts,
    figure_html,
    headline,
    marks_table,
    muscle_section,
    twitch_table,
)
from myotwitch.report.session import CLEAR_SNR, SessionClock, SessionData, load_session, summarise

REPORT_HTML = "report.html"

__all__ = ["CLEAR_SNR", "DISCLAIMER", "REPORT_HTML", "SessionData", "load_session", "render", "summarise",
           "write_report"]


def render(data: SessionData) -> tuple[str, dict]:
    """The page's HTML and the summary's figures."""
    if data.channels_uv is not None:
        return _render_channels(data)
    s = summarise(data)
    clock = SessionClock.of(data)
    strip = figures.strip(data, clock)
    strip_html = "" if strip is None else figure_html(
        strip[0], f"Raw signal around the {figures.STRIP_TWITCHES} largest twitches (as recorded, offset removed, "
                  f"not filtered; one scale for all: bars {strip[1]:g} µV and {figures.STRIP_SCALE_MS:g} ms)")
    body = "".join([
        "<h1>Muscle twitch log" + (f": {esc(s['muscle'])}" if s["muscle"] else "") + "</h1>",
        f'<p class="note"><strong>{esc(DISCLAIMER)}</strong></p>',
        "<h2>Summary</h2>", headline(s), facts(data, s, clock),
        strip_html,
        figure_html(figures.rate(data, clock), "Twitches per minute: clear (dark) and marginal (light)"),
        figure_html(figures.timeline(data, clock),
                    "Episodes, activity, gaps, twitches (clear dark, marginal light) and your marks"),
        figure_html(figures.histograms(data), "Twitch amplitude (clear dark, marginal light) and duration"),
        figure_html(figures.waveforms(data), "The largest twitches, band-passed 20-450 Hz, aligned at the peak"),
        marks_table(data, clock),
        episode_section(data, clock),
        twitch_table(data, clock),
        ("<p>Files in this folder: <code>session.edf</code> (EDF+, opens in EDFbrowser and MNE, every twitch, "
        "episode, activity segment, mark and gap annotated), <code>events.jsonl</code> (one JSON object per "
        "event). This page holds its figures: it can be copied or e-mailed alone.</p>"),
    ])
    title = f"myotwitch report: {clock.start:%Y-%m-%d %H:%M}" if clock.start else "myotwitch report"
    return document(title, body), s


def _render_channels(data: SessionData) -> tuple[str, dict]:
    """A session of several channels: the whole first (counts, the per-muscle table, what supplies the
    muscles that twitch), then each channel's figures and tables as one channel's page has them."""
    s = summarise(data)
    clock = SessionClock.of(data)
    sections = []
    for c, muscle in enumerate(data.muscles):
        one = data.channel(c)
        name = muscle or f"channel {c}"
        strip = figures.strip(one, clock)
        sections += [
            f"<h2>Channel {c}: {esc(name)}</h2>",
            "" if strip is None else figure_html(
                strip[0], f"{name}: raw signal around the {figures.STRIP_TWITCHES} largest twitches (as recorded, "
                          f"offset removed, not filtered; bars {strip[1]:g} µV and {figures.STRIP_SCALE_MS:g} ms)"),
            figure_html(figures.rate(one, clock), f"{name}: twitches per minute, clear (dark) and marginal (light)"),
            figure_html(figures.timeline(one, clock), f"{name}: episodes, activity, gaps, twitches and your marks"),
            figure_html(figures.waveforms(one), f"{name}: the largest twitches, band-passed 20-450 Hz"),
            episode_section(one, clock).replace("<h2>", "<h3>").replace("</h2>", "</h3>"),
            twitch_table(one, clock).replace("<h2>", "<h3>").replace("</h2>", "</h3>"),
        ]
    body = "".join([
        f"<h1>Muscle twitch log: {len(data.muscles)} muscles</h1>",
        f'<p class="note"><strong>{esc(DISCLAIMER)}</strong></p>',
        "<h2>Summary</h2>", headline(s), facts(data, s, clock),
        muscle_section(s),
        marks_table(data, clock),
        *sections,
        ("<p>Files in this folder: <code>session.edf</code> (EDF+, one signal per channel, every twitch, "
         "episode, activity segment, mark and gap annotated, naming its channel), <code>events.jsonl</code> "
         "(one JSON object per event). This page holds its figures: it can be copied or e-mailed alone.</p>"),
    ])
    title = f"myotwitch report: {clock.start:%Y-%m-%d %H:%M}" if clock.start else "myotwitch report"
    return document(title, body), s




def write_report(out_dir: str | os.PathLike, say: Callable[[str], None] = lambda message: None,
                 page: str | os.PathLike | None = None) -> tuple[Path, dict]:
    """Write the page (default: report.html in the session's folder); return its path and the summary."""
    data = load_session(out_dir, say)
    text, summary = render(data)
    page = data.dir / REPORT_HTML if page is None else Path(page)
    try:
        page.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise MyotwitchError(f"cannot write {page}: {exc.strerror}") from None
    return page, summary
