"""The session report as one HTML page: the summary first, figures inline, tables, print CSS.

One file that travels alone: figures are inline SVG, the style is in the page, there is no script and
nothing is fetched. It prints on A4 and Letter: the page size is the printer's, figures are at most 180 mm
wide and never cut by a page break, tables repeat their header. A folded list prints folded (a 2-hour
session's 1,360 twitches and 321 episodes would print as 40 pages): open it first to print it.
"""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import datetime, timedelta

from myotwitch.recorder import finite_numbers
from myotwitch.report.session import SessionClock, SessionData, split_by_snr, twitch_snr

DISCLAIMER = ("myotwitch informs; it does not diagnose. It counts brief potentials that look like "
              "fasciculations. Whether they mean anything is for a clinician to judge, with EMG and nerve "
              "conduction studies. It is not a medical device.")
# Above this many episodes the page shows them per hour of the clock, the full list collapsed.
EPISODES_PER_HOUR_ABOVE = 20

esc = html.escape

STYLE = """
body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#111}
.note{background:#fff3cd;border:1px solid #e0c060;padding:.8em}
.headline{font-size:1.15em}
table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
td:first-child{white-space:nowrap}
figure{margin:1em 0;break-inside:avoid;page-break-inside:avoid}
figure svg{max-width:100%;height:auto;display:block}
figcaption{font-size:.9em;color:#444}
details>summary{cursor:pointer;font-weight:bold;margin:.5em 0}
@page{margin:15mm}
@media print{
  body{max-width:none;margin:0;padding:0;font-size:10pt}
  .note{border:1px solid #000}
  figure svg{max-width:180mm;max-height:240mm}
  h2{break-after:avoid;page-break-after:avoid}
  thead{display:table-header-group}
  tr{break-inside:avoid;page-break-inside:avoid}
}
"""
def document(title: str, body: str) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>\n'
            f"<style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n")


def table(header: list[str], rows: list[list[str]], numeric: frozenset[int] | set[int] = frozenset()) -> str:
    """Cells are escaped here; numeric columns right-aligned."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td class="n">{esc(c)}</td>' if i in numeric else f"<td>{esc(c)}</td>"
                                    for i, c in enumerate(row)) + "</tr>\n" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


def figure_html(svg: str | None, caption: str) -> str:
    return "" if svg is None else f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>\n"


def clock_span(s: float) -> str:
    h, rest = divmod(round(s), 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}"


def _summed_over(s: dict) -> str:
    """Several channels: a session's rate is the muscles' rates added up; each one's is in its table."""
    return f", summed over the {len(s['channels'])} muscles" if s.get("channels") else ""


def headline(s: dict) -> str:
    """The summary's first lines: clear and marginal twitches apart, with both counts."""
    snr = f"{s['clear_snr']:g}"
    noise = f" (noise floor {s['noise_uv']:.1f} µV)" if s.get("noise_uv") else ""
    muscles = _summed_over(s)
    clear = (f"<strong>{s['clear_twitches']} clear twitches</strong> (SNR ≥ {snr}: peak at least {snr} times "
             f"the noise; {s['clear_per_min']:.1f} per minute of signal{muscles}"
             + (f", median peak {s['clear_median_peak_uv']:.1f} µV" if s["clear_median_peak_uv"] else "") + ")")
    marginal = (f"<strong>{s['marginal_twitches']} marginal</strong> (SNR below {snr}: near the noise{noise}"
                + (f", median peak {s['marginal_median_peak_uv']:.1f} µV" if s["marginal_median_peak_uv"] else "")
                + "; some may be noise)")
    unknown = (f", and {s['snr_unknown_twitches']} whose events do not give their SNR"
               if s["snr_unknown_twitches"] else "")
    return (f'<p class="headline">In {clock_span(s["recorded_s"])} of signal: {clear} and {marginal}{unknown}. '
            f"{s['episodes']} episodes, {s['marks']} marks of yours.</p>")


def facts(data: SessionData, s: dict, clock: SessionClock) -> str:
    rows = [
        ("started", f"{clock.start:%Y-%m-%d %H:%M:%S} {clock.zone}" if clock.start else "not known"),
        ("length", f"{clock_span(s['duration_s'])} ({s['recorded_s']:.1f} s with signal)"),
        ("board", f"{data.meta.get('board', '?')} ({data.meta.get('firmware', '?')}), {s['rate_hz']:g} Hz"
                  + (f" ({s['effective_rate_hz']:.2f} measured by this computer's clock)"
                     if s.get("effective_rate_hz") else "")),
        ("muscle", ", ".join(c["muscle"] or f"channel {c['channel']}" for c in s["channels"]) if s.get("channels")
         else s["muscle"] or "not given (record with --muscle)"),
        ("twitches", (f"{s['twitches']}: {s['clear_twitches']} clear, {s['marginal_twitches']} marginal "
                     f"({s['twitches_per_min']:.1f} per minute of signal in all{_summed_over(s)})")),
        ("noise floor", ", ".join("-" if c.get("noise_uv") is None else f"{c['noise_uv']:.2f} µV"
                                  for c in s["channels"]) if s.get("channels")
         else "-" if s["noise_uv"] is None else f"{s['noise_uv']:.2f} µV"),
        ("episodes", str(s["episodes"])),
        ("activity segments", (f"{s['activity_segments']} (cramp, spasm or voluntary contraction: one channel "
                              "cannot tell them apart; mark them with `myotwitch mark`)")),
        ("gaps", f"{s['gaps']} ({s['lost_samples'] / s['rate_hz']:.1f} s without signal)"),
        ("your marks", str(s["marks"])),
    ]
    if data.outside:
        rows.append(("left out", (f"{data.outside} events of events.jsonl whose times lie outside the "
                                 f"{s['duration_s']:.1f} s recorded")))
    return "<table>" + "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows) + "</table>"


def twitch_table(data: SessionData, clock: SessionClock) -> str:
    twitches = data.of("twitch")
    if not twitches:
        return "<h2>Twitches</h2><p>None.</p>"
    clear, _, _ = split_by_snr(twitches)
    clear_ids = {id(t) for t in clear}
    rows = []
    for t in twitches:
        snr = twitch_snr(t)
        rows.append([clock.text(t["t_s"]), f"{t['t_s']:.3f}", f"{t['peak_uv']:.1f}",
                     "-" if snr is None else f"{snr:.1f}",
                     f"{t['duration_ms']:.0f}" if finite_numbers(t, "duration_ms") else "-",
                     "clear" if id(t) in clear_ids else "marginal" if snr is not None else "SNR not given"])
    return (f"<h2>Twitches</h2><details><summary>All {len(twitches)} twitches ({len(clear)} clear)</summary>"
            + table(["clock time", "from start (s)", "peak (µV)", "SNR", "duration (ms)", ""], rows, {1, 2, 3, 4})
            + "</details>")


def marks_table(data: SessionData, clock: SessionClock) -> str:
    marks = data.of("mark")
    if not marks:
        return ("<h2>Your marks</h2><p>None. Say what a moment was with "
                "<code>myotwitch mark SESSION LABEL --at S</code>.</p>")
    rows = [[clock.text(m["t_s"]), f"{m['t_s']:.1f}", m["label"], m["note"] if isinstance(m.get("note"), str) else ""]
            for m in sorted(marks, key=lambda m: m["t_s"])]
    return "<h2>Your marks</h2>" + table(["clock time", "from start (s)", "what it was", "note"], rows, {1})


def _episode_rows(episodes: list[dict], clock: SessionClock) -> list[list[str]]:
    return [[clock.text(e["start_s"]), f"{e['start_s']:.1f}", f"{e['end_s'] - e['start_s']:.1f}", str(e["count"]),
             f"{e['rate_per_min']:.1f}", f"{e['median_peak_uv']:.1f}", f"{e['max_peak_uv']:.1f}"]
            for e in episodes]


def per_hour(episodes: list[dict], clock: SessionClock) -> list[list[str]]:
    """One row per clock hour (by each episode's start): episodes, their twitches, time in them, largest peak."""
    # Keyed by the hour's start (clock time, or hours from the start), so they sort in time, not as text.
    hours: dict[datetime | int, list[dict]] = defaultdict(list)
    for e in episodes:
        hours[clock.at(e["start_s"]).replace(minute=0, second=0, microsecond=0) if clock.start else
              int(e["start_s"] // 3600)].append(e)
    rows = []
    for hour, group in sorted(hours.items()):
        rows.append([f"{hour:%H:00}-{hour + timedelta(hours=1):%H:00}" if isinstance(hour, datetime) else
                     f"hour {hour + 1} from the start",
                     str(len(group)), str(sum(e["count"] for e in group)),
                     f"{sum(e['end_s'] - e['start_s'] for e in group) / 60:.1f}",
                     f"{max(e['max_peak_uv'] for e in group):.1f}"])
    return rows


def episode_section(data: SessionData, clock: SessionClock) -> str:
    episodes = [e for e in data.of("episode") if finite_numbers(e, "rate_per_min", "median_peak_uv", "max_peak_uv")]
    header = ["clock time", "start (s)", "length (s)", "twitches", "per minute", "median peak (µV)", "largest (µV)"]
    title = "<h2>Episodes (bouts of twitching)</h2>"
    if not episodes:
        return title + "<p>None.</p>"
    full = table(header, _episode_rows(episodes, clock), {1, 2, 3, 4, 5, 6})
    if len(episodes) <= EPISODES_PER_HOUR_ABOVE:
        return title + full
    return (title + f"<p>{len(episodes)} episodes, by the hour they began:</p>"
            + table(["hour", "episodes", "twitches in them", "minutes in them", "largest (µV)"],
                    per_hour(episodes, clock), {1, 2, 3, 4})
            + f"<details><summary>All {len(episodes)} episodes</summary>{full}</details>")


def muscle_section(s: dict) -> str:
    """Several channels: one row per muscle, then, for each muscle with clear twitches, which nerve and roots
    supply it, as information to bring to a clinician."""
    rows = []
    for c in s["channels"]:
        per_min = "-" if c["clear_per_min_rest"] is None else f"{c['clear_per_min_rest']:.2f}"
        every = "-" if c["per_min_rest"] is None else f"{c['per_min_rest']:.2f}"
        rows.append([f"{c['channel']}", c["muscle"] or "not named", f"{c['rest_s'] / 60:.1f}", str(c["clear_twitches"]),
                     str(c["marginal_twitches"]), per_min, every, str(c["episodes"]),
                     "-" if c.get("noise_uv") is None else f"{c['noise_uv']:.2f}",
                     f"{c['nerve']}, {c['roots']}" if c["nerve"] else "not in the table"])
    header = ["channel", "muscle", "minutes of rest", "clear", "marginal", "clear per minute", "all per minute",
              "episodes", "noise floor (µV)", "nerve, roots"]
    supply = [supply_sentence(c) for c in s["channels"] if c["clear_twitches"]]
    said = ("<p>Muscles with clear twitches, and what supplies them:</p><ul>"
            + "".join(f"<li>{esc(line)}</li>" for line in supply) + "</ul>") if supply else \
        f"<p>No muscle had clear twitches (SNR ≥ {s['clear_snr']:g}).</p>"
    return ("<h2>Where it twitches</h2>"
            "<p>Per minute of monitored rest: each channel's signal, less its activity segments (where no "
            "twitches are counted). A potential seen at once on every channel is motion, the cable or the "
            "heart, and a smaller copy on a neighbour is crosstalk: neither is counted.</p>"
            + table(header, rows, {0, 2, 3, 4, 5, 6, 7, 8}) + said)


def supply_sentence(c: dict) -> str:
    """'right APB (abductor pollicis brevis): supplied by the median nerve, roots C8-T1; ...' (information)."""
    muscle = c["muscle"] or f"channel {c['channel']}"
    count = f"{c['clear_twitches']} clear twitch{'' if c['clear_twitches'] == 1 else 'es'}"
    if not c["nerve"]:
        return (f"{muscle}: {count}; this muscle is not in myotwitch's table "
                "(see `myotwitch muscles`), so its nerve and roots are not given.")
    return (f"{muscle}: {count}; supplied by the {c['nerve']} nerve, roots "
            f"{c['roots']}. Twitching here is one of the things a clinician may look at; many muscles share "
            "these roots, and twitches alone do not point to a cause.")
