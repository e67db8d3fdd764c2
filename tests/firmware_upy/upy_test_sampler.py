import micropython
from mtw_sampler import Sampler, INDEX_MASK
from upytest import run, FakeBoard


def make(values=(0x8000,), capacity=64):
    board = FakeBoard(list(values))
    s = Sampler(board.read_u16, board.ticks_us, board.ticks_mask, 12, capacity)
    board.start_sampling(1000, s)
    return board, s


def test_tick_allocates_nothing_under_heap_lock():
    board, s = make(capacity=256)
    tick = s.tick
    micropython.heap_lock()
    try:
        for _ in range(1000):
            tick(None)
    finally:
        micropython.heap_unlock()
    assert s.pending() > 0


def test_samples_are_shifted_to_adc_bits():
    board, s = make(values=(0xFFF0, 0x0010))
    board.fire(2)
    assert s.pending() == 2
    assert s.ring[0] == 0xFFF and s.ring[1] == 0x001


def test_overrun_counts_every_overwritten_sample():
    board, s = make(capacity=64)
    board.fire(64 + 100)
    waiting = s.pending()
    # Nothing vanishes: waiting + lost is everything produced.
    assert waiting + s.lost == 164, (waiting, s.lost)
    assert s.lost >= 100
    assert s.seq32() == s.lost  # the next sample to send is the first one kept


def test_index_wraps_without_losing_count():
    board, s = make(capacity=64)
    s._index = INDEX_MASK - 5
    s._next = INDEX_MASK - 5
    board.fire(20)
    assert s.pending() == 20
    s.advance(20)
    assert s.pending() == 0


def test_device_time_extends_past_the_30_bit_wrap():
    board, s = make(capacity=64)
    board.now_us = 0x3FFFFFFF - 1500  # the board's ticks_us wraps 1.5 ms from now
    board.fire(4)
    t0 = s.first_time_us()
    s.advance(2)
    t2 = s.first_time_us()
    assert t2 - t0 == 2000, (t0, t2)


run(globals())
