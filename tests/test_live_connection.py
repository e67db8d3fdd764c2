"""Staying connected: the stream clock's effective rate, and gaps placed by the host's clock."""

from __future__ import annotations

import numpy as np
import pytest

from myotwitch.errors import ConnectionLost, MyotwitchError
from myotwitch.live.clock import DeviceClock, StreamClock
from myotwitch.sources.reconnecting import ReconnectingBoard
from myotwitch.protocol import DecoderStats
from myotwitch.sources import SampleBlock


def test_effective_rate_through_arrival_jitter():
    rng = np.random.default_rng(3)
    clock = StreamClock(1000)
    true_rate = 1000.8  # a crystal 800 ppm fast
    for k in range(1, 2000):  # 50-sample frames for 100 s, arriving 1-15 ms late
        end = 50 * k
        clock.frame(end, end / true_rate + rng.uniform(0.001, 0.015))
    assert clock.effective_rate_hz() == pytest.approx(true_rate, abs=0.05)


def test_no_rate_before_two_seconds():
    clock = StreamClock(1000)
    for k in range(1, 30):
        clock.frame(50 * k, 0.05 * k)
    assert clock.effective_rate_hz() is None and clock.rate_for_gaps_hz() == 1000


def test_device_clock_exact_frames_have_no_jitter_and_the_nominal_rate():
    clock = DeviceClock(2000)
    for k in range(200):  # 50-sample frames over 5 s, device time starting near the 2**32 wrap
        clock.frame(50 * k, (2**32 - 1_000_000 + k * 25_000) % 2**32)
    assert clock.effective_rate_hz() == pytest.approx(2000, abs=1e-6)
    assert clock.rms_jitter_us() == 0 and clock.max_jitter_us == 0


def test_device_clock_sees_ticks_a_soft_timer_dropped():
    # The counter stays contiguous, but 1 tick in 1000 never fired: device time runs 1 ms further.
    rng = np.random.default_rng(5)
    clock = DeviceClock(1000)
    t_us = 0
    for k in range(400):  # 20 s
        clock.frame(50 * k, t_us)
        dropped = rng.binomial(50, 0.001)
        t_us += (50 + dropped) * 1000 + int(rng.integers(-40, 40))
    assert clock.effective_rate_hz() == pytest.approx(999.0, abs=0.5)
    assert clock.max_jitter_us >= 1000 - 40  # a frame with a dropped tick is 1 ms late
    assert 0 < clock.rms_jitter_us() < 1000


def test_device_clock_restarts_per_connection():
    clock = DeviceClock(1000)
    for k in range(100):
        clock.frame(50 * k, k * 50_000)
    clock.connected()  # a restarted board: its clock starts again from an arbitrary value
    for k in range(100):
        clock.frame(5000 + 50 * k, 123 + k * 50_000)
    assert clock.effective_rate_hz() == pytest.approx(1000, abs=1e-6) and clock.max_jitter_us == 0


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, s):
        self.now += s


class FakeSource:
    """A connection that yields 50-sample frames at 1 kHz of fake time, then is lost (or ends)."""

    def __init__(self, clock, frames, lost=True):
        self.clock, self.frames, self.lost = clock, frames, lost
        self.info = type("Info", (), {"rate_hz": 1000})()
        self.decoder = type("D", (), {"stats": DecoderStats(frames=frames)})()
        self.board_counters = {}
        self.errors = []
        self.started = False

    def start(self):
        self.started = True

    def close(self):
        pass

    def blocks(self):
        for k in range(self.frames):
            self.clock.now += 0.05
            yield SampleBlock(50 * k, np.zeros(50))
        if self.lost:
            raise ConnectionLost("port gone", "board unplugged")


def test_a_reconnect_places_the_new_counter_after_the_gap():
    clock = FakeClock()
    # 3 s streamed, then unplugged; two failed attempts; back after the backoff.
    attempts = iter([FakeSource(clock, 60), MyotwitchError("no port"), MyotwitchError("no port"),
                     FakeSource(clock, 40, lost=False)])

    def connect():
        nxt = next(attempts)
        if isinstance(nxt, Exception):
            raise nxt
        return nxt

    board = ReconnectingBoard(connect, "fake", clock=clock, sleep=clock.sleep, retry_s=(0.25, 0.5, 1.0))
    board.open()
    board._source.errors.append("bad command")  # an error status frame from the first connection
    board.start()
    blocks = list(board.blocks())
    # Off from 3.0 s (last arrival) to 3.0 + 0.25 + 0.5 + 1.0 = 4.75 s; the first frame after arrives at
    # 4.80 s holding the 50 samples taken since 4.75 s: 1750 samples never taken.
    assert board.gaps == [(3000, 1750, "board unplugged")]
    after = blocks[60]
    assert (after.start_index, after.lost_before) == (4750, 1750)
    assert blocks[-1].start_index + 50 == 4750 + 40 * 50
    assert board.reconnects == 1 and board.stats.frames == 100
    assert board.errors == ["bad command"]  # kept across the reconnect


def test_a_lost_board_is_said_as_disconnected_with_its_reason_not_the_serial_library_text():
    clock = FakeClock()
    attempts = iter([FakeSource(clock, 3), FakeSource(clock, 2, lost=False)])
    said: list[str] = []
    board = ReconnectingBoard(lambda: next(attempts), "fake", clock=clock, sleep=clock.sleep, say=said.append)
    board.open()
    board.start()
    list(board.blocks())
    assert said[0] == "board disconnected (board unplugged); reconnecting (Ctrl-C stops)"
    assert "port gone" not in said[0]  # FakeSource's stand-in for pyserial's own message


def test_giving_up_is_a_clear_error():
    clock = FakeClock()
    sources = iter([FakeSource(clock, 5)])

    def connect():
        try:
            return next(sources)
        except StopIteration:
            raise MyotwitchError("no port") from None

    board = ReconnectingBoard(connect, "fake", clock=clock, sleep=clock.sleep, give_up_after_s=3)
    board.open()
    board.start()
    with pytest.raises(MyotwitchError, match="did not come back within 3 s: no port"):
        list(board.blocks())
