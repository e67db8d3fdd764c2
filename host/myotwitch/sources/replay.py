"""Replay a recording file as a source (as fast as it can be read).

Samples that are not finite numbers (NaN, infinity: a dropout in the file),
or beyond ±10 V at the electrodes (no EMG front end gets near it: a corrupt
value, or the wrong unit), are never filled in: each such run becomes a gap,
counted as lost samples, and listed in `skipped` as (first index, count).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from myotwitch.recordings import DEFAULT_BLOCK_SAMPLES, Recording
from myotwitch.sources import SampleBlock

MAX_PLAUSIBLE_UV = 1e7  # 10 V at the electrodes


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
            with np.errstate(invalid="ignore"):
                finite = np.abs(block) <= MAX_PLAUSIBLE_UV  # False for NaN too
            if finite.all():
                yield SampleBlock(index, block, lost)
                lost = 0
            else:
                edges = np.flatnonzero(np.diff(np.concatenate(([0], finite.view(np.int8), [0]))))
                cursor = 0
                for s, e in zip(edges[0::2].tolist(), edges[1::2].tolist()):
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
