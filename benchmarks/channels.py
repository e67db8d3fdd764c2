"""Several channels: common-mode artifacts rejected, crosstalk counted once, accuracy kept.

    .venv/bin/python benchmarks/channels.py [--seeds N] [--seed S] [--quick] [--json PATH]

Three channels at 1 kHz built from the real rest recording of BioSPPy (data/README.md), each a
different stretch of it (the recording rolled by 0, 1/3 and 2/3 of its length), so each channel has its
own real noise and its own spontaneous potentials. Into them:

- twitches in channel 0 only (4 motor units of 8-30 ms, 6, 10 or 20 sigma of channel 0, isolated by
  1.2 s or more, away from the backgrounds' weak activity and from motion swings), each with a copy of
  the same shape on its neighbour, channel 1, scaled 0.2-0.5: crosstalk;
- common-mode artifacts on all three channels: motion swings (20-100 sigma, 0.3-1 s) and a train of
  ECG-like beats (8-15 sigma, 60-80 beats/min), each with a gain of 0.7-1.3 per channel.

The same signals go through one detector per channel with the cross-channel rules (MultiMonitor), and,
side by side in the same run, through one channel's pipeline alone (Monitor) per channel. Reported:
channel 0's sensitivity and precision both ways (a hit is a twitch within 15 ms of a true peak, one to
one; strict precision counts every other twitch as false, adjusted leaves out those the background
alone also gives: its own real potentials); the share of common-mode artifacts that produce no twitch
on any channel, and of those that produced one on some channel alone; the share of detected twitches
counted once (one twitch on all channels together, within 15 ms) against the channels alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "host"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from accuracy import band_passed, biosppy_uv, busy_intervals, match, robust_sigma, widened
from myotwitch.dsp.channels import REASON_COMMON_MODE, REASON_CROSSTALK
from myotwitch.events import Rejected, Twitch
from myotwitch.monitor import Monitor, MultiMonitor
from myotwitch.sources import SampleBlock
from myotwitch.sources import synthetic as syn

RATE_HZ = 1000.0
MATCH_S = 0.015
BLOCK_SAMPLES = 4096
AMPLITUDES_SIGMA = (6, 10, 20)


def build(seed: int, quick: bool) -> dict:
    """The three channels, their backgrounds, the true twitches and the common-mode artifacts."""
    rng = np.random.default_rng(seed)
    rest = biosppy_uv("emg.txt")
    if quick:
        rest = rest[:45_000]
    n = len(rest)
    backgrounds = np.stack([np.roll(rest, -k * n // 3) for k in range(3)])
    sigmas = [robust_sigma(band_passed(b, RATE_HZ)) for b in backgrounds]
    busy = [iv for b in backgrounds for iv in widened(busy_intervals(b, RATE_HZ), RATE_HZ, 1.5)]
    common = np.zeros(n)
    artifacts: list[tuple[str, int, int]] = []
    for _ in range(15 if not quick else 6):
        i = int(rng.uniform(2, n / RATE_HZ - 3) * RATE_HZ)
        duration_s = rng.uniform(0.3, 1.0)
        syn.add_motion(common, i, RATE_HZ, rng.uniform(20, 100) * sigmas[0], duration_s, rng)
        artifacts.append(("motion", i, i + int(duration_s * RATE_HZ)))
    for r in syn.add_ecg_train(common, int(0.25 * n), RATE_HZ, 40 if not quick else 15, rng.uniform(60, 80),
                               rng.uniform(8, 15) * sigmas[0], rng):
        artifacts.append(("ecg", r - 60, r + 300))
    x = backgrounds.copy()
    for ch in range(3):
        x[ch] += rng.uniform(0.7, 1.3) * common
    without_artifacts = backgrounds.copy()
    swings = [(a, b) for kind, a, b in artifacts if kind == "motion"]
    avoid = widened(swings, RATE_HZ, 0.6) + busy
    templates = syn.motor_unit_templates(RATE_HZ, 4, rng)
    truth: list[int] = []
    t = 3.0 * RATE_HZ
    while t < n - 2 * RATE_HZ:
        i = int(t)
        if all(not (s <= i <= e) for s, e in avoid):
            shape = templates[rng.integers(len(templates))]
            peak_uv = rng.choice(AMPLITUDES_SIGMA) * sigmas[0]
            ratio = rng.uniform(0.2, 0.5)  # crosstalk on the neighbour
            for signals in (x, without_artifacts):
                syn.add_potential(signals[0], i, shape, peak_uv)
                syn.add_potential(signals[1], i, shape, peak_uv * ratio)
            truth.append(i)
        t += RATE_HZ * (1.2 + rng.exponential(0.8))
    return {"x": x, "backgrounds": backgrounds, "without_artifacts": without_artifacts,
            "truth": np.array(truth, dtype=np.int64), "artifacts": artifacts}


def multi_twitches(x: np.ndarray) -> tuple[list[np.ndarray], dict[str, int]]:
    """Each channel's counted twitches with the cross-channel rules, and the rules' rejections by reason."""
    monitor = MultiMonitor(RATE_HZ, [f"channel {c}" for c in range(len(x))])
    events = []
    for i in range(0, x.shape[1], BLOCK_SAMPLES):
        events += monitor.feed([SampleBlock(i, x[c, i : i + BLOCK_SAMPLES]) for c in range(len(x))])
    events += monitor.finish()
    found = [np.array([e.event.peak_index for e in events if e.channel == c and isinstance(e.event, Twitch)],
                      dtype=np.int64) for c in range(len(x))]
    reasons = {REASON_COMMON_MODE: 0, REASON_CROSSTALK: 0}
    for e in events:
        if isinstance(e.event, Rejected) and e.event.reason in reasons:
            reasons[e.event.reason] += 1
    return found, reasons


def single_twitches(x: np.ndarray) -> np.ndarray:
    monitor = Monitor(RATE_HZ)
    events = []
    for i in range(0, len(x), BLOCK_SAMPLES):
        events += monitor.feed(SampleBlock(i, x[i : i + BLOCK_SAMPLES]))
    events += monitor.finish()
    return np.array([e.peak_index for e in events if isinstance(e, Twitch)], dtype=np.int64)


def near(found: np.ndarray, index: int, tolerance: int) -> int:
    return int(np.sum(np.abs(found - index) <= tolerance))


def score(case: dict) -> dict:
    """Counts for one seed: the multi-channel pipeline and the channels alone, side by side."""
    x, truth, artifacts = case["x"], case["truth"], case["artifacts"]
    tol = int(MATCH_S * RATE_HZ)
    multi, reasons = multi_twitches(x)
    alone = [single_twitches(x[c]) for c in range(len(x))]
    own = single_twitches(case["backgrounds"][0])  # channel 0's own real potentials
    # What each channel gives without the artifacts: a twitch there is not the artifact's doing.
    clean = [single_twitches(case["without_artifacts"][c]) for c in range(len(x))]

    def by_artifact(found: list[np.ndarray], a: int, b: int) -> bool:
        """Does some channel count a twitch within the artifact that it does not count without it?"""
        return any(near(f[np.array([near(k, int(v), tol) == 0 for v in f], dtype=bool)] if len(f) else f,
                        (a + b) // 2, (b - a) // 2) for f, k in zip(found, clean))

    counts: dict = {"truth": len(truth), "rejected_common_mode": reasons[REASON_COMMON_MODE],
                    "rejected_crosstalk": reasons[REASON_CROSSTALK]}
    for label, found in (("multi", multi), ("alone", alone)):
        f0 = found[0]
        hits = match(f0, truth, tol)
        labelled_real = np.array([f for f in f0 if not len(own) or np.min(np.abs(own - f)) > tol], dtype=np.int64)
        counts[label] = {
            "found_ch0": len(f0), "hits_ch0": hits,
            "found_ch0_adjusted": len(labelled_real),
            "hits_ch0_adjusted": match(labelled_real, truth, tol),
            # An artifact "produces a twitch" if some channel counts one within it that it does not count
            # on the same signal without the artifacts (as benchmarks/accuracy.py scores artifacts).
            "artifacts_with_twitch": sum(by_artifact(found, a, b) for _, a, b in artifacts),
            # Of the true twitches found on some channel, how many are counted exactly once on all of them.
            "twitches_seen": sum(any(near(f, t, tol) for f in found) for t in truth),
            "counted_once": sum(sum(near(f, t, tol) for f in found) == 1 for t in truth),
        }
    counts["artifacts"] = len(artifacts)
    counts["artifacts_through_alone_rejected"] = sum(
        by_artifact(alone, a, b) and not by_artifact(multi, a, b) for _, a, b in artifacts)
    return counts


def pooled(per_seed: list[dict]) -> dict:
    def total(path: tuple[str, ...]) -> int:
        out = 0
        for c in per_seed:
            v: Any = c
            for key in path:
                v = v[key]
            out += v
        return out

    result: dict = {"seeds": len(per_seed), "truth": total(("truth",)), "artifacts": total(("artifacts",))}
    for label in ("multi", "alone"):
        hits, found = total((label, "hits_ch0")), total((label, "found_ch0"))
        hits_adj, found_adj = total((label, "hits_ch0_adjusted")), total((label, "found_ch0_adjusted"))
        seen = total((label, "twitches_seen"))
        result[label] = {
            "sensitivity_ch0": hits / result["truth"] if result["truth"] else None,
            "precision_ch0": hits / found if found else None,
            "precision_ch0_adjusted": hits_adj / found_adj if found_adj else None,
            "artifacts_rejected": 1 - total((label, "artifacts_with_twitch")) / result["artifacts"],
            "counted_once": total((label, "counted_once")) / seen if seen else None,
            "twitches_seen": seen,
        }
    through = total(("alone", "artifacts_with_twitch"))
    result["artifacts_through_alone"] = through
    result["of_those_rejected"] = total(("artifacts_through_alone_rejected",)) / through if through else None
    result["rejected_common_mode"] = total(("rejected_common_mode",))
    result["rejected_crosstalk"] = total(("rejected_crosstalk",))
    return result


def fmt(v, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="45 s of signal, one seed (for the test suite)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--seed", type=int, default=0, help="first random seed (default 0)")
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds to pool (default 20)")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    seeds = [args.seed] if args.quick else list(range(args.seed, args.seed + args.seeds))
    per_seed = []
    for seed in seeds:
        per_seed.append(score(build(seed, args.quick)))
        print(f"seed {seed} done", file=sys.stderr)
    r = pooled(per_seed)
    print(f"3 channels x 1 kHz, BioSPPy rest backgrounds, seeds {seeds[0]}-{seeds[-1]}: {r['truth']} twitches in "
          f"channel 0 (crosstalk 0.2-0.5 on channel 1), {r['artifacts']} common-mode artifacts (motion, ECG-like)")
    print("| pipeline | sensitivity ch0 | precision ch0 | precision ch0, adjusted | common-mode artifacts "
          "without a twitch | twitches counted once |")
    print("|---|---|---|---|---|---|")
    for label, name in (("multi", "3 detectors + cross-channel rules"), ("alone", "each channel alone")):
        m = r[label]
        print(f"| {name} | {fmt(m['sensitivity_ch0'])} | {fmt(m['precision_ch0'])} | "
              f"{fmt(m['precision_ch0_adjusted'])} | {fmt(m['artifacts_rejected'])} | {fmt(m['counted_once'])} |")
    print(f"common-mode artifacts that gave a twitch on some channel alone: {r['artifacts_through_alone']}, of which "
          f"the rules rejected {fmt(r['of_those_rejected'])}; rejections: {r['rejected_common_mode']} "
          f"common-mode, {r['rejected_crosstalk']} crosstalk")
    print(f"targets: common-mode artifacts rejected >= 95 %: {fmt(r['multi']['artifacts_rejected'])}; crosstalk "
          f"counted once >= 95 %: {fmt(r['multi']['counted_once'])}; sensitivity ch0 as one channel's: "
          f"{fmt(r['multi']['sensitivity_ch0'])} vs {fmt(r['alone']['sensitivity_ch0'])}")
    if args.json:
        args.json.write_text(json.dumps({"seeds": seeds, "pooled": r, "per_seed": per_seed}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
