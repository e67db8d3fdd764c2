"""The serial source's wake-ups while streaming: bounded by its read interval, not by the frame rate.

A board sends a frame every 25 ms at 2 kHz. The port here is a fake with
pyserial's blocking semantics on a fake clock: a read with a timeout waits in
`select`, which returns on every arrival (a wake-up each) until it has `size`
bytes or the timeout passes (a wake-up too); `in_waiting` and a read of what
is waiting do not block. The reason for the rule is the host's CPU in real
time: each wake-up costs a scheduler round trip and Python's loop overhead,
and the frames are wanted ~0.25 s at a time anyway (live/batching.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from fake_board import FakeClock
from myotwitch import protocol as P
from myotwitch.sources import serial_source
from myotwitch.sources.serial_source import READ_INTERVAL_S, SerialSource

RATE_HZ = 2000
FRAME_SAMPLES = 50
HELLO = P.encode_hello([("board", "fake"), ("protocol", 2), ("fw", "fake 1"), ("rate_hz", RATE_HZ),
                        ("adc_bits", 12), ("vref_mv", 3300), ("gain", 200), ("frame_samples", FRAME_SAMPLES),
                        ("format", P.FORMAT_PACKED12)])


class PacedPort:
    """Frames arriving every 25 ms of the fake clock once START is written; reads as pyserial's do."""

    def __init__(self, clock: FakeClock, frames: int, timeout_s: float = 0.05, first_after_s: float = 0.0) -> None:
        self.clock, self.timeout_s, self.first_after_s = clock, timeout_s, first_after_s
        self.pending = bytearray()  # answers to commands: there at once
        self.arrivals: list[tuple[float, bytes]] = []
        self.frames = frames
        self.counts = np.random.default_rng(5).integers(0, 4096, size=frames * FRAME_SAMPLES)
        self.wakeups = 0
        self.is_open = True

    def write(self, data: bytes) -> int:
        for line in data.decode().split("\n"):
            if line == "INFO":
                self.pending += HELLO
            elif line == "START":
                self.pending += P.encode_status(P.STATUS_OK, "START")
                t0 = self.clock.now + self.first_after_s
                for k in range(self.frames):
                    samples = self.counts[k * FRAME_SAMPLES:(k + 1) * FRAME_SAMPLES]
                    frame = P.encode_data(k, k * 25_000, 0, samples, P.FORMAT_PACKED12)
                    self.arrivals.append((t0 + (k + 1) * FRAME_SAMPLES / RATE_HZ, frame))
                self.arrivals.append((t0 + (self.frames + 1) * FRAME_SAMPLES / RATE_HZ,
                                      P.encode_status(P.STATUS_END, f"END frames={self.frames}")))
        return len(data)

    def _arrive(self) -> None:
        while self.arrivals and self.arrivals[0][0] <= self.clock.now:
            self.pending += self.arrivals.pop(0)[1]

    @property
    def in_waiting(self) -> int:
        self._arrive()
        return len(self.pending)

    def read(self, size: int) -> bytes:
        deadline = self.clock.now + self.timeout_s
        self._arrive()
        while len(self.pending) < size:  # select: wakes on each arrival, or at the timeout
            if not self.arrivals or self.arrivals[0][0] >= deadline:
                self.clock.now = max(self.clock.now, deadline)
                self.wakeups += 1
                break
            self.clock.now = max(self.clock.now, self.arrivals[0][0])
            self.wakeups += 1
            self._arrive()
        out, self.pending = bytes(self.pending[:size]), self.pending[size:]
        return out

    def open(self) -> None:
        self.is_open = True

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.is_open = False


@pytest.fixture
def paced(monkeypatch):
    clock = FakeClock(100.0)
    port = PacedPort(clock, frames=400)  # 10 s at 2 kHz

    def sleep(s: float) -> None:
        port.wakeups += 1
        clock.sleep(s)

    monkeypatch.setattr(serial_source.serial, "serial_for_url", lambda *a, **k: port)
    source = SerialSource("fake://board", clock=clock, sleep=sleep)
    source.open()
    source.start()
    return source, port, clock


def test_streaming_wakes_at_the_read_interval_not_per_frame(paced):
    source, port, clock = paced
    port.wakeups, start_s = 0, clock.now
    blocks = list(source.blocks())
    stream_s = clock.now - start_s
    frames_per_s = RATE_HZ / FRAME_SAMPLES
    assert len(blocks) == port.frames
    # The blocking read woke ~1.5 times per frame (each arrival, and each 50 ms timeout): 60 a second here.
    assert port.wakeups / stream_s <= 1 / READ_INTERVAL_S + 1
    assert port.wakeups / stream_s < frames_per_s / 3


def test_paced_reads_keep_every_sample_in_order(paced):
    source, port, _ = paced
    blocks = list(source.blocks())
    assert [b.start_index for b in blocks] == [k * FRAME_SAMPLES for k in range(port.frames)]
    assert sum(b.lost_before for b in blocks) == 0
    uv = np.concatenate([b.samples_uv for b in blocks])
    assert np.array_equal(uv, source.info.counts_to_uv(port.counts))
    assert source.board_counters == {"frames": port.frames}


def test_a_paced_read_delays_a_frame_by_at_most_the_interval(paced):
    source, port, clock = paced
    due = {k * FRAME_SAMPLES: t for k, (t, _) in enumerate(port.arrivals[:port.frames])}
    late_s = [clock.now - due[b.start_index] for b in source.blocks()]
    assert max(late_s) <= READ_INTERVAL_S + 1e-9


def test_the_first_frame_is_read_as_it_arrives(monkeypatch):
    """A reconnection places the new counter after the gap by the first frame's arrival time
    (sources/reconnecting.py): pacing starts after it, so that time is not up to an interval late."""
    clock = FakeClock(100.0)
    port = PacedPort(clock, frames=10, first_after_s=0.2)  # the board starts a moment after its START answer
    monkeypatch.setattr(serial_source.serial, "serial_for_url", lambda *a, **k: port)
    source = SerialSource("fake://board", clock=clock, sleep=clock.sleep)
    source.open()
    source.start()
    first_due_s = port.arrivals[0][0]
    next(iter(source.blocks()))
    assert clock.now == first_due_s
