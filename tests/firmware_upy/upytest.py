# A minimal test runner for MicroPython: runs every test_* function of a
# module's globals, prints PASS/FAIL lines, exits 1 if any failed.
import sys


def run(namespace):
    names = sorted(k for k in namespace if k.startswith("test_"))
    failed = 0
    for name in names:
        try:
            namespace[name]()
            print("PASS", name)
        except Exception as exc:  # noqa: BLE001 - report every failure, keep going
            failed += 1
            print("FAIL", name, repr(exc))
            sys.print_exception(exc)
    print("RAN", len(names), "FAILED", failed)
    sys.exit(1 if failed else 0)


class FakeOut:
    """A byte sink like sys.stdout.buffer."""

    def __init__(self):
        self.data = bytearray()

    def write(self, b, length=None):
        n = len(b) if length is None else length
        self.data.extend(b[:n])
        return n


class LockedOut:
    """A byte sink that allocates nothing (copies into a preallocated buffer): for heap-locked runs."""

    def __init__(self, size):
        self.data = bytearray(size)
        self.n = 0

    def write(self, b, length):
        data, n = self.data, self.n
        for i in range(length):
            data[n + i] = b[i]
        self.n = n + length
        return length


class FakeCommands:
    def __init__(self):
        self.pending = bytearray()

    def send(self, text):
        self.pending.extend(text)

    def wait(self, timeout_ms):
        return len(self.pending) > 0

    def read_byte(self):
        b = self.pending[0]
        self.pending = self.pending[1:]
        return b


class FakeBoard:
    """Ticks fired by hand; the ADC plays a list; the clock advances step_us (1000 µs) a tick."""

    name = "fake"
    adc_bits = 12
    vref_mv = 3300
    gain = 1000
    rates_hz = (500, 1000, 2000)
    default_rate_hz = 1000
    exit_on_end = True
    ticks_mask = 0x3FFFFFFF
    settings_path = "/nonexistent/myotwitch-fake-board/sensors.txt"  # nothing stored; SENSOR tests set their own

    def __init__(self, values):
        self.values = values
        self.pos = 0
        self.now_us = 0
        self.step_us = 1000  # device time between ticks
        self.beats = 0  # heartbeats (set here: a new attribute later would allocate)
        self.callback = None
        self.read_u16 = self._read
        self.ticks_us = self._ticks
        self.end = False

    def _read(self):
        return self.values[self.pos % len(self.values)]

    def _ticks(self):
        return self.now_us

    def uid(self):
        return "f00d"

    def start_sampling(self, rate_hz, sampler):
        self.callback = sampler.tick

    def stop_sampling(self):
        self.callback = None

    def fire(self, n):
        for _ in range(n):
            self.callback(None)
            self.pos += 1
            # wrap before adding: 2**30 itself is a big int on a board (and on the 32-bit port)
            now, step = self.now_us, self.step_us
            self.now_us = now - 0x3FFFFFFF + step - 1 if now > 0x3FFFFFFF - step else now + step

    def service(self):
        pass

    def heartbeat(self):
        self.beats += 1

    def idle(self):
        pass

    def finished(self):
        return self.end


def crc_ok(data, i, end):
    """Does the frame at data[i:] (payload ending at `end`) carry the right CRC for its version?
    Returns the CRC's length in bytes."""
    import struct
    import mtw_frame as F

    if data[i + 2] == F.VERSION_1:
        assert F.crc16(data, i + 2, end) == struct.unpack_from("<H", data, end)[0], "crc16 at %d" % i
        return F.CRC_BYTES_1
    assert data[i + 2] == F.VERSION, "version at %d" % i
    scratch = bytearray(end - i + 4)
    scratch[: end - i] = data[i:end]
    F.crc32_into(scratch, 2, end - i, end - i)
    assert scratch[end - i :] == data[end : end + 4], "crc32 at %d" % i
    return F.CRC_BYTES


def frames(data):
    """Split a byte stream of well-formed frames into (type, payload) pairs, checking the CRC."""
    import struct

    out = []
    i = 0
    while i < len(data):
        assert data[i] == 0xA5 and data[i + 1] == 0x5A, "sync at %d" % i
        n = struct.unpack_from("<H", data, i + 4)[0]
        end = i + 6 + n
        crc_bytes = crc_ok(data, i, end)
        out.append((data[i + 3], bytes(data[i + 6 : end])))
        i = end + crc_bytes
    return out
