"""A board unplugged, reset, or with a drifting crystal, through ReconnectingBoard and a whole live session,
on an injected clock: faster than real time, and the same on every run.

(The same faults through the real firmware on a pseudo-terminal, in real time, are the `slow` tests of
test_live_session.py and test_device_faults.py.)
"""

from __future__ import annotations

import numpy as np
import pytest
from fake_board import RATE_HZ, FakeClock, FakeConnection, World, connector
from myotwitch.live.session import Session, SessionOptions
from myotwitch.monitor import Monitor
from myotwitch.sources.reconnecting import ReconnectingBoard
from myotwitch.sources.synthetic import SyntheticConfig, SyntheticSource
from test_end_to_end import read_edf


def run_session(tmp_path, world: World, connect, clock: FakeClock):
    board = ReconnectingBoard(connect, "fake board", clock=clock, sleep=clock.sleep)
    session = Session(SessionOptions(kind="live", db_path=tmp_path / "l.sqlite", out_dir=tmp_path / "s"),
                      lambda event, rate_hz: None, clock=clock)
    summary = session.run(board, Monitor)
    assert session.failure is None
    logged = [line for line in (tmp_path / "s" / "events.jsonl").read_text().splitlines()]
    return summary, logged, read_edf(tmp_path / "s" / "session.edf")


@pytest.mark.parametrize("why, back_after_s", [("board unplugged", 1.5), ("board restarted", 0.1)])
def test_replug_or_reset_mid_stream_gives_one_gap_of_the_right_length(tmp_path, why, back_after_s):
    """The board is lost after 4 s of signal and can be opened again back_after_s later (a cable pulled and
    put back; a processor reset, the port staying). The world's signal went on meanwhile: the samples
    before the gap are its first ones, those after it the world from where it was, and the gap is exactly
    the time no sample was taken, measured on the host's clock."""
    clock = FakeClock()
    signal = SyntheticSource(SyntheticConfig(duration_s=12, peak_sigma_range=(20, 40), seed=61)).signal_uv
    world = World(signal, clock)
    first, second = FakeConnection(world, lost_after=4000, why=why), FakeConnection(world)
    summary, _, edf = run_session(tmp_path, world, connector(world, [first, second], [0.0, 4.0 + back_after_s]),
                                  clock)
    assert summary["reconnects"] == 1 and summary["gaps"] == 1
    gaps = [(o, d, t) for o, d, t in zip(edf.onsets_s, edf.durations_s, edf.texts) if t.startswith("gap")]
    assert len(gaps) == 1 and why in gaps[0][2]
    first_lost, lost = round(gaps[0][0] * RATE_HZ), round(gaps[0][1] * RATE_HZ)
    # Reconnect attempts after 0.25, 0.5, 1, 2 s (the backoff): the first at or after the board is back.
    waited_s = next(t for t in np.cumsum((0.25, 0.5, 1.0, 2.0)) if t >= back_after_s)
    assert first_lost == 4000 and lost == summary["lost_samples"] == second.first_world_index - 4000
    assert lost == round(waited_s * RATE_HZ)
    step = (edf.samples.max() - edf.samples.min()) / 65535 + 1e-3  # EDF's 16-bit step
    assert np.allclose(edf.samples[:4000], signal[:4000], atol=step)
    resumed = edf.samples[first_lost + lost : len(signal)]
    assert len(resumed) == summary["samples"] - 4000 and np.allclose(resumed, signal[first_lost + lost :], atol=step)


@pytest.mark.parametrize("ppm", [10_000, -10_000])
def test_a_drifting_board_clock_is_measured_and_noted(tmp_path, ppm):
    """A crystal 1 % fast (or slow) against the host's clock, frames arriving 1-15 ms late."""
    clock = FakeClock()
    world = World(np.random.default_rng(4).normal(0, 2, 8000), clock, crystal_ppm=ppm)
    board = FakeConnection(world, arrival_jitter_s=(0.001, 0.015), seed=ppm % 97)
    summary, logged, _ = run_session(tmp_path, world, connector(world, [board], [0.0]), clock)
    assert abs(summary["clock_drift_ppm"] - ppm) < 300, summary["clock_drift_ppm"]
    notes = [line for line in logged if '"what": "clock"' in line]
    assert len(notes) == 1 and ("fast" if ppm > 0 else "slow") in notes[0]
    assert summary["lost_samples"] == 0 and summary["samples"] == 8000


def test_a_board_on_time_gets_no_notes(tmp_path):
    clock = FakeClock()
    world = World(np.random.default_rng(5).normal(0, 2, 6000), clock)
    board = FakeConnection(world, arrival_jitter_s=(0.001, 0.015), seed=3)
    summary, logged, _ = run_session(tmp_path, world, connector(world, [board], [0.0]), clock)
    assert not [line for line in logged if '"type": "stream"' in line or '"type": "gap"' in line]
    assert abs(summary["clock_drift_ppm"]) < 300 and summary["lost_samples"] == 0
