"""A board on a fake clock, for session tests that run faster than real time and the same on every run.

`World` is the signal at the electrodes, sampled at the board's crystal rate
on an injected clock; `FakeConnection` stands in for an opened SerialSource
(50-sample frames, the board's µs time, an unplug or a reset at a chosen
sample); `connector` opens connections only while the board is plugged in.
Nothing sleeps: time passes when a frame is taken or a backoff is waited.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from myotwitch.errors import ConnectionLost, MyotwitchError
from myotwitch.protocol import DecoderStats
from myotwitch.sources import SampleBlock

RATE_HZ = 1000
FRAME_SAMPLES = 50


class FakeClock:
    def __init__(self, now_s: float = 0.0) -> None:
        self.now = now_s

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.now += s


class World:
    """The signal a board samples: sample n is taken at n / (rate x (1 + ppm)) s of the clock."""

    def __init__(self, signal_uv: np.ndarray, clock: FakeClock, crystal_ppm: float = 0.0) -> None:
        self.signal_uv = signal_uv
        self.clock = clock
        self.true_rate_hz = RATE_HZ * (1 + crystal_ppm / 1e6)

    def index_now(self) -> int:
        return round(self.clock.now * self.true_rate_hz)


class FakeConnection:
    """One connection to the board: streams the world from where it is when started, until `lost_after`
    samples (then ConnectionLost with `why`) or the end of the world (the board's END)."""

    def __init__(self, world: World, lost_after: int | None = None, why: str = "board unplugged",
                 arrival_jitter_s: tuple[float, float] = (0.0, 0.0), seed: int = 0) -> None:
        self.world = world
        self.lost_after, self.why = lost_after, why
        self.jitter_s, self.rng = arrival_jitter_s, np.random.default_rng(seed)
        self.info = SimpleNamespace(rate_hz=RATE_HZ, board="fake", firmware="fake-fw 1", adc_bits=12, gain=1.0,
                                    fields={"uid": "f00d"})
        self.rate_hz = float(RATE_HZ)
        self.description = "fake board"
        self.decoder = SimpleNamespace(stats=DecoderStats())
        self.board_counters: dict[str, int] = {}
        self.errors: list[str] = []
        self.first_world_index = -1

    def start(self) -> None:
        self.first_world_index = self.world.index_now()
        self.t0_s = self.first_world_index / self.world.true_rate_hz

    def close(self) -> None:
        pass

    def blocks(self):
        world, n = self.world, 0
        while self.first_world_index + n + FRAME_SAMPLES <= len(world.signal_uv):
            if self.lost_after is not None and n >= self.lost_after:
                raise ConnectionLost("the fake port went away", self.why)
            # The frame leaves when its last sample is taken, and arrives a little later.
            taken_s = self.t0_s + (n + FRAME_SAMPLES) / world.true_rate_hz
            world.clock.now = max(world.clock.now, taken_s + self.rng.uniform(*self.jitter_s))
            start = self.first_world_index + n
            self.decoder.stats.frames += 1
            # The board's µs counter runs on its own crystal: exactly 1000 µs per sample.
            yield SampleBlock(n, world.signal_uv[start : start + FRAME_SAMPLES].copy(), device_t_us=n * 1000)
            n += FRAME_SAMPLES


def connector(world: World, connections: list[FakeConnection], plugged_in_from_s: list[float]):
    """connect() for ReconnectingBoard: the i-th connection opens once the clock reaches plugged_in_from_s[i]."""
    queue = list(zip(plugged_in_from_s, connections))

    def connect() -> FakeConnection:
        if not queue or world.clock.now < queue[0][0]:
            raise MyotwitchError("no board on the fake port")
        return queue.pop(0)[1]

    return connect
