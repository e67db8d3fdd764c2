# Several channels: the timer path reading N inputs a tick, frames of sample
# sets with per-channel masks, the hello's per-channel fields, and the sensor
# stored on the board (SENSOR) surviving a restart of the firmware.
import os
import struct

import micropython
import mtw_frame as F
from mtw_app import App
from mtw_sampler import INDEX_MASK
from upytest import FakeBoard, FakeCommands, FakeOut, LockedOut, frames, run


class MultiBoard(FakeBoard):
    """FakeBoard with N inputs: channel c reads values[(pos + c * 7) % len] + c (distinct per channel)."""

    def __init__(self, values, channels, settings_path="/nonexistent/myotwitch/sensors.txt"):
        super().__init__(values)
        self.channels = channels
        self.pins = tuple("P%d" % c for c in range(channels))
        self.settings_path = settings_path
        self.reads = tuple(self._reader(c) for c in range(channels))

    def _reader(self, c):
        def read():
            return self.values[(self.pos + c * 7) % len(self.values)]

        return read

    def skew_ns(self, rate_hz):
        return 1000000000 // (self.channels * rate_hz)


def hello_dict(payload):
    return dict(line.split("=", 1) for line in payload.decode().split("\n"))


def data_frames(data):
    out = []
    for kind, payload in frames(data):
        if kind == F.TYPE_DATA:
            seq, t_us, flags, fmt, count, channels, sat, flat, _ = struct.unpack_from("<IIBBHBBBB", payload, 0)
            out.append((seq, t_us, flags, count, channels, sat, flat, payload[F.DATA_HEADER_BYTES:]))
    return out


def unpack(body, n, fmt):
    if fmt == F.FORMAT_U16:
        return list(struct.unpack_from("<%dH" % n, body, 0))
    values = []
    for i in range(n):
        j = 3 * (i // 2)
        values.append(body[j] | (body[j + 1] & 0x0F) << 8 if i % 2 == 0 else (body[j + 1] >> 4) | body[j + 2] << 4)
    return values


def test_hello_names_each_channel():
    out = FakeOut()
    app = App(MultiBoard([0x8000], 3), out, FakeCommands())
    app.send_hello()
    ((kind, payload),) = frames(out.data)
    h = hello_dict(payload)
    assert h["protocol"] == "2" and h["channels"] == "3" and h["pins"] == "P0,P1,P2"
    assert h["gain"] == "1000,1000,1000" and h["sensor"] == "none,none,none"
    assert h["skew_ns"] == str(1000000000 // 3000)


def test_three_channels_stream_as_interleaved_sets():
    values = [(v * 16) & 0xFFF0 for v in range(1, 200)]  # read_u16 scale: >> 4 gives v
    board = MultiBoard(values, 3)
    out = FakeOut()
    app = App(board, out, FakeCommands(), frame_samples=20)
    app.handle_command(b"START")
    board.fire(100)
    app._flush_frames()
    got = data_frames(out.data)
    assert [g[0] for g in got] == [0, 20, 40, 60, 80]  # seq counts sets
    tick = 0
    for seq, t_us, flags, count, channels, sat, flat, body in got:
        assert (count, channels) == (20, 3)
        assert t_us == seq * 1000  # channel 0's time; FakeBoard steps 1000 µs a tick
        vals = unpack(body, 60, app.sample_format)
        for k in range(20):
            for c in range(3):
                assert vals[3 * k + c] == values[(tick + c * 7) % len(values)] >> 4, (tick, c)
            tick += 1
    assert app.sampler.lost == 0


def test_masks_say_which_channel_is_railed_or_flat():
    board = MultiBoard([0x8000], 2)
    board.reads = (board.reads[0], lambda: 0xFFF0)  # channel 1 at full scale
    out = FakeOut()
    app = App(board, out, FakeCommands(), frame_samples=10)
    app.handle_command(b"START")
    board.fire(10)
    app._flush_frames()
    ((_, _, flags, _, _, sat, flat, _),) = data_frames(out.data)
    assert sat == 0b10 and flat == 0b11 and flags & F.FLAG_SATURATED and flags & F.FLAG_FLAT


def test_a_ring_overrun_counts_whole_sets_lost():
    board = MultiBoard(list(range(0, 65536, 16)), 3)
    out = FakeOut()
    app = App(board, out, FakeCommands(), frame_samples=50)
    app.handle_command(b"START")
    board.fire(1000)  # 3000 values: more than the 2048-value ring
    app.stop()
    got = data_frames(out.data)
    sent = sum(g[3] for g in got)
    assert sent + app.sampler.lost == 1000 and app.sampler.lost > 0
    first_seq = got[0][0]
    vals = unpack(got[0][7], 3 * got[0][3], app.sample_format)
    # the first set sent is tick first_seq, all three channels of it: nothing shifted
    assert vals[:3] == [board.values[(first_seq + c * 7) % len(board.values)] >> 4 for c in range(3)]


def test_three_channel_stream_allocates_nothing_across_the_index_wrap():
    board = MultiBoard([v for v in range(0, 65536, 4099)], 3)
    out = LockedOut(8192)
    app = App(board, out, FakeCommands(), frame_samples=50)
    app.handle_command(b"START")
    app.sampler.reset(2**32 - 20000)  # seq passes 2**32
    app.sampler._index = app.sampler._next = INDEX_MASK - 30000 + 1  # the value index passes 2**30
    fire, flush = board.fire, app._flush_frames
    seqs = []
    for _ in range(40000 // 200):
        out.n = 0
        micropython.heap_lock()
        try:
            fire(200)
            flush()
        finally:
            micropython.heap_unlock()
        for g in data_frames(out.data[: out.n]):  # checked unlocked, a pass at a time
            assert g[3] == 50 and g[4] == 3
            seqs.append(g[0])
    assert len(seqs) == 800 and app.sampler.lost == 0
    assert seqs == [(2**32 - 20000 + 50 * k) % 2**32 for k in range(800)]
    assert app.sampler.seq32() == 20000


def test_selftest_reads_the_channel_asked_for():
    board = MultiBoard([0x8000], 3)
    board.reads = (lambda: 0x1000, lambda: 0xFFF0, lambda: 0x8000)
    out = FakeOut()
    app = App(board, out, FakeCommands())
    for line in (b"SELFTEST", b"SELFTEST 1", b"SELFTEST 2", b"SELFTEST 3"):
        app.handle_command(line)
    texts = [p[1:].decode() for k, p in frames(out.data) if k == F.TYPE_STATUS]
    assert texts[0].startswith("SELFTEST n=256 min=256 max=256") and texts[0].endswith("flat")
    assert "min=4095" in texts[1] and "min=2048" in texts[2] and texts[3] == "no such channel"


def remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def test_sensor_is_stored_on_the_board_and_in_the_hello_after_a_restart():
    path = "/tmp/myotwitch-upy-test-sensors.txt"
    remove(path)
    out, cmds = FakeOut(), FakeCommands()
    app = App(MultiBoard([0x8000], 2, path), out, cmds)
    for line in (b"SENSOR 1 bioamp 2420", b"SENSOR 0 myoware2 200", b"SENSOR 2 x 5", b"SENSOR 0 Bad! 5",
                 b"SENSOR 0 myoware2 0", b"SENSOR 0 myoware2 lots"):
        app.handle_command(line)
    statuses = [(p[0], p[1:].decode()) for k, p in frames(out.data) if k == F.TYPE_STATUS]
    assert statuses == [(0, "SENSOR 1 bioamp 2420"), (0, "SENSOR 0 myoware2 200"), (1, "no such channel"),
                        (1, "bad sensor name"), (1, "bad gain (1 to 100000)"), (1, "bad gain (1 to 100000)")]
    # A new firmware run (a reset, a power cycle) reads what was stored.
    out2 = FakeOut()
    app2 = App(MultiBoard([0x8000], 2, path), out2, FakeCommands())
    app2.send_hello()
    h = hello_dict(frames(out2.data)[0][1])
    assert h["sensor"] == "myoware2,bioamp" and h["gain"] == "200,2420"
    app2.handle_command(b"SENSOR 1 none")
    app3 = App(MultiBoard([0x8000], 2, path), FakeOut(), FakeCommands())
    assert app3.sensors.names == ["myoware2", "none"] and app3.sensors.gains == [200, 1000]
    remove(path)


def test_sensor_is_refused_while_streaming():
    path = "/tmp/myotwitch-upy-test-sensors2.txt"
    remove(path)
    out = FakeOut()
    app = App(MultiBoard([0x8000], 1, path), out, FakeCommands())
    app.handle_command(b"START")
    app.handle_command(b"SENSOR 0 myoware2 200")
    assert frames(out.data)[-1] == (F.TYPE_STATUS, b"\x01SENSOR while streaming: STOP first")
    assert app.sensors.names == ["none"]
    app.stop()


def test_a_damaged_settings_file_is_ignored_and_said_so():
    path = "/tmp/myotwitch-upy-test-sensors3.txt"
    with open(path, "w") as f:
        f.write("0 myoware2 200\n1 oops\n7 bioamp 2420\n")
    out = FakeOut()
    app = App(MultiBoard([0x8000], 2, path), out, FakeCommands())
    app.send_hello()
    h = hello_dict(frames(out.data)[0][1])
    assert h["sensor"] == "myoware2,none" and h["settings"].startswith("ignored a line")
    remove(path)


run(globals())
