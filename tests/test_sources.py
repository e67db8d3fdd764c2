"""The Source and Board interfaces: any source of samples can drive a live session, paced on an injected clock."""

from __future__ import annotations

import numpy as np
from myotwitch.live.session import Session, SessionOptions
from myotwitch.monitor import Monitor
from myotwitch.sources.replay import NAN_GAP, ReplayBoard
from myotwitch.sources.synthetic import SyntheticConfig, SyntheticSource


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept_s = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.now += s
        self.slept_s += s


class Dropout:
    """A Source (rate_hz, description, blocks) with a run of samples it skipped, as a recording's NaN run."""

    rate_hz = 1000.0
    description = "dropout"

    def __init__(self) -> None:
        self.skipped: list[tuple[int, int]] = []

    def blocks(self):
        from myotwitch.sources import SampleBlock

        yield SampleBlock(0, np.zeros(500))
        self.skipped.append((500, 250))
        yield SampleBlock(750, np.zeros(250), lost_before=250)


def test_a_board_is_paced_at_speed_on_its_clock_not_the_wall():
    clock = FakeClock()
    source = SyntheticSource(SyntheticConfig(duration_s=20, seed=2), block_samples=1000)
    board = ReplayBoard(source, speed=4.0, clock=clock, sleep=clock.sleep)
    assert sum(len(b.samples_uv) for b in board.blocks()) == 20_000
    assert abs(clock.slept_s - 20 / 4.0) < 1e-9  # 20 s of signal at 4x: 5 s of (fake) time
    assert board.stream_clock.effective_rate_hz() == 4000.0  # samples per second of the clock it was paced on


def test_the_skipped_samples_of_a_source_are_the_boards_gaps():
    board = ReplayBoard(Dropout(), speed=0)
    list(board.blocks())
    assert board.gaps == [(500, 250, NAN_GAP)]


def test_a_synthetic_source_drives_a_live_session(tmp_path):
    """What the session finds in a Source played as a Board is what the detector finds in the same blocks."""
    source = SyntheticSource(SyntheticConfig(duration_s=30, peak_sigma_range=(15, 30), seed=7), block_samples=50)
    clock = FakeClock()
    emitted: list = []
    session = Session(SessionOptions(kind="live", db_path=tmp_path / "log.sqlite", out_dir=tmp_path / "s", speed=0),
                      lambda event, rate_hz: emitted.append(event), clock=clock)
    summary = session.run(ReplayBoard(source, speed=0, board="synthetic", clock=clock, sleep=clock.sleep), Monitor)
    direct = Monitor(source.rate_hz)
    expected = [e for b in source.blocks() for e in direct.feed(b)] + direct.finish()
    assert session.failure is None
    assert emitted == expected
    assert summary["twitches"] == len(source.true_peak_indices) and summary["samples"] == 30_000
    assert summary["board"] == "synthetic" and summary["gaps"] == 0
