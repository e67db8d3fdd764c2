"""The terminal live view: a scrolling trace of the filtered signal with twitches marked, and the
figures a person glances at. It only renders: the session loop hands it each block and its events
(cheap bookkeeping), and rich redraws a few times a second from its own thread.
"""

from __future__ import annotations

import math
import sys
import threading
from collections import deque
from collections.abc import Callable

import numpy as np

from myotwitch.dsp.filters import StreamingSosFilter, design_bandpass_sos

TRACE_S = 15.0  # decisions come ~5.5 s after a twitch: its mark still lands inside the trace
TRACE_ROWS = 9
_BLOCKS = " ▁▂▃▄▅▆▇█"


def read_marks_from_terminal(put: Callable[[str], None]) -> bool:
    """`m` + Enter on the terminal marks "felt a twitch" (a daemon thread; only when stdin is a terminal)."""
    if sys.stdin is None or not sys.stdin.isatty():
        return False

    def read() -> None:
        for line in sys.stdin:
            if line.strip().lower().startswith("m"):
                put("felt-twitch")

    threading.Thread(target=read, name="marks", daemon=True).start()
    return True


class TraceColumns:
    """The filtered signal decimated to min/max per column, the last `columns` columns kept."""

    def __init__(self, rate_hz: float, columns: int, span_s: float = TRACE_S) -> None:
        self.rate_hz = rate_hz
        self.columns = columns
        self.samples_per_column = max(1, round(span_s * rate_hz / columns))
        self._filter = StreamingSosFilter(design_bandpass_sos(rate_hz))
        self.lo: deque[float] = deque(maxlen=columns)
        self.hi: deque[float] = deque(maxlen=columns)
        self.end_index = 0  # stream index after the last column
        self._partial: list[np.ndarray] = []
        self._partial_n = 0

    def add(self, start_index: int, samples_uv: np.ndarray) -> None:
        if start_index > self.end_index + self._partial_n:  # a gap: blank columns, filter restarted
            self._partial, self._partial_n = [], 0
            blank = (start_index - self.end_index) // self.samples_per_column
            for _ in range(min(blank, self.columns)):
                self.lo.append(math.nan)
                self.hi.append(math.nan)
            self.end_index = start_index
            self._filter = StreamingSosFilter(design_bandpass_sos(self.rate_hz))
        y = self._filter.process(np.asarray(samples_uv, dtype=np.float64))
        self._partial.append(y)
        self._partial_n += len(y)
        if self._partial_n < self.samples_per_column:
            return
        y = np.concatenate(self._partial)
        whole = len(y) // self.samples_per_column * self.samples_per_column
        cols = y[:whole].reshape(-1, self.samples_per_column)
        self.lo.extend(cols.min(axis=1).tolist())
        self.hi.extend(cols.max(axis=1).tolist())
        self.end_index += whole
        rest = y[whole:]
        self._partial, self._partial_n = ([rest] if len(rest) else []), len(rest)

    def column_of(self, index: int) -> int | None:
        col = len(self.lo) - 1 - (self.end_index - 1 - index) // self.samples_per_column
        return col if 0 <= col < len(self.lo) else None


def render_trace(trace: TraceColumns, twitch_indices: list[int], rows: int = TRACE_ROWS,
                 floor_uv: float | None = None) -> list[str]:
    """Text rows: the min-max band of each column around a zero line, then a row of twitch marks."""
    lo = np.array(trace.lo, dtype=float)
    hi = np.array(trace.hi, dtype=float)
    finite = np.isfinite(lo)
    scale = max(float(np.max(np.abs(np.concatenate((lo[finite], hi[finite]))))) if finite.any() else 0.0,
                5 * (floor_uv or 1.0))
    half = rows / 2
    grid = [[" "] * len(lo) for _ in range(rows)]
    for c in range(len(lo)):
        if not finite[c]:
            grid[rows // 2][c] = "·"
            continue
        top = half - hi[c] / scale * half  # rows from the top, fractional
        bottom = half - lo[c] / scale * half
        for r in range(rows):
            if r + 1 > top and r < bottom:
                grid[r][c] = "█"
        if grid[rows // 2][c] == " ":
            grid[rows // 2][c] = "─"
    marks = [" "] * len(lo)
    for index in twitch_indices:
        c = trace.column_of(index)
        if c is not None:
            marks[c] = "▲"
    lines = ["".join(row) for row in grid]
    lines.append("".join(marks))
    lines.append(f"±{scale:.0f} µV, last {TRACE_S:g} s; ▲ twitch (shown when decided, ~5.5 s after it)")
    return lines


class Views:
    """Several views held as one (the web page and the terminal): each gets every call, in order."""

    def __init__(self, views: list) -> None:
        self.views = list(views)

    def begin(self, info, monitor) -> None:
        for view in self.views:
            view.begin(info, monitor)

    def update(self, block, events: list[dict], source) -> None:
        for view in self.views:
            view.update(block, events, source)

    def end(self) -> None:
        for view in reversed(self.views):
            view.end()


class LiveView:
    def __init__(self, marks_to: Callable[[str], None] | None = None, console=None) -> None:
        from rich.console import Console

        self.console = console or Console()
        self._marks_to = marks_to
        self._live = None
        self._lock = threading.Lock()
        self.twitch_indices: deque[int] = deque(maxlen=500)
        self.twitch_times_s: deque[float] = deque(maxlen=100_000)
        self.state: dict = {}

    # -- called by the session loop -----------------------------------------
    def begin(self, info, monitor) -> None:
        from rich.live import Live

        self.monitor = monitor
        self.rate_hz = float(info.rate_hz)
        width = max(20, min(self.console.width - 2, 160))
        self.trace = TraceColumns(self.rate_hz, width)
        self.state = {"board": f"{info.board} {info.firmware}", "elapsed_s": 0.0, "lost": 0, "marks": 0,
                      "activity": 0, "saturated": 0, "flat": 0, "gaps": 0}
        self._live = Live(self, console=self.console, refresh_per_second=4, redirect_stdout=True,
                          redirect_stderr=True, transient=True)
        self._live.start()
        if self._marks_to is not None:
            read_marks_from_terminal(self._marks_to)

    def update(self, block, events: list[dict], source) -> None:
        with self._lock:
            self.trace.add(block.start_index, block.samples_uv)
            for e in events:
                if e["type"] == "twitch":
                    self.twitch_indices.append(round(e["t_s"] * self.rate_hz))
                    self.twitch_times_s.append(e["t_s"])
                elif e["type"] == "activity":
                    self.state["activity"] += 1
                elif e["type"] == "mark":
                    self.state["marks"] += 1
            stats = source.stats
            self.state.update(elapsed_s=(block.start_index + len(block.samples_uv)) / self.rate_hz,
                              lost=self.monitor.lost_samples, saturated=stats.saturated_frames,
                              flat=stats.flat_frames, gaps=len(source.gaps))

    def end(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    # -- called by rich, from its refresh thread ------------------------------
    def __rich__(self):
        from rich.console import Group
        from rich.panel import Panel
        from rich.text import Text

        with self._lock:
            s = dict(self.state)
            noise = self.monitor.detector.noise_uv
            lines = render_trace(self.trace, list(self.twitch_indices), floor_uv=noise)
            now = s["elapsed_s"]
            last_minute = sum(1 for t in self.twitch_times_s if t > now - 60.0)
            total = len(self.twitch_times_s)
            start_s, open_count = self.monitor.grouper.open_twitches
            mains = self.monitor.detector.mains_hz
        minutes = max(now, 1e-9) / 60.0
        quality = []
        if s["flat"]:
            quality.append(f"[red]{s['flat']} flat frames: electrode off?[/]")
        if s["saturated"]:
            quality.append(f"[yellow]{s['saturated']} frames at the ADC's rails[/]")
        quality.append("mains notched: " + (" and ".join(f"{f:g} Hz" for f in mains) if mains else "none")
                       if mains is not None else "mains: measuring")
        episode = f"open since {start_s:.0f} s, {open_count} twitches" if open_count else "none open"
        figures = Text.from_markup(
            f"[b]{_clock(now)}[/] elapsed   noise floor [b]{'-' if noise is None else f'{noise:.2f} µV'}[/]   "
            f"twitches [b]{total}[/] ({last_minute} in the last minute, {total / minutes:.1f}/min overall)\n"
            f"episode: {episode}   activity segments: {s['activity']}   samples lost: {s['lost']} "
            f"({s['gaps']} gaps)   marks: {s['marks']}\n"
            f"signal: {'   '.join(quality)}\n"
            "[dim]m + Enter: mark 'felt a twitch'   Ctrl-C: stop and save.   "
            "myotwitch informs; it does not diagnose.[/]")
        return Panel(Group(Text("\n".join(lines), style="cyan"), figures), title=f"myotwitch · {s['board']}")


def _clock(seconds: float) -> str:
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"
