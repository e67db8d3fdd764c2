"""Doublets: one motor unit firing twice 10-100 ms apart, in Gaussian noise.

    .venv/bin/python benchmarks/doublets.py [--seeds 10]

For units of 8, 12 and 20 ms (bi- and triphasic, alternating by seed) and
intervals from 10 to 100 ms, 14 doublets per seed at 8-20 noise sigmas,
1.3 s apart. Reports, per unit and interval: doublets found (a twitch within
15 ms of the first peak), found at the first peak (within 3 ms; of a biphasic
unit, at either of its two equal phases), flagged as a
doublet with the right interval (within 3 ms), and the twitches reported in
all. Short intervals are the hard case: the two potentials run into each
other and make one candidate.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))

from myotwitch.dsp.detector import Twitch, TwitchDetector
from myotwitch.sources import synthetic as syn

RATE_HZ = 1000.0
NOISE_UV = 2.0
UNITS_MS = (8, 12, 20)
INTERVALS_MS = (10, 12, 15, 20, 25, 30, 40, 60, 100)


def one(duration_ms: float, interval_ms: int, seed: int) -> tuple[int, int, int, int, int]:
    """(doublets, found, at the first peak, flagged, twitches reported) for one seed."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, NOISE_UV, 40_000)
    unit = syn.motor_unit_potential(RATE_HZ, duration_ms, 3 if seed % 2 else 2, rng)
    firsts = list(range(3000, 38_000, 2500))
    for i in firsts:
        peak_uv = rng.uniform(8, 20) * NOISE_UV
        syn.add_potential(x, i, unit, peak_uv)
        syn.add_potential(x, i + interval_ms, unit, peak_uv * rng.uniform(0.8, 1.2))
    det = TwitchDetector(RATE_HZ)
    twitches = [e for e in det.process(0, x) + det.flush() if isinstance(e, Twitch)]
    found = sum(any(abs(t.peak_index - p) <= 15 for t in twitches) for p in firsts)
    # The first potential's peak: its largest phase, or the other phase of a biphasic unit (the two are the
    # same size: which one is the peak in noise is chance).
    centre = int(np.argmax(np.abs(unit)))
    other = int(np.argmax(-np.sign(unit[centre]) * unit)) - centre
    phases = (0, other) if abs(unit[centre + other]) >= 0.95 * abs(unit[centre]) else (0,)
    at_first = sum(any(abs(t.peak_index - p - k) <= 3 for t in twitches for k in phases) for p in firsts)
    flagged = sum(1 for t in twitches
                  if t.doublet_interval_samples is not None and abs(t.doublet_interval_samples - interval_ms) <= 3)
    return len(firsts), found, at_first, flagged, len(twitches)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args(argv)
    print("| unit | interval | doublets | found | at the first peak | flagged | twitches reported |")
    print("|---|---|---|---|---|---|---|")
    total = np.zeros(5, dtype=int)
    for duration_ms in UNITS_MS:
        for interval_ms in INTERVALS_MS:
            counts = np.sum([one(duration_ms, interval_ms, seed) for seed in range(args.seeds)], axis=0)
            total += counts
            print(f"| {duration_ms} ms | {interval_ms} ms | " + " | ".join(str(int(c)) for c in counts) + " |")
    print("| all | | " + " | ".join(str(int(c)) for c in total) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
