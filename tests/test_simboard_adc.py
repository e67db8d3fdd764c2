"""What the simulated board's ADC plays of a recording: codes of a 12-bit ADC, clipped at its rails, and
samples the recording lacks played at mid-scale and counted (an ADC has no value for "missing")."""

from __future__ import annotations

import numpy as np
from pathlib import Path

from myotwitch.sources.simboard import SIM_ADC_BITS, SIM_GAIN, SIM_VREF_MV, _InMemoryRecording, write_adc_file


def codes_of(x_uv: np.ndarray, tmp_path) -> tuple[np.ndarray, tuple[int, int, int]]:
    path = tmp_path / "adc.u16"
    counts = write_adc_file(_InMemoryRecording(Path("x.csv"), "csv", 1000.0, len(x_uv), "x", x_uv), path)
    return np.fromfile(path, dtype="<u2") >> (16 - SIM_ADC_BITS), counts


def test_missing_samples_play_at_mid_scale_and_are_counted_not_railed(tmp_path):
    x_uv = np.zeros(1000)
    x_uv[100:150] = np.nan  # a gap in the recording
    x_uv[500] = 5e6  # far beyond the ADC's range: clipped at the top rail
    codes, (samples, clipped, missing) = codes_of(x_uv, tmp_path)
    mid = 1 << (SIM_ADC_BITS - 1)
    assert (samples, clipped, missing) == (1000, 1, 50)
    assert (codes[100:150] == mid).all()  # not code 0, the bottom rail: that would read as a saturated sensor
    assert codes[500] == (1 << SIM_ADC_BITS) - 1


def test_codes_follow_the_gain_and_reference(tmp_path):
    uv_per_count = SIM_VREF_MV * 1000.0 / (SIM_GAIN * (1 << SIM_ADC_BITS))
    codes, (_, clipped, missing) = codes_of(np.array([0.0, 10 * uv_per_count, -3 * uv_per_count]), tmp_path)
    mid = 1 << (SIM_ADC_BITS - 1)
    assert codes.tolist() == [mid, mid + 10, mid - 3] and (clipped, missing) == (0, 0)
