"""The decoder at its edges (docs/protocol.md, "What the decoder does at the edges"): end of input, a counter
that starts again without a hello, the stale-frame window, and the limits of count and version."""

from __future__ import annotations

import numpy as np
import pytest
from myotwitch import protocol as P


def frames_of(n_frames: int, first_seq: int = 0, t0_us: int = 0, samples: int = 50, seed: int = 1) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [P.encode_data(first_seq + k * samples, t0_us + k * samples * 1000, 0,
                          rng.integers(0, 4096, samples).astype(np.uint16), P.FORMAT_PACKED12)
            for k in range(n_frames)]


def decode_all(wire: bytes) -> tuple[P.FrameDecoder, list]:
    d = P.FrameDecoder()
    out = d.feed(wire)
    return d, out + d.finish()


def test_a_corrupted_length_near_the_end_hides_no_frame_at_end_of_input():
    # issue 15, item 5: a header claiming 1000 bytes before the last 8 frames, which are shorter than that.
    wire = frames_of(600)
    d = P.FrameDecoder()
    got = d.feed(b"".join(wire[:-8]) + bytes.fromhex("A55A0144E803") + b"".join(wire[-8:]))
    assert d.stats.samples == 29_600  # the decoder waits for the claimed frame: nothing is lost yet
    got += d.finish()
    assert len(got) == 600 and d.stats.samples == 30_000 and d.stats.lost_samples == 0
    assert d.stats.skipped_bytes == 6 and d.buffered_bytes == 0


def test_end_of_input_inside_a_frame_counts_its_bytes_skipped():
    wire = b"".join(frames_of(3))
    d, got = decode_all(wire + wire[:40])
    assert len(got) == 3 and d.stats.skipped_bytes == 40 and d.buffered_bytes == 0


def test_samples_produced_after_the_last_frame_received_are_counted_lost_from_the_end_status():
    # The board produced 30,000 (its END status says so); the last 3 frames were cut off on the way.
    wire = frames_of(600)
    end = P.encode_status(P.STATUS_END, "frames=600 samples=30000 lost=0 short_writes=0")
    d, _ = decode_all(b"".join(wire[:-3]) + wire[-3][:30] + end)
    assert d.stats.samples == 29_850 and d.stats.lost_samples == 150 and d.stats.tail_lost_samples == 150
    assert d.stats.samples + d.stats.lost_samples == 30_000 and d.stream_index == 30_000


def test_a_stats_status_of_an_earlier_count_says_nothing_about_the_tail_of_a_new_one():
    stats = P.encode_status(P.STATUS_OK, "STATS frames=20 samples=5000 lost=0")
    hello = P.encode_hello([("protocol", 1), ("rate_hz", 1000), ("adc_bits", 12), ("vref_mv", 3300), ("gain", 1000),
                            ("frame_samples", 50), ("format", 1)])
    d, _ = decode_all(b"".join(frames_of(10)) + stats + hello + b"".join(frames_of(4, t0_us=7_000_000)))
    assert d.stats.samples == 700 and d.stats.lost_samples == 0


def test_a_counter_that_restarts_without_a_hello_loses_no_sample_uncounted():
    # issue 15, item 6: frames 0-999 (in samples), then the counter at 0 again (its hello corrupted). The
    # board rebooted, so its device time is unrelated to the first run's: these are new samples, not stale.
    first = frames_of(20, t0_us=50_000_000)
    again = frames_of(600, t0_us=2_000_000, seed=2)
    d, got = decode_all(b"".join(first + again))
    assert d.stats.samples == 31_000 and d.stats.lost_samples == 0
    assert d.stats.seq_resets == 1 and d.stats.stale_frames == 0
    assert [f.stream_index for f in got[19:22]] == [950, 1000, 1050]


def test_duplicates_and_late_frames_inside_the_window_are_still_dropped():
    w = frames_of(8)
    # frame 2 twice, frame 5 after frame 6 (overtaken: counted lost when 6 came)
    d, got = decode_all(w[0] + w[1] + w[2] + w[2] + w[3] + w[4] + w[6] + w[5] + w[7])
    assert [f.seq for f in got] == [0, 50, 100, 150, 200, 300, 350]
    assert d.stats.stale_frames == 2 and d.stats.seq_resets == 0
    assert d.stats.samples + d.stats.lost_samples == 400


def test_a_frame_behind_with_a_device_time_outside_the_gap_is_a_restart():
    # seq 100 is in the gap that frame 3 opened, but its device time is after every frame seen: not late.
    w = frames_of(4)
    restarted = P.encode_data(100, 9_000_000, 0, np.arange(50, dtype=np.uint16), P.FORMAT_PACKED12)
    d, got = decode_all(w[0] + w[1] + w[3] + restarted)
    assert [f.seq for f in got] == [0, 50, 150, 100]
    assert d.stats.seq_resets == 1 and d.stats.stale_frames == 0 and d.stats.lost_samples == 50


@pytest.mark.parametrize(("fmt", "largest", "version"), [(P.FORMAT_PACKED12, 512, 1), (P.FORMAT_U16, 506, 1),
                                                        (P.FORMAT_PACKED12, 512, 2), (P.FORMAT_U16, 504, 2)])
def test_count_limits_are_the_documented_ones(fmt, largest, version):
    ok = P.encode_data(0, 0, 0, np.zeros(largest, dtype=np.uint16), fmt, version=version)
    d, got = decode_all(ok)
    assert len(got) == 1 and d.stats.malformed_frames == 0
    if fmt == P.FORMAT_PACKED12:  # 600 packed samples fit the payload, but the count is beyond 512
        too_many = P.encode_data(0, 0, 0, np.zeros(600, dtype=np.uint16), fmt, version=version)
        d, got = decode_all(too_many)
        assert got == [] and d.stats.malformed_frames == 1 and "600" in d.last_problem


def hello_fields(**changes) -> list[tuple[str, object]]:
    fields = {"board": "x", "protocol": 1, "rate_hz": 1000, "adc_bits": 12, "vref_mv": 3300, "gain": 1000,
              "frame_samples": 50, "format": 1}
    fields.update(changes)
    return list(fields.items())


def test_a_hello_of_an_unknown_protocol_version_is_refused_and_said_why():
    d, got = decode_all(P.encode_hello(hello_fields(protocol=3), version=P.VERSION))
    assert got == [] and d.stats.malformed_frames == 1
    assert "protocol version 3" in d.last_problem
    # A hello whose protocol field is not its frame's version is refused too: which layout follows is unclear.
    d, got = decode_all(P.encode_hello(hello_fields(protocol=1), version=P.VERSION))
    assert got == [] and "protocol version 1 in a version 2 frame" in d.last_problem
    d, got = decode_all(P.encode_hello(hello_fields()))
    assert isinstance(got[0], P.HelloFrame)


@pytest.mark.parametrize("changes", [{"frame_samples": 513}, {"format": 1, "frame_samples": 0},
                                     {"format": 0, "frame_samples": 507}, {"format": 7}])
def test_a_hello_announcing_impossible_frames_is_refused(changes):
    d, got = decode_all(P.encode_hello(hello_fields(**changes)))
    assert got == [] and d.stats.malformed_frames == 1


def test_a_first_frame_lost_after_start_is_counted_lost():
    # The board answers START before its first sample: seq 0 comes next, so a broken first frame is a gap.
    w = frames_of(4)
    broken = bytearray(w[0])
    broken[20] ^= 0xFF
    d, got = decode_all(P.encode_status(P.STATUS_OK, "START") + bytes(broken) + w[1] + w[2] + w[3])
    assert [f.seq for f in got[1:]] == [50, 100, 150] and got[1].lost_before == 50
    assert d.stats.samples + d.stats.lost_samples == 200


def test_a_frame_overtaken_before_the_first_one_of_a_joined_stream_is_late_not_a_restart():
    # Joined mid-way (no START seen): frame 1 arrives before frame 0. Frame 0 is late, never counted twice.
    w = frames_of(4, first_seq=7000)
    d, got = decode_all(w[1] + w[0] + w[2] + w[3])
    assert [f.seq for f in got] == [7050, 7100, 7150] and d.stats.stale_frames == 1
    assert d.stats.seq_resets == 0 and d.stats.lost_samples == 0
