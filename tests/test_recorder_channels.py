"""A session folder of a board with several channels: a raw file per channel, an EDF+ signal per channel."""

from __future__ import annotations

import json

import numpy as np
import pyedflib
from myotwitch.recorder import SessionRecorder, channel_samples_name, write_session_edf
from myotwitch.sources import SampleBlock


def three_channel_blocks(rate_hz: int, blocks: int, block_samples: int, gap_at: int, gap_samples: int):
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


def test_each_channel_gets_its_raw_file_and_edf_signal_with_the_same_gap(tmp_path):
    rate_hz = 1000
    blocks, truth, end = three_channel_blocks(rate_hz, blocks=40, block_samples=50, gap_at=10, gap_samples=125)
    rec = SessionRecorder(tmp_path / "s", rate_hz, {"board": "sim", "muscles": ["right APB", "right FDI"]})
    for b in blocks:
        rec.add_block(b)
    rec.close()
    meta = json.loads((tmp_path / "s" / "session.json").read_text())
    assert meta["channels"] == 3
    raws = [np.fromfile(tmp_path / "s" / channel_samples_name(c), dtype="<f4") for c in range(3)]
    assert all(len(r) == end for r in raws)
    for c in range(3):
        assert np.isnan(raws[c][500:625]).all() and not np.isnan(raws[c][:500]).any()  # lost, never filled in
        for start, rows in truth:
            assert np.allclose(raws[c][start : start + 50], rows[c], atol=1e-4)
    path = write_session_edf(tmp_path / "s")
    with pyedflib.EdfReader(str(path)) as edf:
        assert edf.signals_in_file == 3
        assert edf.getSignalLabels() == ["EMG0 right APB", "EMG1 right FDI", "EMG2 surface"]
        for c in range(3):
            x = edf.readSignal(c)[:end]
            keep = ~np.isnan(raws[c])
            resolution = (edf.getPhysicalMaximum(c) - edf.getPhysicalMinimum(c)) / 65535
            assert np.max(np.abs(x[keep] - raws[c][keep])) <= resolution
        onsets, durations, texts = edf.readAnnotations()
    gaps = [(o, d) for o, d, t in zip(onsets, durations, texts) if t.startswith("gap")]
    assert gaps == [(0.5, 0.125)]


def test_a_one_channel_session_has_no_channel_files(tmp_path):
    rec = SessionRecorder(tmp_path / "s", 1000, {"board": "sim"})
    rec.add_block(SampleBlock(0, np.zeros(100)))
    rec.close()
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["events.jsonl", "samples.f32", "session.json"]
    assert "channels" not in json.loads((tmp_path / "s" / "session.json").read_text())
