"""Causal conditioning filters in scipy's SOS layout, with state carried between blocks.

scipy.signal takes about 0.6 s to import, more than the rest of a minute-long analysis: the standard filters
come from sos_table.py, the filtering from scipy's compiled sosfilt loop loaded alone (`sosfilt`), the mains
spectrum from numpy; scipy.signal is imported only to design a filter the table does not hold.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from myotwitch.dsp import sos_table, streaming

MAINS_CHOICES = ("auto", "50", "60", "both", "off")


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
    # Mains: "auto" measures the first seconds and notches 50 or 60 Hz with
    # their harmonics, or nothing when no mains line stands out (every notch
    # rings after a twitch: both sets together ring back 100-200 ms later at
    # a tenth of its peak); "50", "60", "both" or "off" force it.
    mains: str = "auto"
    # Every harmonic below the low-pass edge is notched, each about 2 Hz wide:
    # hobby boards pick up odd harmonics strongly, and a notch that narrow
    # removes little EMG.
    notch_width_hz: float = 2.0
    # How much signal "auto" looks at before choosing.
    mains_probe_s: float = 2.0
    # A mains line must stand this many times above the spectrum around it.
    mains_min_ratio: float = 8.0


def lowpass_edge_hz(rate_hz: float, config: FilterConfig) -> float:
    """The low-pass edge, kept below Nyquist (0.45 of the rate), so 500 Hz to 10 kHz all work."""
    return min(config.lowpass_hz, 0.45 * rate_hz)


def design_bandpass_sos(rate_hz: float, config: FilterConfig = FilterConfig()) -> np.ndarray:
    lowpass_hz = lowpass_edge_hz(rate_hz, config)
    if config.highpass_hz >= lowpass_hz:
        raise ValueError(f"sampling rate {rate_hz:g} Hz is too low for a {config.highpass_hz:g} Hz high-pass")
    stored = sos_table.BANDPASS.get((float(rate_hz), config.highpass_hz, lowpass_hz, config.order))
    if stored is not None:
        return np.array(stored)
    from scipy import signal

    return signal.butter(config.order, [config.highpass_hz, lowpass_hz], btype="bandpass", fs=rate_hz, output="sos")


def design_mains_sos(rate_hz: float, fundamentals_hz: tuple[float, ...],
                     config: FilterConfig = FilterConfig()) -> np.ndarray:
    """Notches at every harmonic of each fundamental below the low-pass edge."""
    top_hz = lowpass_edge_hz(rate_hz, config)
    sections = []
    for f0 in fundamentals_hz:
        stored = sos_table.NOTCHES.get((float(rate_hz), float(f0), config.notch_width_hz, top_hz))
        if stored is not None:
            sections.append(np.array(stored))
            continue
        from scipy import signal

        f = f0
        while f < top_hz:
            b, a = signal.iirnotch(f, f / config.notch_width_hz, fs=rate_hz)
            sections.append(signal.tf2sos(b, a))
            f += f0
    return np.vstack(sections) if sections else np.zeros((0, 6))


def design_conditioning_sos(rate_hz: float, config: FilterConfig = FilterConfig(),
                            fundamentals_hz: tuple[float, ...] = (50.0, 60.0)) -> np.ndarray:
    """Band-pass plus mains notches, as one cascade of second-order sections."""
    return np.vstack([design_bandpass_sos(rate_hz, config), design_mains_sos(rate_hz, fundamentals_hz, config)])


def mains_line_ratio(x: np.ndarray, rate_hz: float, f0: float) -> float:
    """How far a mains line and its first odd harmonics stand above the spectrum beside them."""
    if len(x) < rate_hz:
        return 0.0
    # Welch over 0.5 s segments (2 Hz bins): averaging keeps a noise bin from
    # standing out by chance, while a mains line of even 1 noise sigma stands
    # about a hundred times above its neighbours.
    f, p = welch(x - np.mean(x), rate_hz, int(rate_hz // 2))
    ratios = []
    for k in (1, 3):
        fk = f0 * k
        if fk >= 0.45 * rate_hz:
            break
        line = p[np.abs(f - fk) <= 1.0].max(initial=0.0)
        beside = p[(np.abs(f - fk) > 4.0) & (np.abs(f - fk) <= 14.0)]
        if len(beside):
            # streaming.medians: np.median's value, without the import of numpy.ma that np.median's NaN check
            # makes (8 ms of every analyze's start-up)
            ratios.append(line / max(float(streaming.medians(beside)), 1e-30))
    return max(ratios, default=0.0)


def welch(x: np.ndarray, rate_hz: float, segment_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """scipy.signal.welch(x, fs=rate_hz, nperseg=segment_samples) with its defaults (Hann window, half
    overlap, each segment's mean removed, one-sided density), in numpy: frequencies and power."""
    step = segment_samples - segment_samples // 2
    count = (len(x) - segment_samples) // step + 1
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(segment_samples) / segment_samples)  # periodic Hann
    segments = np.lib.stride_tricks.sliding_window_view(x, segment_samples)[::step][:count]
    segments = segments - segments.mean(axis=-1, keepdims=True)
    spectrum = np.fft.rfft(segments * window, axis=-1)
    power = (spectrum.conj() * spectrum).real / (rate_hz * (window * window).sum())
    if segment_samples % 2:
        power[..., 1:] *= 2
    else:
        power[..., 1:-1] *= 2
    return np.fft.rfftfreq(segment_samples, 1.0 / rate_hz), power.mean(axis=0)


def choose_mains(config: FilterConfig, probe_uv: np.ndarray | None, rate_hz: float) -> tuple[float, ...]:
    """The mains fundamentals to notch, from the config or measured on the first seconds."""
    if config.mains not in MAINS_CHOICES:
        raise ValueError(f"mains must be one of {', '.join(MAINS_CHOICES)}, not {config.mains!r}")
    if config.mains == "off":
        return ()
    if config.mains in ("50", "60"):
        return (float(config.mains),)
    if config.mains == "both" or probe_uv is None:
        return (50.0, 60.0)
    r50, r60 = mains_line_ratio(probe_uv, rate_hz, 50.0), mains_line_ratio(probe_uv, rate_hz, 60.0)
    if max(r50, r60) < config.mains_min_ratio:
        return ()
    if max(r50, r60) >= 3.0 * min(r50, r60):
        return (50.0,) if r50 > r60 else (60.0,)
    return (50.0, 60.0)


def _compiled_sosfilt() -> Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None:
    """scipy's compiled loop behind signal.sosfilt, `_sosfilt(sos, x, zi)` (in place, rows of x), loaded
    without importing scipy.signal. Registered under its own name, so a later import of scipy.signal finds and
    shares it (a compiled module may be initialised once). None if this scipy does not have it there."""
    name = "scipy.signal._sosfilt"
    module = sys.modules.get(name)
    if module is None:
        try:
            spec = importlib.util.find_spec("scipy")
            if spec is None or not spec.submodule_search_locations:
                return None
            folder = Path(next(iter(spec.submodule_search_locations))) / "signal"
            found = [folder / f"_sosfilt{suffix}" for suffix in importlib.machinery.EXTENSION_SUFFIXES]
            path = next((str(p) for p in found if p.is_file()), None)
            if path is None:
                return None
            loader = importlib.machinery.ExtensionFileLoader(name, path)
            module_spec = importlib.util.spec_from_file_location(name, path, loader=loader)
            if module_spec is None:
                return None
            module = importlib.util.module_from_spec(module_spec)
            loader.exec_module(module)
            sys.modules[name] = module
        except (ImportError, OSError):
            return None
    return getattr(module, "_sosfilt", None)


_SOSFILT = _compiled_sosfilt()


def sosfilt(sos: np.ndarray, x: np.ndarray, zi: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """scipy.signal.sosfilt along the last axis of a 1- or 2-D `x`, for float64: (y, final state). `zi` in the
    compiled loop's layout, (rows, sections, 2) (zeros if None); not changed."""
    rows = np.array(x, dtype=np.float64, order="C", ndmin=2)  # a copy: filtered in place
    state = (np.zeros((len(rows), len(sos), 2)) if zi is None
             else np.array(np.broadcast_to(zi, (len(rows), len(sos), 2)), dtype=np.float64, order="C"))
    coefficients = np.ascontiguousarray(sos, dtype=np.float64)
    if _SOSFILT is not None:
        _SOSFILT(coefficients, rows, state)
    else:
        from scipy import signal

        rows, moved = signal.sosfilt(coefficients, rows, axis=-1, zi=np.moveaxis(state, 1, 0))
        state = np.ascontiguousarray(np.moveaxis(moved, 0, 1))
    return rows.reshape(np.shape(x)), state


def sosfilt_zi(sos: np.ndarray) -> np.ndarray:
    """scipy.signal.sosfilt_zi in numpy: each section's steady state for a unit step, (sections, 2)."""
    zi = np.empty((len(sos), 2))
    scale = 1.0
    for k, section in enumerate(np.asarray(sos, dtype=np.float64)):
        b, a = section[:3] / section[3], section[3:] / section[3]
        # scipy.signal.lfilter_zi: (I - companion(a).T) zi = b[1:] - a[1:] b[0]
        i_minus_a = np.eye(2) - np.array([[-a[1], -a[2]], [1.0, 0.0]]).T
        zi[k] = scale * np.linalg.solve(i_minus_a, b[1:] - a[1:] * b[0])
        scale *= section[:3].sum() / section[3:].sum()
    return zi


class StreamingSosFilter:
    """A causal SOS filter whose output does not depend on how the input is cut into blocks."""

    def __init__(self, sos: np.ndarray) -> None:
        self.sos = np.ascontiguousarray(sos, dtype=np.float64)
        self._zi_unit = sosfilt_zi(sos)[None]
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
        out, self._zi = sosfilt(self.sos, block, self._zi)
        return out
