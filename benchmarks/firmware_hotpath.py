"""The firmware's hot path in the MicroPython Unix port: cost per sample and bytes on the wire.

    .venv/bin/python benchmarks/firmware_hotpath.py

Times, with MicroPython's own ticks_us, 200,000 timer callbacks of the
sampler (ADC read, ring write, timestamp) and the framing of the same number
of samples at the default 50 samples per frame, in both sample formats; and
counts every byte the firmware's App writes while streaming 60 s at 500,
1000 and 2000 Hz (data frames plus the STATS status each second).
These are figures for this machine's CPU running the Unix port, not for a
microcontroller: they show the relative cost of the parts and catch
regressions. Bytes per sample are exact and hold on any board.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "host"))

from myotwitch.sources.simboard import find_micropython  # noqa: E402


def run() -> dict[str, float]:
    fw = ROOT / "firmware"
    # tests/firmware_upy for its FakeBoard and FakeOut (a board fired by hand, a byte sink)
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([str(fw / "lib"), str(fw / "sim"),
                                                         str(ROOT / "tests" / "firmware_upy"), ".frozen"]))
    out = subprocess.run([find_micropython(), str(ROOT / "benchmarks" / "upy" / "hotpath.py")],
                         capture_output=True, text=True, env=env, timeout=300, check=True).stdout
    figures: dict[str, float] = {}
    for line in out.splitlines():
        words = line.split()
        if words[0] == "tick_us_per_sample":
            figures["tick_us"] = float(words[1])
        elif words[0] == "format":
            name = "packed12" if words[1] == "1" else "u16"
            figures[f"frame_us_{name}"] = float(words[3])
            figures[f"bytes_per_sample_{name}"] = float(words[5])
        elif words[0] == "wire":
            figures[f"wire_bytes_per_sample_{words[2]}hz"] = float(words[4])
    return figures


def main() -> int:
    f = run()
    print("firmware hot path, MicroPython Unix port on this machine (not a microcontroller):")
    print(f"  timer callback (ADC read, ring write, timestamp): {f['tick_us']:.3f} µs per sample")
    for name in ("packed12", "u16"):
        print(f"  framing, {name}: {f[f'frame_us_{name}']:.3f} µs per sample, "
              f"{f[f'bytes_per_sample_{name}']:.2f} bytes per sample on the wire")
    for rate_hz in (500, 1000, 2000):
        wire = f[f"wire_bytes_per_sample_{rate_hz}hz"]
        print(f"  at {rate_hz} Hz, packed12, data frames and the STATS status each second: {wire:.3f} bytes "
              f"per sample, {rate_hz * wire:.0f} bytes/s ({100 * rate_hz * wire * 10 / 115200:.0f} % of 115200 baud)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
