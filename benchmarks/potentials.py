"""Potentials and noise defined in physical units, so that "k sigma" is the same signal at every sampling rate.

Used by accuracy.py. Two definitions make a case at 2 kHz comparable with one at 1 kHz (issue 13 item 7):

- **sigma** is the background's noise in the surface-EMG band, 20-450 Hz (to 0.45 of the rate below 1 kHz),
  measured through an ideal band (FFT, zero phase) and then 1.4826 x median |x|: a property of the recording
  alone. The same background at 1 kHz and resampled to 2 kHz gives the same sigma (a Butterworth designed
  per rate does not: its 450 Hz edge lies near Nyquist at 1 kHz and passes 1.6 % more there), and no
  detector's processing enters it: mains notches remove 7 % of the band's noise, so a sigma measured through
  notches the detector applies only under mains made every quiet case's potentials 7 % smaller than named.
- **a potential** is a function of time in ms (`Unit`), sampled at the case's rate around a peak time in
  seconds, with its largest phase's value (not its largest sample) as its peak. A shape defined on its
  samples and scaled to its largest sample is another potential at each rate: an 8 ms triphasic unit made
  of 8 samples at 1 kHz misses its centre by half a sample and, scaled to unit peak, is 1.27 times the one
  made of 16 samples at 2 kHz.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

EMG_BAND_HZ = (20.0, 450.0)


def in_band(x: np.ndarray, rate_hz: float) -> np.ndarray:
    """`x` limited to the surface-EMG band (20-450 Hz, at most 0.45 of the rate) by an ideal, zero-phase
    filter: the same band whatever the sampling rate."""
    spectrum = np.fft.rfft(x - np.mean(x))
    f_hz = np.fft.rfftfreq(len(x), 1.0 / rate_hz)
    spectrum[(f_hz < EMG_BAND_HZ[0]) | (f_hz > min(EMG_BAND_HZ[1], 0.45 * rate_hz))] = 0.0
    return np.fft.irfft(spectrum, len(x))


def robust_sigma(x: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(x)))


def band_sigma_uv(x: np.ndarray, rate_hz: float) -> float:
    """The noise sigma of a background (µV): 1.4826 x median |x| in the surface-EMG band (see the module)."""
    return robust_sigma(in_band(x, rate_hz))


@dataclass(frozen=True)
class Unit:
    """A motor unit's potential as a function of time: `shape(t_ms)` is zero outside [start_ms, end_ms]; its
    largest phase lies at peak_ms with the value peak_value (signed)."""

    shape: Callable[[np.ndarray], np.ndarray]
    start_ms: float
    end_ms: float
    peak_ms: float
    peak_value: float


def unit_of(shape: Callable[[np.ndarray], np.ndarray], start_ms: float, end_ms: float) -> Unit:
    """A Unit, its largest phase found on a 1 µs grid."""
    t_ms = np.arange(start_ms, end_ms, 0.001)
    values = shape(t_ms)
    k = int(np.argmax(np.abs(values)))
    return Unit(shape, start_ms, end_ms, float(t_ms[k]), float(values[k]))


def gaussian_unit(duration_ms: float, phases: int) -> Unit:
    """A bi- or triphasic potential over `duration_ms`: the first or second derivative of a Gaussian over
    +/- 3 of its sigmas (the shapes of myotwitch.sources.synthetic.motor_unit_potential, in time)."""
    scale_ms = duration_ms / 6.0

    def shape(t_ms: np.ndarray) -> np.ndarray:
        t = np.asarray(t_ms) / scale_ms
        gauss = np.where(np.abs(t) <= 3.0, np.exp(-0.5 * t * t), 0.0)
        return -t * gauss if phases == 2 else (1.0 - t * t) * gauss

    return unit_of(shape, -duration_ms / 2, duration_ms / 2)


def polyphasic_unit(lobe_gap_ms: float) -> Unit:
    """One potential with two lobes of one sign `lobe_gap_ms` apart and a trough between (a reinnervated unit,
    smoothed by tissue)."""

    def lobe(t_ms: np.ndarray, at_ms: float) -> np.ndarray:
        return np.exp(-0.5 * ((t_ms - at_ms) / (lobe_gap_ms / 5)) ** 2)

    def shape(t_ms: np.ndarray) -> np.ndarray:
        t_ms = np.asarray(t_ms)
        x = (-0.3 * lobe(t_ms, -lobe_gap_ms / 2) + lobe(t_ms, 0.0) - 0.6 * lobe(t_ms, lobe_gap_ms / 2)
             + 0.85 * lobe(t_ms, lobe_gap_ms))
        return np.where((t_ms >= -3 * lobe_gap_ms) & (t_ms <= 4 * lobe_gap_ms), x, 0.0)

    return unit_of(shape, -3 * lobe_gap_ms, 4 * lobe_gap_ms)


def motor_units(count: int, rng: np.random.Generator, duration_ms: tuple[float, float] = (8.0, 30.0)) -> list[Unit]:
    """`count` units, each bi- or triphasic, of a duration drawn from the range."""
    return [gaussian_unit(rng.uniform(*duration_ms), int(rng.choice([2, 3]))) for _ in range(count)]


def add_unit(x: np.ndarray, rate_hz: float, peak_s: float, unit: Unit, peak_uv: float) -> int:
    """Add `unit` sampled at `rate_hz`, its largest phase at `peak_s` (seconds from sample 0, between samples
    as it falls) and of `peak_uv` (positive: the largest phase points up), in place. Returns the index of the
    sample nearest the peak."""
    first = max(0, int(np.ceil((peak_s + (unit.start_ms - unit.peak_ms) / 1000.0) * rate_hz)))
    last = min(len(x) - 1, int(np.floor((peak_s + (unit.end_ms - unit.peak_ms) / 1000.0) * rate_hz)))
    if first <= last:
        index = np.arange(first, last + 1)
        x[first : last + 1] += peak_uv / unit.peak_value * unit.shape((index / rate_hz - peak_s) * 1000.0
                                                                       + unit.peak_ms)
    return round(peak_s * rate_hz)


@dataclass(frozen=True)
class Placement:
    """One injected twitch: when, which unit, how large (in sigmas), and its doublet's second if any."""

    peak_s: float
    unit_index: int
    amplitude_sigma: float
    doublet: tuple[float, float] | None = None  # (delay in s, size relative to the first)


def placements(duration_s: float, rng: np.random.Generator, amplitude_sigma: float | tuple[float, ...], units: int,
               avoid_s: Sequence[tuple[float, float]] = (), min_gap_s: float = 1.2, start_s: float = 3.0,
               doublet_share: float = 0.1) -> list[Placement]:
    """Isolated twitches from `start_s` to 2 s before the end, at least `min_gap_s` apart (plus an exponential
    0.8 s on average), none inside the `avoid_s` intervals (seconds, margins included); amplitude_sigma is
    one figure or a tuple to draw from."""
    out = []
    t_s = start_s
    while t_s < duration_s - 2.0:
        if all(not (a <= t_s <= b) for a, b in avoid_s):
            k = (float(amplitude_sigma) if isinstance(amplitude_sigma, (int, float))
                 else float(rng.choice(amplitude_sigma)))
            unit = int(rng.integers(units))
            doublet = (rng.uniform(0.010, 0.110), rng.uniform(0.8, 1.2)) if rng.random() < doublet_share else None
            out.append(Placement(t_s, unit, k, doublet))
        t_s += min_gap_s + rng.exponential(0.8)
    return out


def render(x: np.ndarray, rate_hz: float, sigma_uv: float, units: list[Unit], placed: list[Placement]) -> np.ndarray:
    """Add the placed twitches to `x` (in place); returns their truth indices (the first of a doublet)."""
    truth = []
    for p in placed:
        unit, peak_uv = units[p.unit_index], p.amplitude_sigma * sigma_uv
        truth.append(add_unit(x, rate_hz, p.peak_s, unit, peak_uv))
        if p.doublet is not None:
            add_unit(x, rate_hz, p.peak_s + p.doublet[0], unit, peak_uv * p.doublet[1])
    return np.array(truth, dtype=np.int64)
