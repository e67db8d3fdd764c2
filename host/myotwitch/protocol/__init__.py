"""Wire protocol v2 (and v1): a sans-IO frame decoder, and an encoder for tests.

The decoder is fed bytes as they arrive (``FrameDecoder.feed``) and returns
the frames it completed. It never blocks, never reads a port, and keeps at
most one maximal frame of unparsed bytes: garbage, broken frames and text
(a traceback on the board's console) are skipped and counted, and decoding
resynchronises on the next sync bytes whose frame passes its CRC.

Sample sequence numbers are tracked here, so that every sample the board
produced is either in a frame or counted in ``DecoderStats.lost_samples``.
The layout is specified in docs/protocol.md. Version 2 carries 1 to 8
channels per data frame (interleaved sample sets, a saturated and a flat
mask) under a CRC-32; version 1 (one channel, CRC-16) still decodes, frame by
frame. A one-channel v2 stream decodes to exactly what v1 gives.

One stage per module; every name is importable from ``myotwitch.protocol``:
  frames.py   the layout's constants, the CRCs, the frame classes, the hello's fields
  decoder.py  FrameDecoder and DecoderStats: bytes in, frames out
  encoder.py  encode_data, encode_hello, encode_status: frames out, for tests and benchmarks
"""

from myotwitch.protocol.decoder import DecoderStats, FrameDecoder, unpack12
from myotwitch.protocol.encoder import encode_data, encode_frame, encode_hello, encode_status, pack12
from myotwitch.protocol.frames import (
    CRC_BYTES,
    CRC_BYTES_1,
    DATA_HEADER_BYTES,
    DATA_HEADER_BYTES_1,
    FLAG_FLAT,
    FLAG_OVERFLOW,
    FLAG_SATURATED,
    FORMAT_PACKED12,
    FORMAT_U16,
    HEADER_BYTES,
    MAX_CHANNELS,
    MAX_FRAME_BYTES,
    MAX_FRAME_SAMPLES,
    MAX_FRAME_SAMPLES_U16,
    MAX_FRAME_SAMPLES_U16_1,
    MAX_PAYLOAD_BYTES,
    SEQ_MODULUS,
    STALE_WINDOW_SAMPLES,
    STATUS_END,
    STATUS_ERROR,
    STATUS_OK,
    SYNC,
    TYPE_DATA,
    TYPE_HELLO,
    TYPE_STATUS,
    VERSION,
    VERSION_1,
    VERSIONS,
    BoardInfo,
    DataFrame,
    Frame,
    HelloFrame,
    ProtocolError,
    StatusFrame,
    crc16,
    crc32,
    crc_bytes,
    max_frame_samples,
    parse_hello,
    sample_bytes,
)

__all__ = [
    "CRC_BYTES", "CRC_BYTES_1", "DATA_HEADER_BYTES", "DATA_HEADER_BYTES_1", "FLAG_FLAT", "FLAG_OVERFLOW",
    "FLAG_SATURATED", "FORMAT_PACKED12", "FORMAT_U16", "HEADER_BYTES", "MAX_CHANNELS", "MAX_FRAME_BYTES",
    "MAX_FRAME_SAMPLES", "MAX_FRAME_SAMPLES_U16", "MAX_FRAME_SAMPLES_U16_1", "MAX_PAYLOAD_BYTES", "SEQ_MODULUS",
    "STALE_WINDOW_SAMPLES", "STATUS_END", "STATUS_ERROR", "STATUS_OK", "SYNC", "TYPE_DATA", "TYPE_HELLO",
    "TYPE_STATUS", "VERSION", "VERSIONS", "VERSION_1",
    "BoardInfo", "DataFrame", "DecoderStats", "Frame", "FrameDecoder", "HelloFrame", "ProtocolError", "StatusFrame",
    "crc16", "crc32", "crc_bytes", "encode_data", "encode_frame", "encode_hello", "encode_status",
    "max_frame_samples", "pack12", "parse_hello", "sample_bytes", "unpack12",
]
