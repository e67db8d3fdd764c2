# A stand-in for MicroPython's `machine` module on the Unix port.
#
# Only the parts the firmware's sim board uses: an ADC that plays a recording
# (raw little-endian uint16 read_u16 values, one per channel per timer tick,
# interleaved: tick 0's channels 0..N-1, then tick 1's) and a Timer
# whose ticks are fired by `pump()` from the main loop, each under
# micropython.heap_lock(), so that any allocation in the callback raises
# MemoryError here as it would break a hard IRQ on a board.
import time
import micropython
from array import array

_CHUNK_SAMPLES = 4096
_TICKS_MASK = 0x3FFFFFFF  # boards' ticks_us wraps at 2**30; so does ours


class _Signal:
    def __init__(self):
        self.file = None
        self.chunk = array("H", bytes(2 * _CHUNK_SAMPLES))
        self.chunk_len = 0  # in ticks (sets of `channels` values)
        self.pos = 0  # in ticks
        self.channels = 1
        self.current = array("H", bytes(16))  # each channel's value at the tick being fired
        self.exhausted = True

    def load(self, path, channels=1):
        self.channels = channels
        # A whole number of ticks per chunk, so a tick never straddles two reads.
        self.chunk = array("H", bytes(2 * (_CHUNK_SAMPLES - _CHUNK_SAMPLES % channels)))
        self.file = open(path, "rb")
        self.chunk_len = 0
        self.pos = 0
        self.exhausted = False
        self._refill()

    def skip(self, count):
        """Move the playback position on by count samples (the world went on while the board was off)."""
        in_chunk = min(count, self.chunk_len - self.pos)
        self.pos += in_chunk
        rest = count - in_chunk
        if rest > 0 and not self.exhausted:
            self.file.seek(self.file.tell() + 2 * rest * self.channels)
            self._refill()

    def _refill(self):
        n = self.file.readinto(self.chunk)
        self.chunk_len = (n or 0) // (2 * self.channels)
        self.pos = 0
        if self.chunk_len == 0:
            self.exhausted = True
            self.file.close()

    def available(self):
        """Samples that can be played without touching the file (refills first)."""
        if self.pos >= self.chunk_len and not self.exhausted:
            self._refill()
        return 0 if self.exhausted else self.chunk_len - self.pos


signal = _Signal()


class ADC:
    ATTN_0DB = 0
    ATTN_11DB = 3

    def __init__(self, pin=None, **kwargs):
        self.pin = pin
        # ADC(c) with an int reads channel c of the recording; ADC(Pin(..)) (the real boards' modules) channel 0.
        self.channel = pin if isinstance(pin, int) and 0 <= pin < 16 else 0
        self.attenuation = None
        self.read_u16 = self._read_channel0 if self.channel == 0 else self._read

    def atten(self, value):
        self.attenuation = value

    def _read(self):
        return signal.current[self.channel]

    def _read_channel0(self):
        return signal.current[0]


class Pin:
    IN = 0
    OUT = 1

    def __init__(self, pin_id, mode=-1, value=None):
        self.id = pin_id
        self._value = value or 0

    def value(self, v=None):
        if v is None:
            return self._value
        self._value = v

    def toggle(self):
        self._value ^= 1


class Timer:
    PERIODIC = 1
    ONE_SHOT = 0
    active = None  # the running timer; one is enough for the sampler

    def __init__(self, timer_id=-1, **kwargs):
        self.callback = None
        self.freq = 0
        self.speed = 1.0
        self.fired = 0
        self.t0_us = 0
        self.start_us = 0
        self.stop_after = 0  # fire no more than this many ticks (0: no limit): a simulated power cut
        self.clock_ppm = 0  # the simulated crystal's error against the host's clock

    def init(self, mode=PERIODIC, freq=1000, callback=None, hard=False):
        self.freq = freq
        self.callback = callback
        self.fired = 0
        self.start_us = time.ticks_us()
        Timer.active = self

    def deinit(self):
        self.callback = None
        if Timer.active is self:
            Timer.active = None

    def ticks_us(self):
        """Device time of the tick being fired: the simulated clock, not the host's."""
        return (self.t0_us + (self.fired * 1000000) // self.freq) & _TICKS_MASK

    def pump(self, max_ticks=256):
        """Fire the ticks that are due now (all at once when speed is 0)."""
        if self.callback is None:
            return 0
        if self.speed > 0:
            elapsed_us = time.ticks_diff(time.ticks_us(), self.start_us)
            due = int(elapsed_us * self.speed * self.freq * (1 + self.clock_ppm / 1e6) / 1000000) - self.fired
        else:
            due = max_ticks
        return self.fire_now(due)

    def fire_now(self, count):
        """Fire up to count ticks at once (also: the main loop was held while the timer ran)."""
        if self.stop_after:
            count = min(count, self.stop_after - self.fired)
        fired = 0
        while count > 0 and self.callback is not None:
            n = min(count, signal.available())
            if n <= 0:
                break
            fired += self._fire(n)
            count -= n
        return fired

    def _fire(self, n):
        sig = signal
        chunk = sig.chunk
        current = sig.current
        channels = sig.channels
        cb = self.callback
        pos = sig.pos
        ticks = range(n)
        micropython.heap_lock()
        try:
            for _ in ticks:
                base = pos * channels
                c = 0
                while c < channels:
                    current[c] = chunk[base + c]
                    c += 1
                cb(self)
                pos += 1
                self.fired += 1
        finally:
            micropython.heap_unlock()
        sig.pos = pos
        return n


class _Mem32:
    """machine.mem32: word access to memory-mapped registers, routed to simulated devices.

    A device is any object with read(offset) and write(offset, value),
    mapped with map(base, size, device); unmapped addresses read 0.
    """

    def __init__(self):
        self._words = {}  # word address -> (device, offset)

    def map(self, base, size, device):
        for offset in range(0, size, 4):
            self._words[base + offset] = (device, offset)

    # One dict lookup and no arithmetic on the address: on a 32-bit port a
    # peripheral address (0x4004C000 and up) is a big int, and adding to one
    # or returning a new tuple would allocate (the firmware's main loop is
    # tested heap-locked through these).
    def __getitem__(self, address):
        found = self._words.get(address)
        if found is None:
            return 0
        device, offset = found
        return device.read(offset)

    def __setitem__(self, address, value):
        found = self._words.get(address)
        if found is not None:
            device, offset = found
            device.write(offset, value if 0 <= value <= 0x3FFFFFFF else value & 0xFFFFFFFF)


mem32 = _Mem32()


class WDT:
    """machine.WDT: records its timeout and feeds (a hang cannot be simulated in one thread)."""

    started = []

    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self.feeds = 0
        WDT.started.append(self)

    def feed(self):
        self.feeds += 1


def unique_id():
    return b"\x00sim\x00\x01"


def idle():
    pass
