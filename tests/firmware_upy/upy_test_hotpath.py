# The hot path over >= 10**5 ticks under micropython.heap_lock(): the sampler
# callback, framing and the STATS status allocate nothing, across the sampler
# index's 2**30 wrap, the wire seq's 2**32 wrap, ticks_us's 2**30 wrap and the
# extended device time's 2**32 wrap. Start values are synthetic, not real time.
# Under the 32-bit port (31-bit small ints, as on the boards) any big int made
# on the way is a MemoryError here.
import struct

import micropython
import mtw_frame as F
from mtw_app import App
from mtw_sampler import INDEX_MASK, Sampler
from upytest import FakeBoard, LockedOut, crc_ok, run

_TICKS = 100000
_FRAME = 50


class NoCommands:
    def wait(self, timeout_ms):
        return False


def test_tick_allocates_nothing_across_the_index_wrap():
    board = FakeBoard([0x1230, 0x4560])
    s = Sampler(board.read_u16, board.ticks_us, board.ticks_mask, 12, 256)
    s.reset(INDEX_MASK - _TICKS // 2)  # the index passes 2**30 - 1 halfway
    board.start_sampling(1000, s)
    fire = board.fire
    micropython.heap_lock()
    try:
        fire(_TICKS)
    finally:
        micropython.heap_unlock()
    # The index kept moving through the wrap (it stalled at 2**30 - 1 before).
    assert s._index == _TICKS // 2 - 1, s._index
    assert s.pending() == 256 - 32 and s.lost == _TICKS - (256 - 32)


def u32(data, o):
    lo, hi = struct.unpack_from("<HH", data, o)
    return hi * 65536 + lo


def stream_locked(start_seq, start_us, step_us):
    """START an App, then 10**5 ticks and their frames and STATS under heap lock; returns (app, frames)."""
    board = FakeBoard([v for v in range(0, 65536, 4099)])
    board.step_us = step_us
    out = LockedOut(300000)
    app = App(board, out, NoCommands(), frame_samples=_FRAME)
    app.handle_command(b"START")
    app.sampler.reset(start_seq)
    board.now_us = start_us
    out.n = 0
    fire, flush = board.fire, app._flush_frames
    micropython.heap_lock()
    try:
        for _ in range(_TICKS // _FRAME):
            fire(_FRAME)
            flush()
    finally:
        micropython.heap_unlock()
    return app, out


def walk(out):
    """(type, payload offset, payload length) of each frame in the sink, CRC checked, copying nothing."""
    data, i = out.data, 0
    while i < out.n:
        assert data[i] == 0xA5 and data[i + 1] == 0x5A, "sync at %d" % i
        n = struct.unpack_from("<H", data, i + 4)[0]
        end = i + 6 + n
        crc_bytes = crc_ok(data, i, end)
        yield data[i + 3], i + 6, n
        i = end + crc_bytes


def check_stream(start_seq, start_us, step_us):
    app, out = stream_locked(start_seq, start_us, step_us)
    seq0 = start_seq % 2**32
    k = n_stats = 0
    t0 = last = None
    for kind, o, n in walk(out):
        if kind == F.TYPE_STATUS:
            n_stats += 1
            last = bytes(out.data[o : o + n]).decode()
            continue
        assert kind == F.TYPE_DATA
        if t0 is None:
            t0 = u32(out.data, o + 4)
        assert u32(out.data, o) == (seq0 + k * _FRAME) % 2**32, (k, u32(out.data, o))
        assert u32(out.data, o + 4) == (t0 + k * _FRAME * step_us) % 2**32, (k, u32(out.data, o + 4))
        k += 1
    assert k == _TICKS // _FRAME, k
    assert n_stats == _TICKS // 1000, n_stats  # one a second at 1000 Hz
    # STATS counts samples produced since START (modulo 2**32): here it started at start_seq.
    assert last.startswith("\x00STATS frames=%d samples=%d lost=0 " % (_TICKS // _FRAME, (seq0 + _TICKS) % 2**32)), last
    assert app.sampler.seq32() == (seq0 + _TICKS) % 2**32


def test_stream_allocates_nothing_across_seq_2_30_and_ticks_wraps():
    # seq passes 2**30 halfway; ticks_us (2**30) wraps halfway too.
    check_stream(2**30 - _TICKS // 2, 0x3FFFFFFF - _TICKS // 2 * 1000, 1000)


def test_stream_allocates_nothing_across_seq_and_time_2_32_wraps():
    # seq passes 2**32 halfway; 50 ms a tick takes the extended device time past 2**32 (5e9 µs in all).
    check_stream(2**32 - _TICKS // 2, 0x3FFFFFFF - 1000, 50000)


run(globals())
