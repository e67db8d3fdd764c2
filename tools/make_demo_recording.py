"""Build the demo recordings: 60 s of real surface-EMG rest with twitches injected at known times.

    python tools/make_demo_recording.py [forearm | hand_3ch]    (both when not said)

Background: data/biosppy-emg/emg.txt (BioSPPy, BSD-3-Clause), 12-bit counts
at 1000 Hz, turned into µV with the BITalino EMG sensor's transfer function
(gain 1009, 3.3 V supply), which that example file is assumed to come from.
Twitches: bi- and triphasic motor-unit-like potentials of 8-25 ms and
25-150 µV peak, in three bouts and a few isolated ones. Each file is written
as EDF+ with a JSON file of the truth beside it. Deterministic (seeded).

- `demo_forearm_rest.edf`: one signal, "EMG forearm", the first 60 s.
- `demo_hand_3ch.edf`: three signals, "right APB", "right FDI", "right FCR"
  (the labels are the muscle names `analyze` gives the channels), each the
  rest of a different 60 s stretch of the same recording (starting at 0 s,
  40 s and 20 s: no two channels hold the same samples at one time).
  Twitches in the APB only; the same potential at 0.2-0.5 of its size on the
  FDI, its neighbour (crosstalk, one sample later); common-mode on all three
  at 0.8-1.2 of one size: motion swings (a tug on the cables) and ECG-like
  beats through a 20 s stretch. The truth lists the twitches (channel 0),
  their crosstalk copies, the swings and the R peaks.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pyedflib

from myotwitch.sources.synthetic import add_ecg_train, add_motion, motor_unit_potential

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "biosppy-emg" / "emg.txt"
DATA = ROOT / "host" / "myotwitch" / "data"
OUT = DATA / "demo_forearm_rest.edf"
OUT_3CH = DATA / "demo_hand_3ch.edf"
RATE_HZ = 1000
DURATION_S = 60
# Onsets (s) of injected twitches: bouts near 8-14 s, 25-33 s and 45-51 s, and isolated ones.
BOUTS_S = [(8.0, 14.0, 6), (25.0, 33.0, 8), (45.0, 51.0, 5)]
ISOLATED_S = [3.1, 20.4, 38.7, 56.2]
MUSCLES_3CH = ("right APB", "right FDI", "right FCR")  # median, ulnar, median nerve
STRETCH_START_S = (0, 40, 20)  # where each channel's 60 s of background begins in emg.txt (100 s long)
CROSSTALK_SHARE = (0.2, 0.5)
COMMON_GAINS = (1.0, 0.8, 1.2)  # the common-mode potential's size on each channel
SWINGS_S = [5.5, 17.0, 36.0, 53.5]  # motion swings: starts, 0.3-0.8 s each
ECG_S = (21.0, 18)  # the first beat's start (s), beats at about 66 per minute (through about 37 s)


def rest_uv(start_s: int) -> np.ndarray:
    """60 s of the BioSPPy rest recording from start_s, in µV about 0."""
    counts = np.loadtxt(SOURCE, comments="#")[start_s * RATE_HZ : (start_s + DURATION_S) * RATE_HZ]
    signal_uv = (counts / 4096.0 - 0.5) * 3.3 / 1009.0 * 1e6
    return signal_uv - np.median(signal_uv)


def twitch_times_s(rng: np.random.Generator) -> list[float]:
    times_s = list(ISOLATED_S)
    for start_s, end_s, count in BOUTS_S:
        times_s += list(np.sort(rng.uniform(start_s, end_s, count)))
    return sorted(times_s)


def inject(signal_uv: np.ndarray, t_s: float, rng: np.random.Generator) -> tuple[np.ndarray, int, dict]:
    """Add a potential centred at t_s; returns (its shape x peak, its first index, its truth)."""
    duration_ms = rng.uniform(8.0, 25.0)
    shape = motor_unit_potential(RATE_HZ, duration_ms, int(rng.choice([2, 3])), rng)
    peak_uv = rng.uniform(25.0, 150.0)
    start = round(float(t_s) * RATE_HZ) - len(shape) // 2
    signal_uv[start : start + len(shape)] += peak_uv * shape
    peak_index = start + int(np.argmax(np.abs(shape)))
    truth = {"t_s": peak_index / RATE_HZ, "peak_uv": round(peak_uv, 1), "duration_ms": round(duration_ms, 1)}
    return peak_uv * shape, start, truth


def build_forearm() -> None:
    rng = np.random.default_rng(2026)
    signal_uv = rest_uv(0)
    truth = [inject(signal_uv, t_s, rng)[2] for t_s in twitch_times_s(rng)]

    OUT.parent.mkdir(parents=True, exist_ok=True)
    writer = pyedflib.EdfWriter(str(OUT), 1, file_type=pyedflib.FILETYPE_EDFPLUS)
    writer.setSignalHeaders([{
        "label": "EMG forearm", "dimension": "uV", "sample_frequency": RATE_HZ,
        "physical_max": 3000.0, "physical_min": -3000.0, "digital_max": 32767, "digital_min": -32768,
        "transducer": "surface Ag/AgCl", "prefilter": "none",
    }])
    writer.setPatientCode("demo")
    writer.setEquipment("BioSPPy_rest_plus_injected_twitches")
    writer.writeSamples([signal_uv])
    writer.close()
    OUT.with_suffix(".truth.json").write_text(json.dumps({
        "what": "true peak times of the twitches injected into demo_forearm_rest.edf",
        "background": "data/biosppy-emg/emg.txt (BioSPPy, BSD-3-Clause), first 60 s",
        "twitches": truth,
    }, indent=1) + "\n")
    print(f"wrote {OUT} with {len(truth)} injected twitches")


def build_hand_3ch() -> None:
    rng = np.random.default_rng(2027)
    signals_uv = np.stack([rest_uv(start_s) for start_s in STRETCH_START_S])
    twitches, crosstalk = [], []
    for t_s in twitch_times_s(rng):
        potential_uv, start, truth = inject(signals_uv[0], t_s, rng)
        share = rng.uniform(*CROSSTALK_SHARE)
        copy_start = start + 1  # volume conduction is instant; one sample for the electrodes' distance
        signals_uv[1, copy_start : copy_start + len(potential_uv)] += share * potential_uv
        twitches.append(dict(truth, channel=0, muscle=MUSCLES_3CH[0]))
        crosstalk.append({"t_s": truth["t_s"] + 1 / RATE_HZ, "channel": 1, "share": round(share, 2)})
    swings = []
    for start_s in SWINGS_S:
        swing_uv, duration_s = rng.uniform(100.0, 300.0), rng.uniform(0.3, 0.8)
        one = np.zeros(DURATION_S * RATE_HZ)
        add_motion(one, int(start_s * RATE_HZ), RATE_HZ, swing_uv, duration_s, rng)
        signals_uv += np.outer(COMMON_GAINS, one)
        swings.append({"start_s": start_s, "end_s": round(start_s + duration_s, 3), "swing_uv": round(swing_uv, 1)})
    heart = np.zeros(DURATION_S * RATE_HZ)
    r_peaks = add_ecg_train(heart, int(ECG_S[0] * RATE_HZ), RATE_HZ, ECG_S[1], 66.0, 40.0, rng)
    signals_uv += np.outer(COMMON_GAINS, heart)

    writer = pyedflib.EdfWriter(str(OUT_3CH), len(MUSCLES_3CH), file_type=pyedflib.FILETYPE_EDFPLUS)
    writer.setSignalHeaders([{
        "label": muscle, "dimension": "uV", "sample_frequency": RATE_HZ,
        "physical_max": 3000.0, "physical_min": -3000.0, "digital_max": 32767, "digital_min": -32768,
        "transducer": "surface Ag/AgCl", "prefilter": "none",
    } for muscle in MUSCLES_3CH])
    writer.setPatientCode("demo")
    writer.setEquipment("BioSPPy_rest_plus_injected_3ch")
    writer.setStartdatetime(datetime(2026, 1, 1))  # fixed, so that a rebuild gives the same bytes
    writer.writeSamples(list(signals_uv))
    writer.close()
    OUT_3CH.with_suffix(".truth.json").write_text(json.dumps({
        "what": "what was injected into demo_hand_3ch.edf (t_s: peak, seconds from the first sample)",
        "background": "data/biosppy-emg/emg.txt (BioSPPy, BSD-3-Clause): 60 s from "
                      + ", ".join(f"{s} s ({m})" for s, m in zip(STRETCH_START_S, MUSCLES_3CH, strict=True)),
        "channels": list(MUSCLES_3CH),
        "twitches": twitches,
        "crosstalk": crosstalk,
        "common_mode_gains": list(COMMON_GAINS),
        "motion_swings": swings,
        "ecg_r_peaks_s": [i / RATE_HZ for i in r_peaks],
    }, indent=1) + "\n")
    print(f"wrote {OUT_3CH}: {len(twitches)} twitches in {MUSCLES_3CH[0]}, crosstalk on {MUSCLES_3CH[1]}, "
          f"{len(swings)} motion swings and {len(r_peaks)} heart beats on all three")


def main(argv: list[str]) -> None:
    which = argv or ["forearm", "hand_3ch"]
    for name in which:
        {"forearm": build_forearm, "hand_3ch": build_hand_3ch}[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
