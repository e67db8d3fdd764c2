"""The firmware's hot path in the MicroPython Unix port: cost per sample and bytes on the wire.

    .venv/bin/python benchmarks/firmware_hotpath.py

Times, with MicroPython's own ticks_us, 200,000 timer callbacks of the
sampler (ADC read, ring write, timestamp) and the framing of the same number
of samples at the default 50 samples per frame, in both sample formats; and
counts every byte the firmware's App writes while streaming 60 s at 500,
1000 and 2000 Hz (data frames plus the STATS status each second).
These are figures for this machine's CPU running the Unix port, not for a
microcontroller: they show the relative cost of the parts and catch
regressions. Bytes per sample are exact and hold on any board. So are the
heap bytes allocated by the callbacks and the framing (GC off, counted with
gc.mem_alloc): 0 is the target. Both the wheel's 64-bit port and, when built
(tools/upy32, MYOTWITCH_UPY32), the 32-bit one, whose integers are the
boards', run side by side in one go.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "host"))

from myotwitch.sources.simboard import find_micropython  # noqa: E402


def upy32() -> str | None:
    """The 32-bit MicroPython built by tools/upy32/build-micropython-32bit, if there is one."""
    default = Path.home() / ".cache" / "myotwitch-upy32" / "micropython" / "ports" / "unix" / "build-32" / "micropython"
    path = os.environ.get("MYOTWITCH_UPY32") or (str(default) if default.exists() else "")
    return path if path and os.access(path, os.X_OK) else None


def run(interpreter: str | None = None) -> dict[str, float]:
    fw = ROOT / "firmware"
    # tests/firmware_upy for its FakeBoard and FakeOut (a board fired by hand, a byte sink)
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([str(fw / "lib"), str(fw / "sim"),
                                                         str(ROOT / "tests" / "firmware_upy"), ".frozen"]))
    out = subprocess.run([interpreter or find_micropython(), str(ROOT / "benchmarks" / "upy" / "hotpath.py")],
                         capture_output=True, text=True, env=env, timeout=300, check=True).stdout
    figures: dict[str, float] = {}
    for line in out.splitlines():
        words = line.split()
        if words[0] == "tick_us_per_sample":
            figures["tick_us"] = float(words[1])
            figures["tick_alloc_bytes"] = float(words[3])
        elif words[0] == "format":
            name = "packed12" if words[1] == "1" else "u16"
            figures[f"frame_us_{name}"] = float(words[3])
            figures[f"bytes_per_sample_{name}"] = float(words[5])
            figures[f"frame_alloc_bytes_{name}"] = float(words[7])
        elif words[0] == "v1":
            figures["frame_us_packed12_v1"] = float(words[2])
            figures["bytes_per_sample_packed12_v1"] = float(words[4])
        elif words[0] == "channels3":
            figures["frame_us_per_value_3ch"] = float(words[2])
            figures["bytes_per_value_3ch"] = float(words[4])
            figures["frame_alloc_bytes_3ch"] = float(words[6])
        elif words[0] == "wire":
            figures[f"wire_bytes_per_sample_{words[2]}hz"] = float(words[4])
    return figures


def main() -> int:
    f = run()
    wide = upy32()
    g = run(wide) if wide else None
    print("firmware hot path, MicroPython Unix port on this machine (not a microcontroller):")
    print("  64-bit port (the wheel's)" + ("; in brackets the 32-bit port, the boards' integers" if g else
                                          "; no 32-bit port built (tools/upy32/build-micropython-32bit)"))

    def both(key: str, fmt: str) -> str:
        return format(f[key], fmt) + (f" [{format(g[key], fmt)}]" if g else "")

    print(f"  timer callback (ADC read, ring write, timestamp): {both('tick_us', '.3f')} µs per sample, "
          f"{both('tick_alloc_bytes', '.0f')} heap bytes allocated in 200,000")
    for name in ("packed12", "u16"):
        print(f"  framing, {name}: {both(f'frame_us_{name}', '.3f')} µs per sample, "
              f"{f[f'bytes_per_sample_{name}']:.2f} bytes per sample on the wire, "
              f"{both(f'frame_alloc_bytes_{name}', '.0f')} heap bytes allocated in 4,000 frames")
    print(f"  framing, packed12, protocol v1 (CRC-16) for comparison: {both('frame_us_packed12_v1', '.3f')} µs per "
          f"sample ({f['frame_us_packed12'] / f['frame_us_packed12_v1']:.2f}x for v2's CRC-32 and header), "
          f"{f['bytes_per_sample_packed12_v1']:.2f} bytes per sample")
    print(f"  framing, packed12, 3 channels: {both('frame_us_per_value_3ch', '.3f')} µs per value, "
          f"{f['bytes_per_value_3ch']:.3f} bytes per value, {both('frame_alloc_bytes_3ch', '.0f')} heap bytes "
          f"allocated; at 3 x 2 kHz that is {6000 * f['frame_us_per_value_3ch'] / 1e4:.2f} % of this CPU")
    for rate_hz in (500, 1000, 2000):
        wire = f[f"wire_bytes_per_sample_{rate_hz}hz"]
        print(f"  at {rate_hz} Hz, packed12, data frames and the STATS status each second: {wire:.3f} bytes "
              f"per sample, {rate_hz * wire:.0f} bytes/s ({100 * rate_hz * wire * 10 / 115200:.0f} % of 115200 baud)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
