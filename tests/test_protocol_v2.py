"""Protocol v2: several channels per frame, channel masks, CRC-32; v1 still decodes and one channel is v1's."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from myotwitch import protocol as P


def multi_stream(channels: int, n_frames: int = 12, sets: int = 40, skip: dict[int, int] | None = None,
                 version: int = P.VERSION, seed: int = 3) -> tuple[list[bytes], list[np.ndarray]]:
    """Consecutive data frames of `sets` sample sets; `skip` maps frame number -> sets missing before it."""
    rng = np.random.default_rng(seed)
    skip = skip or {}
    frames, sent, seq = [], [], 0
    for i in range(n_frames):
        seq += skip.get(i, 0)
        shape = (sets,) if channels == 1 else (sets, channels)
        s = rng.integers(1, 4095, shape).astype(np.uint16)
        frames.append(P.encode_data(seq, seq * 500, 0, s, P.FORMAT_PACKED12, version=version))
        sent.append(s)
        seq += sets
    return frames, sent


def feed_in_chunks(data: bytes, sizes) -> tuple[P.FrameDecoder, list]:
    d = P.FrameDecoder()
    out, i = [], 0
    sizes = iter(sizes)
    while i < len(data):
        n = next(sizes, 7)
        out += d.feed(data[i : i + n])
        i += n
    return d, out + d.finish()


def data_frames(frames) -> list[P.DataFrame]:
    return [f for f in frames if isinstance(f, P.DataFrame)]


def test_crc32_check_value():
    assert P.crc32(b"123456789") == 0xCBF43926


def test_a_burst_that_crc16_cannot_see_is_caught_by_crc32():
    # Why v2 moved to CRC-32: CRC-16's generator x^16 + x^12 + x^5 + 1 (bits 01 10 21) xored into a frame is an
    # error it cannot detect, as is any of its multiples: about one random corruption in 65,536. CRC-32 detects
    # every burst up to 32 bits, this one included.
    samples = np.arange(100, 140, dtype=np.uint16)
    burst = bytes([0x01, 0x10, 0x21])
    for version, caught in ((P.VERSION_1, False), (P.VERSION, True)):
        frame = bytearray(P.encode_data(0, 0, 0, samples, P.FORMAT_U16, version=version))
        at = P.HEADER_BYTES + 20
        for k, b in enumerate(burst):
            frame[at + k] ^= b
        d = P.FrameDecoder()
        got = data_frames(d.feed(bytes(frame)))
        if caught:
            assert got == [] and d.stats.crc_errors == 1
        else:  # delivered, wrong: what v1 could not prevent
            assert len(got) == 1 and not np.array_equal(got[0].samples, samples) and d.stats.crc_errors == 0


def test_three_channels_decode_as_sets_with_per_channel_masks():
    s = np.array([[2048, 0, 7], [2049, 100, 7], [2050, 4095, 7]], dtype=np.uint16)
    d = P.FrameDecoder()
    (f,) = d.feed(P.encode_data(10, 20, 0, s, P.FORMAT_PACKED12))
    assert isinstance(f, P.DataFrame)
    assert f.channels == 3 and f.count == 3 and f.samples.shape == (3, 3) and f.samples.dtype == np.uint16
    assert np.array_equal(f.samples, s)
    assert f.saturated_mask == 0b010 and f.flat_mask == 0b100  # channel 1 railed, channel 2 flat
    assert f.flags & P.FLAG_SATURATED and f.flags & P.FLAG_FLAT
    assert d.stats.samples == 3 and f.stream_index == 0  # seq and counts are of sample sets


def frame_fields(f: P.DataFrame) -> tuple:
    """What the host uses of a frame (not skipped_before: a v1 and a v2 frame differ in length)."""
    return (f.seq, f.t_us, f.flags, f.samples.tolist(), f.samples.dtype, f.stream_index, f.lost_before,
            f.crc_errors_before, f.channels)


def test_a_one_channel_v2_stream_gives_exactly_what_v1_gives():
    # The same stream, edges included (a gap, a duplicate, a late frame, garbage, a broken frame, the END
    # status's tail), in either version: the host sees the same frames, indices and counters.
    results = []
    for version in (P.VERSION_1, P.VERSION):
        frames, _ = multi_stream(1, n_frames=10, skip={4: 30}, version=version)
        broken = bytearray(frames[6])
        broken[P.HEADER_BYTES + 14] ^= 0x40
        wire = (P.encode_status(0, "START", version) + b"noise\xa5" + frames[0] + frames[1] + frames[1]
                + frames[3] + frames[2] + frames[4] + frames[5] + bytes(broken) + frames[7]
                + P.encode_status(P.STATUS_END, "frames=10 samples=430", version))
        d, got = feed_in_chunks(wire, [3, 50, 1, 200] * 100)
        results.append(([frame_fields(f) for f in data_frames(got)], d.stats, d.stream_index))
    (f1, s1, i1), (f2, s2, i2) = results
    assert f1 == f2 and i1 == i2
    # frame 2 (overtaken by 3, then late), the gap before 4, the broken frame 6, the tail (frames 8, 9)
    assert s1.lost_samples == s2.lost_samples == 40 + 30 + 40 + 2 * 40 and s1.samples == s2.samples == 240
    assert (s1.stale_frames, s1.crc_errors, s1.tail_lost_samples) == (s2.stale_frames, s2.crc_errors,
                                                                      s2.tail_lost_samples) == (2, 1, 80)
    # The wire differs (header, CRC), so bytes_in and skipped_bytes may; what the host is given does not.


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 4), st.lists(st.integers(1, 300), min_size=1, max_size=120),
       st.sets(st.integers(0, 9), max_size=3), st.binary(max_size=40))
def test_any_chunking_of_a_damaged_multichannel_stream_keeps_or_counts_every_set(channels, sizes, dropped, noise):
    frames, sent = multi_stream(channels, n_frames=10)
    wire = P.encode_status(0, "START") + noise + b"".join(noise if i in dropped else f for i, f in enumerate(frames))
    wire += P.encode_status(P.STATUS_END, f"frames=10 samples={10 * 40}")
    d, got = feed_in_chunks(wire, sizes)
    _, whole = feed_in_chunks(wire, [len(wire)])
    assert [frame_fields(f) + (f.skipped_before,) for f in data_frames(got)] == [
        frame_fields(f) + (f.skipped_before,) for f in data_frames(whole)]
    received = data_frames(got)
    for f in received:
        assert f.samples.shape == (40, channels)
        assert np.array_equal(f.samples, sent[f.seq // 40])
    assert d.stats.samples + d.stats.lost_samples == 10 * 40 == d.stream_index
    assert d.buffered_bytes == 0


def payload_of(channels: int, sat: int, flat: int, reserved: int = 0, count: int = 2, flags: int = 0,
               values: int | None = None, fmt: int = P.FORMAT_U16) -> bytes:
    values = count * channels if values is None else values
    header = struct.pack("<IIBBHBBBB", 0, 0, flags, fmt, count, channels, sat, flat, reserved)
    return header + bytes(P.sample_bytes(values, fmt))


@pytest.mark.parametrize(("payload", "why"), [
    (payload_of(0, 0, 0), "0 channels"),
    (payload_of(9, 0, 0), "9 channels"),
    (payload_of(2, 0b100, 0, flags=P.FLAG_SATURATED), "masks name channels"),
    (payload_of(2, 0, 0, reserved=1), "masks name channels"),
    (payload_of(2, 0b01, 0), "disagree"),
    (payload_of(3, 0, 0, count=171, fmt=P.FORMAT_PACKED12), "out of range"),  # 513 values: more than 512
    (payload_of(3, 0, 0, values=5), "does not match"),
])
def test_impossible_multichannel_frames_are_malformed_and_said_why(payload, why):
    d = P.FrameDecoder()
    assert d.feed(P.encode_frame(P.TYPE_DATA, payload)) == []
    assert d.stats.malformed_frames == 1 and why in d.last_problem, d.last_problem


def hello(**changes) -> list[tuple[str, object]]:
    fields = {"board": "rp2", "protocol": 2, "rate_hz": 2000, "adc_bits": 12, "vref_mv": 3300,
              "gain": "200,200,1000", "frame_samples": 50, "format": 1, "channels": 3, "pins": "GP26,GP27,GP28",
              "sensor": "myoware2,myoware2,none", "skew_ns": 166667}
    fields.update(changes)
    return list(fields.items())


def test_a_v2_hello_names_each_channel():
    (h,) = P.FrameDecoder().feed(P.encode_hello(hello()))
    assert isinstance(h, P.HelloFrame)
    i = h.info
    assert (i.protocol, i.channels, i.gains, i.pins, i.sensors, i.skew_ns) == (
        2, 3, (200.0, 200.0, 1000.0), ("GP26", "GP27", "GP28"), ("myoware2", "myoware2", "none"), 166667)
    assert i.gain == 200.0 and i.sensor_unset  # channel 2 has no stored sensor
    uv = i.counts_to_uv(np.array([[2049, 2049, 2049]], dtype=np.uint16))
    assert uv[0, 0] == uv[0, 1] == pytest.approx(5 * uv[0, 2])  # each channel by its own gain


@pytest.mark.parametrize("changes", [{"gain": "200,200"}, {"pins": "GP26"}, {"channels": 9}, {"channels": 0},
                                     {"sensor": "a,b"}, {"skew_ns": -1},
                                     {"channels": 3, "frame_samples": 171}])  # 513 values a frame
def test_an_inconsistent_v2_hello_is_refused(changes):
    d = P.FrameDecoder()
    assert d.feed(P.encode_hello(hello(**changes))) == []
    assert d.stats.malformed_frames == 1


def test_a_v1_hello_cannot_announce_channels():
    d = P.FrameDecoder()
    fields = [(k, v) for k, v in hello(protocol=1, gain="1000,1000", channels=2) if k not in ("pins", "sensor")]
    assert d.feed(P.encode_hello(fields)) == [] and "1 to 1" in d.last_problem
