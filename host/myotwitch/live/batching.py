"""Blocks held together so the detector and the recorder wake a few times a second, not once a frame.

A board sends a frame every 25 ms (50 samples at 2 kHz). Fed one frame at a
time, the detector pays its per-call overhead (each SOS filter call, each
ring update) forty times a second, and the recorder flushes as often; fed
~0.25 s at a time they pay it four times. The detector's output does not
depend on how the stream is cut into blocks and its events carry absolute
sample indices, so batching changes when events are found (at most one
batch later), never what they are.

`BlockBatcher` is pure: `add(block)` holds a block and returns the batch when
it is full (by samples, or by the time its first block arrived, so a slow
source does not hold samples back); `take()` returns what is held (at the
end, before a gap, on a mark). Only contiguous blocks are joined: a block
with samples lost before it starts a new batch, so a batch never hides a gap.
The buffer is bounded: at most `batch_samples` plus one block.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from myotwitch.sources import SampleBlock

BATCH_S = 0.25  # the detector and the recorder see the stream this often; the live view sees every block at once


class BlockBatcher:
    def __init__(self, batch_samples: int, batch_s: float = BATCH_S) -> None:
        if batch_samples < 1:
            raise ValueError(f"batch_samples must be at least 1, not {batch_samples}")
        self.batch_samples = batch_samples
        self.batch_s = batch_s
        self._held: list[SampleBlock] = []
        self._held_samples = 0
        self._first_arrival_s = 0.0

    @property
    def held_samples(self) -> int:
        return self._held_samples

    def joins(self, block: SampleBlock) -> bool:
        """Whether `block` follows on from the held ones (or nothing is held), so it can join them."""
        if not self._held:
            return True
        last = self._held[-1]
        return not block.lost_before and block.start_index == last.start_index + len(last.samples_uv)

    def add(self, block: SampleBlock, arrival_s: float) -> SampleBlock | None:
        """Hold `block` (arrived at `arrival_s`, any monotonic clock); the batch if it is now due.

        A block that does not join the held ones (samples lost before it, or another start)
        must be preceded by `take()`: joining it would move its samples."""
        if not self.joins(block):
            raise ValueError(f"block at {block.start_index} does not follow the held ones: take() them first")
        if not self._held:
            self._first_arrival_s = arrival_s
        self._held.append(block)
        self._held_samples += len(block.samples_uv)
        if self._held_samples >= self.batch_samples or arrival_s - self._first_arrival_s >= self.batch_s:
            return self.take()
        return None

    def take(self) -> SampleBlock | None:
        """Everything held, as one block (None if nothing is held)."""
        if not self._held:
            return None
        held, self._held, self._held_samples = self._held, [], 0
        if len(held) == 1:
            return held[0]
        first = held[0]
        # The first block's gap, device time and noise count stand for the batch: the later ones have
        # no samples lost before them (checked in add); their skipped bytes are summed.
        # A board's several channels are joined row by row, so every channel keeps all its samples.
        rows = None if first.channels_uv is None else np.concatenate([b.channels_uv for b in held], axis=1)
        return replace(first, samples_uv=np.concatenate([b.samples_uv for b in held]),
                       skipped_bytes=sum(b.skipped_bytes for b in held), channels_uv=rows)
