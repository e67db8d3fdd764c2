import struct
import mtw_frame as F
from mtw_app import App
from upytest import run, FakeBoard, FakeOut, FakeCommands, frames


def make():
    board = FakeBoard([0x8000, 0x9000, 0x7000])
    out = FakeOut()
    cmds = FakeCommands()
    app = App(board, out, cmds, frame_samples=10)
    return board, out, cmds, app


def command(app, cmds, out, text):
    out.data = bytearray()
    cmds.send(text)
    app._poll_commands(0)
    return frames(out.data)


def test_info_sends_hello_with_board_fields():
    board, out, cmds, app = make()
    (kind, payload), = command(app, cmds, out, b"INFO\n")
    assert kind == F.TYPE_HELLO
    text = payload.decode()
    for field in ("board=fake", "rate_hz=1000", "adc_bits=12", "vref_mv=3300", "gain=1000", "fw=myotwitch-fw"):
        assert field in text, field


def test_unknown_and_malformed_commands_get_errors_and_change_nothing():
    board, out, cmds, app = make()
    for bad in (b"BOGUS\n", b"RATE\n", b"RATE abc\n", b"RATE 3\n", b"START now\n", b"\xff\xfe\n"):
        (kind, payload), = command(app, cmds, out, bad)
        assert kind == F.TYPE_STATUS and payload[0] == F.STATUS_ERROR, (bad, payload)
    assert app.rate_hz == 1000 and not app.streaming


def test_overlong_command_is_an_error():
    board, out, cmds, app = make()
    (kind, payload), = command(app, cmds, out, b"X" * 100 + b"\n")
    assert payload[0] == F.STATUS_ERROR and b"too long" in payload


def test_rate_accepts_supported_rates_only_when_stopped():
    board, out, cmds, app = make()
    (_, payload), = command(app, cmds, out, b"RATE 2000\r\n")
    assert payload == b"\x00RATE 2000" and app.rate_hz == 2000
    command(app, cmds, out, b"START\n")
    (_, payload), = command(app, cmds, out, b"RATE 500\n")
    assert payload[0] == F.STATUS_ERROR and app.rate_hz == 2000


def test_start_streams_numbered_frames_and_stop_flushes():
    board, out, cmds, app = make()
    command(app, cmds, out, b"START\n")
    assert app.streaming
    out.data = bytearray()
    board.fire(25)
    app._flush_frames()
    got = frames(out.data)
    assert len(got) == 2  # two full frames; 5 samples wait for more
    seqs = [struct.unpack_from("<I", p, 0)[0] for _, p in got]
    assert seqs == [0, 10]
    out.data = bytearray()
    got = command(app, cmds, out, b"STOP\n")
    # The last 5 samples go out before the STOP acknowledgement.
    assert got[0][0] == F.TYPE_DATA and struct.unpack_from("<IIBBH", got[0][1], 0)[4] == 5
    assert got[1] == (F.TYPE_STATUS, b"\x00STOP")
    assert not app.streaming and board.callback is None


def test_end_of_signal_reports_counters():
    board, out, cmds, app = make()
    command(app, cmds, out, b"START\n")
    board.fire(30)
    board.end = True
    out.data = bytearray()
    app.run()  # sends hello, flushes, sees the end, reports and returns (exit_on_end)
    got = frames(out.data)
    end = [p for k, p in got if k == F.TYPE_STATUS and p[0] == F.STATUS_END]
    assert end and b"frames=3 samples=30 lost=0" in end[0], got


def test_selftest_reports_adc_noise_and_range():
    board, out, cmds, app = make()
    (kind, payload), = command(app, cmds, out, b"SELFTEST\n")
    text = payload[1:].decode()
    assert payload[0] == F.STATUS_OK and text.startswith("SELFTEST n=256"), text
    # The fake ADC reads 0x8000 >> 4 = 2048 every time (its position moves only on ticks): flat.
    assert "min=2048 max=2048" in text and text.endswith("flat"), text


def test_selftest_refused_while_streaming():
    board, out, cmds, app = make()
    command(app, cmds, out, b"START\n")
    (_, payload), = command(app, cmds, out, b"SELFTEST\n")
    assert payload[0] == F.STATUS_ERROR


def test_flat_input_is_flagged_and_heartbeat_runs():
    board, out, cmds, app = make()
    board.values = [0x8000]  # stuck: an electrode off
    command(app, cmds, out, b"START\n")
    out.data = bytearray()
    board.fire(10 * 12)
    app._flush_frames()
    got = frames(out.data)
    flags = [struct.unpack_from("<IIB", p, 0)[2] for _, p in got]
    assert len(flags) == 12 and all(f & F.FLAG_FLAT for f in flags[1:]), flags
    assert getattr(board, "beats", 0) == 1  # every 10 frames


def test_changing_input_is_not_flagged_flat():
    board, out, cmds, app = make()
    command(app, cmds, out, b"START\n")
    out.data = bytearray()
    for _ in range(30):
        board.fire(1)
        board.pos += 1
    app._flush_frames()
    flags = [struct.unpack_from("<IIB", p, 0)[2] for _, p in frames(out.data)]
    assert flags and not any(f & F.FLAG_FLAT for f in flags), flags



def test_a_stats_status_each_second_of_frames_with_the_counters():
    board, out, cmds, app = make()  # 10-sample frames at 1000 Hz: STATS every 100 frames
    command(app, cmds, out, b"START\n")
    out.data = bytearray()
    for _ in range(5):
        board.fire(500)
        app._flush_frames()
    stats = [p[1:].decode() for k, p in frames(out.data) if k == F.TYPE_STATUS and p[1:6] == b"STATS"]
    assert len(stats) == 2, stats
    words = dict(w.split("=") for w in stats[1].split()[1:])
    assert words["frames"] == "200" and words["lost"] == "0" and words["short_writes"] == "0"
    assert int(words["samples"]) >= 2000 and words["fifo_overruns"] == "0"
    assert words["saturated"] == "0" and words["flat"] == "0"


def test_stats_count_saturated_and_flat_frames():
    board, out, cmds, app = make()
    board.values = [0xFFFF]  # stuck at the top rail: every frame saturated and flat
    command(app, cmds, out, b"START\n")
    board.fire(1000)
    app._flush_frames()
    assert app.saturated_frames == app.flat_frames == app.frames_sent == 100
    assert "saturated=100 flat=100" in app.counters()


def test_watchdog_is_opt_in_started_by_start_and_fed_by_the_loop():
    import machine

    board, out, cmds, app = make()
    assert ("watchdog_ms", 0) in app.hello_fields()
    before = len(machine.WDT.started)
    command(app, cmds, out, b"START\n")
    assert len(machine.WDT.started) == before  # off by default
    app = App(board, out, cmds, frame_samples=10, watchdog_ms=4000)
    cmds.send(b"INFO\n")
    app._poll_commands(0)
    assert len(machine.WDT.started) == before  # not before START: a board at the REPL is not reset
    command(app, cmds, out, b"START\n")
    wdt = machine.WDT.started[-1]
    assert wdt.timeout == 4000 and len(machine.WDT.started) == before + 1
    board.end = True
    app.run()  # one pass: the loop feeds, then the signal's end stops it
    assert wdt.feeds >= 1
    command(app, cmds, out, b"START\n")
    assert len(machine.WDT.started) == before + 1  # one watchdog per boot


def test_frame_samples_beyond_the_payload_limit_are_refused():
    # 1024 payload bytes hold 504 uint16 samples (v2) or 512 packed ones (the documented limits).
    for fmt, largest in ((F.FORMAT_U16, 504), (F.FORMAT_PACKED12, 512)):
        app = App(FakeBoard([0x8000]), FakeOut(), FakeCommands(), frame_samples=largest, sample_format=fmt)
        assert app.frame_samples == largest
        for bad in (0, largest + 1):
            try:
                App(FakeBoard([0x8000]), FakeOut(), FakeCommands(), frame_samples=bad, sample_format=fmt)
            except ValueError:
                continue
            raise AssertionError("frame_samples=%d accepted in format %d" % (bad, fmt))


def test_a_largest_u16_frame_fits_its_buffer_and_is_sent_whole():
    board, out, cmds = FakeBoard([0x1230, 0xFFF0]), FakeOut(), FakeCommands()
    app = App(board, out, cmds, frame_samples=504, sample_format=F.FORMAT_U16)
    command(app, cmds, out, b"START\n")
    out.data = bytearray()
    board.fire(504)
    app._flush_frames()
    (kind, payload), stats = frames(out.data)  # at 1000 Hz, a STATS follows each 504-sample frame
    assert kind == F.TYPE_DATA and len(payload) == F.MAX_PAYLOAD_BYTES and stats[0] == F.TYPE_STATUS
    assert struct.unpack_from("<H", payload, 10)[0] == 504


run(globals())
