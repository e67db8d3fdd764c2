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

import io

import numpy as np
import pytest

from fake_board import FakeClock
from myotwitch import protocol as P
from myotwitch.cli import main
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


class FastBoardPort(PacedPort):
    """A board that is not real time (the simulated board at --speed 0): it writes frames as fast as it can,
    `rate_bytes_per_s` of the fake clock, into the OS's tty buffer, and blocks while that buffer is full."""

    TTY_BUFFER_BYTES = 4096

    def __init__(self, clock: FakeClock, frames: int, rate_bytes_per_s: float = 400_000.0) -> None:
        super().__init__(clock, frames)
        self.rate_bytes_per_s = rate_bytes_per_s
        self.queued: list[bytes] = []  # what the board has yet to write, in order
        self.stream_bytes = 0
        self.written_until = 0.0  # the board's own clock: when its last write ended

    def write(self, data: bytes) -> int:
        super().write(data)
        if b"START" in data:  # the stream: written as fast as the buffer takes it, not on a timetable
            self.queued = [frame for _, frame in self.arrivals]
            self.stream_bytes = sum(len(frame) for frame in self.queued)
            self.arrivals = []
            self.written_until = self.clock.now
        return len(data)

    def _arrive(self) -> None:
        if len(self.pending) >= self.TTY_BUFFER_BYTES:
            self.written_until = max(self.written_until, self.clock.now)  # blocked on the full buffer till now
        while self.queued and len(self.pending) < self.TTY_BUFFER_BYTES:
            done = self.written_until + len(self.queued[0]) / self.rate_bytes_per_s
            if done > self.clock.now:
                break
            self.pending += self.queued.pop(0)
            self.written_until = done

    def read(self, size: int) -> bytes:
        self._arrive()
        while len(self.pending) < size and self.queued:  # select: wakes on each write, or at the timeout
            self.clock.now += len(self.queued[0]) / self.rate_bytes_per_s
            self.wakeups += 1
            self._arrive()
        out, self.pending = bytes(self.pending[:size]), self.pending[size:]
        return out


def _fast_board(monkeypatch, read_interval_s: float | None):
    clock = FakeClock(100.0)
    port = FastBoardPort(clock, frames=1200)  # 30 s at 2 kHz, written in about 0.15 s
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        clock.sleep(s)

    monkeypatch.setattr(serial_source.serial, "serial_for_url", lambda *a, **k: port)
    pace = {} if read_interval_s is None else {"read_interval_s": read_interval_s}
    source = SerialSource("fake://board", clock=clock, sleep=sleep, **pace)
    source.open()
    source.start()
    return source, port, clock, slept


def test_a_board_faster_than_real_time_is_read_unpaced_as_fast_as_it_writes(monkeypatch):
    """The reason for read_interval_s=0: a board that writes as fast as it can blocks on the tty buffer while
    the host sleeps, so a pace only holds it up. Unpaced, the stream takes the board's own time, and every
    sample is kept in order."""
    source, port, clock, slept = _fast_board(monkeypatch, 0.0)
    start_s = clock.now
    blocks = list(source.blocks())
    written_s = port.stream_bytes / port.rate_bytes_per_s  # the board's own time to write the stream
    assert slept == [] and clock.now - start_s <= 1.1 * written_s
    assert [b.start_index for b in blocks] == [k * FRAME_SAMPLES for k in range(port.frames)]
    assert np.array_equal(np.concatenate([b.samples_uv for b in blocks]), source.info.counts_to_uv(port.counts))
    # Paced, the same board is held up by the host's sleeps: the default is for boards in real time.
    source, port, clock, slept = _fast_board(monkeypatch, None)
    start_s = clock.now
    assert len(list(source.blocks())) == port.frames
    assert slept and clock.now - start_s > 2 * written_s


def test_the_simulated_board_at_full_speed_is_read_unpaced(monkeypatch, tmp_path):
    """`demo` and `check` at --speed 0 read the simulated board as it writes; any other port is paced."""
    opened: list[float] = []

    class Opened(SerialSource):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            opened.append(self.read_interval_s)

    monkeypatch.setattr(serial_source, "SerialSource", Opened)
    assert main(["demo", "--speed", "0", "--duration", "1", "--format", "jsonl", "--no-view",
                 "--out", str(tmp_path / "s"), "--db", str(tmp_path / "l.sqlite")], stdout=io.StringIO()) == 0
    assert main(["check", "--no-prompt", "--format", "jsonl", "--source", "sim", "--speed", "0", "--relax", "3"],
                stdout=io.StringIO()) == 0
    assert opened == [0.0, 0.0]
    assert SerialSource("loop://").read_interval_s == READ_INTERVAL_S
