"""A seeded synthetic signal: Gaussian rest noise with fasciculation-like potentials at known times.

The true twitch times are exposed (`true_peak_indices`), so detectors and the
whole pipeline can be scored without labelled recordings, which do not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from myotwitch.sources import SampleBlock


def motor_unit_potential(rate_hz: float, duration_ms: float, phases: int, rng: np.random.Generator) -> np.ndarray:
    """A bi- or triphasic potential with unit peak: derivatives of a Gaussian over `duration_ms`."""
    n = max(5, round(duration_ms * rate_hz / 1000.0))
    t = np.linspace(-3.0, 3.0, n)
    gauss = np.exp(-0.5 * t * t)
    shape = -t * gauss if phases == 2 else (1.0 - t * t) * gauss
    shape *= rng.choice([-1.0, 1.0])
    return shape / np.max(np.abs(shape))


@dataclass(frozen=True)
class SyntheticConfig:
    rate_hz: float = 1000.0
    duration_s: float = 60.0
    noise_uv: float = 2.0  # rest noise sigma, typical of surface EMG at rest
    twitch_rate_per_min: float = 20.0
    peak_sigma_range: tuple[float, float] = (8.0, 20.0)  # twitch peak, in multiples of noise sigma
    duration_ms_range: tuple[float, float] = (8.0, 30.0)
    min_interval_s: float = 0.3
    mains_uv: float = 0.0  # 50 Hz hum amplitude
    seed: int = 0


class SyntheticSource:
    def __init__(self, config: SyntheticConfig = SyntheticConfig(), block_samples: int = 4096) -> None:
        self.config = config
        self.rate_hz = config.rate_hz
        self.block_samples = block_samples
        self.description = f"synthetic signal (seed {config.seed})"
        rng = np.random.default_rng(config.seed)
        n = round(config.duration_s * config.rate_hz)
        self.n_samples = n
        signal = rng.normal(0.0, config.noise_uv, n)
        if config.mains_uv:
            signal += config.mains_uv * np.sin(2 * np.pi * 50.0 * np.arange(n) / config.rate_hz)
        expected = config.twitch_rate_per_min * config.duration_s / 60.0
        times = np.sort(rng.uniform(1.5, config.duration_s - 0.5, rng.poisson(expected)))
        kept: list[int] = []
        for t_s in times:
            if kept and t_s - kept[-1] / config.rate_hz < config.min_interval_s:
                continue
            shape = motor_unit_potential(
                config.rate_hz, rng.uniform(*config.duration_ms_range), int(rng.choice([2, 3])), rng
            )
            amplitude = rng.uniform(*config.peak_sigma_range) * config.noise_uv
            start = round(float(t_s) * config.rate_hz) - len(shape) // 2  # float(): numpy < 2 rounds to float64
            if start < 0 or start + len(shape) > n:
                continue
            signal[start : start + len(shape)] += amplitude * shape
            kept.append(start + int(np.argmax(np.abs(shape))))
        self.signal_uv = signal
        self.true_peak_indices = np.array(kept, dtype=np.int64)

    @property
    def true_times_s(self) -> np.ndarray:
        return self.true_peak_indices / self.rate_hz

    def blocks(self) -> Iterator[SampleBlock]:
        for start in range(0, self.n_samples, self.block_samples):
            yield SampleBlock(start, self.signal_uv[start : start + self.block_samples])


# -- building blocks for semi-synthetic signals (benchmarks and tests) ----------


def motor_unit_templates(rate_hz: float, count: int, rng: np.random.Generator,
                         duration_ms_range: tuple[float, float] = (8.0, 30.0)) -> list[np.ndarray]:
    """`count` motor units, each a fixed bi- or triphasic shape with unit peak."""
    return [motor_unit_potential(rate_hz, rng.uniform(*duration_ms_range), int(rng.choice([2, 3])), rng)
            for _ in range(count)]


def two_lobed_potential(rate_hz: float, lobe_gap_ms: float, second_lobe: float = 0.85) -> np.ndarray:
    """One motor-unit potential with two lobes of the same sign `lobe_gap_ms` apart and a trough between (a
    reinnervated unit's shape, smoothed by tissue): Gaussian lobes -0.3, +1, -0.6, +`second_lobe` at -g/2, 0,
    g/2 and g, a fifth of g wide; unit peak. Not a doublet: the second lobe is not the whole potential again."""
    t_ms = np.arange(-3 * lobe_gap_ms, 4 * lobe_gap_ms, 1000.0 / rate_hz)
    width_ms = lobe_gap_ms / 5

    def lobe(at_ms: float) -> np.ndarray:
        return np.exp(-0.5 * ((t_ms - at_ms) / width_ms) ** 2)

    x = -0.3 * lobe(-lobe_gap_ms / 2) + lobe(0.0) - 0.6 * lobe(lobe_gap_ms / 2) + second_lobe * lobe(lobe_gap_ms)
    return x / np.abs(x).max()


def add_potential(signal_uv: np.ndarray, peak_index: int, shape: np.ndarray, peak_uv: float) -> None:
    """Add `shape` scaled to `peak_uv`, its largest phase at `peak_index` (in place)."""
    centre = int(np.argmax(np.abs(shape)))
    start = peak_index - centre
    lo, hi = max(0, start), min(len(signal_uv), start + len(shape))
    if lo < hi:
        signal_uv[lo:hi] += peak_uv * np.sign(shape[centre]) * shape[lo - start : hi - start]


def add_pop(signal_uv: np.ndarray, index: int, rate_hz: float, step_uv: float, tau_s: float = 0.05) -> None:
    """An electrode pop: an abrupt step of the electrode potential that decays back (in place)."""
    n = len(signal_uv) - index
    if n > 0:
        signal_uv[index:] += step_uv * np.exp(-np.arange(n) / (tau_s * rate_hz))


def add_motion(signal_uv: np.ndarray, index: int, rate_hz: float, swing_uv: float, duration_s: float,
               rng: np.random.Generator) -> None:
    """A motion artifact: a smooth baseline swing of `duration_s` (a cable tug, a shift of the limb)."""
    n = int(duration_s * rate_hz)
    t = np.linspace(0.0, 1.0, n)
    cycles = rng.uniform(0.5, 2.0)
    swing = swing_uv * np.sin(np.pi * t) ** 2 * np.sin(2 * np.pi * cycles * t + rng.uniform(0, np.pi))
    hi = min(len(signal_uv), index + n)
    signal_uv[index:hi] += swing[: hi - index]


def ecg_complex(rate_hz: float) -> np.ndarray:
    """A QRS-like complex (about 80 ms) with a slower T wave, unit R peak."""
    t = np.arange(int(0.4 * rate_hz)) / rate_hz
    q = -0.15 * np.exp(-0.5 * ((t - 0.030) / 0.006) ** 2)
    r = 1.0 * np.exp(-0.5 * ((t - 0.045) / 0.008) ** 2)
    s = -0.25 * np.exp(-0.5 * ((t - 0.062) / 0.007) ** 2)
    tw = 0.2 * np.exp(-0.5 * ((t - 0.25) / 0.04) ** 2)
    return q + r + s + tw


def add_ecg_train(signal_uv: np.ndarray, start_index: int, rate_hz: float, beats: int, bpm: float, r_peak_uv: float,
                  rng: np.random.Generator) -> list[int]:
    """Heart beats picked up by the electrodes; returns the R-peak indices."""
    shape = ecg_complex(rate_hz)
    r_offset = int(np.argmax(shape))
    peaks = []
    index = float(start_index)
    for _ in range(beats):
        i = int(index)
        if i + len(shape) > len(signal_uv):
            break
        signal_uv[i : i + len(shape)] += r_peak_uv * rng.uniform(0.9, 1.1) * shape
        peaks.append(i + r_offset)
        index += rate_hz * 60.0 / bpm * rng.uniform(0.97, 1.03)  # normal heart-rate variability
    return peaks


def add_mains(signal_uv: np.ndarray, rate_hz: float, mains_hz: float, amplitude_uv: float,
              harmonics: tuple[float, ...] = (1.0, 0.3, 0.15)) -> None:
    """Mains hum with a few odd harmonics (in place)."""
    t = np.arange(len(signal_uv)) / rate_hz
    for k, share in enumerate(harmonics):
        f = mains_hz * (2 * k + 1)
        if f < rate_hz / 2:
            signal_uv += amplitude_uv * share * np.sin(2 * np.pi * f * t + k)
