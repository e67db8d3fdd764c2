"""`live --source sim --rate 500|2000`: the simulated board plays its recording resampled to the rate asked."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from conftest import DEMO_EDF
from myotwitch.cli import main
from myotwitch.recordings import open_recording
from myotwitch.sources.simboard import at_rate


def test_resampling_keeps_the_signal_and_its_length():
    recording = open_recording(DEMO_EDF)
    x = np.concatenate(list(recording.blocks()))
    half = at_rate(recording, 500)
    y = np.concatenate(list(half.blocks(block_samples=4096)))
    assert half.rate_hz == 500 and half.n_samples == len(y) == len(x) // 2
    # The same signal at half the rate: the 0-200 Hz content agrees sample for sample (every other one).
    from scipy.signal import butter, sosfiltfilt

    low = butter(4, 200, fs=1000, output="sos")
    assert np.std(y - sosfiltfilt(low, x)[::2]) < 0.2 * np.std(x)
    assert at_rate(recording, None) is recording and at_rate(recording, 1000) is recording


@pytest.mark.parametrize("rate_hz", [500, 2000])
def test_the_sim_board_runs_at_the_rate_asked(tmp_path, rate_hz):
    out = io.StringIO()
    code = main(["live", "--source", "sim", "--rate", str(rate_hz), "--speed", "0", "--duration", "3", "--no-view",
                 "--format", "jsonl", "--out", str(tmp_path / "s"), "--db", str(tmp_path / "db.sqlite")], stdout=out)
    assert code == 0
    summary = json.loads(out.getvalue().splitlines()[-1])
    assert summary["type"] == "summary" and summary["rate_hz"] == rate_hz
    assert summary["samples"] == 3 * rate_hz and summary["lost_samples"] == 0
