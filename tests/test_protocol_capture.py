"""Capture files (.mtwcap): the records the live session writes, and their replay on the live timeline."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from myotwitch import protocol as P
from myotwitch.errors import MyotwitchError
from myotwitch.events import Gap
from myotwitch.sources.capture import CAPTURE_MAGIC, CaptureSource, CaptureWriter, read_chunks

HELLO = P.encode_hello([("board", "sim"), ("protocol", 1), ("rate_hz", 1000), ("adc_bits", 12), ("vref_mv", 3300),
                        ("gain", 1000), ("frame_samples", 50), ("format", 1)])
START = P.encode_status(P.STATUS_OK, "START")


def data(seq: int) -> bytes:
    return P.encode_data(seq, seq * 1000, 0, np.full(50, 2048 + seq % 7, dtype=np.uint16), P.FORMAT_PACKED12)


class Recorder:
    """Writes a capture the way a live session does: chunks read (with their host time) and clock readings."""

    def __init__(self) -> None:
        self.file = io.BytesIO()
        self.t_s = 0.0
        self.writer = CaptureWriter(self.file, clock=lambda: self.t_s)

    def read(self, t_s: float, chunk: bytes) -> None:
        self.t_s = t_s
        self.writer.write(chunk)

    def clock(self, t_s: float) -> None:
        self.t_s = t_s
        self.writer.clock()

    def save(self, path):
        path.write_bytes(self.file.getvalue())
        return path


def test_records_round_trip_with_their_host_times_and_clock_readings(tmp_path):
    r = Recorder()
    r.read(1.5, b"abc")
    r.clock(1.75)
    r.read(2.0, b"")  # an empty read writes nothing
    r.read(2.5, b"de")
    assert r.file.getvalue().startswith(CAPTURE_MAGIC)
    assert list(read_chunks(r.save(tmp_path / "c.mtwcap"))) == [(1.5, b"abc"), (1.75, None), (2.5, b"de")]


def test_a_capture_cut_inside_a_record_ends_with_what_it_has(tmp_path):
    r = Recorder()
    r.read(1.0, b"abcdef")
    whole = r.file.getvalue()
    cut = tmp_path / "cut.mtwcap"
    cut.write_bytes(whole[:-2])  # the writer was stopped mid-record
    assert list(read_chunks(cut)) == [(1.0, b"abcd")]
    cut.write_bytes(whole + b"\x00" * 5)  # and inside a record header
    assert list(read_chunks(cut)) == [(1.0, b"abcdef")]


def test_a_damaged_record_length_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.mtwcap"
    bad.write_bytes(CAPTURE_MAGIC + struct.pack("<dI", 1.0, 50_000_000))
    with pytest.raises(MyotwitchError, match="damaged capture"):
        list(read_chunks(bad))


def test_a_version_1_capture_of_bare_bytes_still_replays(tmp_path):
    old = tmp_path / "old.mtwcap"
    old.write_bytes(HELLO + START + b"".join(data(50 * k) for k in range(10)))
    source = CaptureSource(old)
    blocks = list(source.blocks())
    assert [b.start_index for b in blocks] == list(range(0, 500, 50))
    assert source.summary()["frames"] == 10 and source.summary()["host_times"] is False


def session_with_a_reset(failed_attempts: int) -> Recorder:
    """10 frames (one a block, the clock read after each), the board restarts, the session looks for it
    (`failed_attempts` readings while the port is not back), then 10 frames more."""
    r = Recorder()
    r.read(0.1, HELLO)
    r.read(0.2, START)
    for k in range(10):
        r.read(1.0 + k * 0.05, data(50 * k))
        r.clock(1.0 + k * 0.05 + 0.001)  # the session's reading for this block
    r.read(1.6, P.encode_hello([("board", "sim"), ("protocol", 1), ("rate_hz", 1000), ("adc_bits", 12),
                                ("vref_mv", 3300), ("gain", 1000), ("frame_samples", 50), ("format", 1)]))
    r.clock(1.6)  # began looking for the board
    for i in range(failed_attempts):
        r.clock(1.9 + i)
    r.read(5.0, HELLO)
    r.read(5.01, START)
    for k in range(10):
        r.read(5.5 + k * 0.05, data(50 * k))
        r.clock(5.5 + k * 0.05)
    return r


@pytest.mark.parametrize("failed_attempts", [0, 3])
def test_the_gap_after_a_restart_comes_from_the_sessions_own_clock_readings(tmp_path, failed_attempts):
    source = CaptureSource(session_with_a_reset(failed_attempts).save(tmp_path / "reset.mtwcap"))
    blocks = list(source.blocks())
    # ReconnectingBoard's rule on the recorded readings: the last block before the restart was read at 1.451 s,
    # the first after it at 5.5 s holding samples 0-49 at the nominal 1000 Hz (under 2 s of stream: no fit),
    # so its first sample was at 5.45 s: a gap of round((5.45 - 1.451) * 1000) = 3999 samples.
    first_after = blocks[10]
    assert first_after.lost_before == 3999 and first_after.start_index == 500 + 3999
    assert [source.events_for(b) for b in blocks[10:11]] == [[Gap(500, 3999, "board restarted")]]
    assert source.summary()["gaps"] == 1 and source.summary()["reconnects"] == 1


def test_a_capture_that_ends_while_the_session_looks_for_the_board_ends_the_replay_there(tmp_path):
    r = Recorder()
    r.read(0.1, HELLO + START)
    for k in range(4):
        r.read(1.0 + k * 0.05, data(50 * k))
        r.clock(1.0 + k * 0.05)
    r.read(1.3, HELLO)  # the board restarted; the session was stopped before it streamed again
    r.clock(1.3)
    source = CaptureSource(r.save(tmp_path / "ends.mtwcap"))
    assert [b.start_index for b in source.blocks()] == [0, 50, 100, 150]
    assert source.summary()["reconnects"] == 0 and source.summary()["gaps"] == 0


def test_a_capture_where_the_board_never_streams_is_a_clear_error(tmp_path):
    r = Recorder()
    r.read(0.1, HELLO)
    source = CaptureSource(r.save(tmp_path / "idle.mtwcap"))
    with pytest.raises(MyotwitchError, match="never streams"):
        list(source.blocks())


def test_a_capture_of_three_channels_replays_each_channel_by_its_gain(tmp_path):
    hello = P.encode_hello([("board", "rp2"), ("protocol", 2), ("rate_hz", 1000), ("adc_bits", 12),
                            ("vref_mv", 3300), ("channels", 3), ("gain", "200,1000,2420"),
                            ("sensor", "myoware2,oymotion,bioamp"), ("skew_ns", 333333), ("frame_samples", 50),
                            ("format", 1)])
    sets = np.tile(np.array([2049, 2049, 2049], dtype=np.uint16), (50, 1))
    frames = b"".join(P.encode_data(50 * k, 50_000 * k, 0, sets, P.FORMAT_PACKED12) for k in range(4))
    path = tmp_path / "three.mtwcap"
    path.write_bytes(hello + P.encode_status(0, "START") + frames)
    blocks = list(CaptureSource(path).blocks())
    assert [b.start_index for b in blocks] == [0, 50, 100, 150]
    b = blocks[0]
    assert b.channels == 3 and b.channel_skew_s == pytest.approx(333333e-9)
    one_count_uv = 3300e3 / 4096
    assert b.channels_uv[:, 0] == pytest.approx([one_count_uv / 200, one_count_uv / 1000, one_count_uv / 2420])
    assert np.array_equal(b.samples_uv, b.channels_uv[0])
