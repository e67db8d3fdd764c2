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
    start_index: int  # index of the first sample since the stream began, lost samples included
    samples_uv: np.ndarray
    lost_before: int = 0  # samples missing just before this block (counted, never filled in)
    device_t_us: int | None = None  # the board's time of the first sample (µs, modulo 2**32), if it sent one
    lost_why: str | None = None  # why the lost_before samples are missing, when the source can tell
    skipped_bytes: int = 0  # bytes of noise the decoder skipped since the previous block
