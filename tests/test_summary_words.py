"""Summary figures that differ for a reason say the reason; `ports` has column headers."""

from __future__ import annotations

import io

from myotwitch.cli import Output, main
from myotwitch.live.ports import PortSeen
from myotwitch.summary_text import frames_line, rate_line

BASE = {"samples": 40000, "lost_samples": 0, "twitches": 3, "episodes": 1, "rate_hz": 1000.0}


def text_summary(**figures) -> str:
    out = io.StringIO()
    Output("text", out).summary(dict(BASE, **figures))
    return out.getvalue()


def test_frames_behind_the_boards_last_report_are_explained():
    text = text_summary(frames=800, frames_sent=780)
    assert "800 (the board had counted 780 at its last report" in text and "once per second of signal" in text
    assert frames_line(800, 800) == "800 (the board sent 800)"
    assert "20 did not arrive whole" in frames_line(780, 800)
    assert frames_line(800, None) == "800"


def test_a_replays_rate_says_it_is_the_replays_speed():
    text = text_summary(effective_rate_hz=71352.83, speed=0.0)
    assert "71352.83 samples per second of this computer's clock (replayed as fast as possible" in text
    assert "999.80 at real-time pace" in rate_line(1000, 9998.0, 10.0)
    assert rate_line(1000, 1000.02, 1.0).endswith("this computer's clock")  # real time: the figure is the rate


def test_ports_have_column_headers(monkeypatch):
    seen = [PortSeen("/dev/ttyACM0", 0x2E8A, 0x0005, "Board in FS mode")]
    monkeypatch.setattr("myotwitch.live.ports.list_serial_ports", lambda: seen)
    out = io.StringIO()
    assert main(["ports"], stdout=out) == 0
    header, row = out.getvalue().splitlines()
    assert header.split("\t") == ["port", "USB id", "maker", "description"]
    assert row.split("\t")[:2] == ["/dev/ttyACM0", "2E8A:0005"] and len(row.split("\t")) == 4
