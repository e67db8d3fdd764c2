"""The sans-IO frame decoder: chunking, garbage, corruption, sequence gaps, bounds."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from myotwitch import protocol as P


def stream(n_frames: int = 20, samples: int = 50, fmt: int = P.FORMAT_PACKED12, first_seq: int = 0,
           skip: dict[int, int] | None = None) -> tuple[bytes, list[np.ndarray]]:
    """n_frames consecutive data frames; `skip` maps frame number -> samples missing before it."""
    rng = np.random.default_rng(1)
    skip = skip or {}
    out, sent, seq = [], [], first_seq
    for i in range(n_frames):
        seq += skip.get(i, 0)
        s = rng.integers(0, 4096, samples).astype(np.uint16)
        out.append(P.encode_data(seq, seq * 1000, 0, s, fmt))
        sent.append(s)
        seq += samples
    return b"".join(out), sent


def decode_in_chunks(data: bytes, sizes) -> tuple[P.FrameDecoder, list]:
    d = P.FrameDecoder()
    frames, i = [], 0
    sizes = iter(sizes)
    while i < len(data):
        n = next(sizes, 1)
        frames += d.feed(data[i : i + n])
        i += n
    return d, frames


def samples_of(frames) -> list[int]:
    return [int(v) for f in frames if isinstance(f, P.DataFrame) for v in f.samples]


def test_whole_stream_decodes_every_frame():
    data, sent = stream()
    d = P.FrameDecoder()
    frames = d.feed(data)
    assert len(frames) == 20
    assert samples_of(frames) == [int(v) for s in sent for v in s]
    assert d.stats.frames == 20 and d.stats.samples == 1000
    assert d.stats.lost_samples == d.stats.crc_errors == d.stats.skipped_bytes == 0


def test_one_byte_at_a_time():
    data, sent = stream(fmt=P.FORMAT_U16)
    d, frames = decode_in_chunks(data, [1] * len(data))
    assert samples_of(frames) == [int(v) for s in sent for v in s]
    assert d.stats.skipped_bytes == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=200))
def test_any_chunking_gives_the_same_frames(sizes):
    data, sent = stream(n_frames=8)
    d, frames = decode_in_chunks(data, sizes)
    assert samples_of(frames) == [int(v) for s in sent for v in s]
    assert d.stats.lost_samples == 0 and d.stats.crc_errors == 0


def test_leading_and_trailing_garbage_are_skipped_and_counted():
    data, sent = stream(n_frames=3)
    garbage = b"Traceback (most recent call last):\r\n  \xa5 oops \x5a\xa5\n"
    d = P.FrameDecoder()
    frames = d.feed(garbage + data + b"\x00\xff\xa5")
    assert samples_of(frames) == [int(v) for s in sent for v in s]
    assert d.stats.skipped_bytes == len(garbage) + 2
    assert d.buffered_bytes == 1  # a lone first sync byte waits for the next


def test_corrupted_byte_loses_one_frame_then_resyncs():
    data, sent = stream(n_frames=5, samples=50)
    frame_len = len(data) // 5
    broken = bytearray(data)
    broken[2 * frame_len + 20] ^= 0x40  # inside frame 2's samples
    d = P.FrameDecoder()
    frames = d.feed(bytes(broken))
    assert [f.seq for f in frames] == [0, 50, 150, 200]
    assert d.stats.crc_errors == 1
    assert d.stats.lost_samples == 50  # the broken frame's samples, from the sequence gap
    assert frames[2].lost_before == 50 and frames[2].stream_index == 150


def test_corrupted_length_field_resyncs():
    data, _ = stream(n_frames=4)
    frame_len = len(data) // 4
    broken = bytearray(data)
    broken[frame_len + 4] = 0xFF  # frame 1's length: now claims more than the maximum
    broken[frame_len + 5] = 0x0F
    d = P.FrameDecoder()
    frames = d.feed(bytes(broken))
    assert [f.seq for f in frames] == [0, 100, 150]
    assert d.stats.lost_samples == 50


def test_corrupted_length_that_looks_valid_recovers_once_more_bytes_arrive():
    data, _ = stream(n_frames=4)
    frame_len = len(data) // 4
    broken = bytearray(data)
    broken[frame_len + 5] = 0x03  # frame 1 now claims about 1 kB: the decoder waits for it
    d = P.FrameDecoder()
    frames = d.feed(bytes(broken))
    assert [f.seq for f in frames] == [0]
    more, _ = stream(n_frames=12, first_seq=200)
    frames += d.feed(more)  # enough bytes to check the claimed frame's CRC: it fails, resync
    assert [f.seq for f in frames] == [0] + list(range(100, 800, 50))
    assert d.stats.crc_errors == 1 and d.stats.lost_samples == 50


def test_sequence_gap_counts_lost_samples_exactly():
    data, _ = stream(n_frames=6, skip={2: 17, 5: 1000})
    d = P.FrameDecoder()
    frames = d.feed(data)
    assert d.stats.lost_samples == 1017
    assert [f.lost_before for f in frames] == [0, 0, 17, 0, 0, 1000]
    # The host's index counts lost samples, so time stays true after a gap.
    assert frames[-1].stream_index == 5 * 50 + 1017


def test_sequence_counter_wraps_without_loss():
    data, _ = stream(n_frames=4, first_seq=P.SEQ_MODULUS - 120)
    d = P.FrameDecoder()
    frames = d.feed(data)
    assert len(frames) == 4 and d.stats.lost_samples == 0
    assert frames[-1].seq == (P.SEQ_MODULUS - 120 + 150) % P.SEQ_MODULUS


def test_sequence_going_far_back_is_a_reset_not_a_loss():
    a, _ = stream(n_frames=45)  # 2250 samples: further back than a late frame could be
    b, _ = stream(n_frames=2)  # counter starts again at 0 (a restart whose hello was lost)
    d = P.FrameDecoder()
    frames = d.feed(a + b)
    assert len(frames) == 47 and d.stats.lost_samples == 0 and d.stats.seq_resets == 1
    assert [f.stream_index for f in frames[-3:]] == [2200, 2250, 2300]


def test_duplicated_and_late_frames_are_dropped_never_counted_twice():
    frames_bytes = [P.encode_data(50 * k, 1000 * k, 0, np.full(50, k, dtype=np.uint16)) for k in range(6)]
    # frame 1 twice, frame 3 after frame 4
    wire = frames_bytes[0] + frames_bytes[1] + frames_bytes[1] + frames_bytes[2] + frames_bytes[4] + frames_bytes[3] \
        + frames_bytes[5]
    d = P.FrameDecoder()
    frames = d.feed(wire)
    assert [f.seq for f in frames] == [0, 50, 100, 200, 250]
    assert d.stats.stale_frames == 2 and d.stats.seq_resets == 0
    # every one of the 300 samples either delivered once or counted lost once
    assert d.stats.samples == 250 and d.stats.lost_samples == 50


def test_buffer_stays_bounded_on_endless_garbage_and_false_syncs():
    d = P.FrameDecoder()
    rng = np.random.default_rng(2)
    for _ in range(200):
        junk = bytearray(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
        junk[100:106] = b"\xa5\x5a\x01\x44\xff\x03"  # a header that claims a huge frame
        d.feed(bytes(junk))
        assert d.buffered_bytes <= P.MAX_FRAME_BYTES
    data, sent = stream(n_frames=2)
    frames = d.feed(data)
    assert samples_of(frames)[-100:] == [int(v) for s in sent for v in s]


def test_malformed_payload_with_good_crc_is_counted_not_raised():
    bad_count = P.encode_frame(P.TYPE_DATA, bytes(12) + b"\x01\x02")  # count 0, stray bytes
    bad_hello = P.encode_frame(P.TYPE_HELLO, b"board=x\nrate_hz=abc")
    d = P.FrameDecoder()
    assert d.feed(bad_count + bad_hello) == []
    assert d.stats.malformed_frames == 2


def test_packed12_round_trip_odd_and_even():
    for n in (1, 2, 49, 50):
        s = np.arange(n, dtype=np.uint16) * 83 % 4096
        assert P.unpack12(P.pack12(s), n).tolist() == s.tolist()


def test_counts_to_uv_uses_gain_and_mid_scale():
    info = P.parse_hello(b"rate_hz=1000\nadc_bits=12\nvref_mv=3300\ngain=1000\nframe_samples=50\nformat=1\nprotocol=1")
    uv = info.counts_to_uv(np.array([2048, 2049, 0], dtype=np.uint16))
    assert uv[0] == 0.0
    assert abs(uv[1] - 3300e3 / 4096 / 1000) < 1e-9  # about 0.806 µV a count
    assert uv[2] < 0


def test_flag_counts():
    # v1 sends the flags as given; v2's follow its channel masks (tests/test_protocol_v2.py).
    frames = [P.encode_data(i * 10, 0, f, [1] * 10, version=P.VERSION_1) for i, f in enumerate(
        (0, P.FLAG_SATURATED, P.FLAG_FLAT, P.FLAG_SATURATED | P.FLAG_OVERFLOW))]
    d = P.FrameDecoder()
    d.feed(b"".join(frames))
    assert (d.stats.saturated_frames, d.stats.flat_frames, d.stats.overflow_frames) == (2, 1, 1)


def test_a_frame_ending_in_the_first_sync_byte_is_not_counted_as_skipped():
    # Found by the device-fault tests: a CRC whose last byte is 0xA5, at the end of a chunk.
    for seq in range(0, 50 * 400, 50):
        frame = P.encode_data(seq, 0, 0, np.full(50, seq % 4096, dtype=np.uint16))
        if frame[-1] == 0xA5:
            break
    else:
        raise AssertionError("no frame ending in 0xA5 found")
    d = P.FrameDecoder()
    assert len(d.feed(frame)) == 1
    assert d.stats.skipped_bytes == 0 and d.buffered_bytes == 0


def test_noise_and_crc_errors_are_attributed_to_the_frame_they_precede_within_one_feed():
    frames = [P.encode_data(50 * k, 0, 0, np.full(50, k, dtype=np.uint16)) for k in range(5)]
    broken = bytearray(frames[3])
    broken[20] ^= 0x10
    wire = frames[0] + frames[1] + b"noise, no sync in it" + frames[2] + bytes(broken) + frames[4]
    d = P.FrameDecoder()
    got = d.feed(wire)
    assert [f.seq for f in got] == [0, 50, 100, 200]
    assert [f.skipped_before for f in got] == [0, 0, 20, len(broken)]
    assert [f.crc_errors_before for f in got] == [0, 0, 0, 1] and got[3].lost_before == 50
