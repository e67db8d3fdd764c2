# Prints the golden byte vectors of protocol v2 as produced by the firmware's
# encoder, one "name hex" line each. tests/test_protocol_golden.py runs this
# under `micropython` (64- and 32-bit) and compares with tests/golden/protocol_v2.json.
from array import array
from binascii import hexlify
import mtw_frame as F

w = F.FrameWriter()


def show(name, n):
    print(name, hexlify(bytes(w.buf[:n])).decode())


# One channel: the same samples as v1's data_u16, packed; the 0 sample makes it saturated.
show("data_1ch_packed12", w.data(0, 1, 0, 1000, 0, F.FORMAT_PACKED12,
                                 array("H", [2048, 2049, 4095, 0, 1234, 0, 0, 0]), 7, 0, 5, 4095))
# Three channels, three sets, read across the ring's end: channel 1 railed (0 and 4095), channel 2 flat;
# seq and time just before their 2**32 wraps, the overflow flag given by the caller.
show("data_3ch_packed12_wrap", w.data(0xFFFF, 0xFFF0, 0xFFFF, 0xFF00, F.FLAG_OVERFLOW, F.FORMAT_PACKED12,
                                      array("H", [2049, 100, 7, 2050, 4095, 7, 0, 0, 0, 0, 0, 0, 0, 2048, 0, 7]),
                                      15, 13, 3, 4095, 3))
show("data_2ch_u16", w.data(0, 500, 0x0003, 0xD090, 0, F.FORMAT_U16, array("H", [1000, 3000, 1001, 2999]), 3, 0, 2,
                            4095, 2))
show("hello", w.hello((("board", "rp2"), ("fw", "myotwitch-fw 0.2.0"), ("protocol", 2), ("upy", "1.29.0"),
                       ("rate_hz", 2000), ("adc_bits", 12), ("vref_mv", 3300), ("channels", 3),
                       ("pins", "GP26,GP27,GP28"), ("gain", "200,200,1000"), ("sensor", "myoware2,myoware2,none"),
                       ("skew_ns", 166667), ("frame_samples", 50), ("format", 1), ("uid", "e6614103e7452d2f"))))
show("status_ok", w.status(F.STATUS_OK, "START"))
show("status_end", w.status(F.STATUS_END, "frames=3 samples=150 lost=0 short_writes=0"))
