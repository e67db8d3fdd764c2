"""Several channels and the stored sensor end to end: the real firmware (MicroPython Unix port) on a pty,
the host's serial source reading protocol v2."""

from __future__ import annotations

import numpy as np
import pytest
from myotwitch import protocol as P
from myotwitch.errors import MyotwitchError
from myotwitch.recordings import open_recording
from myotwitch.sensors import SENSORS, sensor_commands, settings_file_text, unset_sensor_warning, uv_per_count
from myotwitch.sources.serial_source import SerialSource
from myotwitch.sources.simboard import SimBoard


def csv_channel(tmp_path, name: str, rate_hz: int, seconds: float, uv: np.ndarray):
    path = tmp_path / f"{name}.csv"
    t = np.arange(len(uv)) / rate_hz
    np.savetxt(path, np.column_stack([t, uv]), fmt="%.6f", delimiter=",", header="time_s,emg_uv", comments="")
    return open_recording(path)


def channel_signals(rate_hz: int, seconds: float) -> list[np.ndarray]:
    """Three distinct signals: a sine, a ramp, a constant level (µV), each within the ADC's range at gain 1000."""
    n = int(rate_hz * seconds)
    t = np.arange(n) / rate_hz
    return [300.0 * np.sin(2 * np.pi * 7 * t), np.linspace(-600.0, 600.0, n), np.full(n, 250.0)]


def read_all(source: SerialSource) -> list:
    source.start()
    return list(source.blocks())


def test_three_channels_arrive_as_sets_through_the_firmware(tmp_path):
    rate_hz, seconds = 2000, 3
    signals = channel_signals(rate_hz, seconds)
    recs = [csv_channel(tmp_path, f"c{c}", rate_hz, seconds, s) for c, s in enumerate(signals)]
    with SimBoard(recs[0], speed=0, more_channels=(recs[1], recs[2])) as board:
        source = SerialSource(board.port)
        info = source.open()
        assert (info.protocol, info.channels, info.pins, info.sensors) == (2, 3, ("sim0", "sim1", "sim2"),
                                                                          ("sim", "sim", "sim"))
        blocks = read_all(source)
        source.close()
    assert all(b.channels == 3 and b.channels_uv.shape == (3, len(b.samples_uv)) for b in blocks)
    got = np.concatenate([b.channels_uv for b in blocks], axis=1)
    n = rate_hz * seconds
    assert got.shape == (3, n) and source.decoder.stats.lost_samples == 0
    lsb_uv = uv_per_count(1000.0)
    for c in range(3):  # each channel is its own signal, to within the ADC's rounding
        assert np.max(np.abs(got[c] - signals[c])) <= lsb_uv / 2 + 1e-9, c
    # per_channel(): one-channel blocks for a per-channel detector, same indices
    first = blocks[0].per_channel()
    assert [b.start_index for b in first] == [0, 0, 0] and np.array_equal(first[2].samples_uv, got[2, :50])
    assert np.array_equal(blocks[0].samples_uv, got[0, :50])
    assert source.board_counters["samples"] == n and source.board_counters["lost"] == 0


def test_one_channel_through_the_firmware_is_what_it_always_was(tmp_path):
    signals = channel_signals(1000, 2)
    rec = csv_channel(tmp_path, "one", 1000, 2, signals[0])
    with SimBoard(rec, speed=0) as board:
        source = SerialSource(board.port)
        info = source.open()
        blocks = read_all(source)
        source.close()
    assert info.channels == 1 and all(b.channels_uv is None and b.samples_uv.ndim == 1 for b in blocks)
    got = np.concatenate([b.samples_uv for b in blocks])
    assert len(got) == 2000 and np.max(np.abs(got - signals[0])) <= uv_per_count(1000.0) / 2 + 1e-9


def test_live_sensor_is_stored_on_the_board_and_reported_after_its_restart(tmp_path):
    rec = csv_channel(tmp_path, "one", 1000, 1, channel_signals(1000, 1)[1])
    with SimBoard(rec, speed=0) as board:
        source = SerialSource(board.port, sensors=["myoware2"])
        info = source.open()
        source.close()
        assert (info.sensors, info.gains) == (("myoware2",), (200.0,))
        board._end_process()  # the board powers off, and boots again: it reads its stored sensor
        board._launch([])
        again = SerialSource(board.port)
        info2 = again.open()
        again.close()
    assert (info2.sensors, info2.gains) == (("myoware2",), (200.0,))
    assert unset_sensor_warning(info2.sensors, info2.gains) is None


def test_more_sensors_than_channels_is_a_clear_error(tmp_path):
    rec = csv_channel(tmp_path, "one", 1000, 1, channel_signals(1000, 1)[2])
    with SimBoard(rec, speed=0) as board:
        source = SerialSource(board.port, sensors=["myoware2", "bioamp"])
        with pytest.raises(MyotwitchError, match="2 sensors given for a board of 1 channel"):
            source.open()
        source.close()


def test_the_sensor_table_gives_each_sensor_its_published_gain():
    assert {n: s.gain for n, s in SENSORS.items()} == {"myoware2": 200.0, "oymotion": 1000.0, "bioamp": 2420.0}
    assert all(s.source for s in SENSORS.values())
    assert sensor_commands(["myoware2", "oymotion"]) == ["SENSOR 0 myoware2 200", "SENSOR 1 oymotion 1000"]
    assert settings_file_text(["bioamp"]) == "0 bioamp 2420\n"
    # A MyoWare 2.0 on the Pico's 12-bit 3.3 V ADC: about 4 µV a count (issue 19).
    assert uv_per_count(200.0) == pytest.approx(4.028, abs=1e-3)
    for name in SENSORS:
        assert len(f"SENSOR 7 {name} {SENSORS[name].gain:g}") <= 40  # the board's command line limit


def test_a_board_without_a_stored_sensor_is_warned_about():
    hello = P.encode_hello([("protocol", 2), ("rate_hz", 1000), ("adc_bits", 12), ("vref_mv", 3300),
                            ("gain", "200,200"), ("channels", 2), ("sensor", "myoware2,none"), ("frame_samples", 50),
                            ("format", 1)])
    (frame,) = P.FrameDecoder().feed(hello)
    assert isinstance(frame, P.HelloFrame)
    warning = unset_sensor_warning(frame.info.sensors, frame.info.channel_gains())
    assert warning is not None and "channel 1" in warning and "channel 0" not in warning
    # A v1 board says nothing of its sensor: warned too.
    assert unset_sensor_warning((), (1000.0,)) is not None
