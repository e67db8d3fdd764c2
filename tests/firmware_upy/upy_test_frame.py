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
    w = F.FrameWriter()
    f = built(w, w.data(0, 7, 0, 1234, F.FLAG_OVERFLOW, F.FORMAT_U16, ring, 3, 0, 4, 0xFFFF))
    assert f[:4] == b"\xa5\x5a\x01D"
    assert struct.unpack_from("<H", f, 4)[0] == 12 + 8
    seq, t_us, flags, fmt, count = struct.unpack_from("<IIBBH", f, 6)
    assert (seq, t_us, flags, fmt, count) == (7, 1234, F.FLAG_OVERFLOW, 0, 4)  # none at 0 or 0xFFFF
    assert struct.unpack_from("<4H", f, 18) == (1, 2, 0x0FFF, 0xABC)


def test_packed12_layout_odd_count():
    ring = array("H", [0x123, 0x456, 0x789, 0, 0, 0, 0, 0])
    w = F.FrameWriter()
    f = built(w, w.data(0, 0, 0, 0, 0, F.FORMAT_PACKED12, ring, 7, 0, 3, 4095))
    body = f[18:-2]
    assert body == bytes([0x23, 0x61, 0x45, 0x89, 0x07]), body


def test_saturation_and_flat_flags_describe_the_frame_itself():
    w = F.FrameWriter()
    at_rail = built(w, w.data(0, 0, 0, 0, 0, F.FORMAT_PACKED12, array("H", [5, 4095, 7, 9]), 3, 0, 4, 4095))
    assert at_rail[14] == F.FLAG_SATURATED
    flat = built(w, w.data(0, 0, 0, 0, 0, F.FORMAT_PACKED12, array("H", [2048] * 4), 3, 0, 4, 4095))
    assert flat[14] == F.FLAG_FLAT
    fine = built(w, w.data(0, 0, 0, 0, 0, F.FORMAT_U16, array("H", [2048, 2050, 2047, 2049]), 3, 0, 4, 4095))
    assert fine[14] == 0


def test_data_frame_reads_ring_across_wrap():
    ring = array("H", [10, 11, 12, 13])
    w = F.FrameWriter()
    f = built(w, w.data(0, 0, 0, 0, 0, F.FORMAT_U16, ring, 3, 3, 3, 4095))
    assert struct.unpack_from("<3H", f, 18) == (13, 10, 11)


def test_data_frame_allocates_nothing():
    ring = array("H", bytes(2 * 64))
    w = F.FrameWriter()
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
    w = F.FrameWriter()
    f = built(w, w.data(0xFFFF, 0xFFF0, 0x1234, 0x5678, 0, F.FORMAT_U16, ring, 0, 0, 1, 4095))
    assert struct.unpack_from("<II", f, 6) == (0xFFFFFFF0, 0x12345678)


def test_put_u32_writes_every_32_bit_value_in_decimal():
    w = F.FrameWriter()
    for hi, lo in ((0, 0), (0, 7), (0, 65535), (1, 0), (0x3FFF, 0xFFFF), (0x4000, 0), (0xFFFF, 0xFFFF), (0x075B, 0xCD15)):
        n = w.put_u32(10, hi, lo)
        assert bytes(w.buf[10:n]) == str(hi * 65536 + lo).encode(), (hi, lo, bytes(w.buf[10:n]))


def test_a_counters_status_is_built_without_allocating():
    w = F.FrameWriter()
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
    w = F.FrameWriter()
    h = built(w, w.hello((("board", "x"), ("rate_hz", 1000))))
    assert h[3] == F.TYPE_HELLO and h[6:-2] == b"board=x\nrate_hz=1000"
    s = built(w, w.status(F.STATUS_ERROR, "bad"))
    assert s[3] == F.TYPE_STATUS and s[6:-2] == b"\x01bad"


def test_status_text_is_truncated_to_max_payload():
    w = F.FrameWriter()
    s = built(w, w.status(F.STATUS_OK, "x" * 5000))
    assert struct.unpack_from("<H", s, 4)[0] == F.MAX_PAYLOAD_BYTES


run(globals())
