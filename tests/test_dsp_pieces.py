"""The detector's piece is the readers' block: a reader's block is run in one piece (dsp/config.py's figures)."""

from myotwitch.dsp.config import PIECE_SAMPLES, DetectorConfig, SampleCounts
from myotwitch.recordings import DEFAULT_BLOCK_SAMPLES


def test_a_piece_is_one_reader_block_at_every_rate():
    # dsp does not import the readers, so the two constants are kept equal here.
    assert PIECE_SAMPLES == DEFAULT_BLOCK_SAMPLES
    for rate_hz in (500.0, 1000.0, 2000.0, 20000.0):
        assert SampleCounts.of(DetectorConfig(), rate_hz).piece == DEFAULT_BLOCK_SAMPLES
