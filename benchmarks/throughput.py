"""Throughput, live CPU share and memory of the detection pipeline.

    .venv/bin/pip install -q -e '.[bench]' && .venv/bin/python benchmarks/throughput.py [--hours 1] [--soak-hours 24]

1. Offline: a 1-hour recording at 2 kHz (real surface-EMG rest from
   data/biosppy-emg, upsampled, with twitches and 50 Hz mains added) is
   written as EDF+, then analysed the way `myotwitch analyze` does it
   (EDF reader -> replay source -> detector, episodes), on one core.
   BioSPPy's `emg` pipeline (high-pass, onset detection) runs on the same
   samples in the same process, the two taking turns `--repeat` times; the
   best time of each is reported, and their ratio: the figure that matters,
   since this machine's speed varies from run to run and day to day.
2. Live: the same pipeline fed 50 samples at a time (one frame of the
   board), its CPU time over the signal's duration: the share of one core
   that live use at 2 kHz costs.
3. Whole process, as a user runs it: `python -m myotwitch analyze FILE --format
   jsonl > /dev/null` of the 1-hour EDF+ (start-up, imports, EDF+ read and
   printing included) against a process that reads the same file with pyedflib
   and runs BioSPPy's `emg` on it, taking turns; the ratio of the best times.
   Then the same analyze of a 10-hour EDF+ (the hour ten times over), taking
   turns with the 1-hour one: (10 h - 1 h samples) / (difference of the best
   times) is the rate with start-up excluded. Each in wall time and in CPU
   time (user + system, of the child): the CPU figures hold when other work
   shares the cores. (analyze reads and conditions the next block in a second
   thread where two cores are available: its wall time falls below its CPU
   time when the second core is free, and only then.) The checkout's modules are byte-compiled first, as an
   installed package's are.
4. Memory (run first, so the figures hold only the pipeline and its input):
   `--soak-hours` of 2 kHz signal streamed through the pipeline in blocks,
   the process's resident memory sampled as it goes: it must stay flat.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import signal as sps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "host"))

from myotwitch.monitor import Monitor  # noqa: E402
from myotwitch.recordings import open_recording  # noqa: E402
from myotwitch.sources import SampleBlock  # noqa: E402
from myotwitch.sources import synthetic as syn  # noqa: E402
from myotwitch.sources.replay import ReplaySource  # noqa: E402

RATE_HZ = 2000


def real_rest_2khz() -> np.ndarray:
    counts = np.loadtxt(ROOT / "data" / "biosppy-emg" / "emg.txt", comments="#")
    uv = (counts / 4096.0 - 0.5) * 3.3 / 1009.0 * 1e6
    return sps.resample_poly(uv - np.median(uv), 2, 1)


def make_signal(seconds: float, seed: int) -> np.ndarray:
    """Real rest tiled to length, with twitches every ~3 s and 50 Hz mains at 5 µV."""
    rng = np.random.default_rng(seed)
    rest = real_rest_2khz()
    n = int(seconds * RATE_HZ)
    x = np.resize(rest, n).copy()
    templates = syn.motor_unit_templates(RATE_HZ, 4, rng)
    for i in range(int(2 * RATE_HZ), n - RATE_HZ, int(3 * RATE_HZ)):
        syn.add_potential(x, i + int(rng.integers(0, RATE_HZ)), templates[rng.integers(4)], rng.uniform(15, 80))
    syn.add_mains(x, RATE_HZ, 50.0, 5.0)
    return x


def write_edf(path: Path, x: np.ndarray) -> None:
    import pyedflib

    w = pyedflib.EdfWriter(str(path), 1, file_type=pyedflib.FILETYPE_EDFPLUS)
    w.setSignalHeaders([{"label": "EMG", "dimension": "uV", "sample_frequency": RATE_HZ, "physical_max": 3000.0,
                         "physical_min": -3000.0, "digital_max": 32767, "digital_min": -32768}])
    w.writeSamples([x])
    w.close()


def analyze(path: Path) -> tuple[int, int]:
    """What `myotwitch analyze` does, minus printing: returns (samples, twitches)."""
    recording = open_recording(path)
    monitor = Monitor(recording.rate_hz)
    for block in ReplaySource(recording).blocks():
        monitor.feed(block)
    monitor.finish()
    return monitor.samples, monitor.twitches


def write_edf_repeated(path: Path, x: np.ndarray, times: int) -> None:
    """`x` (whole 1 s records) `times` over, one EDF+ file, written a copy of `x` at a time."""
    import pyedflib

    w = pyedflib.EdfWriter(str(path), 1, file_type=pyedflib.FILETYPE_EDFPLUS)
    w.setSignalHeaders([{"label": "EMG", "dimension": "uV", "sample_frequency": RATE_HZ, "physical_max": 3000.0,
                         "physical_min": -3000.0, "digital_max": 32767, "digital_min": -32768}])
    for _ in range(times):
        w.writeSamples([x])
    w.close()


_BIOSPPY_PROCESS = """
import sys
import pyedflib
from biosppy.signals import emg
f = pyedflib.EdfReader(sys.argv[1])
x = f.readSignal(0)
out = emg.emg(signal=x, sampling_rate=f.getSampleFrequency(0), show=False)
print(len(out["onsets"]))
"""


def run_process(args: list[str], out: int | None = subprocess.DEVNULL) -> tuple[float, float, str]:
    """Wall and CPU (user + system) seconds of one whole process (start-up included), and its stdout unless
    discarded. The CPU seconds hold when other work shares the cores; the wall seconds do not."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "host"))  # this checkout's myotwitch, whatever is installed
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, *args], stdout=out, stderr=subprocess.PIPE, env=env, check=False)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"{args[:3]} exited {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}")
    return seconds, cpu_s, (done.stdout or b"").decode()


def analyze_process(path: Path) -> tuple[float, float]:
    """`python -m myotwitch analyze FILE --format jsonl > /dev/null`: wall and CPU seconds."""
    return run_process(["-m", "myotwitch", "analyze", str(path), "--format", "jsonl"])[:2]


def _times(runs: list[tuple[float, float]]) -> str:
    """Best wall and CPU seconds of some runs, and each run's wall seconds."""
    return (f"{min(w for w, _ in runs):.2f} s wall, {min(c for _, c in runs):.2f} s CPU "
            f"({', '.join(f'{w:.2f}' for w, _ in runs)})")


def whole_process(x: np.ndarray, repeat: int, long_hours: int) -> None:
    """Section 3: whole processes, 1 h against BioSPPy, then 1 h against `long_hours` h."""
    repeat = max(1, repeat)
    # Byte-compile this checkout's modules first, as pip does when it installs the package (BioSPPy's and
    # numpy's come compiled from their install): where PYTHONDONTWRITEBYTECODE is set, as on the build machine,
    # each analyze process would otherwise compile myotwitch from source, 42 ms of its start-up (measured).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "host" / "myotwitch")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        one, long = Path(tmp) / "hour.edf", Path(tmp) / f"{long_hours}h.edf"
        write_edf(one, x)
        ours, theirs = [], []
        for _ in range(repeat):
            ours.append(analyze_process(one))
            wall_s, cpu_s, onsets = run_process(["-c", _BIOSPPY_PROCESS, str(one)], out=subprocess.PIPE)
            theirs.append((wall_s, cpu_s))
        print(f"whole process, {len(x) / RATE_HZ / 3600:g} h EDF+ at {RATE_HZ} Hz, best of {repeat} each, "
              "taking turns:")
        print(f"  myotwitch analyze --format jsonl > /dev/null: {_times(ours)}")
        print(f"  pyedflib read + BioSPPy emg.emg:              {_times(theirs)}, {onsets.strip()} onsets")
        for what, k in (("wall", 0), ("CPU", 1)):
            ratio = min(r[k] for r in ours) / min(r[k] for r in theirs)
            print(f"  myotwitch takes {ratio:.3f} x BioSPPy's {what} time "
                  f"(target <= 0.05: {'met' if ratio <= 0.05 else 'NOT met'})")
        if long_hours <= 1:
            return
        write_edf_repeated(long, x, long_hours)
        short_s, long_s = [], []
        for _ in range(repeat):
            short_s.append(analyze_process(one))
            long_s.append(analyze_process(long))
        extra = (long_hours - 1) * len(x)
        print(f"  {long_hours} h (the hour {long_hours} times over): {_times(long_s)}; 1 h again: {_times(short_s)}")
        for what, k in (("wall", 0), ("CPU", 1)):
            slope = extra / (min(r[k] for r in long_s) - min(r[k] for r in short_s)) / 1e6
            print(f"  rate between them, start-up excluded, {what} time: {slope:.1f} M samples/s "
                  f"(target >= 20: {'met' if slope >= 20 else 'NOT met'})")


def biosppy_emg(x: np.ndarray) -> int:
    from biosppy.signals import emg

    out = emg.emg(signal=x, sampling_rate=float(RATE_HZ), show=False)
    return len(out["onsets"])


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def memory_soak(soak_hours: float) -> None:
    """`soak_hours` of 2 kHz signal through the pipeline in 65,536-sample blocks; resident memory as it goes."""
    hour = make_signal(3600, seed=2)
    monitor = Monitor(RATE_HZ)
    block = 65536
    total = int(soak_hours * 3600 * RATE_HZ)
    marks = sorted({int(total * f) for f in (0.05, 0.25, 0.5, 0.75, 1.0)})
    readings = []
    t0 = time.perf_counter()
    index = 0
    while index < total:
        offset = index % len(hour)
        n = min(block, len(hour) - offset, total - index)
        monitor.feed(SampleBlock(index, hour[offset : offset + n]))
        index += n
        while marks and index >= marks[0]:
            readings.append((index / RATE_HZ / 3600, rss_mib()))
            marks.pop(0)
    monitor.finish()
    print(f"memory, {soak_hours:g} h streamed in {time.perf_counter() - t0:.0f} s "
          f"({monitor.twitches} twitches): resident MiB at " +
          ", ".join(f"{h:.1f} h: {m:.0f}" for h, m in readings) +
          " (the process so far: imports and this 1-hour test signal)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=1.0, help="length of the offline recording")
    parser.add_argument("--soak-hours", type=float, default=24.0, help="length of the memory run")
    parser.add_argument("--live-minutes", type=float, default=10.0)
    parser.add_argument("--long-hours", type=int, default=10,
                        help="length of the long file of the whole-process runs (1: skip the long file)")
    parser.add_argument("--only-process", action="store_true", help="only the whole-process runs (section 3)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="offline runs of each pipeline, taking turns (the best of each counts)")
    args = parser.parse_args(argv)

    print(f"machine: {sys.platform}, Python {sys.version.split()[0]}, numpy {np.__version__}")
    if args.only_process:
        whole_process(make_signal(args.hours * 3600, seed=1), args.repeat, args.long_hours)
        return 0
    memory_soak(args.soak_hours)  # first: the resident figures then hold only the pipeline and its input
    x = make_signal(args.hours * 3600, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        edf = Path(tmp) / "hour.edf"
        write_edf(edf, x)
        stored = np.concatenate(list(open_recording(edf).blocks()))  # the same samples BioSPPy gets
        ours, theirs = [], []
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            samples, twitches = analyze(edf)
            ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            onsets = biosppy_emg(stored)
            theirs.append(time.perf_counter() - t0)
    ours_s, theirs_s = min(ours), min(theirs)
    rate = samples / ours_s / 1e6
    print(f"offline, {args.hours:g} h at {RATE_HZ} Hz ({samples} samples, EDF+ read included for myotwitch), "
          f"best of {len(ours)} runs each, taking turns:")
    print(f"  myotwitch analyze: {ours_s:.2f} s wall ({', '.join(f'{t:.2f}' for t in ours)}), "
          f"{rate:.1f} M samples/s, {twitches} twitches")
    print(f"  BioSPPy emg.emg:   {theirs_s:.2f} s wall ({', '.join(f'{t:.2f}' for t in theirs)}), "
          f"{len(stored) / theirs_s / 1e6:.1f} M samples/s, {onsets} onsets")
    print(f"  ratio: myotwitch is {theirs_s / ours_s:.2f} x BioSPPy's speed")
    print(f"  target 10 M samples/s: {'met' if rate >= 10 else 'not met'} ({rate:.1f})")

    live = x[: int(args.live_minutes * 60 * RATE_HZ)]
    monitor = Monitor(RATE_HZ)
    c0 = time.process_time()
    for i in range(0, len(live), 50):
        monitor.feed(SampleBlock(i, live[i : i + 50]))
    live_cpu_s = time.process_time() - c0
    print(f"live, 50-sample frames: {live_cpu_s:.2f} s CPU for {len(live) / RATE_HZ:.0f} s of signal = "
          f"{100 * live_cpu_s / (len(live) / RATE_HZ):.2f} % of one core at {RATE_HZ} Hz")
    whole_process(x, args.repeat, args.long_hours)
    print(f"peak resident memory of the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
          "(BioSPPy's copies of the hour included)")

    return 0


if __name__ == "__main__":
    sys.exit(main())
