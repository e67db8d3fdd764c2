"""Build the demo recording: 60 s of real surface-EMG rest with twitches injected at known times.

    python tools/make_demo_recording.py

Background: data/biosppy-emg/emg.txt (BioSPPy, BSD-3-Clause), 12-bit counts
at 1000 Hz, turned into µV with the BITalino EMG sensor's transfer function
(gain 1009, 3.3 V supply), which that example file is assumed to come from.
Twitches: bi- and triphasic motor-unit-like potentials of 8-25 ms and
25-150 µV peak, in three bouts and a few isolated ones. Writes an EDF+ file
and a JSON file of the true peak times beside it. Deterministic (seeded).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyedflib

from myotwitch.sources.synthetic import motor_unit_potential

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "biosppy-emg" / "emg.txt"
OUT = ROOT / "host" / "myotwitch" / "data" / "demo_forearm_rest.edf"
RATE_HZ = 1000
DURATION_S = 60
# Onsets (s) of injected twitches: bouts near 8-14 s, 25-33 s and 45-51 s, and isolated ones.
BOUTS_S = [(8.0, 14.0, 6), (25.0, 33.0, 8), (45.0, 51.0, 5)]
ISOLATED_S = [3.1, 20.4, 38.7, 56.2]


def main() -> None:
    rng = np.random.default_rng(2026)
    counts = np.loadtxt(SOURCE, comments="#")[: DURATION_S * RATE_HZ]
    signal_uv = (counts / 4096.0 - 0.5) * 3.3 / 1009.0 * 1e6
    signal_uv -= np.median(signal_uv)
    times_s = list(ISOLATED_S)
    for start_s, end_s, count in BOUTS_S:
        times_s += list(np.sort(rng.uniform(start_s, end_s, count)))
    times_s.sort()
    truth = []
    for t_s in times_s:
        duration_ms = rng.uniform(8.0, 25.0)
        shape = motor_unit_potential(RATE_HZ, duration_ms, int(rng.choice([2, 3])), rng)
        peak_uv = rng.uniform(25.0, 150.0)
        start = int(round(t_s * RATE_HZ)) - len(shape) // 2
        signal_uv[start : start + len(shape)] += peak_uv * shape
        peak_index = start + int(np.argmax(np.abs(shape)))
        truth.append({"t_s": peak_index / RATE_HZ, "peak_uv": round(peak_uv, 1), "duration_ms": round(duration_ms, 1)})

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


if __name__ == "__main__":
    main()
