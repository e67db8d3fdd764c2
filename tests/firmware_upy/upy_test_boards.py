# The real-board modules, exercised against the stand-in `machine` (sim/machine.py):
# they construct, report their fields and drive a Timer the way the app expects.
# What they do on real silicon is not verified here.
import machine
from upytest import run


def check_board(board, name):
    assert board.name == name
    assert board.adc_bits == 12 and board.vref_mv == 3300
    assert board.rates_hz == (500, 1000, 2000) and board.default_rate_hz == 1000
    assert board.gain > 0
    assert isinstance(board.uid(), str) and len(board.uid()) > 0
    assert board.ticks_mask > 0 and (board.ticks_mask + 1) & board.ticks_mask == 0
    assert isinstance(board.read_u16(), int)
    from mtw_sampler import Sampler

    sampler = Sampler(board.read_u16, board.ticks_us, board.ticks_mask, 12, ring=getattr(board, "ring", None))
    board.start_sampling(500, sampler)
    if getattr(board, "pacing", "timer") == "timer":  # the rp2 board paces its ADC by DMA instead
        assert machine.Timer.active is not None and machine.Timer.active.freq == 500
    board.stop_sampling()
    assert machine.Timer.active is None
    assert not board.finished()


def test_rp2_board():
    from boards.rp2 import Board, ADC_PIN

    b = Board()
    assert ADC_PIN == 26  # GP26 = ADC0
    check_board(b, "rp2")


def test_esp32_board_uses_adc1_with_11db():
    from boards.esp32 import Board, ADC_PIN

    b = Board()
    assert 32 <= ADC_PIN <= 39  # ADC1: ADC2 fails while WiFi runs
    assert b._adc.attenuation == machine.ADC.ATTN_11DB
    check_board(b, "esp32")


def test_sensor_gain_comes_from_config():
    import config
    from boards.rp2 import Board

    assert Board().gain == config.SENSOR_GAIN


run(globals())
