"""Causal conditioning filters in scipy's SOS layout, with state carried between blocks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal


@dataclass(frozen=True)
class FilterConfig:
    # Surface EMG power lies between about 20 and 450 Hz; below 20 Hz is
    # motion and electrode drift (De Luca et al. 2010, J Biomech 43:1573).
    highpass_hz: float = 20.0
    lowpass_hz: float = 450.0
    # Butterworth order of each edge. 2 rings little after a short potential:
    # at 4, the 20 Hz edge rang about 30 ms after a twitch at a third of its
    # peak and was counted as a second twitch (measured on synthetic twitches).
    order: int = 2
    # Mains: both fundamentals, since the same tool is used on 50 and 60 Hz grids.
    mains_hz: tuple[float, ...] = (50.0, 60.0)
    notch_q: float = 30.0  # about 2 Hz wide at 50 Hz: removes mains, keeps EMG


def design_conditioning_sos(rate_hz: float, config: FilterConfig = FilterConfig()) -> np.ndarray:
    """Band-pass plus mains notches for a given sampling rate, as second-order sections.

    The low-pass edge is kept below Nyquist (at most 0.45 of the rate), so
    the same design works from 500 Hz to 4 kHz sampling.
    """
    nyquist_hz = rate_hz / 2.0
    if config.highpass_hz >= 0.9 * nyquist_hz:
        raise ValueError(f"sampling rate {rate_hz:g} Hz is too low for a {config.highpass_hz:g} Hz high-pass")
    lowpass_hz = min(config.lowpass_hz, 0.9 * nyquist_hz)
    sections = [
        signal.butter(config.order, [config.highpass_hz, lowpass_hz], btype="bandpass", fs=rate_hz, output="sos")
    ]
    for mains_hz in config.mains_hz:
        if mains_hz < 0.95 * nyquist_hz:
            b, a = signal.iirnotch(mains_hz, config.notch_q, fs=rate_hz)
            sections.append(signal.tf2sos(b, a))
    return np.vstack(sections)


class StreamingSosFilter:
    """A causal SOS filter whose output does not depend on how the input is cut into blocks."""

    def __init__(self, sos: np.ndarray) -> None:
        self.sos = sos
        self._zi_unit = signal.sosfilt_zi(sos)
        self._zi: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the state; the next block starts the filter in steady state at its first sample."""
        self._zi = None

    def process(self, block: np.ndarray) -> np.ndarray:
        if len(block) == 0:
            return np.empty(0)
        if self._zi is None:
            # Steady state for a constant input equal to the first sample: no step transient from a DC offset.
            self._zi = self._zi_unit * block[0]
        out, self._zi = signal.sosfilt(self.sos, block, zi=self._zi)
        return out
