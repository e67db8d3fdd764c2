# The simulated board for the MicroPython Unix port: the ADC plays a recording
# (see sim/machine.py) paced at its sampling rate, or faster.
#
#   micropython main.py --adc FILE --rate-hz 1000 [--channels N] [--speed 1] [--gain 1000]
#                       [--settings FILE] [--power-off-after N] [--resume-sample N --resume-wall-ns T]
#
# FILE holds raw little-endian uint16 ADC readings (read_u16 scale), N per
# tick (one per channel, interleaved). --settings: where the board stores its
# sensors (SENSOR); by default sensors.txt beside FILE (its own folder).
# --power-off-after N: the process exits (code 17) once N samples are taken,
# as a board does when its cable is pulled: what it had not sent is gone.
# --resume-sample N --resume-wall-ns T: a board plugged in again. The
# recording is the world's signal, which went on while the board was off: on
# START, playback begins at sample N plus the time since T (wall clock, ns).
#
# Faults, each once, after N samples (for the reliability tests):
# --stall-at N --stall-samples K: the main loop is held (a USB write that
#   blocks, a slow flash write) for K sample periods while the timer keeps
#   sampling into the ring; K beyond the ring overflows it (counted as lost).
# --garbage-at N --garbage-bytes B: B bytes of noise on the serial line
#   between frames (a traceback, a stray print), false sync bytes included.
# --clock-ppm P: the board's crystal is P parts per million fast (negative:
#   slow) against the host's clock; its own µs clock does not know.
import machine
import sys
import time

POWER_OFF_EXIT_CODE = 17


def _argv_options(argv):
    opts = {}
    i = 1
    while i + 1 < len(argv):
        if argv[i].startswith("--"):
            opts[argv[i][2:]] = argv[i + 1]
            i += 2
        else:
            i += 1
    return opts


def _noise(count):
    """count bytes of line noise: a traceback's text, then pseudo-random bytes with false syncs."""
    text = b"Traceback (most recent call last):\n  File \"main.py\", line 1\nMemoryError:\n"
    out = bytearray(text[:count])
    x = 12345
    while len(out) < count:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(0xA5 if x % 17 == 0 else (0x5A if x % 19 == 0 else (x >> 16) & 0xFF))
    return bytes(out)


class Board:
    name = "sim"
    adc_bits = 12
    vref_mv = 3300
    # Stay up after the recording ends: exiting would hang up the pty, and a
    # hangup discards what the host has not read yet. The host ends us.
    exit_on_end = False
    ticks_mask = 0x3FFFFFFF

    def __init__(self, adc_path, rate_hz, speed=1.0, gain=1000, power_off_after=0, resume_sample=0,
                 resume_wall_ns=0, stall_at=0, stall_samples=0, garbage_at=0, garbage_bytes=0, clock_ppm=0,
                 channels=1, settings_path=None):
        # The recording has one rate: RATE n for any other would play it at the wrong speed.
        self.rates_hz = (rate_hz,)
        self.default_rate_hz = rate_hz
        self.gain = gain
        self.speed = speed
        self.channels = channels
        self.pins = tuple("sim%d" % c for c in range(channels))
        adcs = [machine.ADC(c) for c in range(channels)]
        self._adc = adcs[0]
        self.read_u16 = self._adc.read_u16
        self.reads = tuple(a.read_u16 for a in adcs)
        if settings_path is None:
            folder = adc_path.rpartition("/")[0]
            settings_path = (folder + "/" if folder else "") + "sensors.txt"
        self.settings_path = settings_path
        self._led = machine.Pin("LED", machine.Pin.OUT)
        self._timer = machine.Timer(-1)
        self._timer.speed = speed
        self._timer.clock_ppm = clock_ppm
        self._rate_hz = rate_hz
        self._stall_at, self._stall_samples = stall_at, stall_samples
        self._garbage_at, self._garbage_bytes = garbage_at, garbage_bytes
        self.ticks_us = self._timer.ticks_us
        self._started = False
        self._timer.stop_after = power_off_after
        self._resume_sample = resume_sample
        self._resume_wall_ns = resume_wall_ns
        machine.signal.load(adc_path, channels)

    @classmethod
    def from_argv(cls, argv):
        opts = _argv_options(argv)
        if "adc" not in opts or "rate-hz" not in opts:
            raise SystemExit("sim board needs --adc FILE --rate-hz N")
        return cls(opts["adc"], int(opts["rate-hz"]), float(opts.get("speed", "1")),
                   int(opts.get("gain", "1000")), int(opts.get("power-off-after", "0")),
                   int(opts.get("resume-sample", "0")), int(opts.get("resume-wall-ns", "0")),
                   int(opts.get("stall-at", "0")), int(opts.get("stall-samples", "0")),
                   int(opts.get("garbage-at", "0")), int(opts.get("garbage-bytes", "0")),
                   int(opts.get("clock-ppm", "0")), int(opts.get("channels", "1")), opts.get("settings"))

    def skew_ns(self, rate_hz):
        return 0  # a recording's channels were sampled together

    def heartbeat(self):
        self._led.toggle()

    def uid(self):
        return "".join("%02x" % b for b in machine.unique_id())

    def start_sampling(self, rate_hz, sampler):
        if self._resume_wall_ns and not self._started:
            off_s = (time.time_ns() - self._resume_wall_ns) / 1e9
            machine.signal.skip(self._resume_sample + int(off_s * self.speed * rate_hz))
        self._timer.init(mode=machine.Timer.PERIODIC, freq=rate_hz, callback=sampler.tick, hard=True)
        self._started = True

    def stop_sampling(self):
        self._timer.deinit()

    def service(self):
        timer = self._timer
        if self._stall_at and timer.fired >= self._stall_at:
            self._stall_at = 0
            if self.speed > 0:
                time.sleep_ms(int(self._stall_samples * 1000 / (self._rate_hz * self.speed)))
            else:
                timer.fire_now(self._stall_samples)
        if self._garbage_at and timer.fired >= self._garbage_at:
            self._garbage_at = 0
            sys.stdout.buffer.write(_noise(self._garbage_bytes))
        timer.pump()
        if timer.stop_after and timer.fired >= timer.stop_after:
            sys.exit(POWER_OFF_EXIT_CODE)

    def idle(self):
        if self.speed > 0:
            import time

            time.sleep_ms(1)

    def finished(self):
        return self._started and machine.signal.available() == 0
