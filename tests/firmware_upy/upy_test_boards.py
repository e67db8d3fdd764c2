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


def refused(make):
    try:
        make()
    except ValueError:
        return True
    return False


def test_esp32_takes_up_to_four_adc1_channels_each_at_11db():
    from boards.esp32 import Board

    b = Board(channels=4)
    assert b.channels == 4 and b.pins == ("34", "35", "32", "33") and len(b.reads) == 4
    assert b.skew_ns(1000) == 0  # read in turn by the callback: not measured
    assert refused(lambda: Board(channels=5)) and refused(lambda: Board(channels=0))


def test_rp2_takes_gp26_to_gp28_only():
    from boards.rp2 import Board

    b = Board(channels=3)
    assert b.pins == ("GP26", "GP27", "GP28") and len(b.reads) == 3
    assert refused(lambda: Board(channels=4))  # GP29 measures VSYS on the Pico
    assert refused(lambda: Board(adc_pin=27, channels=3))
    assert Board(channels=1).skew_ns(2000) == 0


def test_headline_build_default_gain_is_myoware_raw():
    import config

    assert config.SENSOR_GAIN == 200 and config.CHANNELS == 1


def test_sensor_gain_comes_from_config():
    import config
    from boards.rp2 import Board

    assert Board().gain == config.SENSOR_GAIN


run(globals())
