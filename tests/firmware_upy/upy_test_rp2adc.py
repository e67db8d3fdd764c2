# The rp2 board's exact-rate path (boards/rp2_adc_dma.py) against sim/rp2.py's
# model of the ADC FIFO and DMA: the register values written, every sample
# delivered in order across ring wraps and channel hand-overs, loss counted.
# What the silicon does beyond the model is not verified here.
import struct
import machine
import micropython
import rp2
import mtw_frame as F
import boards.rp2_adc_dma as R
from mtw_app import App
from mtw_sampler import Sampler, INDEX_MASK
from upytest import run, FakeOut, FakeCommands, LockedOut, frames

ADC = 0x4004C000


def rp2_app(transfers=R.TRANSFERS, rate_hz=1000, out=None):
    from boards.rp2 import Board

    rp2.reset()
    board = Board()
    if transfers != R.TRANSFERS:
        board._dma = R.AdcDma(rp2.DMA, machine.mem32, "RP2040", transfers=transfers)
        board.ring = board._dma.ring
    out = FakeOut() if out is None else out
    app = App(board, out, FakeCommands())
    if rate_hz != 1000:
        app.handle_command(b"RATE %d" % rate_hz)
    app.handle_command(b"START")
    return board, app, out


def data_samples(out):
    """(seq, t_us, samples) of each data frame written so far."""
    result = []
    for kind, payload in frames(out.data[: getattr(out, "n", len(out.data))]):
        if kind == F.TYPE_DATA:
            seq, t_us, flags, fmt, count = struct.unpack_from("<IIBBH", payload, 0)
            body = payload[F.DATA_HEADER_BYTES:]
            values = []
            for i in range(0, count - 1, 2):
                a, b, c = body[3 * (i // 2)], body[3 * (i // 2) + 1], body[3 * (i // 2) + 2]
                values += [a | (b & 0x0F) << 8, (b >> 4) | c << 4]
            if count % 2:
                j = 3 * (count // 2)
                values.append(body[j] | (body[j + 1] & 0x0F) << 8)
            result.append((seq, t_us, flags, values))
    return result


def convert_and_send(app, out, steps):
    """Let each step's conversions happen, the main loop sending frames after each; then STOP.
    Returns the conversions made and the data frames sent."""
    for step in steps:
        rp2.adc_rp2040.convert(step)
        app._flush_frames()
    app.stop()
    return sum(steps), data_samples(out)


def test_divider_values_and_the_unreachable_rate():
    assert R.div_for(1000) == 47999 << 8  # a conversion every 48 000 cycles of 48 MHz
    assert R.div_for(2000) == 23999 << 8
    for bad in (500, 700, 600000, 7):
        assert not R.reachable(bad)


def test_start_writes_the_documented_registers():
    board, app, out = rp2_app(rate_hz=2000)
    assert board.pacing == "adc-dma"
    adc = rp2.adc_rp2040
    assert adc.div == 23999 << 8
    assert adc.cs & R.CS_EN and adc.cs & R.CS_START_MANY and (adc.cs >> 12) & 0x7 == 0  # AINSEL 0 = GP26
    assert adc.fcs & R.FCS_EN and adc.fcs & R.FCS_DREQ_EN and (adc.fcs >> 24) & 0xF == 1
    a, b = board._dma._a, board._dma._b
    for ch, other in ((a, b), (b, a)):
        f = rp2.DMA.unpack_ctrl(ch.ctrl)
        assert f["treq_sel"] == 36 and f["size"] == 1 and f["inc_read"] == 0 and f["inc_write"] == 1
        assert f["ring_sel"] == 1 and f["ring_size"] == 12 and f["chain_to"] == other.channel
        assert ch.read == ADC + 0x0C
    assert a.active() and not b.active()
    app.stop()


def test_every_sample_arrives_in_order_across_ring_wraps_and_channel_hand_overs():
    # 4096 transfers a channel (two rings) so the hand-over happens often here;
    # no step is longer than the ring less the sampler's margin.
    board, app, out = rp2_app(transfers=4096)
    total, got = convert_and_send(app, out, (37, 500, 1, 1700, 777, 1699, 1024, 1700, 333, 1500, 1700, 1700))
    values = [v for _, _, _, vs in got for v in vs]
    assert len(values) == total, (len(values), total)
    assert values == [i & 0xFFF for i in range(total)]
    seqs = [seq for seq, _, _, _ in got]
    assert seqs == sorted(seqs) and seqs[0] == 0
    assert app.sampler.lost == 0 and board.fifo_overruns() == 0


def test_a_late_main_loop_counts_what_the_dma_overwrote():
    board, app, out = rp2_app()
    rp2.adc_rp2040.convert(5000)  # 2.5 rings with nobody reading
    app._flush_frames()
    app.stop()
    got = data_samples(out)
    sent = sum(len(vs) for _, _, _, vs in got)
    assert sent + app.sampler.lost == 5000, (sent, app.sampler.lost)
    assert app.sampler.lost > 0 and got[0][2] & F.FLAG_OVERFLOW
    # What was sent is the newest, intact and in order.
    values = [v for _, _, _, vs in got for v in vs]
    first = app.sampler.lost
    assert values == [(first + i) & 0xFFF for i in range(sent)]


def test_a_stalled_dma_shows_as_fifo_overruns():
    board, app, out = rp2_app()
    rp2.adc_rp2040.dma_stalled = True
    rp2.adc_rp2040.convert(10)
    app._flush_frames()
    assert board.fifo_overruns() == 1
    rp2.adc_rp2040.dma_stalled = False
    app.stop()


def test_device_times_are_spaced_by_the_sample_period():
    board, app, out = rp2_app(rate_hz=2000)
    rp2.adc_rp2040.convert(400)
    app._flush_frames()
    app.stop()
    times = [t for _, t, _, _ in data_samples(out)]
    assert len(times) == 8
    assert all(times[i + 1] - times[i] == 50 * 500 for i in range(len(times) - 1)), times


def test_stop_halts_conversions_and_empties_the_fifo():
    board, app, out = rp2_app()
    rp2.adc_rp2040.convert(123)
    app.stop()
    adc = rp2.adc_rp2040
    assert not adc.cs & R.CS_START_MANY and not adc.fcs & (R.FCS_EN | R.FCS_DREQ_EN)
    assert adc.fifo == [] and not board._dma._a.active() and not board._dma._b.active()
    before = adc.conversions
    adc.convert(50)
    assert adc.conversions == before


def test_500_hz_converts_at_1000_hz_and_averages_pairs():
    board, app, out = rp2_app(rate_hz=500, transfers=8192)  # hand-overs every 8192 conversions
    assert board.pacing == "adc-dma, pairs averaged" and rp2.adc_rp2040.div == 47999 << 8
    assert rp2.DMA.unpack_ctrl(board._dma._a.ctrl)["ring_size"] == 13  # the pairs' ring: 4096 conversions
    # conversions a step: up to 1700 samples, the ring less the sampler's margin
    total, got = convert_and_send(app, out, (1, 777, 3000, 3001, 1500, 3400, 3400, 3400, 11))
    values = [v for _, _, _, vs in got for v in vs]
    assert len(values) == total // 2 and app.sampler.lost == 0
    # The counter's pairs (2k, 2k + 1): their mean rounded down is 2k.
    assert values == [(2 * k) & 0xFFF for k in range(total // 2)]


def test_without_rp2_dma_a_hard_timer_writes_the_same_ring():
    board, app, out = rp2_app()
    app.stop()
    board._dma = None  # MicroPython before 1.22
    app.handle_command(b"START")
    assert board.pacing == "timer"
    assert machine.Timer.active is not None and machine.Timer.active.freq == 1000
    tick = app.sampler.tick
    micropython.heap_lock()
    try:
        for _ in range(100):
            tick(None)
    finally:
        micropython.heap_unlock()
    assert app.sampler.pending() == 100
    app.stop()
    assert machine.Timer.active is None


def test_rp2350_uses_its_own_adc_address_and_dreq():
    rp2.reset()
    dma = R.AdcDma(rp2.DMA, machine.mem32, "RP2350")
    s = Sampler(lambda: 0, lambda: 0, 0x3FFFFFFF, 12, ring=dma.ring)
    s.follow(dma.produced, 1000)
    dma.start(1000)
    assert rp2.adc_rp2350.div == 47999 << 8 and rp2.DMA.unpack_ctrl(dma._a.ctrl)["treq_sel"] == 48
    rp2.adc_rp2350.convert(10)
    assert s.pending() == 10 and [s.ring[i] for i in range(10)] == list(range(10))
    dma.stop()


def test_rp2350_ctrl_fields_sit_where_its_registers_put_them():
    # pico-sdk rp2350 regs/dma.h: RING_SIZE 11:8, RING_SEL 12, CHAIN_TO 16:13, TREQ_SEL 22:17, INCR_WRITE 6.
    rp2.reset("RP2350")
    dma = R.AdcDma(rp2.DMA, machine.mem32, "RP2350")
    dma.start(1000)
    a, b = dma._a, dma._b
    for ch, other in ((a, b), (b, a)):
        c = ch.ctrl
        assert (c >> 17) & 0x3F == 48 and (c >> 13) & 0xF == other.channel, hex(c)
        assert (c >> 8) & 0xF == 12 and (c >> 12) & 1 and (c >> 6) & 1 and not (c >> 4) & 1, hex(c)
    rp2.adc_rp2350.convert(5)
    assert dma.produced() == 5
    dma.stop()


def test_stop_leaves_no_channel_running_on_rp2350_erratum_e5():
    # Aborting an enabled channel can trigger its CHAIN_TO there: stop() must clear EN on both first.
    rp2.reset("RP2350")
    dma = R.AdcDma(rp2.DMA, machine.mem32, "RP2350", transfers=4096)
    dma.start(1000)
    rp2.adc_rp2350.convert(5000)  # a hand-over: channel B running
    dma.stop()
    assert not dma._a.active() and not dma._b.active()
    for ch in (dma._a, dma._b):
        assert not rp2.DMA.unpack_ctrl(ch.ctrl)["enable"]
    dma.start(1000)  # and START again works
    assert dma._a.active() and rp2.DMA.unpack_ctrl(dma._a.ctrl)["enable"]
    rp2.adc_rp2350.convert(7)
    assert dma.produced() == 7
    dma.stop()


def test_a_ring_too_large_for_the_dma_wrap_is_refused_with_the_reason():
    rp2.reset()
    try:
        R.AdcDma(rp2.DMA, machine.mem32, "RP2040", ring_samples=16384)
    except ValueError as exc:
        assert "32768 bytes" in str(exc), exc
    else:
        raise AssertionError("a 16384-sample ring was accepted")
    dma = R.AdcDma(rp2.DMA, machine.mem32, "RP2040", ring_samples=R.MAX_RING_SAMPLES, transfers=16384)
    dma.start(500)  # the pairs' ring: 32768 bytes, RING_SIZE 15
    assert rp2.DMA.unpack_ctrl(dma._a.ctrl)["ring_size"] == 15
    dma.stop()


def stream_dma_locked(rate_hz, conversions, step):
    """Conversions from just before the sampler index's 2**30 wrap; each main-loop pass heap-locked.

    Checked after each pass (unlocked): the frames' seq run on from `start`, and their samples are
    the ADC model's counter (or its pairs' means at 500 Hz) in order. Returns (app, samples checked)."""
    out = LockedOut(8192)
    board, app, _ = rp2_app(transfers=4096, rate_hz=rate_hz, out=out)
    factor = board._dma._factor
    # About halfway to the wrap, a whole number of rings before it: the DMA writes conversion 0 at the
    # ring's start, so the index must be a multiple of the ring there as it is after START.
    ring = len(board.ring)
    start = INDEX_MASK - (conversions // factor // 2 // ring) * ring + 1
    board._dma._done_samples = start
    app.sampler.reset(start)
    flush = app._flush_frames
    out.n = 0
    checked = 0
    for _ in range(conversions // step):
        rp2.adc_rp2040.convert(step)
        micropython.heap_lock()
        try:
            flush()
        finally:
            micropython.heap_unlock()
        for seq, _t, _flags, values in data_samples(out):
            assert seq == (start + checked) % 2**32, (seq, start, checked)
            for v in values:
                assert v == (factor * checked) & 0xFFF, (v, checked)
                checked += 1
        out.n = 0
    return app, checked


def test_dma_main_loop_allocates_nothing_across_the_index_wrap():
    app, checked = stream_dma_locked(1000, 100000, 1000)
    assert checked >= 100000 - 50, checked  # the last partial frame waits for STOP
    assert app.sampler.lost == 0


def test_dma_pairs_at_500_hz_allocate_nothing_across_the_index_wrap():
    app, checked = stream_dma_locked(500, 100000, 2000)
    assert checked >= 50000 - 50, checked
    assert app.sampler.lost == 0


# -- several channels: the round-robin ---------------------------------------------------------------


def rr_app(channels, rate_hz=2000, chip="RP2040", transfers=R.TRANSFERS, out=None, frame_samples=50):
    from boards.rp2 import Board

    rp2.reset(chip)
    board = Board(channels=channels)
    if transfers != R.TRANSFERS or chip != R.chip_name():  # the Unix port's chip_name() is RP2040
        board._dma = R.AdcDma(rp2.DMA, machine.mem32, chip, transfers=transfers, channels=channels)
        board.ring = board._dma.ring
    out = FakeOut() if out is None else out
    app = App(board, out, FakeCommands(), frame_samples=frame_samples)
    if rate_hz != 1000:
        app.handle_command(b"RATE %d" % rate_hz)
    app.handle_command(b"START")
    return board, app, out


def sets_of(out, channels):
    """(seq, [set, ...]) of each data frame: a set is its channels' values, from the packed body."""
    result = []
    for kind, payload in frames(out.data[: getattr(out, "n", len(out.data))]):
        if kind == F.TYPE_DATA:
            seq, _t, _flags, _fmt, count = struct.unpack_from("<IIBBH", payload, 0)
            assert payload[12] == channels
            body = payload[F.DATA_HEADER_BYTES:]
            values = []
            for i in range(count * channels):
                j = 3 * (i // 2)
                values.append(body[j] | (body[j + 1] & 0x0F) << 8 if i % 2 == 0
                              else (body[j + 1] >> 4) | body[j + 2] << 4)
            result.append((seq, [values[k * channels : (k + 1) * channels] for k in range(count)]))
    return result


def test_round_robin_registers_for_three_channels():
    board, app, out = rr_app(3, rate_hz=2000)
    adc = rp2.adc_rp2040
    assert adc.div == (48000000 // 6000 - 1) << 8  # 3 x 2000 conversions a second
    assert (adc.cs >> 16) & 0x1F == 0b111 and (adc.cs >> 12) & 0x7 == 0  # RROBIN AIN0-2, AINSEL 0 first
    assert adc.cs & R.CS_START_MANY and board.pacing == "adc-dma, round-robin"
    assert board.pins == ("GP26", "GP27", "GP28")
    assert board.skew_ns(2000) == 166667  # 1 / 6000 s, rounded to the ns
    app.stop()
    assert (adc.cs >> 16) & 0x1FF == 0 and not adc.cs & R.CS_START_MANY  # one-shot reads after STOP


def test_500_hz_on_two_channels_converts_at_1000_hz_without_pairs():
    board, app, out = rr_app(2, rate_hz=500)
    assert rp2.adc_rp2040.div == 47999 << 8 and board.pacing == "adc-dma, round-robin"
    app.stop()


def test_each_value_of_a_set_comes_from_its_channel_across_wraps_and_hand_overs():
    board, app, out = rr_app(3, transfers=8192)  # hand-overs every 8192 values: mid-set, as 8192 is no multiple of 3
    # No step longer than the ring less the sampler's margin and a frame's leftover (149 values).
    for step in (37, 500, 1, 1600, 777, 1599, 1024, 1600, 333, 1500, 1600, 1600):
        rp2.adc_rp2040.convert(step)
        app._flush_frames()
    app.stop()
    got = sets_of(out, 3)
    k = 0
    for seq, sets in got:
        assert seq == k, (seq, k)
        for values in sets:
            # the model tags each result with its input (low 2 bits) over a conversion counter
            assert [v & 3 for v in values] == [0, 1, 2], (k, values)
            assert [v >> 2 for v in values] == [(3 * k + c) & 0x3FF for c in range(3)], (k, values)
            k += 1
    assert k == (37 + 500 + 1 + 1600 + 777 + 1599 + 1024 + 1600 + 333 + 1500 + 1600 + 1600) // 3
    assert app.sampler.lost == 0 and board.fifo_overruns() == 0


def test_a_fifo_overflow_restarts_the_rotation_and_no_value_goes_out_under_the_wrong_channel():
    board, app, out = rr_app(3)
    adc = rp2.adc_rp2040
    adc.convert(301)  # 100 sets and one value of the next
    app._flush_frames()
    adc.dma_stalled = True
    adc.convert(6)  # 4 fill the FIFO, 2 are dropped: the ring's values from here on would shift channel
    adc.dma_stalled = False
    adc.convert(5)
    before = sum(len(sets) for _, sets in sets_of(out, 3))
    app._flush_frames()  # sees OVER: restarts the rotation
    assert board.fifo_overruns() == 1
    assert (adc.cs >> 12) & 0x7 == 0 and adc.cs & R.CS_START_MANY and (adc.cs >> 16) & 0x1F == 0b111
    adc.convert(3 * 400)
    app.stop()
    got = sets_of(out, 3)
    sent = sum(len(sets) for _, sets in got)
    for seq, sets in got:
        for values in sets:
            assert [v & 3 for v in values] == [0, 1, 2], (seq, values)  # never shifted
    # The stall's sets are counted lost (the overflow flag on the next frame), and the stream goes on.
    assert app.sampler.lost > 0 and sent > before + 390
    flagged = [p for k, p in frames(out.data) if k == F.TYPE_DATA and p[8] & F.FLAG_OVERFLOW]
    assert len(flagged) == 1
    # Every set is sent or counted: the sets the DMA wrote (fillers included) = sent + lost.
    assert sent + app.sampler.lost == board._dma._values() // 3


def test_without_the_restart_an_overflow_would_shift_the_channels():
    # The reason for the restart, shown on the model: a dropped result moves every later value to the
    # next channel's place (FIFO entries carry no channel tag).
    rp2.reset()
    dma = R.AdcDma(rp2.DMA, machine.mem32, "RP2040", channels=3)
    dma.start(1000)
    adc = rp2.adc_rp2040
    adc.convert(3)
    adc.dma_stalled = True
    adc.convert(5)  # four wait in the FIFO, one is dropped
    adc.dma_stalled = False
    adc.convert(4)  # the first finds the FIFO still full: dropped too
    ring = [dma.ring[i] & 3 for i in range(dma._values())]
    assert ring == [0, 1, 2, 0, 1, 2, 0, 0, 1, 2], ring  # the third set reads channel 0 where 1 belongs
    dma.stop()


def test_the_round_robin_main_loop_allocates_nothing_through_an_overflow():
    out = LockedOut(16384)
    board, app, _ = rr_app(3, out=out, transfers=8192)
    adc = rp2.adc_rp2040
    flush = app._flush_frames
    checked = 0
    for n in range(40):
        out.n = 0
        adc.convert(1500)
        if n == 20:
            adc.dma_stalled = True
            adc.convert(9)
            adc.dma_stalled = False
        micropython.heap_lock()
        try:
            flush()
        finally:
            micropython.heap_unlock()
        for seq, sets in sets_of(out, 3):
            for values in sets:
                assert [v & 3 for v in values] == [0, 1, 2], (seq, values)
                checked += 1
    assert board.fifo_overruns() == 1 and checked > 19000
    app.stop()


def test_rp2350_round_robin_uses_its_wider_fields():
    board, app, out = rr_app(2, chip="RP2350")
    adc = rp2.adc_rp2350
    assert (adc.cs >> 16) & 0x1FF == 0b11, hex(adc.cs)
    assert adc.div == (48000000 // 4000 - 1) << 8, adc.div
    adc.convert(10)
    app._flush_frames()
    app.stop()
    assert [v & 3 for _, sets in sets_of(out, 2) for s in sets for v in s] == [0, 1] * 5


def test_chip_name_comes_from_the_port():
    assert R.chip_name() in R.CHIPS


run(globals())
