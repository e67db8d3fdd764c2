"""Replay a recording file as a source, and play any source as a board at a pace.

`ReplaySource` reads a recording as fast as it can be read (`analyze`).
Samples that are not finite numbers (NaN, infinity: a dropout in the file),
or beyond ±10 V at the electrodes (no EMG front end gets near it: a corrupt
value, or the wrong unit), are never filled in: each such run becomes a gap,
counted as lost samples, and listed in `skipped` as (first index, count).

`ReplayBoard` plays a source as if a board were streaming it (`live --source
PATH`): blocks are released at the source's rate times `speed` (0: as fast as
they can be read), so the live path (view, recorder, LSL) sees what it would
see from a board.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from myotwitch.live.clock import StreamClock
from myotwitch.protocol import DecoderStats
from myotwitch.recordings import DEFAULT_BLOCK_SAMPLES, Recording
from myotwitch.sources import SampleBlock
from myotwitch.sources.base import Source

MAX_PLAUSIBLE_UV = 1e7  # 10 V at the electrodes
NAN_GAP = "not numbers, or beyond 10 V (invalid)"  # why ReplaySource's skipped samples are missing
_LIVE_BLOCK_S = 0.05  # a streamed recording's blocks: 50 ms, a board's frames a few at a time


class ReplaySource:
    def __init__(self, recording: Recording, block_samples: int = DEFAULT_BLOCK_SAMPLES) -> None:
        self.recording = recording
        self.rate_hz = recording.rate_hz
        self.block_samples = block_samples
        self.description = f"{recording.format} file {recording.path}"
        self.skipped: list[tuple[int, int]] = []  # (first index, count) of non-finite runs

    def blocks(self) -> Iterator[SampleBlock]:
        index = 0
        lost = 0
        for block in self.recording.blocks(self.block_samples):
            # Every sample a number within +-MAX_PLAUSIBLE_UV, the usual case: two reductions say so (a NaN makes
            # both NaN, which fails the test), without a mask of the block.
            if not len(block) or (block.min() >= -MAX_PLAUSIBLE_UV and block.max() <= MAX_PLAUSIBLE_UV):
                yield SampleBlock(index, block, lost)
                lost = 0
            else:
                with np.errstate(invalid="ignore"):
                    finite = np.abs(block) <= MAX_PLAUSIBLE_UV  # False for NaN too
                edges = np.flatnonzero(np.diff(np.concatenate(([0], finite.view(np.int8), [0]))))
                cursor = 0
                for s, e in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
                    lost += self._skip(index + cursor, s - cursor)
                    yield SampleBlock(index + s, block[s:e], lost)
                    lost = 0
                    cursor = e
                lost += self._skip(index + cursor, len(block) - cursor)
            index += len(block)

    def _skip(self, first: int, count: int) -> int:
        if count > 0:
            if self.skipped and self.skipped[-1][0] + self.skipped[-1][1] == first:
                self.skipped[-1] = (self.skipped[-1][0], self.skipped[-1][1] + count)
            else:
                self.skipped.append((first, count))
        return max(count, 0)


@dataclass(frozen=True)
class ReplayInfo:
    """What a replayed source says of itself where a board would send its hello frame."""

    rate_hz: float
    board: str = "recording"
    firmware: str = "-"
    adc_bits: int = 0  # no ADC to speak of
    fields: dict[str, str] = field(default_factory=dict)


class ReplayBoard:
    """Any Source played as a Board, paced at its rate times `speed` on an injected clock.

    Values the source skipped (a recording's NaN runs) are the board's gaps, as in `analyze`.
    """

    def __init__(self, source: Source, speed: float = 1.0, *, board: str = "recording",
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.source = source
        self.speed = speed
        self.description = f"{source.description} (speed {speed:g})"
        self._clock = clock
        self._sleep = sleep
        self.info = ReplayInfo(source.rate_hz, board=board)
        self.stream_clock = StreamClock(source.rate_hz)
        self.device_clock = None  # a file has no board clock
        self.stats = DecoderStats()  # nothing comes over a wire
        self.board_counters: dict[str, int] = {}
        self.errors: list[str] = []
        self.reconnects = 0

    @property
    def gaps(self) -> list[tuple[int, int, str]]:
        skipped: list[tuple[int, int]] = getattr(self.source, "skipped", [])
        return [(first, count, NAN_GAP) for first, count in skipped]

    def open(self) -> ReplayInfo:
        return self.info

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def blocks(self) -> Iterator[SampleBlock]:
        began = self._clock()
        rate_hz = self.source.rate_hz
        for block in self.source.blocks():
            end = block.start_index + len(block.samples_uv)
            if self.speed > 0:
                wait = began + end / (rate_hz * self.speed) - self._clock()
                if wait > 0:
                    self._sleep(wait)
            self.stream_clock.frame(end, self._clock())
            yield block


def recording_board(recording: Recording, speed: float = 1.0, clock: Callable[[], float] = time.monotonic,
                    sleep: Callable[[float], None] = time.sleep) -> ReplayBoard:
    """A recording file streamed as a board (`myotwitch live --source PATH`), in blocks of 50 ms."""
    source = ReplaySource(recording, block_samples=max(1, round(recording.rate_hz * _LIVE_BLOCK_S)))
    return ReplayBoard(source, speed, clock=clock, sleep=sleep)
