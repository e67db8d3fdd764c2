"""The doublet's repeat test on noise-free signals: the whole potential fired again fits the doublet model, two
same-sign lobes of one potential do not (issue 13 item 2)."""

from __future__ import annotations

import numpy as np
import pytest

from myotwitch.dsp.config import DetectorConfig
from myotwitch.dsp.filters import FilterConfig, design_bandpass_sos, sosfilt
from myotwitch.dsp.repeat import TAIL_MS, RepeatTest, short_tail_sos, sos_response
from myotwitch.sources import synthetic as syn

SIZE_UV = 40.0  # noise sigma 1 uV: a 40-sigma potential
CONFIG = DetectorConfig()


def conditioned(rate_hz: float, parts: list[tuple[float, np.ndarray, float]],
                size_uv: float = SIZE_UV) -> tuple[np.ndarray, np.ndarray]:
    """(conditioning sos, the band-passed signal) of potentials (peak at ms, shape, size) on a silent line."""
    sos = design_bandpass_sos(rate_hz, FilterConfig())
    x = np.zeros(int(0.4 * rate_hz))
    for at_ms, shape, size in parts:
        syn.add_potential(x, round(at_ms * rate_hz / 1000), shape, size_uv * size)
    return sos, sosfilt(sos, x)[0]


def peak_near(y: np.ndarray, sign: float, index: int, half: int) -> int:
    return index - half + int(np.argmax(sign * y[index - half : index + half + 1]))


def misfit_of_pair(rate_hz: float, parts, first_ms: float, second_ms: float,
                   size_uv: float = SIZE_UV) -> tuple[float, float]:
    sos, y = conditioned(rate_hz, parts, size_uv)
    ms = rate_hz / 1000
    first = peak_near(y, 1.0, round((first_ms + 3) * ms), round(4 * ms))  # the band-pass delays a peak 2-4 ms
    sign = np.sign(y[first])
    first = peak_near(y, sign, first, round(2 * ms))
    second = peak_near(y, sign, first + round((second_ms - first_ms) * ms), round(2 * ms))
    reach = (round(20 * ms), round(40 * ms))
    return RepeatTest(rate_hz, sos).misfit(y, first, second, 1.0, reach)


def is_doublet(misfit: tuple[float, float]) -> bool:
    over_noise, share = misfit
    return over_noise <= CONFIG.doublet_max_misfit or share <= CONFIG.doublet_max_misfit_share


@pytest.mark.parametrize("rate_hz", [1000.0, 2000.0])
@pytest.mark.parametrize("lobe_gap_ms", [10.0, 12.0, 15.0])
def test_two_lobes_of_one_potential_do_not_fit_a_doublet(rate_hz, lobe_gap_ms):
    # The reason: the "second discharge" lacks the phases around the first (its trailing trough), so no
    # potential plus a delayed copy of it makes the shape.
    unit = syn.two_lobed_potential(rate_hz, lobe_gap_ms)
    misfit = misfit_of_pair(rate_hz, [(200.0, unit, 1.0)], 200.0, 200.0 + lobe_gap_ms)
    assert not is_doublet(misfit), misfit


@pytest.mark.parametrize("rate_hz", [1000.0, 2000.0])
@pytest.mark.parametrize("lobe_gap_ms", [10.0, 12.0, 15.0])
def test_two_lobes_of_20_sigma_leave_more_than_noise(rate_hz, lobe_gap_ms):
    # Issue 13 item 2 in the 10-20 sigma range: with the high-pass's ring (20 Hz edge, 30-40 ms) in the stretch,
    # m could ring along with it and mimic the lobes: at 20 sigma lobes 10 ms apart left 4.1 (1 kHz) and 4.6
    # (2 kHz) times what noise leaves, under the 5 then in force. With the short tail: 8.9 and 8.8.
    unit = syn.two_lobed_potential(rate_hz, lobe_gap_ms)
    misfit = misfit_of_pair(rate_hz, [(200.0, unit, 1.0)], 200.0, 200.0 + lobe_gap_ms, size_uv=20.0)
    assert not is_doublet(misfit), misfit


@pytest.mark.parametrize("rate_hz", [1000.0, 2000.0, 4000.0])
def test_the_short_tail_ends_the_ring_and_keeps_the_band(rate_hz):
    # The fit's view of a potential: the conditioning's 20 Hz edge rings for 30-40 ms; swapped for a
    # non-ringing pair of TAIL_MS it stays above 1 % of its peak 10 ms less or more. Where the lobes' misfit lies
    # (60-150 Hz) the gain stays within 0.75-1.
    sos = design_bandpass_sos(rate_hz, FilterConfig())
    impulse = np.zeros(int(0.2 * rate_hz))
    impulse[0] = 1.0
    ring = sosfilt(sos, impulse)[0]
    short = sosfilt(short_tail_sos(sos, rate_hz, TAIL_MS), ring)[0]

    def last_above_ms(h: np.ndarray) -> float:
        return np.flatnonzero(np.abs(h) > 0.01 * np.abs(h).max())[-1] * 1000 / rate_hz

    assert last_above_ms(short) <= last_above_ms(ring) - 10.0
    gain = np.abs(sos_response(short_tail_sos(sos, rate_hz, TAIL_MS), 4096))
    band_hz = np.arange(4096) * rate_hz / 2 / 4096
    assert gain[(band_hz >= 60) & (band_hz <= 150)].min() >= 0.75 and gain.max() <= 1.0 + 1e-9


@pytest.mark.parametrize("rate_hz", [1000.0, 2000.0])
@pytest.mark.parametrize(("lobe_gap_ms", "interval_ms"), [(10.0, 25.0), (12.0, 15.0), (12.0, 25.0), (15.0, 15.0)])
def test_the_same_potential_fired_twice_fits_a_doublet(rate_hz, lobe_gap_ms, interval_ms):
    unit = syn.two_lobed_potential(rate_hz, lobe_gap_ms)
    misfit = misfit_of_pair(rate_hz, [(200.0, unit, 1.0), (200.0 + interval_ms, unit, 0.9)],
                            200.0, 200.0 + interval_ms)
    assert is_doublet(misfit), misfit


@pytest.mark.parametrize("rate_hz", [1000.0, 2000.0])
@pytest.mark.parametrize(("duration_ms", "phases"), [(8, 2), (12, 3), (20, 2), (20, 3)])
@pytest.mark.parametrize("interval_ms", [10.0, 12.0, 15.0])
def test_overlapping_doublets_of_ordinary_units_fit(rate_hz, duration_ms, phases, interval_ms):
    unit = syn.motor_unit_potential(rate_hz, duration_ms, phases, np.random.default_rng(duration_ms))
    misfit = misfit_of_pair(rate_hz, [(200.0, unit, 1.0), (200.0 + interval_ms, unit, 1.1)],
                            200.0, 200.0 + interval_ms)
    assert is_doublet(misfit), misfit


@pytest.mark.parametrize("rate_hz", [1000.0, 2000.0])
def test_what_noise_leaves_is_measured_below_the_pair(rate_hz):
    # The noise floor is a sigma over the whole band; misfits are compared with noise below 150 Hz. A background
    # with more of its variance there than white noise (real rest: 1.7 times) made real doublets' misfits read
    # large. Measured on the signal before the pair, a doublet on such noise leaves about what noise leaves.
    from myotwitch.dsp.repeat import butter_lowpass_sos

    sos = design_bandpass_sos(rate_hz, FilterConfig())
    unit = syn.motor_unit_potential(rate_hz, 12, 3, np.random.default_rng(12))
    ms = rate_hz / 1000
    test = RepeatTest(rate_hz, sos)
    with_background, floor_only = [], []
    for seed in range(12):
        white = np.random.default_rng(seed).normal(0.0, 1.0, int(0.7 * rate_hz))
        x = sosfilt(butter_lowpass_sos(2, 120.0, rate_hz), white)[0]  # most of it below 150 Hz
        noise_uv = 1.4826 * float(np.median(np.abs(sosfilt(sos, x)[0])))
        syn.add_potential(x, round(500 * ms), unit, 12 * noise_uv)
        syn.add_potential(x, round(515 * ms), unit, 12 * noise_uv)
        y = sosfilt(sos, x)[0]
        first = peak_near(y, 1.0, round(503 * ms), round(4 * ms))
        sign = np.sign(y[first])
        first = peak_near(y, sign, first, round(2 * ms))
        second = peak_near(y, sign, first + round(15 * ms), round(2 * ms))
        reach = (round(20 * ms), round(40 * ms))
        start = first - reach[0] - round(8 * ms) - test.background_samples
        window = y[start : second + reach[1] + round(8 * ms) + 1]
        with_background.append(test.misfit(window, first - start, second - start, noise_uv, reach,
                                           background_samples=test.background_samples)[0])
        floor_only.append(test.misfit(window, first - start, second - start, noise_uv, reach)[0])
    # 12 seeds: 0.57 (1 kHz) and 0.55 (2 kHz) measured below the pair; 1.17 and 1.53 from the floor's sigma alone.
    assert np.mean(with_background) < 1.0 and np.mean(floor_only) > 1.5 * np.mean(with_background)


@pytest.mark.parametrize("rate_hz", [500.0, 1000.0, 2000.0, 20000.0])
def test_the_low_pass_is_scipys(rate_hz):
    # repeat.py does without scipy.signal (its import costs most of a short analysis's start-up).
    from scipy import signal

    from myotwitch.dsp import repeat

    ours = repeat.butter_lowpass_sos(4, min(150.0, 0.4 * rate_hz), rate_hz)
    theirs = signal.butter(4, min(150.0, 0.4 * rate_hz), fs=rate_hz, output="sos")
    np.testing.assert_allclose(repeat.sos_response(ours, 1024), signal.sosfreqz(theirs, 1024)[1], atol=1e-12)
    x = np.random.default_rng(1).normal(0.0, 1.0, 400)
    np.testing.assert_allclose(repeat.sosfiltfilt(ours, x), signal.sosfiltfilt(theirs, x), atol=1e-12)
