"""Golden vectors: the firmware's encoder (under micropython) and the host agree byte for byte."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ROOT, UPY_TESTS, run_micropython
from myotwitch import protocol as P

GOLDEN = json.loads((ROOT / "tests" / "golden" / "protocol_v1.json").read_text())["vectors"]


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


def _decoded(frame) -> dict:
    if isinstance(frame, P.DataFrame):
        assert frame.samples.dtype == np.uint16
        return {"type": "data", "seq": frame.seq, "t_us": frame.t_us, "flags": frame.flags,
                "samples": frame.samples.tolist()}
    if isinstance(frame, P.HelloFrame):
        i = frame.info
        return {"type": "hello", "board": i.board, "firmware": i.firmware, "rate_hz": i.rate_hz,
                "adc_bits": i.adc_bits, "vref_mv": i.vref_mv, "gain": i.gain,
                "frame_samples": i.frame_samples, "sample_format": i.sample_format}
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
    encoded = P.encode_data(d["seq"], d["t_us"], d["flags"], d["samples"], d["format"])
    assert encoded.hex() == GOLDEN[name]["hex"]


def test_host_status_and_hello_encoders_match_firmware():
    assert P.encode_status(0, "START").hex() == GOLDEN["status_ok"]["hex"]
    fields = [("board", "sim"), ("fw", "myotwitch-fw 0.1.0"), ("protocol", 1), ("upy", "1.29.0"), ("rate_hz", 1000),
              ("adc_bits", 12), ("vref_mv", 3300), ("gain", 1000), ("frame_samples", 50), ("format", 1),
              ("uid", "0073696d0001")]
    assert P.encode_hello(fields).hex() == GOLDEN["hello"]["hex"]
