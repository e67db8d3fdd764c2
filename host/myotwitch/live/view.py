"""The terminal live view: a scrolling trace of the filtered signal with twitches marked, and the
figures a person glances at. With several channels: a line of counts per channel with its muscle,
and the trace of one channel (▶: the one with the latest twitch, or the one chosen with `channel=`).
It only renders: the session loop hands it each block and its events (cheap bookkeeping), and rich
redraws a few times a second from its own thread.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from myotwitch.dsp.filters import StreamingSosFilter, design_bandpass_sos
from myotwitch.events import ActivitySegment, ChannelEvent, Event, Gap, Mark, Twitch

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
        column = trace.column_of(index)
        if column is not None:
            marks[column] = "▲"
    lines = ["".join(row) for row in grid]
    lines.append("".join(marks))
    lines.append(f"±{scale:.0f} µV, last {TRACE_S:g} s; ▲ twitch (shown when decided, ~5.5 s later)")
    return lines


class View(Protocol):
    """What a live session shows its progress on: the terminal view, the web page, or both (Views)."""

    def begin(self, info, monitor) -> None: ...

    def update(self, block, events: list[Event], source) -> None: ...

    def end(self) -> None: ...


class Views:
    """Several views held as one (the web page and the terminal): each gets every call, in order."""

    def __init__(self, views: list[View]) -> None:
        self.views = list(views)

    def begin(self, info, monitor) -> None:
        for view in self.views:
            view.begin(info, monitor)

    def update(self, block, events: list[Event], source) -> None:
        for view in self.views:
            view.update(block, events, source)

    def end(self) -> None:
        for view in reversed(self.views):
            view.end()


SILENT_S = 1.0  # no block for this long: the board is away (the session is reconnecting meanwhile)
RECONNECTED_SHOWN_S = 5.0  # how long "reconnected" stays up after the board is back


def read_mark_keys(put: Callable[[str], None]) -> Callable[[], None] | None:
    """`m` alone marks "felt a twitch", read key by key with echo off (a daemon thread), so no key the
    user types moves the cursor under the live view (Enter used to leave a stray border in the
    scrollback). Returns what restores the terminal, or None where keys cannot be read so (not a
    terminal, or no termios: the caller falls back to lines)."""
    if sys.stdin is None or not sys.stdin.isatty():
        return None
    try:
        import termios
        import tty
    except ImportError:  # Windows: lines it is
        return None
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)  # key by key; Ctrl-C still interrupts
    mode = termios.tcgetattr(fd)
    mode[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSADRAIN, mode)

    stream = sys.stdin

    def read() -> None:
        while True:
            try:
                key = stream.read(1)
            except (OSError, ValueError):  # the terminal went away (hung up, or closed)
                return
            if not key:
                return
            if key in "mM":
                put("felt-twitch")

    threading.Thread(target=read, name="mark-keys", daemon=True).start()
    return lambda: termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def pack_items(items: list[str], width: int, gap: str = "   ") -> list[str]:
    """Items side by side while they fit in `width`, then on the next line; an item wider than a line
    is cut with an ellipsis, so the view's height is what it counted."""
    lines: list[str] = []
    for item in items:
        if len(item) > width:
            item = item[: max(1, width - 1)] + "…"
        if lines and len(lines[-1]) + len(gap) + len(item) <= width:
            lines[-1] += gap + item
        else:
            lines.append(item)
    return lines


class LiveView:
    def __init__(self, marks_to: Callable[[str], None] | None = None, console=None, muscle: str | None = None,
                 clock: Callable[[], float] = time.monotonic, channel: int | None = None,
                 say: Callable[[str], None] | None = None) -> None:
        from rich.console import Console

        self.console = console or Console()
        self._marks_to = marks_to
        self._muscle = muscle
        self._clock = clock
        self._live: Any = None  # rich.live.Live while shown
        self._restore_keys: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self.twitch_indices: deque[int] = deque(maxlen=500)
        self.twitch_times_s: deque[float] = deque(maxlen=100_000)
        self.state: dict = {}
        self._last_block_at: float | None = None
        self._back_at: float | None = None  # when the board came back after a gap
        self._chosen = channel  # several channels: the one whose trace is shown (None: the latest twitch's)
        self._say = say  # a one-line note before the view takes the screen (a chosen channel the board lacks)
        self.muscles: list[str] = []  # several channels: each one's muscle (empty: one channel)
        self.shown = 0

    # -- called by the session loop -----------------------------------------
    def begin(self, info, monitor) -> None:
        from rich.live import Live

        self.monitor = monitor
        self.rate_hz = float(info.rate_hz)
        width = max(20, min(self.console.width - 4, 160))
        self.trace = TraceColumns(self.rate_hz, width)
        self.muscles = list(getattr(monitor, "muscles", None) or [])  # LiveChannels: a board of several channels
        if self.muscles:
            self.traces = [self.trace, *(TraceColumns(self.rate_hz, width) for _ in self.muscles[1:])]
            self.channel_twitches: list[deque[int]] = [deque(maxlen=500) for _ in self.muscles]
            self.channel_times_s: list[deque[float]] = [deque(maxlen=100_000) for _ in self.muscles]
            if self._chosen is not None and not 0 <= self._chosen < len(self.muscles):
                self._note_no_such_channel(len(self.muscles))
                self._chosen = None
            self.shown = self._chosen or 0
        elif self._chosen not in (None, 0):
            self._note_no_such_channel(1)
        self.state = {"board": f"{info.board} {info.firmware}", "elapsed_s": 0.0, "lost": 0, "marks": 0,
                      "activity": 0, "saturated": 0, "flat": 0, "gaps": 0, "gap_s": 0.0}
        self._live = Live(self, console=self.console, refresh_per_second=4, redirect_stdout=True,
                          redirect_stderr=True, transient=True, vertical_overflow="crop")
        self._live.start()
        if self._marks_to is not None:
            self._restore_keys = read_mark_keys(self._marks_to)
            if self._restore_keys is None:
                read_marks_from_terminal(self._marks_to)

    def update(self, block, events: list[Event], source) -> None:
        with self._lock:
            self._last_block_at = self._clock()
            if self.muscles and block.channels_uv is not None:
                for trace, row in zip(self.traces, block.channels_uv, strict=False):
                    trace.add(block.start_index, row)
            else:
                self.trace.add(block.start_index, block.samples_uv)
            for e in events:
                if isinstance(e, ChannelEvent):
                    e = self._channel_event(e)
                if isinstance(e, Twitch):
                    self.twitch_indices.append(e.peak_index)
                    self.twitch_times_s.append(e.peak_index / self.rate_hz)
                elif isinstance(e, ActivitySegment):
                    self.state["activity"] += 1
                elif isinstance(e, Mark):
                    self.state["marks"] += 1
                elif isinstance(e, Gap):
                    self.state["gap_s"] = e.samples / self.rate_hz
                    self._back_at = self._last_block_at
            stats = source.stats
            self.state.update(elapsed_s=(block.start_index + len(block.samples_uv)) / self.rate_hz,
                              lost=self.monitor.lost_samples, saturated=stats.saturated_frames,
                              flat=stats.flat_frames, gaps=len(source.gaps))

    def _note_no_such_channel(self, channels: int) -> None:
        which = "one channel (0)" if channels == 1 else f"{channels} channels (0-{channels - 1})"
        if self._say is not None:
            self._say(f"--view-channel {self._chosen}: this board has {which}; the trace follows the latest twitch")

    def _channel_event(self, e: ChannelEvent):
        """Counts a channel's twitch on its channel (the trace follows it unless one was chosen); returns
        the event inside, for the counts all channels share."""
        if isinstance(e.event, Twitch) and 0 <= e.channel < len(self.muscles):
            self.channel_twitches[e.channel].append(e.event.peak_index)
            self.channel_times_s[e.channel].append(e.event.peak_index / self.rate_hz)
            if self._chosen is None:
                self.shown = e.channel
        return e.event

    def _channel_lines(self, now_s: float, width: int) -> list[str]:
        """A line per channel: its muscle and counts; the one whose trace is shown is marked."""
        minutes = max(now_s, 1e-9) / 60.0
        lines = []
        for c, muscle in enumerate(self.muscles):
            times = self.channel_times_s[c]
            last_minute = sum(1 for t in times if t > now_s - 60.0)
            shown = "▶" if c == self.shown else " "  # first, so a narrow terminal's cut keeps it
            line = f"{shown} [{c}] {muscle}: {len(times)} twitches ({last_minute} in the last minute, " \
                f"{len(times) / minutes:.1f}/min)"
            lines += pack_items([line], width)
        return lines

    def end(self) -> None:
        if self._restore_keys is not None:
            self._restore_keys()
            self._restore_keys = None
        if self._live is not None:
            self._live.stop()
            self._live = None

    def connection(self) -> tuple[str, str]:
        """(text, style) of the stream's state: receiving, disconnected (reconnecting), reconnected."""
        now = self._clock()
        if self._last_block_at is None:
            return "waiting for samples", "dim"
        silent_s = now - self._last_block_at
        if silent_s > SILENT_S:
            return f"DISCONNECTED: no samples for {silent_s:.0f} s, reconnecting (Ctrl-C stops)", "bold red"
        if self._back_at is not None and now - self._back_at < RECONNECTED_SHOWN_S:
            return f"reconnected: {self.state['gap_s']:.1f} s lost, counted as a gap", "bold yellow"
        return "receiving", "green"

    # -- called by rich, from its refresh thread ------------------------------
    def __rich__(self):
        from rich.console import Group
        from rich.panel import Panel
        from rich.text import Text

        width = max(20, self.console.size.width - 4)  # inside the panel's border and padding
        height = self.console.size.height
        with self._lock:
            s = dict(self.state)
            # Several channels: the figures of the channel whose trace is shown, and a line per channel.
            monitor = self.monitor.channel_monitor(self.shown) if self.muscles else self.monitor
            trace = self.traces[self.shown] if self.muscles else self.trace
            noise = monitor.detector.noise_uv
            now = s["elapsed_s"]
            last_minute = sum(1 for t in self.twitch_times_s if t > now - 60.0)
            total = len(self.twitch_times_s)
            start_index, open_count = monitor.grouper.open_twitches
            mains = monitor.detector.mains_hz
            twitches = list(self.channel_twitches[self.shown] if self.muscles else self.twitch_indices)
            channel_lines = self._channel_lines(now, width) if self.muscles else []
            connection, connection_style = self.connection()
        minutes = max(now, 1e-9) / 60.0
        quality = []
        if s["flat"]:
            quality.append(f"{s['flat']} flat frames: electrode off?")
        if s["saturated"]:
            quality.append(f"{s['saturated']} frames at the ADC's rails")
        quality.append("mains notched: " + (" and ".join(f"{f:g} Hz" for f in mains) if mains else "none")
                       if mains is not None else "mains: measuring")
        episode = f"open since {start_index / self.rate_hz:.0f} s, {open_count} twitches" \
            if start_index is not None else "none open"
        figures = pack_items([
            f"{_clock(now)} elapsed", f"noise floor {'-' if noise is None else f'{noise:.2f} µV'}",
            f"twitches {total} ({last_minute} in the last minute, {total / minutes:.1f}/min overall)",
            f"episode: {episode}", f"activity segments: {s['activity']}",
            f"samples lost: {s['lost']} ({s['gaps']} gaps)", f"marks: {s['marks']}"], width)
        signal = pack_items(quality, width)
        help_line = pack_items(["m: mark 'felt a twitch'", "Ctrl-C: stop and save",
                                "myotwitch informs; it does not diagnose."], width)
        # Rows for the trace: what the terminal has left after the border (2), the marks and scale
        # rows (2), the state line and the figures; at least 2, at most TRACE_ROWS.
        fixed = 2 + 2 + 1 + len(figures) + len(signal) + len(channel_lines)
        if height - fixed - len(help_line) < 2:
            help_line = []  # a small terminal keeps the trace and the figures, not the help
        rows = max(2, min(TRACE_ROWS, height - fixed - len(help_line)))
        lines = render_trace(trace, twitches, rows=rows, floor_uv=noise)
        if self.muscles:
            lines[-1] = f"[{self.shown}] {self.muscles[self.shown]}: " + lines[-1]
        lines[-1] = pack_items([lines[-1]], width)[0]
        body = [Text("\n".join(lines), style="cyan", no_wrap=True, overflow="crop"),
                Text(connection, style=connection_style, no_wrap=True, overflow="ellipsis"),
                *([Text("\n".join(channel_lines), style="bold", no_wrap=True)] if channel_lines else []),
                Text("\n".join(figures), no_wrap=True),
                Text("\n".join(signal), style="red" if s["flat"] else "yellow" if s["saturated"] else "",
                     no_wrap=True)]
        if help_line:
            body.append(Text("\n".join(help_line), style="dim", no_wrap=True))
        where = f"{len(self.muscles)} channels" if self.muscles else self._muscle or "muscle not given (--muscle)"
        title = f"myotwitch · {where} · {s['board']}"
        return Panel(Group(*body), title=title[: max(10, width - 2)])


def _clock(seconds: float) -> str:
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"
