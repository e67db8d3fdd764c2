"""`myotwitch check`: is this build working? A short session, relaxed then flexed, and what it shows.

From a board (--port, or found by USB id), the simulated board (--source sim)
or a recording (--source PATH): `--relax` seconds with the muscle relaxed,
then `--flex` seconds squeezing. Then, one line each:
  gain         the gain the board reports against the sensor's published gain (--sensor)
  flat         does the signal move at all (electrode off, sensor unpowered, wrong pin)?
  railed       samples at the ADC's end codes (output not centred, sensor on 5 V)?
  mains        50/60 Hz hum in µV RMS, against the noise floor
  noise floor  the detector's noise floor at rest, against what this sensor on this board should give
  flex         does a contraction rise well above rest (electrodes on the muscle, the RAW output)?
Phases are counted in samples, not seconds of this computer's clock, so a
recording or the simulated board at --speed 0 gives the same answer as in real time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from myotwitch import builds
from myotwitch.cli import options
from myotwitch.errors import MyotwitchError

if TYPE_CHECKING:
    from myotwitch.protocol import BoardInfo

DEMO_RECORDING = Path(__file__).resolve().parent / "data" / "demo_forearm_rest.edf"  # what the sim board plays
HELP = "check a build: flat? railed? mains? noise floor against what the sensor and board should give"
FLEX_RATIO_MIN = 3.0  # a contraction's RMS over the relaxed RMS; a firm squeeze gives tens
RAILED_SHARE_MAX = 0.001  # samples at the ADC's end codes: a few in 1000 is already clipping twitches
FLOOR_HIGH_FACTOR = 2.0  # measured floor above twice the worst expected: contact, mains, motion
FLOOR_LOW_FACTOR = 0.5  # below half the best expected: the µV scale (the gain) is wrong


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    text: str
    value: float | None = None


@dataclass
class Phases:
    """The samples of the relaxed and the flexed phase, in µV, and what was lost."""

    rate_hz: float
    relax_uv: list = field(default_factory=list)
    flex_uv: list = field(default_factory=list)
    lost_samples: int = 0


_FLASH_NAMES = {"rp2040": "pico", "rp2": "pico", "rp2350": "pico2"}  # flash --board's names for the same chips


def _board_name(text: str) -> str:
    return _FLASH_NAMES.get(text, text)


def _relax_s(text: str) -> float:
    value = options.positive_float(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"needs at least 2 s (the noise floor takes 1 s to settle): {text!r}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", help="the board's serial port (default: find it by USB id)")
    p.add_argument("--source", metavar="sim|PATH", help="sim: the simulated board; PATH: a recording")
    p.add_argument("--sensor", choices=sorted(builds.SENSORS),
                   help="the sensor board, to compare gain and noise floor with its published figures")
    p.add_argument("--board", type=_board_name, choices=sorted(k for k in builds.BOARDS if k != "sim"),
                   help="the microcontroller: pico (also rp2040), pico2 (also rp2350) or esp32, as `flash --board` "
                        "takes them (default: from the board's hello; needed for a recording)")
    p.add_argument("--relax", type=_relax_s, default=10.0, metavar="S",
                   help="seconds relaxed (default 10; at least 2)")
    p.add_argument("--flex", type=options.non_negative_float, default=5.0, metavar="S",
                   help="seconds flexed (default 5; 0: skip)")
    p.add_argument("--no-prompt", action="store_true", help="do not wait for Enter before the relaxed phase")
    p.add_argument("--speed", type=options.speed, default=1.0,
                   help="simulated board: N times real time, 0 = as fast as possible (default 1)")


# -- the measurement ------------------------------------------------------------


def collect(blocks: Iterable, rate_hz: float, relax_s: float, flex_s: float,
            on_flex: Callable[[], None]) -> Phases:
    """Split the stream into the relaxed and the flexed phase by sample count; lost samples are counted."""
    import numpy as np

    relax_n, flex_n = round(relax_s * rate_hz), round(flex_s * rate_hz)
    phases = Phases(rate_hz)
    have = 0
    for block in blocks:
        phases.lost_samples += block.lost_before
        samples = np.asarray(block.samples_uv, dtype=np.float64)
        while len(samples):
            if have < relax_n:
                take = samples[: relax_n - have]
                phases.relax_uv.append(take)
            else:
                take = samples[: relax_n + flex_n - have]
                phases.flex_uv.append(take)
            before = have
            have += len(take)
            samples = samples[len(take):]
            if before < relax_n <= have and flex_n:
                on_flex()
            if have >= relax_n + flex_n:
                return phases
    if have < relax_n + flex_n:
        raise MyotwitchError(f"the stream ended after {have / rate_hz:.1f} s; the check needs "
                             f"{(relax_n + flex_n) / rate_hz:.1f} s")
    return phases


def mains_uv_rms(x, rate_hz: float) -> tuple[float, float]:
    """(frequency, µV RMS) of the stronger mains line, 50 or 60 Hz, by a Hann-windowed DFT at that frequency."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    window = np.hanning(len(x))
    t = np.arange(len(x)) / rate_hz
    best = (50.0, 0.0)
    for f_hz in (50.0, 60.0):
        amplitude = 2 * abs(np.sum(x * window * np.exp(-2j * np.pi * f_hz * t))) / np.sum(window)
        if amplitude / math.sqrt(2) > best[1]:
            best = (f_hz, amplitude / math.sqrt(2))
    return best


def windowed_rms_median(x, rate_hz: float, window_s: float = 0.1) -> float:
    """The median over 100 ms windows of their RMS (each window's mean removed): a sustained level that a few
    twitches or a slow drift barely move, as a contraction's level should be judged."""
    import numpy as np

    n = max(1, round(window_s * rate_hz))
    windows = np.asarray(x, dtype=np.float64)[: len(x) // n * n].reshape(-1, n)
    if not len(windows):
        return 0.0
    return float(np.median(np.std(windows, axis=1)))


def detector_floor_uv(x, rate_hz: float) -> float | None:
    """The detector's own noise floor over these samples (what summaries call the noise floor)."""
    from myotwitch.monitor import Monitor
    from myotwitch.sources import SampleBlock

    monitor = Monitor(rate_hz)
    monitor.feed(SampleBlock(0, x))
    monitor.finish()
    return monitor.detector.noise_uv


def assess(phases: Phases, sensor: builds.Sensor | None, board: builds.Board | None,
           reported_gain: float | None) -> list[Finding]:
    import numpy as np

    rate_hz = phases.rate_hz
    relax = np.concatenate(phases.relax_uv) if phases.relax_uv else np.zeros(0)
    flex = np.concatenate(phases.flex_uv) if phases.flex_uv else np.zeros(0)
    both = np.concatenate([relax, flex])
    gain = reported_gain or (sensor.gain if sensor else None)
    step_uv = builds.uv_per_count(gain, board) if (gain and board) else None
    found: list[Finding] = []

    if sensor is not None and reported_gain is not None:
        same = math.isclose(reported_gain, sensor.gain, rel_tol=0.01)
        # The board divides by the gain it reports: a gain too high makes every µV too small, and the other way.
        factor = reported_gain / sensor.gain
        wrong = f"{factor:.3g}x too small" if factor > 1 else f"{1 / factor:.3g}x too large"
        found.append(Finding("gain", same, f"the board reports gain {reported_gain:g}; a {sensor.name} has "
                             f"{sensor.gain:g}" + ("" if same else f": every µV would read {wrong}. Store the sensor "
                             f"on the board: myotwitch live --sensor {sensor.key} (or flash --sensor), which sets "
                             f"its gain to {sensor.gain:g}"), reported_gain))

    moving_uv = float(np.std(relax))
    flat_limit = 0.25 * step_uv if step_uv else 0.05  # nearly every sample on one ADC code
    flat = moving_uv < flat_limit
    found.append(Finding("flat", not flat, f"{moving_uv:.2f} µV RMS at rest" + (
        ": flat (electrode off, sensor unpowered, or the wrong pin?)" if flat else ""), moving_uv))

    if step_uv and board:
        # The end codes of the ADC, in µV as the board converts them (mid-scale is zero).
        low = -(1 << (board.adc_bits - 1)) * step_uv
        high = ((1 << (board.adc_bits - 1)) - 1) * step_uv
        share = float(np.mean((both <= low + 0.5 * step_uv) | (both >= high - 0.5 * step_uv))) if len(both) else 0.0
        railed = share > RAILED_SHARE_MAX
        found.append(Finding("railed", not railed, f"{share * 100:.2f} % of samples at the ADC's end codes" + (
            ": clipping (is the output centred at mid-supply, the sensor powered from 3.3 V?)" if railed else ""),
            share))

    floor = detector_floor_uv(relax, rate_hz) if not flat else None
    mains_hz, mains_rms = mains_uv_rms(relax, rate_hz)
    hum = floor is not None and mains_rms > floor
    found.append(Finding("mains", not hum, f"{mains_rms:.2f} µV RMS at {mains_hz:g} Hz" + (
        f", above the noise floor ({floor:.2f} µV): the detector notches it, but keep the laptop on battery and "
        "the cables away from mains leads" if hum else ""), mains_rms))

    if floor is not None:
        text = f"{floor:.2f} µV"
        ok = True
        if sensor and board:
            best, worst = builds.expected_floor_uv(sensor.gain, board)
            if worst is None:
                expected = f"at least {best:.1f} µV"
            elif f"{best:.1f}" == f"{worst:.1f}":
                expected = f"{best:.1f} µV"
            else:
                expected = f"{best:.1f}-{worst:.1f} µV"
            text += f"; a {sensor.name} on a {board.name} should give {expected}"
            if worst is not None and floor > FLOOR_HIGH_FACTOR * worst:
                ok, text = False, text + ": too high (electrode contact, skin preparation, mains, a tugging lead?)"
            elif floor < FLOOR_LOW_FACTOR * best:
                ok, text = False, text + ": lower than this build can resolve: is the gain right?"
        else:
            text += " (give --sensor and --board to compare with what the build should give)"
        found.append(Finding("noise floor", ok, text, floor))

    if len(flex):
        rest_level = windowed_rms_median(relax, rate_hz)
        ratio = windowed_rms_median(flex, rate_hz) / rest_level if rest_level > 0 else 0.0
        seen = ratio >= FLEX_RATIO_MIN
        found.append(Finding("flex", seen, f"{ratio:.1f}x the relaxed level" + (
            "" if seen else f" (a contraction gives {FLEX_RATIO_MIN:g}x or more): electrodes on the muscle belly, "
            "along its fibres? the RAW output, not the envelope?"), ratio))
    if phases.lost_samples:
        found.append(Finding("lost", False, f"{phases.lost_samples} samples lost on the way", phases.lost_samples))
    return found


# -- sources --------------------------------------------------------------------


@contextlib.contextmanager
def open_source(args: argparse.Namespace,
                say: Callable[[str], None]) -> Iterator[tuple[Iterable, float, BoardInfo | None]]:
    """(blocks, rate_hz, the board's hello info or None) from a recording, the simulated board or a board."""
    from myotwitch.recordings import open_recording

    if args.source not in (None, "sim"):
        from myotwitch.sources.replay import ReplaySource

        recording = open_recording(args.source)
        yield ReplaySource(recording).blocks(), recording.rate_hz, None
        return
    from myotwitch.sources.serial_source import READ_INTERVAL_S, SerialSource

    if args.source == "sim":
        from myotwitch.sources.simboard import SimBoard

        with SimBoard(open_recording(DEMO_RECORDING), speed=args.speed) as sim:
            if sim.port is None:
                raise MyotwitchError("the simulated board did not start")
            # At --speed 0 the board writes as fast as it can: read it as it writes (see READ_INTERVAL_S).
            source = SerialSource(sim.port, silence_timeout_s=10.0, read_interval_s=0.0 if args.speed == 0 else
                                  READ_INTERVAL_S)
            info = source.open()
            try:
                source.start()
                yield source.blocks(), float(info.rate_hz), info
            finally:
                source.close()
        return
    if args.port:
        source = SerialSource(args.port)
        info = source.open()
    else:
        from myotwitch.live.ports import find_board

        say("looking for the board (USB ids of Pico, ESP32 and USB-UART bridges)")

        def open_port(port: str):
            s = SerialSource(port)
            s.open()
            return s

        source = find_board(open_port)
        info = source.info
    try:
        source.start()
        yield source.blocks(), float(info.rate_hz), info
    finally:
        source.close()


def run(args: argparse.Namespace, stdout: TextIO, say: Callable[[str], None]) -> int:
    if args.source not in (None, "sim") and not Path(args.source).is_file():  # before asking anyone to relax
        raise MyotwitchError(f"{args.source}: no such file")
    sensor = builds.SENSORS[args.sensor] if args.sensor else None
    relax_text = (f"relax the muscle completely, limb supported, for {args.relax:g} s "
                  "(keep still: no talking, no tapping)")
    # The prompt comes before the stream starts: what arrives while the person gets ready is not the rest phase.
    if not args.no_prompt and sys.stdin.isatty():
        say(relax_text + "; press Enter to start")
        sys.stdin.readline()
    else:
        say(relax_text)
    flex_s = args.flex
    if args.source == "sim" and flex_s:  # the simulated board plays a rest recording: nobody can squeeze it
        say("the simulated board cannot be squeezed: no flex phase")
        flex_s = 0.0
    with open_source(args, say) as (blocks, rate_hz, info):
        board_key = args.board or (builds.HELLO_BOARDS.get(info.board) if info is not None else None)
        board = builds.BOARDS[board_key] if board_key else None
        if info is not None:
            say(f"{info.board} board, {info.rate_hz} Hz, gain {info.gain:g}")
        phases = collect(blocks, rate_hz, args.relax, flex_s,
                         on_flex=lambda: say(f"now squeeze the muscle hard for {flex_s:g} s"))
    found = assess(phases, sensor, board, info.gain if info is not None else None)
    for f in found:
        if args.format == "jsonl":
            stdout.write(json.dumps({"type": "check", "name": f.name, "ok": f.ok, "value": f.value,
                                     "text": f.text}) + "\n")
        else:
            stdout.write(f"check    {f.name:<12} {'ok' if f.ok else 'PROBLEM':<8} {f.text}\n")
    stdout.flush()
    problems = [f.name for f in found if not f.ok]
    if problems:
        raise MyotwitchError(f"check found {len(problems)} problem{'s' if len(problems) > 1 else ''}: "
                             + ", ".join(problems))
    return 0
