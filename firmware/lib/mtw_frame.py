# Wire protocol encoder, v2 and v1 (see docs/protocol.md). Portable MicroPython.
#
# The board speaks v2 (N channels, CRC-32); v1 (one channel, CRC-16) is kept
# so its golden vectors still come from this encoder: FrameWriter(version=1).
#
# Every frame is built in one preallocated bytearray, `FrameWriter.buf`, and
# each method returns the frame's length in it: building a data frame
# allocates nothing (not even a memoryview slice), so streaming does not feed
# the garbage collector, whose pauses delay soft timer callbacks.
import struct
from array import array
from micropython import const

SYNC0 = const(0xA5)
SYNC1 = const(0x5A)
VERSION = const(2)
VERSION_1 = const(1)
TYPE_DATA = const(0x44)  # 'D'
TYPE_HELLO = const(0x48)  # 'H'
TYPE_STATUS = const(0x53)  # 'S'
HEADER_BYTES = const(6)  # sync(2) version(1) type(1) length(2)
CRC_BYTES = const(4)  # v2: CRC-32
CRC_BYTES_1 = const(2)  # v1: CRC-16
MAX_PAYLOAD_BYTES = const(1024)
DATA_HEADER_BYTES = const(16)  # v2: seq(4) t_us(4) flags(1) format(1) count(2) channels(1) sat(1) flat(1) 0(1)
DATA_HEADER_BYTES_1 = const(12)  # v1: seq(4) t_us(4) flags(1) format(1) count(2)
MAX_CHANNELS = const(8)  # the saturated and flat masks are one byte each

FORMAT_U16 = const(0)
FORMAT_PACKED12 = const(1)

FLAG_SATURATED = const(0x01)  # a sample of this frame at 0 or full scale
FLAG_OVERFLOW = const(0x02)  # samples were lost on the board before this frame
FLAG_FLAT = const(0x04)  # every sample of this frame equal: an electrode off, or a dead input

STATUS_OK = const(0)
STATUS_ERROR = const(1)
STATUS_END = const(2)

# The largest count of values one data frame may carry: 512 packed 12-bit
# values (768 bytes); in uint16 the 1024-byte payload holds (1024 - 12) // 2
# in v1, (1024 - 16) // 2 in v2. A v2 frame of N channels carries count * N.
MAX_FRAME_SAMPLES = const(512)
MAX_FRAME_SAMPLES_U16 = const(504)
MAX_FRAME_SAMPLES_U16_1 = const(506)


def max_frame_samples(fmt, channels=1):
    """The largest `count` (sample sets) of a v2 data frame of that format and channel count."""
    return (MAX_FRAME_SAMPLES if fmt == FORMAT_PACKED12 else MAX_FRAME_SAMPLES_U16) // channels


def _make_crc_table():
    table = array("H", bytes(512))
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table[i] = crc & 0xFFFF
    return table


_CRC_TABLE = _make_crc_table()


def _make_crc32_tables():
    """CRC-32 (reflected poly 0xEDB88320) table as two 16-bit halves: a 32-bit entry would be a big int."""
    hi_t = array("H", bytes(512))
    lo_t = array("H", bytes(512))
    for i in range(256):
        hi, lo = 0, i
        for _ in range(8):
            if lo & 1:
                lo = ((lo >> 1) | ((hi & 1) << 15)) ^ 0x8320
                hi = (hi >> 1) ^ 0xEDB8
            else:
                lo = (lo >> 1) | ((hi & 1) << 15)
                hi >>= 1
        hi_t[i] = hi
        lo_t[i] = lo
    return hi_t, lo_t


_CRC32_HI, _CRC32_LO = _make_crc32_tables()


def crc32_into(buf, start, end, out):
    """CRC-32/ISO-HDLC (zlib's: reflected 0xEDB88320, init and xor-out 0xFFFFFFFF) of buf[start:end],
    written little-endian at buf[out:out + 4]. Kept as two 16-bit halves: nothing here is a big int."""
    hi_t = _CRC32_HI
    lo_t = _CRC32_LO
    hi = 0xFFFF
    lo = 0xFFFF
    for i in range(start, end):
        k = (lo ^ buf[i]) & 0xFF
        lo = ((lo >> 8) | ((hi & 0xFF) << 8)) ^ lo_t[k]
        hi = (hi >> 8) ^ hi_t[k]
    lo ^= 0xFFFF
    hi ^= 0xFFFF
    buf[out] = lo & 0xFF
    buf[out + 1] = lo >> 8
    buf[out + 2] = hi & 0xFF
    buf[out + 3] = hi >> 8


def crc16(buf, start, end):
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of buf[start:end]."""
    table = _CRC_TABLE
    crc = 0xFFFF
    for i in range(start, end):
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ buf[i]) & 0xFF]
    return crc


def sample_bytes(count, fmt):
    if fmt == FORMAT_PACKED12:
        return (count * 3 + 1) // 2
    return count * 2


class FrameWriter:
    """Builds frames into one preallocated buffer: protocol v2 (the default) or v1."""

    def __init__(self, version=VERSION):
        self.version = version
        self.crc_bytes = CRC_BYTES if version == VERSION else CRC_BYTES_1
        self.data_header_bytes = DATA_HEADER_BYTES if version == VERSION else DATA_HEADER_BYTES_1
        self.buf = bytearray(HEADER_BYTES + MAX_PAYLOAD_BYTES + CRC_BYTES)
        self._digits = bytearray(10)  # a u32 in decimal, least significant digit first
        self._lo = array("H", bytes(2 * MAX_CHANNELS))  # each channel's smallest and largest value in a frame
        self._hi = array("H", bytes(2 * MAX_CHANNELS))
        self._sat = 0  # the last data frame's saturated and flat channel masks
        self._flat = 0

    def _finish(self, frame_type, payload_bytes):
        buf = self.buf
        buf[0] = SYNC0
        buf[1] = SYNC1
        buf[2] = self.version
        buf[3] = frame_type
        struct.pack_into("<H", buf, 4, payload_bytes)
        end = HEADER_BYTES + payload_bytes
        if self.version == VERSION:
            crc32_into(buf, 2, end, end)
        else:
            struct.pack_into("<H", buf, end, crc16(buf, 2, end))
        return end + self.crc_bytes

    def data(self, seq_hi16, seq_lo16, t_hi16, t_lo16, flags, fmt, ring, ring_mask, first_pos, count, full_scale,
             channels=1):
        """A data frame of `count` sample sets of `channels` values each, read from
        ring[(first_pos + i) & ring_mask] (set-major: set 0's channels 0..N-1, then set 1's); returns its length.

        The 32-bit `seq` and `t_us` come as 16-bit halves: a 32-bit value is a
        heap big int on the boards (31-bit small ints), so nothing here makes one.
        Adds FLAG_SATURATED if a value is at 0 or `full_scale`, and FLAG_FLAT if
        all of a channel's values are equal, from the packing loop itself (no
        second pass); v2 also says which channels, in its two masks.
        """
        buf = self.buf
        # Little-endian u32 = low half then high half: the wire bytes of a u32.
        struct.pack_into("<HHHHBBH", buf, HEADER_BYTES, seq_lo16, seq_hi16, t_lo16, t_hi16, flags, fmt, count)
        o = HEADER_BYTES + self.data_header_bytes
        # The packers leave the masks in self._sat and self._flat: returning a tuple would allocate.
        if channels == 1:
            o = self._pack1(buf, o, fmt, ring, ring_mask, first_pos, count, full_scale)
        else:
            o = self._pack_n(buf, o, fmt, ring, ring_mask, first_pos, count * channels, channels, full_scale)
        sat = self._sat
        flat = self._flat
        if sat:
            flags |= FLAG_SATURATED
        if flat:
            flags |= FLAG_FLAT
        buf[HEADER_BYTES + 8] = flags
        if self.version == VERSION:
            buf[HEADER_BYTES + 12] = channels
            buf[HEADER_BYTES + 13] = sat
            buf[HEADER_BYTES + 14] = flat
            buf[HEADER_BYTES + 15] = 0
        return self._finish(TYPE_DATA, o - HEADER_BYTES)

    def _pack1(self, buf, o, fmt, ring, ring_mask, first_pos, count, full_scale):
        """One channel: returns the offset after the samples; sets self._sat and self._flat (0 or 1)."""
        lo = hi = ring[first_pos & ring_mask]
        if fmt == FORMAT_PACKED12:
            # Two 12-bit samples a, b in three bytes: a[7:0], a[11:8] | b[3:0] << 4, b[11:4].
            i = 0
            while i + 1 < count:
                a = ring[(first_pos + i) & ring_mask]
                b = ring[(first_pos + i + 1) & ring_mask]
                lo = min(lo, a, b)
                hi = max(hi, a, b)
                buf[o] = a & 0xFF
                buf[o + 1] = ((a >> 8) & 0x0F) | ((b & 0x0F) << 4)
                buf[o + 2] = (b >> 4) & 0xFF
                o += 3
                i += 2
            if i < count:
                a = ring[(first_pos + i) & ring_mask]
                lo = min(lo, a)
                hi = max(hi, a)
                buf[o] = a & 0xFF
                buf[o + 1] = (a >> 8) & 0x0F
                o += 2
        else:
            for i in range(count):
                v = ring[(first_pos + i) & ring_mask]
                lo = min(lo, v)
                hi = max(hi, v)
                buf[o] = v & 0xFF
                buf[o + 1] = (v >> 8) & 0xFF
                o += 2
        self._sat = 1 if lo == 0 or hi >= full_scale else 0
        self._flat = 1 if lo == hi else 0
        return o

    def _pack_n(self, buf, o, fmt, ring, ring_mask, first_pos, n, channels, full_scale):
        """`n` interleaved values of `channels` channels: returns the offset after them; sets the masks."""
        lo = self._lo
        hi = self._hi
        for c in range(channels):
            lo[c] = 0xFFFF
            hi[c] = 0
        c = 0
        i = 0
        while i < n:
            v = ring[(first_pos + i) & ring_mask]
            if v < lo[c]:
                lo[c] = v
            if v > hi[c]:
                hi[c] = v
            c += 1
            if c == channels:
                c = 0
            if fmt == FORMAT_PACKED12:
                if i & 1:
                    buf[o] |= (v & 0x0F) << 4
                    buf[o + 1] = (v >> 4) & 0xFF
                    o += 2
                else:
                    buf[o] = v & 0xFF
                    buf[o + 1] = (v >> 8) & 0x0F
                    o += 1
            else:
                buf[o] = v & 0xFF
                buf[o + 1] = (v >> 8) & 0xFF
                o += 2
            i += 1
        if fmt == FORMAT_PACKED12 and n & 1:
            o += 1  # an odd last value takes two bytes
        sat = 0
        flat = 0
        for c in range(channels):
            if lo[c] == 0 or hi[c] >= full_scale:
                sat |= 1 << c
            if lo[c] == hi[c]:
                flat |= 1 << c
        self._sat = sat
        self._flat = flat
        return o

    def _text(self, frame_type, prefix_byte, text):
        buf = self.buf
        o = HEADER_BYTES
        if prefix_byte >= 0:
            buf[o] = prefix_byte
            o += 1
        raw = text.encode() if isinstance(text, str) else text
        n = min(len(raw), MAX_PAYLOAD_BYTES - (o - HEADER_BYTES))
        buf[o : o + n] = raw[:n]
        return self._finish(frame_type, o + n - HEADER_BYTES)

    # A status frame of counters, built piece by piece in place: no string is
    # formatted, so the STATS status each second allocates nothing either.
    def status_begin(self, code):
        """Start a status frame; returns the offset at which its text goes."""
        self.buf[HEADER_BYTES] = code
        return HEADER_BYTES + 1

    def put_text(self, o, text):
        """Copy `text` (bytes) at offset o; returns the offset after it."""
        buf = self.buf
        for i in range(len(text)):
            buf[o + i] = text[i]
        return o + len(text)

    def put_u32(self, o, hi16, lo16):
        """Write hi16 * 2**16 + lo16 in decimal at offset o; returns the offset after it.

        Long division by 10 over the two halves: every intermediate is below 10 * 2**16.
        """
        digits = self._digits
        n = 0
        while True:
            r = hi16 % 10
            hi16 //= 10
            lo16 |= r << 16
            digits[n] = 48 + lo16 % 10
            lo16 //= 10
            n += 1
            if hi16 == 0 and lo16 == 0:
                break
        buf = self.buf
        while n:
            n -= 1
            buf[o] = digits[n]
            o += 1
        return o

    def status_end(self, o):
        """Finish the status frame whose text ends at offset o; returns its length."""
        return self._finish(TYPE_STATUS, o - HEADER_BYTES)

    def hello(self, fields):
        """A hello frame: `fields` is a sequence of (key, value) pairs, sent as key=value lines."""
        return self._text(TYPE_HELLO, -1, "\n".join(k + "=" + str(v) for k, v in fields))

    def status(self, code, text):
        return self._text(TYPE_STATUS, code, text)
