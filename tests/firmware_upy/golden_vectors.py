# Prints the golden byte vectors of protocol v1 as produced by the firmware's
# encoder, one "name hex" line each. tests/test_protocol_golden.py runs this
# under `micropython` and compares with tests/golden/protocol_v1.json.
from array import array
from binascii import hexlify
import mtw_frame as F

w = F.FrameWriter(version=1)


def show(name, n):
    print(name, hexlify(bytes(w.buf[:n])).decode())


# A 0 sample: the firmware adds FLAG_SATURATED to this frame.
show("data_u16", w.data(0, 1, 0, 1000, 0, F.FORMAT_U16, array("H", [2048, 2049, 4095, 0, 1234, 0, 0, 0]), 7, 0, 5, 0xFFFF))
show(
    "data_packed12_wrap",
    w.data(0xFFFF, 0xFFF0, 0xFFFF, 0xFF00, F.FLAG_SATURATED | F.FLAG_OVERFLOW, F.FORMAT_PACKED12,
           array("H", [0, 4095, 291, 1110, 2048, 0, 0, 0]), 7, 0, 5, 4095),
)
show("hello", w.hello((("board", "sim"), ("fw", "myotwitch-fw 0.1.0"), ("protocol", 1), ("upy", "1.29.0"),
                       ("rate_hz", 1000), ("adc_bits", 12), ("vref_mv", 3300), ("gain", 1000),
                       ("frame_samples", 50), ("format", 1), ("uid", "0073696d0001"))))
show("status_ok", w.status(F.STATUS_OK, "START"))
show("status_error", w.status(F.STATUS_ERROR, "unknown command"))
show("status_end", w.status(F.STATUS_END, "frames=3 samples=30 lost=0 short_writes=0"))
