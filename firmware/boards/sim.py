# The simulated board for the MicroPython Unix port: the ADC plays a recording
# (see sim/machine.py) paced at its sampling rate, or faster.
#
#   micropython main.py --adc FILE --rate-hz 1000 [--speed 1] [--gain 1000]
#                       [--power-off-after N] [--resume-sample N --resume-wall-ns T]
#
# FILE holds raw little-endian uint16 ADC readings (read_u16 scale), one per tick.
# --power-off-after N: the process exits (code 17) once N samples are taken,
# as a board does when its cable is pulled: what it had not sent is gone.
# --resume-sample N --resume-wall-ns T: a board plugged in again. The
# recording is the world's signal, which went on while the board was off: on
# START, playback begins at sample N plus the time since T (wall clock, ns).
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


class Board:
    name = "sim"
    adc_bits = 12
    vref_mv = 3300
    # Stay up after the recording ends: exiting would hang up the pty, and a
    # hangup discards what the host has not read yet. The host ends us.
    exit_on_end = False
    ticks_mask = 0x3FFFFFFF

    def __init__(self, adc_path, rate_hz, speed=1.0, gain=1000, power_off_after=0, resume_sample=0,
                 resume_wall_ns=0):
        # The recording has one rate: RATE n for any other would play it at the wrong speed.
        self.rates_hz = (rate_hz,)
        self.default_rate_hz = rate_hz
        self.gain = gain
        self.speed = speed
        self._adc = machine.ADC(0)
        self.read_u16 = self._adc.read_u16
        self._led = machine.Pin("LED", machine.Pin.OUT)
        self._timer = machine.Timer(-1)
        self._timer.speed = speed
        self.ticks_us = self._timer.ticks_us
        self._started = False
        self._timer.stop_after = power_off_after
        self._resume_sample = resume_sample
        self._resume_wall_ns = resume_wall_ns
        machine.signal.load(adc_path)

    @classmethod
    def from_argv(cls, argv):
        opts = _argv_options(argv)
        if "adc" not in opts or "rate-hz" not in opts:
            raise SystemExit("sim board needs --adc FILE --rate-hz N")
        return cls(opts["adc"], int(opts["rate-hz"]), float(opts.get("speed", "1")),
                   int(opts.get("gain", "1000")), int(opts.get("power-off-after", "0")),
                   int(opts.get("resume-sample", "0")), int(opts.get("resume-wall-ns", "0")))

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
        self._timer.pump()
        timer = self._timer
        if timer.stop_after and timer.fired >= timer.stop_after:
            sys.exit(POWER_OFF_EXIT_CODE)

    def idle(self):
        if self.speed > 0:
            import time

            time.sleep_ms(1)

    def finished(self):
        return self._started and machine.signal.available() == 0
