"""The conditioning filters without scipy.signal at run time: the stored designs, the compiled sosfilt loaded
alone, sosfilt_zi and Welch in numpy, each the same as scipy's."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import signal

from myotwitch.dsp import filters, sos_table
from myotwitch.dsp.filters import FilterConfig


@pytest.mark.parametrize("key", sorted(sos_table.BANDPASS))
def test_the_stored_band_passes_are_scipys_design(key):
    rate_hz, highpass_hz, lowpass_hz, order = key
    designed = signal.butter(order, [highpass_hz, lowpass_hz], btype="bandpass", fs=rate_hz, output="sos")
    np.testing.assert_allclose(np.array(sos_table.BANDPASS[key]), designed, rtol=1e-13, atol=1e-15)
    assert lowpass_hz == filters.lowpass_edge_hz(rate_hz, FilterConfig(highpass_hz=highpass_hz))


@pytest.mark.parametrize("key", sorted(sos_table.NOTCHES))
def test_the_stored_notches_are_scipys_design(key):
    rate_hz, f0_hz, width_hz, top_hz = key
    designed = [signal.tf2sos(*signal.iirnotch(f, f / width_hz, fs=rate_hz)) for f in np.arange(f0_hz, top_hz, f0_hz)]
    np.testing.assert_allclose(np.array(sos_table.NOTCHES[key]), np.vstack(designed), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("rate_hz", [500.0, 1000.0, 2000.0, 4000.0, 800.0])
def test_the_design_is_the_same_with_or_without_the_table(rate_hz):
    # 4000 and 800 Hz are not stored: scipy designs them, as it did every rate before.
    cfg = FilterConfig()
    top_hz = filters.lowpass_edge_hz(rate_hz, cfg)
    notches = [signal.tf2sos(*signal.iirnotch(f, f / 2.0, fs=rate_hz)) for f0 in (50.0, 60.0)
               for f in np.arange(f0, top_hz, f0)]
    expected = np.vstack([signal.butter(2, [20.0, top_hz], btype="bandpass", fs=rate_hz, output="sos"), *notches])
    np.testing.assert_allclose(filters.design_conditioning_sos(rate_hz, cfg), expected, rtol=1e-13, atol=1e-15)


def test_sosfilt_and_its_steady_state_are_scipys():
    rng = np.random.default_rng(1)
    sos = filters.design_conditioning_sos(2000.0)
    np.testing.assert_allclose(filters.sosfilt_zi(sos), signal.sosfilt_zi(sos), rtol=1e-12, atol=1e-15)
    x = rng.normal(0.0, 10.0, 5000) + 40.0
    zi = signal.sosfilt_zi(sos) * x[0]
    expected, expected_state = signal.sosfilt(sos, x, zi=zi)
    y, state = filters.sosfilt(sos, x, zi[None])
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(state[0], expected_state)
    rows = rng.normal(0.0, 10.0, (7, 141))[:, ::-1]  # not contiguous, as Features.raw_peaks passes them
    np.testing.assert_array_equal(filters.sosfilt(sos, rows)[0], signal.sosfilt(sos, rows, axis=1))


def test_the_streaming_filter_does_not_depend_on_the_blocks():
    x = np.random.default_rng(2).normal(0.0, 10.0, 3000) + 25.0
    sos = filters.design_conditioning_sos(1000.0)
    whole = filters.StreamingSosFilter(sos).process(x)
    cut = filters.StreamingSosFilter(sos)
    parts = [cut.process(x[i : i + n]) for i, n in ((0, 1), (1, 700), (701, 2299))]
    np.testing.assert_allclose(np.concatenate(parts), whole, rtol=0, atol=1e-9)
    zi = signal.sosfilt_zi(sos) * x[0]
    np.testing.assert_allclose(whole, signal.sosfilt(sos, x, zi=zi)[0], rtol=0, atol=1e-9)


@pytest.mark.parametrize("rate_hz", [500.0, 1000.0, 2000.0, 1500.0])
def test_welch_is_scipys(rate_hz):
    x = np.random.default_rng(3).normal(0.0, 5.0, int(2 * rate_hz) + 37)
    f, p = filters.welch(x, rate_hz, int(rate_hz // 2))
    ef, ep = signal.welch(x, fs=rate_hz, nperseg=int(rate_hz // 2))
    np.testing.assert_allclose(f, ef, rtol=1e-12)
    np.testing.assert_allclose(p, ep, rtol=1e-10, atol=1e-14 * ep.max())


def test_analysing_at_a_standard_rate_does_not_import_scipy_signal():
    # The reason of the table: scipy.signal costs about 0.6 s of a short analysis's start-up.
    code = ("import sys, numpy as np\n"
            "from myotwitch.dsp.detector import TwitchDetector\n"
            "det = TwitchDetector(2000.0)\n"
            "x = np.random.default_rng(0).normal(0, 5, 20000) + 3 * np.sin(np.arange(20000) * 2 * np.pi / 40)\n"
            "det.process(0, x); det.flush()\n"
            "assert det.mains_hz == (50.0,), det.mains_hz\n"
            "print('scipy.signal' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr
