"""`myotwitch report`: one HTML page with PNG plots for a session folder, and a plain summary.

Reads only the session folder (session.json, events.jsonl, samples.f32 or
session.edf), so a folder copied to another computer reports the same. The
page says plainly that myotwitch informs and does not diagnose.
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from myotwitch.errors import MyotwitchError
from myotwitch.recorder import SAMPLES_F32, SESSION_EDF, finite_numbers, read_events, read_meta, write_session_edf

REPORT_HTML = "report.html"
DISCLAIMER = ("myotwitch informs; it does not diagnose. It counts brief potentials that look like "
              "fasciculations. Whether they mean anything is for a clinician to judge, with EMG and nerve "
              "conduction studies. It is not a medical device.")
_WAVEFORM_HALF_MS = 40.0
_MAX_WAVEFORMS = 40


@dataclass
class SessionData:
    dir: Path
    meta: dict
    events: list[dict]
    samples_uv: np.ndarray  # NaN where lost

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e.get("type") == kind]

    @property
    def rate_hz(self) -> float:
        return float(self.meta["rate_hz"])

    @property
    def duration_s(self) -> float:
        return len(self.samples_uv) / self.rate_hz


def load_session(out_dir: str | os.PathLike, say=lambda message: None) -> SessionData:
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise MyotwitchError(f"{out_dir} is not a folder (give a session folder or a session number)")
    meta = read_meta(out_dir)
    raw = out_dir / SAMPLES_F32
    if raw.exists() and not (out_dir / SESSION_EDF).exists():
        say("the session did not end cleanly: writing its EDF+ from the raw samples first")
        write_session_edf(out_dir)
    if raw.exists():
        samples = np.fromfile(raw, dtype="<f4", count=raw.stat().st_size // 4)
    elif (out_dir / SESSION_EDF).exists():
        import pyedflib

        with pyedflib.EdfReader(str(out_dir / SESSION_EDF)) as f:
            samples = f.readSignal(0).astype(np.float32)
    else:
        raise MyotwitchError(f"{out_dir} holds no samples ({SAMPLES_F32} or {SESSION_EDF})")
    try:
        events = read_events(out_dir)
    except FileNotFoundError:
        events = []
    return SessionData(out_dir, meta, events, samples)


def summarise(data: SessionData) -> dict:
    twitches = data.of("twitch")
    lost = int(np.count_nonzero(np.isnan(data.samples_uv)))
    minutes = max(data.duration_s - lost / data.rate_hz, 1e-9) / 60.0
    peaks = [t["peak_uv"] for t in twitches]
    noise = _last_summary(data).get("noise_uv")
    return {
        "start_utc": data.meta.get("start_utc"),
        "duration_s": round(data.duration_s, 3),
        "recorded_s": round(data.duration_s - lost / data.rate_hz, 3),
        "lost_samples": lost,
        "gaps": len(data.of("gap")),
        "twitches": len(twitches),
        "twitches_per_min": round(len(twitches) / minutes, 2),
        "episodes": len(data.of("episode")),
        "activity_segments": len(data.of("activity")),
        "marks": len(data.of("mark")),
        "median_peak_uv": round(float(np.median(peaks)), 2) if peaks else None,
        "noise_uv": noise,
        "board": data.meta.get("board"),
        "rate_hz": data.rate_hz,
        "effective_rate_hz": _last_summary(data).get("effective_rate_hz"),
    }


def _last_summary(data: SessionData) -> dict:
    summary = next((e for e in reversed(data.events) if e.get("type") == "summary"), {})
    return {k: v for k, v in summary.items() if k in ("noise_uv", "effective_rate_hz")
            and isinstance(v, (int, float)) and math.isfinite(v) and v > 0}


def write_report(out_dir: str | os.PathLike, say=lambda message: None) -> tuple[Path, dict]:
    import matplotlib

    matplotlib.use("Agg")  # files only: no screen needed
    data = load_session(out_dir, say)
    summary = summarise(data)
    plots = [
        ("rate.png", "Twitches per minute", _plot_rate(data)),
        ("timeline.png", "Episodes, activity, marks and gaps on a timeline", _plot_timeline(data)),
        ("histograms.png", "Twitch amplitude and duration", _plot_histograms(data)),
        ("waveforms.png", "Example twitch waveforms (band-passed 20-450 Hz, aligned at the peak)",
         _plot_waveforms(data)),
    ]
    written = []
    for name, title, fig in plots:
        if fig is None:
            continue
        fig.savefig(data.dir / name, dpi=100)
        matplotlib.pyplot.close(fig)
        written.append((name, title))
    page = data.dir / REPORT_HTML
    try:
        page.write_text(_html(data, summary, written), encoding="utf-8")
    except OSError as exc:
        raise MyotwitchError(f"cannot write {page}: {exc.strerror}") from None
    return page, summary


# -- plots ---------------------------------------------------------------------


def _figure(height_in: float = 3.0):
    from matplotlib import pyplot as plt

    return plt.subplots(figsize=(10, height_in), layout="constrained")


def _shade_gaps(ax, data: SessionData, scale: float = 1.0) -> None:
    for g in data.of("gap"):
        ax.axvspan(g["start_s"] / scale, g["end_s"] / scale, color="0.85", lw=0, label="_gap")


def _time_axis(data: SessionData) -> tuple[float, str]:
    return (60.0, "minutes") if data.duration_s > 600 else (1.0, "seconds")


def _plot_rate(data: SessionData):
    fig, ax = _figure()
    bin_s = 60.0 if data.duration_s > 600 else 10.0
    edges = np.arange(0, max(data.duration_s, bin_s) + bin_s, bin_s)
    counts, _ = np.histogram([t["t_s"] for t in data.of("twitch")], bins=edges)
    scale, unit = _time_axis(data)
    ax.bar(edges[:-1] / scale, counts * (60.0 / bin_s), width=bin_s / scale, align="edge", color="C0")
    _shade_gaps(ax, data, scale)
    ax.set_xlabel(f"time from the start ({unit})")
    ax.set_ylabel("twitches per minute")
    ax.set_title(f"Twitch rate ({bin_s:g} s bins; grey: no signal)")
    ax.set_xlim(0, edges[-1] / scale)
    return fig


def _plot_timeline(data: SessionData):
    fig, ax = _figure(2.4)
    scale, unit = _time_axis(data)
    rows = [("episodes", "episode", "start_s", "end_s", "C1"), ("activity", "activity", "start_s", "end_s", "C2"),
            ("gaps", "gap", "start_s", "end_s", "0.6")]
    for y, (label, kind, a, b, color) in enumerate(rows):
        spans = [(e[a] / scale, max((e[b] - e[a]) / scale, data.duration_s / scale / 400)) for e in data.of(kind)]
        ax.broken_barh(spans, (y - 0.35, 0.7), color=color)
    twitch_t = [t["t_s"] / scale for t in data.of("twitch")]
    ax.plot(twitch_t, np.full(len(twitch_t), 3), "|", color="C0", ms=12)
    marks = data.of("mark")
    ax.plot([m["t_s"] / scale for m in marks], np.full(len(marks), 4), "v", color="C3")
    for m in marks:
        ax.annotate(m.get("label", ""), (m["t_s"] / scale, 4), xytext=(3, 4), textcoords="offset points", fontsize=8)
    ax.set_yticks(range(5), ["episodes", "activity", "gaps", "twitches", "marks"])
    ax.set_ylim(-0.6, 4.8)
    ax.set_xlim(0, max(data.duration_s, 1e-3) / scale)
    ax.set_xlabel(f"time from the start ({unit})")
    return fig


def _plot_histograms(data: SessionData):
    twitches = data.of("twitch")
    if not twitches:
        return None
    from matplotlib import pyplot as plt

    fig, (a, d) = plt.subplots(1, 2, figsize=(10, 3), layout="constrained")
    a.hist([t["peak_uv"] for t in twitches], bins=30, color="C0")
    a.set_xlabel("peak amplitude (µV)")
    a.set_ylabel("twitches")
    d.hist([t["duration_ms"] for t in twitches if finite_numbers(t, "duration_ms")], bins=30, color="C1")
    d.set_xlabel("duration (ms)")
    return fig


def _plot_waveforms(data: SessionData):
    from scipy.signal import sosfiltfilt

    from myotwitch.dsp.filters import design_bandpass_sos

    twitches = data.of("twitch")
    if not twitches:
        return None
    rate = data.rate_hz
    half = round(_WAVEFORM_HALF_MS * rate / 1000.0)
    context = round(0.5 * rate)
    sos = design_bandpass_sos(rate)
    picked = sorted(twitches, key=lambda t: -t["peak_uv"])[:_MAX_WAVEFORMS]
    fig, ax = _figure(3.5)
    t_ms = np.arange(-half, half + 1) * 1000.0 / rate
    for t in picked:
        peak = round(t["t_s"] * rate)
        lo, hi = peak - half - context, peak + half + 1 + context
        if lo < 0 or hi > len(data.samples_uv):
            continue
        window = np.asarray(data.samples_uv[lo:hi], dtype=np.float64)
        if not np.isfinite(window).all():
            continue
        filtered = sosfiltfilt(sos, window)[context : context + 2 * half + 1]
        ax.plot(t_ms, filtered, lw=0.8, alpha=0.6)
    ax.set_xlabel("time from the peak (ms)")
    ax.set_ylabel("µV")
    ax.set_title(f"The {len(picked)} largest twitches")
    return fig


# -- the page ------------------------------------------------------------------


def _html(data: SessionData, s: dict, plots: list[tuple[str, str]]) -> str:
    esc = html.escape
    start = s["start_utc"]
    try:
        start_local = datetime.fromisoformat(start).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if start else "?"
    except ValueError:
        start_local = "?"
    rows = [
        ("started", start_local),
        ("length", f"{_clock(s['duration_s'])} ({s['recorded_s']:.1f} s with signal)"),
        ("board", f"{data.meta.get('board', '?')} ({data.meta.get('firmware', '?')}), {s['rate_hz']:g} Hz"
                  + (f" ({s['effective_rate_hz']:.2f} measured by this computer's clock)"
                     if s.get("effective_rate_hz") else "")),
        ("muscle", data.meta.get("muscle") or "not given"),
        ("twitches", f"{s['twitches']} ({s['twitches_per_min']:.1f} per minute of signal)"),
        ("median peak", "-" if s["median_peak_uv"] is None else f"{s['median_peak_uv']:.1f} µV"),
        ("noise floor", "-" if s["noise_uv"] is None else f"{s['noise_uv']:.2f} µV"),
        ("episodes", str(s["episodes"])),
        ("activity segments", f"{s['activity_segments']} (cramp, spasm or voluntary contraction: one channel "
                              "cannot tell them apart; mark them with `myotwitch mark`)"),
        ("gaps", f"{s['gaps']} ({s['lost_samples'] / s['rate_hz']:.1f} s without signal)"),
        ("your marks", str(s["marks"])),
    ]
    start_dt = _parse_start(start)
    # Sample-counter seconds to the host's clock: the board's crystal runs a little fast or slow.
    drift = s["rate_hz"] / s["effective_rate_hz"] if s.get("effective_rate_hz") else 1.0
    episode_rows = "".join(
        f"<tr><td>{esc(_wall(start_dt, e['start_s'] * drift))}</td><td>{e['start_s']:.1f}</td><td>{e['end_s'] - e['start_s']:.1f}</td>"
        f"<td>{e['count']}</td><td>{e['rate_per_min']:.1f}</td><td>{e['median_peak_uv']:.1f}</td>"
        f"<td>{e['max_peak_uv']:.1f}</td></tr>"
        for e in data.of("episode") if finite_numbers(e, "rate_per_min", "median_peak_uv", "max_peak_uv"))
    figures = "".join(f'<figure><img src="{esc(name)}" alt="{esc(title)}"><figcaption>{esc(title)}</figcaption>'
                      "</figure>" for name, title in plots)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>myotwitch report: {esc(start_local)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}
.note{{background:#fff3cd;border:1px solid #e0c060;padding:.8em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:left}}img{{max-width:100%}}</style></head>
<body>
<h1>Muscle twitch log</h1>
<p class="note"><strong>{esc(DISCLAIMER)}</strong></p>
<table>{''.join(f'<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in rows)}</table>
{figures}
<h2>Episodes (bouts of twitching)</h2>
{'<p>None.</p>' if not episode_rows else
 '<table><tr><th>clock time</th><th>start (s)</th><th>length (s)</th><th>twitches</th><th>per minute</th>'
 '<th>median peak (µV)</th><th>largest (µV)</th></tr>' + episode_rows + '</table>'}
<p>Files in this folder: <code>session.edf</code> (EDF+, opens in EDFbrowser and MNE, every twitch, episode,
activity segment, mark and gap annotated), <code>events.jsonl</code> (one JSON object per event).</p>
</body></html>
"""


def _parse_start(start: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(start).astimezone() if start else None
    except ValueError:
        return None


def _wall(start: datetime | None, t_s: float) -> str:
    return "?" if start is None else (start + timedelta(seconds=t_s)).strftime("%H:%M:%S")


def _clock(seconds: float) -> str:
    h, rest = divmod(int(round(seconds)), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"
