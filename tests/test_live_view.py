"""The live view renders snapshots: a decimated trace with twitch marks, and the figures."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
from rich.console import Console

from myotwitch.live.view import LiveView, TraceColumns, render_trace
from myotwitch.events import Mark
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
