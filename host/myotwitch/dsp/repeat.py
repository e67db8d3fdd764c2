"""Is a stretch of signal one potential repeated (a doublet), or one potential with two lobes of the same sign?

A doublet is the whole potential fired again: y(t) = m(t) + a m(t - d), with m the unit's (filtered)
potential, d the interval and a the second's size. A polyphasic potential with two same-sign lobes d apart
(a reinnervated unit, smoothed by tissue) looks like that at its two peaks, but not as a whole: the lobes'
neighbouring phases differ (in the test shape -0.3, +1, -0.6, +0.85, the "second discharge" has no trailing
phase where the first has one, and the trough between is not the first's leading phase scaled).

The test fits the doublet model by least squares: m free over the stretch (before its first peak, and up to
d before its end), d and a free near the peaks' spacing and size ratio, fractional d by interpolation. What
the best fit leaves is what no doublet explains. It is compared with what noise leaves: about d samples of
the noise (the fit has d fewer unknowns than samples), its variance in the fit's band measured on the
signal before the pair (BACKGROUND_MS). The signal is low-passed first (zero phase, 150 Hz):
a linear filter keeps a doublet a doublet, the lobes' misfit lies below 150 Hz, and half or more of the
noise lies above it.

Both hypotheses leave something: noise, and for a real doublet the model's own error (the stretch is cut
where the signal goes quiet, and a potential's band-pass tail outlasts that). The 20 Hz high-pass rings for
30-40 ms after a potential, so the fit sees the signal with that edge's poles swapped for a non-ringing pair
(`short_tail_sos`, TAIL_MS): the potential, and the stretch, end about where the potential does. That leaves m
less room to ring along (which is how the doublet model mimics two lobes) and a doublet less tail to lose at
the cut. A pair is called not a doublet only when the misfit is both well above what noise leaves and a clear
share of the stretch's energy (DetectorConfig.doublet_max_misfit, doublet_max_misfit_share). Without noise, at
40 times the noise sigma: the test module's `polyphasic` shapes leave 0.8-1.8 %, units of 8-20 ms fired twice
10-25 ms apart at most 0.031 % (0.039 % with the 20 Hz ring; the shapes then 0.5-1.6 %).

What no test can do: at 10 sigma the nearest doublet to two lobes 10 ms apart at 1 kHz differs from them by
3 noise sigmas in all (measured on the raw shape, m free where the potential is; benchmarks/doublets.py
--two-lobed): a test that knew both shapes and lost 1 % of real doublets would still call a quarter of them
doublets. A unit's discharges repeat its shape, though: a pair that fits is fitted again on its average with
the unit's like discharges nearby (Features._pooled, `averaged`), where the noise is smaller. Figures:
docs/detector.md.
"""

from __future__ import annotations

import numpy as np

from myotwitch.dsp.filters import sosfilt, sosfilt_zi

LOWPASS_HZ = 150.0  # below it lies the lobes' misfit; above it, half the noise or more
_LOWPASS_ORDER = 4
# The stretch ends where the low-passed signal stays within this many of its noise sigmas for QUIET_MS.
QUIET_SIGMA = 1.5
QUIET_MS = 2.0
# An average of a unit's discharges (Features._pooled) has less noise: ended at QUIET_SIGMA of it, the stretch
# would reach on into the potential's tail, where the repeat rings along (an echo series m = y - a m(t - d) fits
# any shape given room), and ended at a single discharge's noise, a small one's stretch cuts into a doublet's
# tail. It ends where the signal stays below this share of its first peak instead, if that comes first.
# benchmarks/doublets.py --two-lobed, 5 seeds: 2 % let 2 of 85 two-lobed potentials through (2 kHz, 10 ms),
# 3 % 1, 3.5 % and 4 % none; real doublets flagged at 3.5 % as without the average, at 4 % 2 fewer, at 5 % 4
# fewer, at 10 % 57 fewer; ended at a single discharge's noise, 10 fewer.
AVERAGE_QUIET_SHARE = 0.035
# The interval is searched this far either side of the peaks' spacing (noise and the other potential's
# overlap move a peak by a sample or two; at 2 kHz a 20 ms unit's doublet 10 ms apart peaks 1 ms off).
SEARCH_MS = 1.5
# The conditioning high-pass (20 Hz, Butterworth) rings for 30-40 ms after a potential; the fit sees its poles
# replaced by a double real one of this time constant (short_tail_sos): the same double zero at DC, no ringing.
# Of 2, 3, 4, 5, 7 and 10 ms, 5 ms flagged the fewest two-lobed potentials in white noise for as few real
# doublets lost (docs/detector.md).
TAIL_MS = 5.0
# What noise leaves is measured in the fit's own band on this much signal before the pair (its first 15 ms
# let the filters settle; under 100 ms held, the floor's sigma alone is used). The detector's noise floor
# is a sigma over the whole band, and misfits are compared with noise below 150 Hz: white noise puts a known
# share of its variance there (noise_share), real rest 1.7 times as much (measured on the accuracy
# benchmark's background), so its misfits read 1.7 times too large and real doublets were lost. Never below
# the white-noise share: a quieter window (a gap read as zeros) must not make misfits look larger.
BACKGROUND_MS = 250.0
_BACKGROUND_SETTLE_MS = 15.0
_BACKGROUND_MIN_MS = 100.0
_MEDIAN_CHI2_1 = 0.4549364231195725  # the median of a squared standard normal: a variance from a median
_LANCZOS_TAPS = 4  # a fractional delay by Lanczos interpolation, 4 lobes each side


# scipy.signal takes about 0.6 s to import (filters.py): the three pieces of it used here, in numpy.
def butter_lowpass_sos(order: int, cutoff_hz: float, rate_hz: float) -> np.ndarray:
    """scipy.signal.butter(order, cutoff_hz, fs=rate_hz, output="sos") for an even order: the analog
    Butterworth poles, prewarped, through the bilinear transform, paired with their conjugates."""
    fs2 = 2.0 * rate_hz
    warped = fs2 * np.tan(np.pi * cutoff_hz / rate_hz)
    poles = warped * -np.exp(1j * np.pi * np.arange(-order + 1, order, 2) / (2 * order))
    digital = (fs2 + poles) / (fs2 - poles)
    gain = float(np.real(warped**order / np.prod(fs2 - poles)))
    upper = digital[digital.imag > 0]
    sos = np.array([[1.0, 2.0, 1.0, 1.0, -2.0 * p.real, abs(p) ** 2] for p in upper[np.argsort(-np.abs(upper))]])
    sos[0, :3] *= gain
    return sos


def short_tail_sos(conditioning_sos: np.ndarray, rate_hz: float, tail_ms: float) -> np.ndarray:
    """Sections that, run after `conditioning_sos`, swap the poles of its high-pass sections (those with a
    double zero at DC) for a double real pole of time constant `tail_ms`: numerator the old poles' polynomial
    (cancelling them), denominator the new. Empty if no section has a zero at DC."""
    r = float(np.exp(-1000.0 / (tail_ms * rate_hz)))
    out = []
    for b0, b1, b2, a0, a1, a2 in np.asarray(conditioning_sos, dtype=np.float64):
        if abs(b0 + b1 + b2) <= 1e-9 * (abs(b0) + abs(b1) + abs(b2)):
            gain = (1.0 + r) ** 2 / ((a0 - a1 + a2) / a0)  # unit gain at Nyquist, far above both
            out.append([gain, gain * a1 / a0, gain * a2 / a0, 1.0, -2.0 * r, r * r])
    return np.array(out).reshape(-1, 6)


def sos_response(sos: np.ndarray, points: int) -> np.ndarray:
    """The frequency response at `points` frequencies from 0 to Nyquist (scipy.signal.sosfreqz's grid)."""
    z = np.exp(-1j * np.pi * np.arange(points) / points)
    out = np.ones(points, dtype=complex)
    for b0, b1, b2, a0, a1, a2 in np.asarray(sos, dtype=np.float64):
        out *= (b0 + b1 * z + b2 * z * z) / (a0 + a1 * z + a2 * z * z)
    return out


def sosfiltfilt(sos: np.ndarray, x: np.ndarray, zi: np.ndarray | None = None) -> np.ndarray:
    """scipy.signal.sosfiltfilt(sos, x) with its defaults: odd extension by 3 (2 sections + 1) samples, each
    pass started in the steady state of its first sample (`zi`: sosfilt_zi(sos), if already at hand)."""
    pad = 3 * (2 * len(sos) + 1)
    ext = np.concatenate((2 * x[0] - x[pad:0:-1], x, 2 * x[-1] - x[-2 : -(pad + 2) : -1]))
    zi = sosfilt_zi(sos) if zi is None else zi
    forward = sosfilt(sos, ext, zi * ext[0])[0]
    back = sosfilt(sos, forward[::-1], zi * forward[-1])[0][::-1]
    return back[pad:-pad]


def lanczos(x: np.ndarray) -> np.ndarray:
    """The Lanczos kernel (sinc windowed by sinc, _LANCZOS_TAPS lobes): interpolation at fractional delays."""
    out = np.sinc(x) * np.sinc(x / _LANCZOS_TAPS)
    out[np.abs(x) >= _LANCZOS_TAPS] = 0.0
    return out


class RepeatTest:
    """The doublet model's misfit, for one sampling rate and conditioning filter."""

    def __init__(self, rate_hz: float, conditioning_sos: np.ndarray) -> None:
        self.rate_hz = rate_hz
        self.lowpass_sos = butter_lowpass_sos(_LOWPASS_ORDER, min(LOWPASS_HZ, 0.4 * rate_hz), rate_hz)
        self.tail_sos = short_tail_sos(conditioning_sos, rate_hz, TAIL_MS)
        self._lowpass_zi, self._tail_zi = sosfilt_zi(self.lowpass_sos), sosfilt_zi(self.tail_sos)
        # The fit's noise variance over the conditioned noise's: white noise in, through the conditioning filter
        # (`through`), then the short tail and |H_lowpass|^2 (forward and back).
        h_conditioning = sos_response(conditioning_sos, 4096)
        h_lowpass = sos_response(self.lowpass_sos, 4096)
        through = np.abs(h_conditioning) ** 2
        h_fit = np.abs(sos_response(self.tail_sos, 4096)) ** 2 * np.abs(h_lowpass) ** 4
        self.noise_share = float(np.sum(through * h_fit) / np.sum(through))
        self.background_samples = round(BACKGROUND_MS * rate_hz / 1000.0)
        self._settle_samples = round(_BACKGROUND_SETTLE_MS * rate_hz / 1000.0)
        self._min_background_samples = round(_BACKGROUND_MIN_MS * rate_hz / 1000.0)
        # Two samples at least: at 500 Hz one sample near a zero crossing of the potential ended the stretch
        # inside it, and the model's misfit there called a quarter of overlapping doublets not a doublet.
        self.quiet_samples = max(2, round(QUIET_MS * rate_hz / 1000.0))
        # Below LOWPASS_HZ every sample beyond four per period of it says little new: the fit works on every
        # step-th sample (2 kHz: every third), a fraction of the work (it grows with the cube of the length).
        self.step = max(1, int(rate_hz // (4 * LOWPASS_HZ)))
        self.search_samples = max(1.5, SEARCH_MS * rate_hz / 1000.0 / self.step)

    def misfit(self, y: np.ndarray, first_index: int, second_index: int, noise_uv: float,
               max_reach_samples: tuple[int, int], background_samples: int = 0, averaged: bool = False
               ) -> tuple[float, float]:
        """How much of the stretch around two same-sign peaks (indices into `y`, the conditioned signal with
        room around them for the low-pass to settle) no doublet y = m + a m(t - d) explains: over what noise
        alone would leave (about 1 for a doublet in noise), and as a share of the stretch's energy. The stretch
        reaches from where the signal goes quiet before the first peak to where it goes quiet after the second,
        at most `max_reach_samples` (before, after) from them. The first `background_samples` of `y` are the
        signal before the pair, up to BACKGROUND_MS of it: what noise leaves is measured there. For `averaged`,
        see `fits`."""
        stretch, spacing, ratio, noise_sq = self._stretch(y, first_index, second_index, noise_uv, max_reach_samples,
                                                          background_samples, averaged)
        left = self._search(stretch, spacing, ratio, enough=-1.0)
        energy = float(stretch @ stretch)
        over_noise = left / (noise_sq * spacing) if noise_sq > 0 else np.inf
        return over_noise, left / energy if energy > 0 else 0.0

    def fits(self, y: np.ndarray, first_index: int, second_index: int, noise_uv: float,
             max_reach_samples: tuple[int, int], max_over_noise: float, max_share: float,
             background_samples: int = 0, averaged: bool = False) -> bool:
        """Does some doublet leave at most `max_over_noise` or at most `max_share` (`misfit`'s two figures)?
        The same answer as from `misfit`, but it stops at the first doublet that does (most real ones: the
        first tried, at the peaks' spacing and size ratio). If `y` is an average of like stretches (`averaged`),
        the stretch ends where it falls below AVERAGE_QUIET_SHARE of the first peak, if that comes first."""
        stretch, spacing, ratio, noise_sq = self._stretch(y, first_index, second_index, noise_uv, max_reach_samples,
                                                          background_samples, averaged)
        enough = max(max_over_noise * noise_sq * spacing, max_share * float(stretch @ stretch))
        return self._search(stretch, spacing, ratio, enough) <= enough

    def _stretch(self, y: np.ndarray, first_index: int, second_index: int, noise_uv: float,
                 max_reach_samples: tuple[int, int], background_samples: int = 0, averaged: bool = False
                 ) -> tuple[np.ndarray, float, float, float]:
        """The low-passed stretch (every `step`-th sample, the first peak among them), the peaks' spacing in
        those samples and their size ratio, and the noise variance in the fit's band (BACKGROUND_MS)."""
        smooth = sosfiltfilt(self.lowpass_sos, y, self._lowpass_zi)
        ratio = float(smooth[second_index] / smooth[first_index]) if smooth[first_index] else 1.0
        if len(self.tail_sos):  # started in the steady state of its first sample, as sosfiltfilt's passes
            smooth = sosfilt(self.tail_sos, smooth, self._tail_zi * smooth[0])[0].ravel()
        noise_sq = noise_uv * noise_uv * self.noise_share
        if background_samples - self._settle_samples >= self._min_background_samples:
            z = smooth[self._settle_samples : background_samples]  # robust to potentials in it: a median
            noise_sq = max(noise_sq, float(np.median(z * z)) / _MEDIAN_CHI2_1)
        level = QUIET_SIGMA * np.sqrt(noise_sq)
        if averaged:  # at an average's lesser noise, a stretch would end later and give the repeat room to ring
            level = max(level, AVERAGE_QUIET_SHARE * abs(float(smooth[first_index])))
        quiet = np.abs(smooth) < level
        lo = self._quiet_from(quiet, first_index, -1, max_reach_samples[0])
        hi = self._quiet_from(quiet, second_index, 1, max_reach_samples[1]) + 1
        lo += (first_index - lo) % self.step
        return smooth[lo:hi:self.step], (second_index - first_index) / self.step, ratio, noise_sq

    def _search(self, stretch: np.ndarray, spacing: float, ratio: float, enough: float) -> float:
        """The least misfit over intervals near `spacing` and sizes near `ratio`: a coarse grid, then a finer one
        around its best; stops as soon as one is at most `enough`."""
        fit = _DoubletFit(stretch, round(spacing))
        best = (fit.left(spacing, [ratio])[0], spacing, ratio)
        if best[0] <= enough:
            return best[0]
        near_first = np.arange(-self.search_samples, self.search_samples + 1e-9, 0.5)
        near_first = near_first[np.argsort(np.abs(near_first), kind="stable")]  # a real doublet's d soonest
        coarse = (spacing + near_first, ratio * np.array([0.7, 0.85, 1.0, 1.15, 1.3]))
        for stage in ("coarse", "fine"):
            intervals, sizes = coarse if stage == "coarse" else (
                best[1] + np.arange(-0.25, 0.26, 0.125), best[2] * np.arange(0.92, 1.081, 0.02))
            for d in intervals:
                lefts = fit.left(float(d), sizes.tolist())
                k = int(np.argmin(lefts))
                if lefts[k] < best[0]:
                    best = (lefts[k], float(d), float(sizes[k]))
                if best[0] <= enough:
                    return best[0]
        return best[0]

    def _quiet_from(self, quiet: np.ndarray, start: int, step: int, reach: int) -> int:
        """The first index from `start` (going by `step`) ending quiet_samples of quiet signal, or `reach` away."""
        run = 0
        k = start
        for _ in range(reach):
            nxt = k + step
            if not 0 <= nxt < len(quiet):
                break
            k = nxt
            run = run + 1 if quiet[k] else 0
            if run >= self.quiet_samples:
                break
        return k


class _DoubletFit:
    """Least squares of stretch[t] = m[t] + a m[t - d], m free on the stretch's first len - spacing samples
    (zero before and after), for one stretch: the model is I + a K (K the delay by d), so its normal equations
    are (I'I + a (I'K + K'I) + a^2 K'K) m = I'y + a K'y, built once per d for every a."""

    def __init__(self, stretch: np.ndarray, spacing: int) -> None:
        spacing = max(1, min(spacing, len(stretch) - 1))
        self.stretch = stretch
        n = len(stretch)
        self.t = np.arange(n)[:, None]
        self.j = np.arange(n - spacing)[None, :]
        self.own = stretch[: n - spacing]  # I'y
        self.energy = float(stretch @ stretch)

    def left(self, d: float, sizes: list[float]) -> list[float]:
        """The misfit left at interval d for each size a."""
        delay = lanczos(self.t - self.j - d)  # K
        cross = delay[: delay.shape[1]]  # I'K: K's first len - spacing rows
        cross = cross + cross.T
        square = delay.T @ delay
        delayed = delay.T @ self.stretch
        eye = np.eye(delay.shape[1])
        out = []
        for a in sizes:
            rhs = self.own + a * delayed
            # Full rank and well conditioned (the identity plus a delay below the diagonal).
            m = np.linalg.solve(eye + a * cross + a * a * square, rhs)
            out.append(max(self.energy - float(m @ rhs), 0.0))  # |y - Xm|^2 at the least-squares m
        return out
