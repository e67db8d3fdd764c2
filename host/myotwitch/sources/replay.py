"""Replay a recording file as a source (as fast as it can be read)."""

from __future__ import annotations

from collections.abc import Iterator

from myotwitch.recordings import DEFAULT_BLOCK_SAMPLES, Recording
from myotwitch.sources import SampleBlock


class ReplaySource:
    def __init__(self, recording: Recording, block_samples: int = DEFAULT_BLOCK_SAMPLES) -> None:
        self.recording = recording
        self.rate_hz = recording.rate_hz
        self.block_samples = block_samples
        self.description = f"{recording.format} file {recording.path}"

    def blocks(self) -> Iterator[SampleBlock]:
        index = 0
        for block in self.recording.blocks(self.block_samples):
            yield SampleBlock(index, block)
            index += len(block)
