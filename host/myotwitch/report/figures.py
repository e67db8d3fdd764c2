"""The report's figures, each returned as inline SVG text (the page carries them; nothing is fetched).

Time axes show the clock time of day (SessionClock); lost samples stay gaps in every trace (matplotlib
breaks a line at NaN), never joined across. Text stays text in the SVG, so it prints sharp and can be found.
"""

from __future__ import annotations

import io
import math
from itertools import pairwise

import numpy as np

from myotwitch.recorder import finite_numbers
from myotwitch.report.session import SessionClock, SessionData, split_by_snr

# The page prints on A4 (210 x 297 mm) and Letter (216 x 279 mm) with 15 mm margins: at most 180 mm
# wide. Figures are drawn 7 inches (178 mm) wide and scale to the page.
FIGURE_WIDTH_IN = 7.0
_WAVEFORM_HALF_MS = 40.0
_MAX_WAVEFORMS = 40
STRIP_HALF_MS = 300.0  # raw signal shown either side of a twitch's peak
STRIP_TWITCHES = 6
STRIP_SCALE_MS = 100.0


def figure(height_in: float, name: str, ncols: int = 1, nrows: int = 1):
    import matplotlib

    matplotlib.use("Agg")  # files only: no screen needed
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(FIGURE_WIDTH_IN, height_in), layout="constrained", squeeze=False)
    fig.set_label(name)
    return fig, axes


def to_svg(fig) -> str:
    """The figure as an <svg> element to put in the page as is."""
    import matplotlib
    from matplotlib import pyplot as plt

    buf = io.StringIO()
    # Text as text (sharp in print, searchable); ids salted with the figure's name, so the several SVGs of
    # one page do not share clip-path ids; no date, so the same session gives the same page.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": fig.get_label()}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def clock_axis(ax, clock: SessionClock, duration_s: float) -> None:
    """Ticks at round clock times: HH:MM, or HH:MM:SS for a session under 10 minutes."""
    if clock.start is None:
        ax.set_xlabel("time from the start (s): session.json does not say when it started")
        return
    from matplotlib import dates

    locator = dates.AutoDateLocator(minticks=5, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(dates.DateFormatter("%H:%M:%S" if duration_s < 600 else "%H:%M"))
    ax.set_xlabel(f"clock time ({clock.zone}), session started {clock.start:%Y-%m-%d %H:%M:%S}")


def x_of(clock: SessionClock, t_s):
    """Seconds from the start as x values: matplotlib dates when the start is known."""
    if clock.start is None:
        return np.asarray(t_s, dtype=float)
    from matplotlib import dates

    return dates.date2num(clock.start) + np.asarray(t_s, dtype=float) * clock.host_s_per_sample_s / 86400.0


def x_width(clock: SessionClock, seconds: float | np.ndarray) -> float | np.ndarray:
    return seconds if clock.start is None else seconds / 86400.0


def _shade_gaps(ax, data: SessionData, clock: SessionClock) -> None:
    for g in data.of("gap"):
        ax.axvspan(x_of(clock, g["start_s"]), x_of(clock, g["end_s"]), color="0.85", lw=0)


def binned_rates(data: SessionData, bin_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bin edges in s, clear and marginal twitches per minute of signal in each bin). The last bin ends with
    the recording; lost samples are not signal, so a bin half lost shows the rate of its other half, not
    half the rate. A bin with under a quarter of bin_s of signal gives NaN (drawn as nothing): a rate from
    a few seconds is noise."""
    edges = np.append(np.arange(0.0, data.duration_s, bin_s), data.duration_s)
    bounds = np.minimum(np.round(edges * data.rate_hz).astype(np.int64), len(data.samples_uv))
    signal_s = np.array([np.count_nonzero(~np.isnan(data.samples_uv[a:b])) for a, b in pairwise(bounds)],
                        dtype=float) / data.rate_hz
    minutes = np.where(signal_s >= bin_s / 4, signal_s / 60.0, np.nan)
    clear, marginal, unknown = split_by_snr(data.of("twitch"))
    counts = [np.histogram([t["t_s"] for t in group], bins=edges)[0] for group in (clear, marginal + unknown)]
    return edges, counts[0] / minutes, counts[1] / minutes


def rate(data: SessionData, clock: SessionClock) -> str:
    fig, ((ax,),) = figure(2.6, "rate")
    bin_s = 60.0 if data.duration_s > 600 else 10.0
    edges, clear, marginal = binned_rates(data, bin_s)
    widths = x_width(clock, np.diff(edges) * clock.host_s_per_sample_s)
    ax.bar(x_of(clock, edges[:-1]), clear, width=widths, align="edge", color="C0", label="clear")
    ax.bar(x_of(clock, edges[:-1]), marginal, bottom=clear, width=widths, align="edge", color="C0", alpha=0.35,
           label="marginal")
    _shade_gaps(ax, data, clock)
    ax.set_ylabel("twitches per minute")
    ax.set_title(f"Twitch rate ({bin_s:g} s bins; grey: no signal)")
    ax.set_xlim(x_of(clock, 0.0), x_of(clock, edges[-1]))
    ax.legend(loc="upper right", fontsize=8)
    clock_axis(ax, clock, data.duration_s)
    return to_svg(fig)


def timeline(data: SessionData, clock: SessionClock) -> str:
    fig, ((ax,),) = figure(2.2, "timeline")
    rows = [("episode", "C1"), ("activity", "C2"), ("gap", "0.6")]
    least_s = data.duration_s / 400
    for y, (kind, color) in enumerate(rows):
        spans = [(float(x_of(clock, e["start_s"])),
                  x_width(clock, max(e["end_s"] - e["start_s"], least_s) * clock.host_s_per_sample_s))
                 for e in data.of(kind)]
        ax.broken_barh(spans, (y - 0.35, 0.7), color=color)
    clear, marginal, unknown = split_by_snr(data.of("twitch"))
    for group, alpha in ((marginal + unknown, 0.35), (clear, 1.0)):  # as in the rate figure: clear ones dark
        twitch_t = [t["t_s"] for t in group]
        ax.plot(x_of(clock, twitch_t), np.full(len(twitch_t), 3), "|", color="C0", alpha=alpha, ms=10)
    marks = data.of("mark")
    ax.plot(x_of(clock, [m["t_s"] for m in marks]), np.full(len(marks), 4), "v", color="C3")
    for m in marks:
        ax.annotate(m["label"], (float(x_of(clock, m["t_s"])), 4), xytext=(3, 4), textcoords="offset points",
                    fontsize=7)
    ax.set_yticks(range(5), ["episodes", "activity", "gaps", "twitches", "marks"])
    ax.set_ylim(-0.6, 4.8)
    ax.set_xlim(x_of(clock, 0.0), x_of(clock, max(data.duration_s, 1e-3)))
    clock_axis(ax, clock, data.duration_s)
    return to_svg(fig)


def histograms(data: SessionData) -> str | None:
    twitches = data.of("twitch")
    if not twitches:
        return None
    fig, ((a, d),) = figure(2.4, "histograms", ncols=2)
    clear, marginal, unknown = split_by_snr(twitches)
    a.hist([[t["peak_uv"] for t in clear], [t["peak_uv"] for t in marginal + unknown]], bins=30, stacked=True,
           color=["C0", (0.12, 0.47, 0.71, 0.35)], label=["clear", "marginal"])
    a.legend(fontsize=8)
    a.set_xlabel("peak amplitude (µV)")
    a.set_ylabel("twitches")
    d.hist([t["duration_ms"] for t in twitches if finite_numbers(t, "duration_ms")], bins=30, color="C1")
    d.set_xlabel("duration (ms)")
    return to_svg(fig)


def waveforms(data: SessionData) -> str | None:
    from scipy.signal import sosfiltfilt

    from myotwitch.dsp.filters import design_bandpass_sos

    twitches = data.of("twitch")
    if not twitches:
        return None
    rate_hz = data.rate_hz
    half = round(_WAVEFORM_HALF_MS * rate_hz / 1000.0)
    context = round(0.5 * rate_hz)
    sos = design_bandpass_sos(rate_hz)
    picked = sorted(twitches, key=lambda t: -t["peak_uv"])[:_MAX_WAVEFORMS]
    fig, ((ax,),) = figure(2.8, "waveforms")
    t_ms = np.arange(-half, half + 1) * 1000.0 / rate_hz
    for t in picked:
        peak = round(t["t_s"] * rate_hz)
        lo, hi = peak - half - context, peak + half + 1 + context
        if lo < 0 or hi > len(data.samples_uv):
            continue
        window = np.asarray(data.samples_uv[lo:hi], dtype=np.float64)
        if not np.isfinite(window).all():
            continue  # filtering across lost samples would invent a signal
        filtered = sosfiltfilt(sos, window)[context : context + 2 * half + 1]
        ax.plot(t_ms, filtered, lw=0.8, alpha=0.6)
    ax.set_xlabel("time from the peak (ms)")
    ax.set_ylabel("µV")
    ax.set_title(f"The {len(picked)} largest twitches")
    return to_svg(fig)


def nice_scale(value: float) -> float:
    """The largest of 1, 2, 5 x 10^k not above value (for a scale bar); 1 for nothing to scale."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    exponent = math.floor(math.log10(value))
    return max(m * 10.0 ** exponent for m in (1, 2, 5) if m * 10.0 ** exponent <= value)


def strip_twitches(data: SessionData, count: int = STRIP_TWITCHES) -> list[dict]:
    """The largest twitches whose strips do not overlap, largest first."""
    chosen: list[dict] = []
    for t in sorted(data.of("twitch"), key=lambda t: -t["peak_uv"]):
        if all(abs(t["t_s"] - c["t_s"]) * 1000.0 > 2 * STRIP_HALF_MS for c in chosen):
            chosen.append(t)
        if len(chosen) == count:
            break
    return chosen


def strip(data: SessionData, clock: SessionClock) -> tuple[str, float] | None:
    """The raw signal around the largest twitches, one panel each, one vertical scale for all; with its
    scale bar's µV. Raw: as recorded, only the window's median taken off (the electrode's offset)."""
    chosen = strip_twitches(data)
    if not chosen:
        return None
    half = round(STRIP_HALF_MS * data.rate_hz / 1000.0)
    windows = []
    for t in chosen:
        peak = round(t["t_s"] * data.rate_hz)
        lo, hi = max(peak - half, 0), min(peak + half + 1, len(data.samples_uv))
        w = np.asarray(data.samples_uv[lo:hi], dtype=np.float64)
        if np.isfinite(w).any():
            w = w - np.nanmedian(w)
        windows.append((t, (np.arange(lo, hi) - peak) * 1000.0 / data.rate_hz, w))
    reach_uv = max((float(np.nanmax(np.abs(w))) for _, _, w in windows if np.isfinite(w).any()), default=1.0)
    bar_uv = nice_scale(reach_uv * 0.6)
    rows = math.ceil(len(windows) / 2)
    fig, axes = figure(1.5 * rows + 0.2, "strip", ncols=2, nrows=rows)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, (t, t_ms, w) in zip(axes.flat, windows, strict=False):  # an odd count leaves the last axis blank
        ax.plot(t_ms, w, lw=0.7, color="k")
        ax.set_xlim(-STRIP_HALF_MS, STRIP_HALF_MS)
        ax.set_ylim(-reach_uv * 1.05, reach_uv * 1.05)
        snr = t.get("snr")
        when = clock.text(t["t_s"]) if clock.start else f"{t['t_s']:.1f} s"
        ax.set_title(f"{when}, {t['peak_uv']:.0f} µV" + (f", SNR {snr:.0f}" if isinstance(snr, (int, float)) else ""),
                     fontsize=8)
        # Scale bars in the lower left corner: STRIP_SCALE_MS across, bar_uv up.
        x0, y0 = -STRIP_HALF_MS * 0.97, -reach_uv
        ax.plot([x0, x0 + STRIP_SCALE_MS], [y0, y0], color="C3", lw=1.5)
        ax.plot([x0, x0], [y0, y0 + bar_uv], color="C3", lw=1.5)
        ax.text(x0 + STRIP_SCALE_MS / 2, y0, f"{STRIP_SCALE_MS:g} ms", ha="center", va="top", fontsize=7, color="C3")
        ax.text(x0 + 8, y0 + bar_uv / 2, f"{bar_uv:g} µV", ha="left", va="center", fontsize=7, color="C3")
    return to_svg(fig), bar_uv

