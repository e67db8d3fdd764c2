"""Two-lobed potentials and doublets on real rest, with the doublet test's average and without it.

    .venv/bin/python benchmarks/doublets_rest.py [--seeds 4]

Issue 13 item 2 on the accuracy benchmark's quiet background: the first 60 s of the BioSPPy rest recording
(data/biosppy-emg), phase-randomised (its spectrum, none of its potentials; at 2 kHz resampled), a new
randomisation per seed. On it, one two-lobed unit (tests/test_rules.py's shape, lobes 10, 12 or 15 ms apart)
fires every 1.0-2.5 s at 10-20 noise sigmas (the background's sigma in the surface-EMG band), at sub-sample
positions; once each, or twice 15, 20 or 25 ms apart (the second 0.9-1.1 times the first), that interval the
same each time or drawn anew within +/- 3 ms (a unit's doublets vary: an average of doublets of different
intervals is no doublet, and must not cost real ones their flag). Reports, per rate
and shape, the discharges found (a twitch from 20 ms before the first to 20 ms after the second: a doublet not
flagged is placed at its larger peak), and how many are flagged as doublets (fired once) or flagged with the
right interval, within 2 ms (fired twice): with the doublet test on each pair alone (doublet_pool_s = 0) and
with the unit's like discharges averaged in (the default), on the same signals.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import signal as sps

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import biosppy_uv, phase_randomised
from potentials import band_sigma_uv

from myotwitch.dsp.detector import DetectorConfig, Twitch, TwitchDetector

SHAPES_MS = ((10.0, 15.0), (12.0, 20.0), (15.0, 25.0))  # lobes apart, interval when fired twice
ALONE = replace(DetectorConfig(), doublet_pool_s=0.0)


def two_lobed_at(rate_hz: float, lobe_gap_ms: float, frac: float) -> tuple[np.ndarray, int]:
    """sources.synthetic.two_lobed_potential's shape (unit first lobe) delayed by `frac` of a sample, and the
    index of its first lobe's sample."""
    step_ms = 1000.0 / rate_hz
    t_ms = np.arange(-3 * lobe_gap_ms, 4 * lobe_gap_ms, step_ms)
    width_ms = lobe_gap_ms / 5

    def lobe(at_ms: float) -> np.ndarray:
        return np.exp(-0.5 * ((t_ms - frac * step_ms - at_ms) / width_ms) ** 2)

    x = -0.3 * lobe(-lobe_gap_ms / 2) + lobe(0.0) - 0.6 * lobe(lobe_gap_ms / 2) + 0.85 * lobe(lobe_gap_ms)
    return x, int(np.argmin(np.abs(t_ms)))


def signal(rate_hz: float, lobe_gap_ms: float, interval_ms: float | None, jitter_ms: float, seed: int
           ) -> tuple[np.ndarray, list[tuple[float, float | None]]]:
    """The background with the unit's discharges, and each one's time (s) and interval (ms; None: once)."""
    rng = np.random.default_rng(seed)
    quiet = phase_randomised(biosppy_uv("emg.txt")[:60_000], rng)
    if rate_hz == 2000.0:
        quiet = sps.resample_poly(quiet, 2, 1)
    sigma_uv = band_sigma_uv(quiet, rate_hz)
    x = quiet.copy()
    times_s, t_s = [], 2.0
    while t_s < len(x) / rate_hz - 2.0:
        times_s.append(t_s)
        t_s += rng.uniform(1.0, 2.5)
    fired: list[tuple[float, float | None]] = []
    for t_s in times_s:
        peak_uv = rng.uniform(10, 20) * sigma_uv
        this_ms = interval_ms
        if this_ms is not None and jitter_ms:
            this_ms += rng.uniform(-jitter_ms, jitter_ms)
        fired.append((t_s, this_ms))
        for k, after_s in enumerate((0.0,) if this_ms is None else (0.0, this_ms / 1000)):
            at = (t_s + after_s) * rate_hz
            shape, first = two_lobed_at(rate_hz, lobe_gap_ms, at - int(at))
            start = int(at) - first
            x[start : start + len(shape)] += peak_uv * (rng.uniform(0.9, 1.1) if k else 1.0) * shape
    return x, fired


def counts(x: np.ndarray, fired: list[tuple[float, float | None]], rate_hz: float, config: DetectorConfig
           ) -> tuple[int, int]:
    """(discharges found, of them flagged: any interval if fired once, the right one if twice)."""
    det = TwitchDetector(rate_hz, config)
    twitches = [e for e in det.process(0, x) + det.flush() if isinstance(e, Twitch)]
    peaks = np.array([t.peak_index for t in twitches])
    found = flagged = 0
    for t_s, interval_ms in fired:
        second_s = (interval_ms or 0.0) / 1000  # a doublet not flagged is placed at its larger peak
        near = np.flatnonzero(((t_s - 0.02) * rate_hz <= peaks) & (peaks <= (t_s + second_s + 0.02) * rate_hz))
        if not len(near):
            continue
        found += 1
        d = twitches[near[0]].doublet_interval_samples
        flagged += d is not None and (interval_ms is None or abs(d * 1000 / rate_hz - interval_ms) <= 2)
    return found, flagged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args(argv)
    print("| rate | lobes apart | fired | discharges | found alone / averaged | flagged alone | averaged |")
    print("|---|---|---|---|---|---|---|")
    for rate_hz in (1000.0, 2000.0):
        for lobe_gap_ms, twice_ms in SHAPES_MS:
            for interval_ms, jitter_ms in ((None, 0.0), (twice_ms, 0.0), (twice_ms, 3.0)):
                total = np.zeros(5, dtype=int)
                for seed in range(args.seeds):
                    x, fired = signal(rate_hz, lobe_gap_ms, interval_ms, jitter_ms, seed)
                    total += (len(fired), *counts(x, fired, rate_hz, ALONE),
                              *counts(x, fired, rate_hz, DetectorConfig()))
                how = "once" if interval_ms is None else f"twice, {interval_ms:g} ms" + (
                    f" +/- {jitter_ms:g}" if jitter_ms else "")
                print(f"| {rate_hz / 1000:g} kHz | {lobe_gap_ms:g} ms | {how} | {total[0]} | {total[1]} / {total[3]} "
                      f"| {total[2]} | {total[4]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
