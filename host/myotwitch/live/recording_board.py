"""A recording file played as if a board were streaming it: `myotwitch live --source PATH`.

Blocks of 50 ms are released at the recording's rate times `speed` (0: as
fast as they can be read), so the live path (view, recorder, LSL) sees what it
would see from a board. Values that are not numbers become gaps, as in
`analyze`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from myotwitch.live.clock import StreamClock
from myotwitch.monitor import NAN_GAP
from myotwitch.protocol import DecoderStats
from myotwitch.recordings import Recording
from myotwitch.sources import SampleBlock
from myotwitch.sources.replay import ReplaySource

_BLOCK_S = 0.05


@dataclass(frozen=True)
class RecordingInfo:
    rate_hz: float
    board: str = "recording"
    firmware: str = "-"
    adc_bits: int = 0
    fields: dict = field(default_factory=dict)


class RecordingBoard:
    def __init__(self, recording: Recording, speed: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.recording = recording
        self.speed = speed
        self.description = f"{recording.format} file {recording.path} (speed {speed:g})"
        self._clock = clock
        self._sleep = sleep
        self._replay = ReplaySource(recording, block_samples=max(1, round(recording.rate_hz * _BLOCK_S)))
        self.info = RecordingInfo(recording.rate_hz)
        self.stream_clock = StreamClock(recording.rate_hz)
        self.device_clock = None  # a file has no board clock
        self.stats = DecoderStats()  # nothing comes over a wire
        self.board_counters: dict[str, int] = {}
        self.errors: list[str] = []
        self.reconnects = 0

    @property
    def gaps(self) -> list[tuple[int, int, str]]:
        return [(first, count, NAN_GAP) for first, count in self._replay.skipped]

    def open(self) -> RecordingInfo:
        return self.info

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def blocks(self) -> Iterator[SampleBlock]:
        began = self._clock()
        for block in self._replay.blocks():
            end = block.start_index + len(block.samples_uv)
            if self.speed > 0:
                wait = began + end / (self.recording.rate_hz * self.speed) - self._clock()
                if wait > 0:
                    self._sleep(wait)
            self.stream_clock.frame(end, self._clock())
            yield block
