"""Golden vectors: the firmware's encoder (under micropython) and the host agree byte for byte."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ROOT, UPY_TESTS, run_micropython
from myotwitch import protocol as P

GOLDEN = json.loads((ROOT / "tests" / "golden" / "protocol_v1.json").read_text())["vectors"]
GOLDEN_V2 = json.loads((ROOT / "tests" / "golden" / "protocol_v2.json").read_text())["vectors"]


@pytest.fixture(scope="module")
def firmware_vectors():
    result = run_micropython(UPY_TESTS / "golden_vectors.py")
    assert result.returncode == 0, result.stderr
    return dict(line.split() for line in result.stdout.splitlines())


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_firmware_encoder_produces_golden_bytes(firmware_vectors, name):
    assert firmware_vectors[name] == GOLDEN[name]["hex"]


def test_the_32_bit_port_encodes_the_same_bytes():
    # The boards' 31-bit integers: seq and time go out as 16-bit halves there; the wire bytes must not change.
    from test_firmware_upy import run_upy

    result = run_upy(UPY_TESTS / "golden_vectors.py", 32)
    assert result.returncode == 0, result.stderr
    vectors = dict(line.split() for line in result.stdout.splitlines())
    assert vectors == {name: v["hex"] for name, v in GOLDEN.items()}


def _decoded(frame, v2: bool = False) -> dict:
    if isinstance(frame, P.DataFrame):
        assert frame.samples.dtype == np.uint16
        out = {"type": "data", "seq": frame.seq, "t_us": frame.t_us, "flags": frame.flags,
               "samples": frame.samples.tolist()}
        if v2:
            out.update(channels=frame.channels, saturated_mask=frame.saturated_mask, flat_mask=frame.flat_mask)
        return out
    if isinstance(frame, P.HelloFrame):
        i = frame.info
        out = {"type": "hello", "board": i.board, "firmware": i.firmware, "rate_hz": i.rate_hz,
               "adc_bits": i.adc_bits, "vref_mv": i.vref_mv, "gain": i.gain,
               "frame_samples": i.frame_samples, "sample_format": i.sample_format}
        if v2:
            out.update(channels=i.channels, gains=list(i.gains), pins=list(i.pins), sensors=list(i.sensors),
                       skew_ns=i.skew_ns)
        return out
    return {"type": "status", "code": frame.code, "text": frame.text}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_host_decodes_golden_bytes(name):
    decoder = P.FrameDecoder()
    frames = decoder.feed(bytes.fromhex(GOLDEN[name]["hex"]))
    assert len(frames) == 1
    expected = dict(GOLDEN[name]["decoded"])
    expected.pop("format", None)  # the wire format is how samples travel, not what they are
    assert _decoded(frames[0]) == expected
    assert decoder.stats.crc_errors == 0 and decoder.stats.skipped_bytes == 0


@pytest.mark.parametrize("name", [n for n in sorted(GOLDEN) if GOLDEN[n]["decoded"]["type"] == "data"])
def test_host_encoder_matches_firmware(name):
    d = GOLDEN[name]["decoded"]
    encoded = P.encode_data(d["seq"], d["t_us"], d["flags"], d["samples"], d["format"], version=P.VERSION_1)
    assert encoded.hex() == GOLDEN[name]["hex"]


def test_host_status_and_hello_encoders_match_firmware():
    assert P.encode_status(0, "START", version=P.VERSION_1).hex() == GOLDEN["status_ok"]["hex"]
    fields = [("board", "sim"), ("fw", "myotwitch-fw 0.1.0"), ("protocol", 1), ("upy", "1.29.0"), ("rate_hz", 1000),
              ("adc_bits", 12), ("vref_mv", 3300), ("gain", 1000), ("frame_samples", 50), ("format", 1),
              ("uid", "0073696d0001")]
    assert P.encode_hello(fields).hex() == GOLDEN["hello"]["hex"]


# -- protocol v2 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [64, 32])
def test_firmware_encoder_produces_the_v2_golden_bytes_on_both_widths(bits):
    from test_firmware_upy import run_upy

    result = run_upy(UPY_TESTS / "golden_vectors_v2.py", bits)
    assert result.returncode == 0, result.stderr
    vectors = dict(line.split() for line in result.stdout.splitlines())
    assert vectors == {name: v["hex"] for name, v in GOLDEN_V2.items()}


@pytest.mark.parametrize("name", sorted(GOLDEN_V2))
def test_host_decodes_the_v2_golden_bytes(name):
    decoder = P.FrameDecoder()
    frames = decoder.feed(bytes.fromhex(GOLDEN_V2[name]["hex"]))
    assert len(frames) == 1, decoder.last_problem
    expected = dict(GOLDEN_V2[name]["decoded"])
    expected.pop("format", None)
    assert _decoded(frames[0], v2=True) == expected
    assert decoder.stats.crc_errors == 0 and decoder.stats.skipped_bytes == 0


@pytest.mark.parametrize("name", [n for n in sorted(GOLDEN_V2) if GOLDEN_V2[n]["decoded"]["type"] == "data"])
def test_host_v2_encoder_matches_firmware(name):
    d = GOLDEN_V2[name]["decoded"]
    # The caller's flags only carry the overflow bit; saturated and flat come from the samples, as on the board.
    encoded = P.encode_data(d["seq"], d["t_us"], d["flags"] & P.FLAG_OVERFLOW, d["samples"], d["format"])
    assert encoded.hex() == GOLDEN_V2[name]["hex"]


def test_one_channel_v2_carries_the_same_samples_as_v1():
    v1 = P.FrameDecoder().feed(bytes.fromhex(GOLDEN["data_u16"]["hex"]))[0]
    v2 = P.FrameDecoder().feed(bytes.fromhex(GOLDEN_V2["data_1ch_packed12"]["hex"]))[0]
    assert isinstance(v1, P.DataFrame) and isinstance(v2, P.DataFrame)
    assert (v1.seq, v1.t_us, v1.flags, v1.samples.tolist(), v1.samples.shape) == (
        v2.seq, v2.t_us, v2.flags, v2.samples.tolist(), v2.samples.shape)
