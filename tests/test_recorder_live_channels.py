"""A board with several channels (protocol v2 blocks carrying `channels_uv`) recorded through add_block: the
session folder says so from its first block, every sample set is kept with NaN where lost, one EDF+ signal
per channel."""

from __future__ import annotations

import json

import numpy as np
import pyedflib
from myotwitch.recorder import SessionRecorder, write_session_edf
from myotwitch.sources import SampleBlock


def three_channel_blocks(blocks: int, block_samples: int, gap_at: int, gap_samples: int):
    rng = np.random.default_rng(5)
    out, truth, index = [], [], 0
    for b in range(blocks):
        lost = gap_samples if b == gap_at else 0
        index += lost
        rows = np.stack([rng.normal(0, 20, block_samples) + 100 * c for c in range(3)])
        out.append(SampleBlock(index, rows[0], lost, channels_uv=rows))
        truth.append((index, rows))
        index += block_samples
    return out, truth, index


def test_a_boards_channels_are_kept_set_by_set_with_the_same_gap(tmp_path):
    blocks, truth, end = three_channel_blocks(blocks=40, block_samples=50, gap_at=10, gap_samples=125)
    rec = SessionRecorder(tmp_path / "s", 1000, {"board": "sim", "muscles": ["right APB", "right FDI", "right FCR"]})
    for b in blocks:
        rec.add_block(b)
    rec.close()
    meta = json.loads((tmp_path / "s" / "session.json").read_text())
    assert meta["channels"] == 3 and meta["muscles"] == ["right APB", "right FDI", "right FCR"]
    sets = np.fromfile(tmp_path / "s" / "samples.f32", dtype="<f4").reshape(-1, 3)
    assert len(sets) == end
    assert np.isnan(sets[500:625]).all() and not np.isnan(sets[:500]).any()  # lost on every channel, not filled
    for start, rows in truth:
        assert np.allclose(sets[start : start + 50].T, rows, atol=1e-4)
    path = write_session_edf(tmp_path / "s")
    with pyedflib.EdfReader(str(path)) as edf:
        assert edf.signals_in_file == 3
        labels = edf.getSignalLabels()
        assert [m in label for m, label in zip(("APB", "FDI", "FCR"), labels, strict=True)] == [True] * 3
        for c in range(3):
            x = edf.readSignal(c)[:end]
            keep = ~np.isnan(sets[:, c])
            resolution = (edf.getPhysicalMaximum(c) - edf.getPhysicalMinimum(c)) / 65535
            assert np.max(np.abs(x[keep] - sets[keep, c])) <= resolution
        onsets, durations, texts = edf.readAnnotations()
    gaps = [(o, d) for o, d, t in zip(onsets, durations, texts, strict=True) if t.startswith("gap")]
    assert gaps == [(0.5, 0.125)]  # one gap, on every channel at once: one annotation
