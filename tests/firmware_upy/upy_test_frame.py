import struct
from array import array
import micropython
import mtw_frame as F
from upytest import run


def test_crc16_check_value():
    # The catalogue check value of CRC-16/CCITT-FALSE.
    assert F.crc16(b"123456789", 0, 9) == 0x29B1


def built(w, n):
    return bytes(w.buf[:n])


def test_data_frame_u16_layout():
    ring = array("H", [1, 2, 0x0FFF, 0xABC])
    w = F.FrameWriter(F.VERSION_1)
    f = built(w, w.data(0, 7, 0, 1234, F.FLAG_OVERFLOW, F.FORMAT_U16, ring, 3, 0, 4, 0xFFFF))
    assert f[:4] == b"\xa5\x5a\x01D"
    assert struct.unpack_from("<H", f, 4)[0] == 12 + 8
    seq, t_us, flags, fmt, count = struct.unpack_from("<IIBBH", f, 6)
    assert (seq, t_us, flags, fmt, count) == (7, 1234, F.FLAG_OVERFLOW, 0, 4)  # none at 0 or 0xFFFF
    assert struct.unpack_from("<4H", f, 18) == (1, 2, 0x0FFF, 0xABC)


def test_packed12_layout_odd_count():
    ring = array("H", [0x123, 0x456, 0x789, 0, 0, 0, 0, 0])
    w = F.FrameWriter(F.VERSION_1)
    f = built(w, w.data(0, 0, 0, 0, 0, F.FORMAT_PACKED12, ring, 7, 0, 3, 4095))
    body = f[18:-2]
    assert body == bytes([0x23, 0x61, 0x45, 0x89, 0x07]), body


def test_saturation_and_flat_flags_describe_the_frame_itself():
    w = F.FrameWriter(F.VERSION_1)
    at_rail = built(w, w.data(0, 0, 0, 0, 0, F.FORMAT_PACKED12, array("H", [5, 4095, 7, 9]), 3, 0, 4, 4095))
    assert at_rail[14] == F.FLAG_SATURATED
    flat = built(w, w.data(0, 0, 0, 0, 0, F.FORMAT_PACKED12, array("H", [2048] * 4), 3, 0, 4, 4095))
    assert flat[14] == F.FLAG_FLAT
    fine = built(w, w.data(0, 0, 0, 0, 0, F.FORMAT_U16, array("H", [2048, 2050, 2047, 2049]), 3, 0, 4, 4095))
    assert fine[14] == 0


def test_data_frame_reads_ring_across_wrap():
    ring = array("H", [10, 11, 12, 13])
    w = F.FrameWriter(F.VERSION_1)
    f = built(w, w.data(0, 0, 0, 0, 0, F.FORMAT_U16, ring, 3, 3, 3, 4095))
    assert struct.unpack_from("<3H", f, 18) == (13, 10, 11)


def test_data_frame_allocates_nothing():
    ring = array("H", bytes(2 * 64))
    w = F.FrameWriter(F.VERSION_1)
    data = w.data  # bind before locking
    micropython.heap_lock()
    try:
        # (no loop over a tuple here: its iterator would be the allocation)
        # seq and time near 2**32: 0xFFFFFFFF itself would be a big int on a board
        data(0xFFFF, 0xFFF0, 0xFFFF, 0xFF00, 0, F.FORMAT_U16, ring, 63, 5, 50, 4095)
        data(0xFFFF, 0xFFF0, 0xFFFF, 0xFF00, 0, F.FORMAT_PACKED12, ring, 63, 5, 50, 4095)
    finally:
        micropython.heap_unlock()


def test_seq_and_time_halves_make_the_32_bit_fields():
    ring = array("H", [0])
    w = F.FrameWriter(F.VERSION_1)
    f = built(w, w.data(0xFFFF, 0xFFF0, 0x1234, 0x5678, 0, F.FORMAT_U16, ring, 0, 0, 1, 4095))
    assert struct.unpack_from("<II", f, 6) == (0xFFFFFFF0, 0x12345678)


def test_put_u32_writes_every_32_bit_value_in_decimal():
    w = F.FrameWriter(F.VERSION_1)
    for hi, lo in ((0, 0), (0, 7), (0, 65535), (1, 0), (0x3FFF, 0xFFFF), (0x4000, 0), (0xFFFF, 0xFFFF), (0x075B, 0xCD15)):
        n = w.put_u32(10, hi, lo)
        assert bytes(w.buf[10:n]) == str(hi * 65536 + lo).encode(), (hi, lo, bytes(w.buf[10:n]))


def test_a_counters_status_is_built_without_allocating():
    w = F.FrameWriter(F.VERSION_1)
    begin, put_text, put_u32, end = w.status_begin, w.put_text, w.put_u32, w.status_end
    micropython.heap_lock()
    try:
        o = put_u32(put_text(begin(F.STATUS_OK), b"STATS samples="), 0xFFFF, 0xFFFF)
        n = end(o)
    finally:
        micropython.heap_unlock()
    assert bytes(w.buf[6 : n - 2]) == b"\x00STATS samples=4294967295"
    assert F.crc16(w.buf, 2, n - 2) == struct.unpack_from("<H", w.buf, n - 2)[0]


def test_hello_and_status_frames():
    w = F.FrameWriter(F.VERSION_1)
    h = built(w, w.hello((("board", "x"), ("rate_hz", 1000))))
    assert h[3] == F.TYPE_HELLO and h[6:-2] == b"board=x\nrate_hz=1000"
    s = built(w, w.status(F.STATUS_ERROR, "bad"))
    assert s[3] == F.TYPE_STATUS and s[6:-2] == b"\x01bad"


def test_status_text_is_truncated_to_max_payload():
    w = F.FrameWriter(F.VERSION_1)
    s = built(w, w.status(F.STATUS_OK, "x" * 5000))
    assert struct.unpack_from("<H", s, 4)[0] == F.MAX_PAYLOAD_BYTES


# -- protocol v2: N channels, CRC-32 ------------------------------------------------------------------


def crc32_of(data):
    buf = bytearray(len(data) + 4)
    buf[: len(data)] = data
    F.crc32_into(buf, 0, len(data), len(data))
    return struct.unpack_from("<I", buf, len(data))[0]


def test_crc32_check_value():
    # The catalogue check value of CRC-32/ISO-HDLC (zlib's), computed in 16-bit halves.
    assert crc32_of(b"123456789") == 0xCBF43926
    assert crc32_of(b"") == 0


def test_v2_one_channel_frame_layout():
    w = F.FrameWriter()
    f = built(w, w.data(0, 7, 0, 1234, F.FLAG_OVERFLOW, F.FORMAT_U16, array("H", [1, 2, 0x0FFF, 0xABC]), 3, 0, 4,
                        0xFFFF))
    assert f[:4] == b"\xa5\x5a\x02D" and struct.unpack_from("<H", f, 4)[0] == 16 + 8
    assert struct.unpack_from("<IIBBHBBBB", f, 6) == (7, 1234, F.FLAG_OVERFLOW, 0, 4, 1, 0, 0, 0)
    assert struct.unpack_from("<4H", f, 22) == (1, 2, 0x0FFF, 0xABC)
    assert crc32_of(f[2:-4]) == struct.unpack_from("<I", f, len(f) - 4)[0]


def test_v2_interleaves_channels_and_masks_each():
    # 3 channels x 3 sets, set-major; channel 0 fine, channel 1 at a rail, channel 2 flat.
    ring = array("H", [2048, 0, 7, 2049, 100, 7, 2050, 4095, 7, 0, 0, 0, 0, 0, 0, 0])
    w = F.FrameWriter()
    for fmt in (F.FORMAT_U16, F.FORMAT_PACKED12):
        f = built(w, w.data(0, 0, 0, 0, 0, fmt, ring, 15, 0, 3, 4095, 3))
        flags, count, channels, sat, flat = f[14], f[16], f[18], f[19], f[20]
        assert (count, channels, sat, flat) == (3, 3, 0b010, 0b100), (count, channels, sat, flat)
        assert flags == F.FLAG_SATURATED | F.FLAG_FLAT
        body = f[22:-4]
        if fmt == F.FORMAT_U16:
            assert list(struct.unpack_from("<9H", body, 0)) == list(ring[:9])
        else:
            assert len(body) == 14  # 9 values: four pairs and an odd one
            assert body[:3] == bytes([0x00, 0x08, 0x00]) and body[-2:] == bytes([0x07, 0x00])  # 2048, 0 .. 7


def test_v2_largest_counts_fit_the_payload():
    w = F.FrameWriter()
    ring = array("H", bytes(2 * 1024))
    assert F.max_frame_samples(F.FORMAT_PACKED12, 3) == 170 and F.max_frame_samples(F.FORMAT_U16, 4) == 126
    n = w.data(0, 0, 0, 0, 0, F.FORMAT_U16, ring, 1023, 0, 126, 4095, 4)
    assert n == 6 + 16 + 126 * 4 * 2 + 4 <= 6 + F.MAX_PAYLOAD_BYTES + 4


def test_v2_multichannel_frame_and_crc32_allocate_nothing():
    ring = array("H", bytes(2 * 512))
    w = F.FrameWriter()
    data = w.data
    micropython.heap_lock()
    try:
        data(0xFFFF, 0xFFF0, 0xFFFF, 0xFF00, 0, F.FORMAT_PACKED12, ring, 511, 500, 50, 4095, 3)
        data(0xFFFF, 0xFFF0, 0xFFFF, 0xFF00, 0, F.FORMAT_U16, ring, 511, 7, 50, 4095, 4)
        data(0xFFFF, 0xFFF0, 0xFFFF, 0xFF00, 0, F.FORMAT_PACKED12, ring, 511, 7, 50, 4095, 1)
    finally:
        micropython.heap_unlock()


run(globals())
