"""Where samples come from: a serial board, a recording, or a seeded synthetic signal.

Every source yields SampleBlocks in µV with the absolute index of their first
sample, so the detector cannot tell them apart. `base.py` declares the
interfaces: Source (blocks of samples) and Board (what a live session uses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SampleBlock:
    """One block of samples, one channel's (`samples_uv`), or several (`channels_uv`).

    A multi-channel block (a board with N channels) has `channels_uv` of shape (N, n), row c channel c,
    and `samples_uv` is row 0, so a one-channel consumer keeps working on channel 0. Indices, losses and
    times are the same for every channel (sample sets travel together): `per_channel()` gives one
    single-channel block per channel, as a per-channel detector wants them. `channel_skew_s` is how long
    after channel 0 channel 1 was converted (channel c: c times it; a board with one ADC converts them in
    turn): add c * channel_skew_s to channel c's sample times to correct for it.
    """

    start_index: int  # index of the first sample (set) since the stream began, lost samples included
    samples_uv: np.ndarray
    lost_before: int = 0  # samples missing just before this block (counted, never filled in)
    device_t_us: int | None = None  # the board's time of the first sample (µs, modulo 2**32), if it sent one
    lost_why: str | None = None  # why the lost_before samples are missing, when the source can tell
    skipped_bytes: int = 0  # bytes of noise the decoder skipped since the previous block
    channels_uv: np.ndarray | None = None  # (channels, n) for a multi-channel block, else None
    channel_skew_s: float = 0.0

    @property
    def channels(self) -> int:
        return 1 if self.channels_uv is None else int(self.channels_uv.shape[0])

    def per_channel(self) -> list[SampleBlock]:
        """One single-channel block per channel, each with this block's index, losses and times."""
        if self.channels_uv is None:
            return [self]
        return [SampleBlock(self.start_index, row, self.lost_before, self.device_t_us, self.lost_why,
                            self.skipped_bytes) for row in self.channels_uv]
