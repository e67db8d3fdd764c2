"""The frame encoder, for the tests, the benchmarks and the golden vectors' checks.

The firmware has its own encoder in MicroPython (firmware/lib/mtw_frame.py); tests/test_protocol_golden.py
holds both to the same bytes.
"""

from __future__ import annotations

import struct

import numpy as np

from myotwitch.protocol.frames import (
    FLAG_FLAT,
    FLAG_SATURATED,
    FORMAT_PACKED12,
    FORMAT_U16,
    MAX_PAYLOAD_BYTES,
    SEQ_MODULUS,
    SYNC,
    TYPE_DATA,
    TYPE_HELLO,
    TYPE_STATUS,
    VERSION,
    crc16,
    crc32,
    sample_bytes,
)


def encode_frame(frame_type: int, payload: bytes, version: int = VERSION) -> bytes:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError("payload too long")
    body = bytes([version, frame_type]) + struct.pack("<H", len(payload)) + payload
    crc = struct.pack("<I", crc32(body)) if version == VERSION else struct.pack("<H", crc16(body))
    return SYNC + body + crc


def pack12(samples: np.ndarray) -> bytes:
    s = np.asarray(samples, dtype=np.uint16) & 0x0FFF
    n = len(s)
    if n & 1:
        s = np.append(s, np.uint16(0))
    a, b = s[0::2], s[1::2]
    out = np.empty((len(a), 3), dtype=np.uint8)
    out[:, 0] = a & 0xFF
    out[:, 1] = ((a >> 8) & 0x0F) | ((b & 0x0F) << 4)
    out[:, 2] = (b >> 4) & 0xFF
    return out.tobytes()[: sample_bytes(n, FORMAT_PACKED12)]


def encode_data(seq: int, t_us: int, flags: int, samples, sample_format: int = FORMAT_U16,
                version: int = VERSION, full_scale: int = 0x0FFF) -> bytes:
    """A data frame; `samples` is (count,) for one channel or (count, channels).

    In v2 the saturated and flat masks are computed from the samples as the firmware does (a value at 0 or
    `full_scale`; all of a channel's values equal), and the flags' saturated and flat bits follow them
    (any flags given for those bits are replaced). In v1 `flags` is sent as given.
    """
    samples = np.asarray(samples, dtype=np.uint16)
    count = len(samples)
    by_channel = samples.reshape(count, -1)
    channels = by_channel.shape[1]
    header = struct.pack("<IIBBH", seq % SEQ_MODULUS, t_us % SEQ_MODULUS, flags, sample_format, count)
    if version == VERSION:
        sat = flat = 0
        for c in range(channels):
            column = by_channel[:, c]
            sat |= int(bool(column.min() == 0 or column.max() >= full_scale)) << c
            flat |= int(bool(column.min() == column.max())) << c
        flags = (flags & ~(FLAG_SATURATED | FLAG_FLAT)) | (FLAG_SATURATED if sat else 0) | (FLAG_FLAT if flat else 0)
        header = struct.pack("<IIBBHBBBB", seq % SEQ_MODULUS, t_us % SEQ_MODULUS, flags, sample_format, count,
                             channels, sat, flat, 0)
    elif channels != 1:
        raise ValueError("protocol v1 carries one channel")
    values = by_channel.reshape(-1)
    raw = pack12(values) if sample_format == FORMAT_PACKED12 else values.astype("<u2").tobytes()
    return encode_frame(TYPE_DATA, header + raw, version)


def encode_hello(fields: list[tuple[str, object]], version: int | None = None) -> bytes:
    """A hello frame of key=value lines, in the frame version its `protocol` field names (else `VERSION`)."""
    if version is None:
        named = [v for k, v in fields if k == "protocol"]
        version = int(str(named[0])) if named and str(named[0]) in ("1", "2") else VERSION
    return encode_frame(TYPE_HELLO, "\n".join(f"{k}={v}" for k, v in fields).encode("ascii"), version)


def encode_status(code: int, text: str, version: int = VERSION) -> bytes:
    return encode_frame(TYPE_STATUS, bytes([code]) + text.encode("ascii"), version)
