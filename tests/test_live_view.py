"""The live view renders snapshots: a decimated trace with twitch marks, and the figures."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
from rich.console import Console

from myotwitch.live.view import LiveView, TraceColumns, render_trace
from myotwitch.events import Gap, Mark
from myotwitch.monitor import Monitor
from myotwitch.protocol import DecoderStats
from myotwitch.sources import SampleBlock


def test_trace_keeps_min_and_max_per_column_and_marks_twitches():
    rate = 1000
    trace = TraceColumns(rate, columns=100, span_s=10.0)  # 100 samples per column
    rng = np.random.default_rng(5)
    x = rng.normal(0, 2, 10_000)
    x[7_050] = 300.0  # a spike in column 70
    for i in range(0, len(x), 50):
        trace.add(i, x[i : i + 50])
    assert len(trace.lo) == 100 and trace.end_index == 10_000
    assert int(np.argmax(trace.hi)) == 70
    lines = render_trace(trace, [7_050], rows=9)
    assert lines[9].index("▲") == 70
    assert all(len(line) == 100 for line in lines[:10])
    assert lines[0][70] == "█"  # the spike reaches the top row; the noise does not
    assert lines[0].count("█") <= 2


def test_a_gap_shows_as_blank_columns():
    trace = TraceColumns(1000, columns=50, span_s=5.0)
    trace.add(0, np.zeros(1000))
    trace.add(3000, np.zeros(1000))  # 2 s lost
    lines = render_trace(trace, [])
    middle = lines[len(lines[:-2]) // 2]
    assert middle.count("·") == 20


def test_the_view_draws_its_figures():
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    view = LiveView(console=console)
    monitor = Monitor(1000)
    info = SimpleNamespace(rate_hz=1000, board="sim", firmware="fw 1")
    view.begin(info, monitor)
    source = SimpleNamespace(stats=DecoderStats(flat_frames=3), gaps=[])
    rng = np.random.default_rng(6)
    for i in range(0, 20_000, 50):
        block = SampleBlock(i, rng.normal(0, 2, 50))
        view.update(block, monitor.feed(block) + ([Mark(1000, "felt-twitch")] if i == 0 else []), source)
    plain = Console(file=io.StringIO(), width=100, color_system=None)
    plain.print(view)
    view.end()
    text = plain.file.getvalue()
    assert "0:00:20 elapsed" in text and "noise floor 1.8" in text and "marks: 1" in text
    assert "3 flat frames: electrode off?" in text and "myotwitch informs" in text


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def rendered(view: LiveView, width: int, height: int) -> list[str]:
    out = Console(file=io.StringIO(), width=width, height=height, color_system=None)
    out.print(view)
    return out.file.getvalue().rstrip("\n").split("\n")


def small_view(width: int, height: int, clock=None, muscle=None):
    console = Console(file=io.StringIO(), force_terminal=True, width=width, height=height)
    view = LiveView(console=console, muscle=muscle, clock=clock or FakeClock())
    monitor = Monitor(1000)
    view.begin(SimpleNamespace(rate_hz=1000, board="sim", firmware="myotwitch-fw 0.1.0"), monitor)
    return view, monitor


def feed(view, monitor, start_index: int, n_samples: int, events=()):
    source = SimpleNamespace(stats=DecoderStats(), gaps=[])
    rng = np.random.default_rng(7)
    for i in range(start_index, start_index + n_samples, 50):
        block = SampleBlock(i, rng.normal(0, 2, 50))
        view.update(block, monitor.feed(block) + (list(events) if i == start_index else []), source)


def test_a_60_by_15_terminal_keeps_every_line_of_the_view():
    """rich crops what does not fit: the view must fit the terminal itself, or its figures are lost."""
    view, monitor = small_view(60, 15, muscle="left FDI")
    feed(view, monitor, 0, 12_000, [Mark(1000, "felt-twitch")])
    lines = rendered(view, 60, 15)
    view.end()
    assert len(lines) <= 15 and all(len(line) <= 60 for line in lines)
    text = "\n".join(lines)
    assert "noise floor" in text and "marks: 1" in text and "samples lost: 0" in text and "receiving" in text
    assert "left FDI" in lines[0]  # the muscle, in the title
    assert sum(1 for line in lines if "█" in line) >= 2  # the trace keeps rows of its own


def test_a_silent_board_shows_disconnected_then_reconnected():
    clock = FakeClock()
    view, monitor = small_view(100, 30, clock=clock)
    feed(view, monitor, 0, 2_000)
    clock.now_s = 3.0  # no block for 3 s: the session is looking for the board
    assert "DISCONNECTED: no samples for 3 s, reconnecting" in "\n".join(rendered(view, 100, 30))
    feed(view, monitor, 4_000, 500, [Gap(2000, 2000, "x")])
    text = "\n".join(rendered(view, 100, 30))
    assert "reconnected: 2.0 s lost" in text and "DISCONNECTED" not in text
    clock.now_s = 3.0 + 6.0
    feed(view, monitor, 4_500, 50)
    assert "receiving" in "\n".join(rendered(view, 100, 30))
    view.end()


def test_mark_keys_are_read_with_echo_off_and_the_terminal_restored(monkeypatch):
    """An echoed Enter moves the cursor under the live view, which then redraws one line lower and
    leaves its top border in the scrollback: keys are read one by one with echo off, `m` alone marks."""
    import os
    import pty
    import termios
    import threading

    from myotwitch.live.view import read_mark_keys

    master, slave = pty.openpty()
    stdin = os.fdopen(slave, "r", closefd=True)
    monkeypatch.setattr("sys.stdin", stdin)
    before = termios.tcgetattr(slave)
    marked = threading.Event()
    restore = read_mark_keys(lambda label: marked.set())
    try:
        mode = termios.tcgetattr(slave)
        assert not mode[3] & termios.ECHO and not mode[3] & termios.ICANON
        os.write(master, b"m")  # no Enter needed
        assert marked.wait(5)
    finally:
        restore()
    assert termios.tcgetattr(slave) == before
    os.close(master)


def _three_channel_view(width: int, height: int, channel=None, say=None):
    """A view of a 3-channel session: twitches (a potential well above the noise) on channel 2 only."""
    from myotwitch.live.channels import LiveChannels
    from test_channels import potential

    console = Console(file=io.StringIO(), force_terminal=True, width=width, height=height)
    view = LiveView(console=console, clock=FakeClock(), channel=channel, say=say)
    monitor = LiveChannels(2000, ["right APB", "right FDI", "right FCR"])
    view.begin(SimpleNamespace(rate_hz=2000, board="sim", firmware="fw 1"), monitor)
    rng = np.random.default_rng(8)
    rows = rng.normal(0, 5, (3, 40_000))
    unit = potential(2000, 10.0)
    for t_s in np.arange(6.0, 19.0, 1.7):
        at = int(t_s * 2000)
        rows[2, at : at + len(unit)] += 120 * unit
    source = SimpleNamespace(stats=DecoderStats(), gaps=[])
    for i in range(0, rows.shape[1], 100):
        block = SampleBlock(i, rows[0, i : i + 100], channels_uv=rows[:, i : i + 100])
        view.update(block, monitor.feed(block), source)
    return view


def test_a_view_of_three_channels_counts_each_and_traces_the_one_that_twitched():
    view = _three_channel_view(100, 30)
    lines = rendered(view, 100, 30)
    view.end()
    text = "\n".join(lines)
    counts = [line for line in lines if "twitches (" in line and "]" in line]
    assert any("[0] right APB: 0 twitches" in line for line in counts)
    assert any("[1] right FDI: 0 twitches" in line for line in counts)
    twitched = [line for line in counts if "[2] right FCR:" in line]
    assert twitched and "0 twitches" not in twitched[0] and "▶ [2]" in twitched[0]
    assert sum("▶" in line for line in counts) == 1
    assert "[2] right FCR: ±" in text  # the trace's caption names its channel
    assert "3 channels" in lines[0]
    # The trace marks the twitches of the channel it shows.
    assert any("▲" in line and "twitch (shown" not in line for line in lines)


def test_a_chosen_channel_keeps_the_trace_and_fits_a_small_terminal():
    view = _three_channel_view(60, 20, channel=0)
    lines = rendered(view, 60, 20)
    view.end()
    assert len(lines) <= 20 and all(len(line) <= 60 for line in lines)
    assert any("▶ [0] right APB" in line for line in lines)
    assert not any("▲" in line and "twitch (shown" not in line for line in lines)  # channel 0 did not twitch


def test_a_chosen_channel_the_board_lacks_is_said_and_the_trace_follows_the_latest_twitch():
    said: list[str] = []
    view = _three_channel_view(100, 30, channel=5, say=said.append)
    lines = rendered(view, 100, 30)
    view.end()
    assert said == ["--view-channel 5: this board has 3 channels (0-2); the trace follows the latest twitch"]
    assert any("▶ [2] right FCR" in line for line in lines)  # channel 2 twitched
