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
    n = max(5, int(round(duration_ms * rate_hz / 1000.0)))
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
        n = int(round(config.duration_s * config.rate_hz))
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
            start = int(round(t_s * config.rate_hz)) - len(shape) // 2
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
