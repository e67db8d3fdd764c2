"""What a frame is: the wire layout's constants, the CRCs, the frame classes and the hello's fields.

Specified in docs/protocol.md; `myotwitch.protocol.decoder` reads frames, `myotwitch.protocol.encoder` writes
them (for tests and benchmarks; the firmware has its own encoder in MicroPython).
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass

import numpy as np

SYNC = b"\xa5\x5a"
VERSION = 2  # what the firmware sends and the encoder writes
VERSION_1 = 1
VERSIONS = (VERSION_1, VERSION)
TYPE_DATA = 0x44  # 'D'
TYPE_HELLO = 0x48  # 'H'
TYPE_STATUS = 0x53  # 'S'
HEADER_BYTES = 6
CRC_BYTES = 4  # v2: CRC-32
CRC_BYTES_1 = 2  # v1: CRC-16
MAX_PAYLOAD_BYTES = 1024
MAX_FRAME_BYTES = HEADER_BYTES + MAX_PAYLOAD_BYTES + CRC_BYTES
DATA_HEADER_BYTES = 16  # v2: seq, t_us, flags, format, count, channels, saturated mask, flat mask, 0
DATA_HEADER_BYTES_1 = 12  # v1: seq, t_us, flags, format, count
MAX_CHANNELS = 8  # the masks are one byte
FORMAT_U16 = 0
FORMAT_PACKED12 = 1
FLAG_SATURATED = 0x01  # a sample of the frame at 0 or full scale
FLAG_OVERFLOW = 0x02  # samples lost on the board before the frame
FLAG_FLAT = 0x04  # every sample of the frame equal: an electrode off?
STATUS_OK = 0
STATUS_ERROR = 1
STATUS_END = 2
SEQ_MODULUS = 1 << 32
_HELLO_MAX_FIELDS = 32
# A data frame at most this many samples behind the expected sequence number
# is a duplicate or arrived late: dropped. Further back, the board restarted.
STALE_WINDOW_SAMPLES = 2048
# The most values one data frame carries: 512 packed 12-bit values (768 bytes). In uint16, the
# 1024-byte payload limit allows 506 ((1024 - 12) // 2) in v1, 504 in v2. A v2 frame's values are
# its count of sample sets times its channels. A larger count is malformed.
MAX_FRAME_SAMPLES = 512
MAX_FRAME_SAMPLES_U16 = (MAX_PAYLOAD_BYTES - DATA_HEADER_BYTES) // 2
MAX_FRAME_SAMPLES_U16_1 = (MAX_PAYLOAD_BYTES - DATA_HEADER_BYTES_1) // 2
_INT_HELLO_KEYS = ("rate_hz", "adc_bits", "vref_mv", "frame_samples", "format", "protocol")


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xor-out): v1."""
    return binascii.crc_hqx(data, 0xFFFF)


def crc32(data: bytes) -> int:
    """CRC-32/ISO-HDLC (zlib's; check value of "123456789" 0xCBF43926): v2."""
    return binascii.crc32(data)


def crc_bytes(version: int) -> int:
    return CRC_BYTES if version == VERSION else CRC_BYTES_1


def sample_bytes(count: int, sample_format: int) -> int:
    if sample_format == FORMAT_PACKED12:
        return (count * 3 + 1) // 2
    return count * 2


def max_frame_samples(sample_format: int, channels: int = 1, version: int = VERSION) -> int:
    """The largest `count` (sample sets) a data frame may have: 512 packed 12-bit values, 504 uint16 (506 in v1),
    divided among its channels."""
    if sample_format == FORMAT_PACKED12:
        return MAX_FRAME_SAMPLES // channels
    return (MAX_FRAME_SAMPLES_U16 if version == VERSION else MAX_FRAME_SAMPLES_U16_1) // channels


@dataclass(frozen=True)
class DataFrame:
    seq: int  # index of the first sample since START, modulo 2**32
    t_us: int  # device time of the first sample, µs, modulo 2**32
    flags: int
    samples: np.ndarray  # ADC counts, uint16: shape (count,) for one channel, (count, channels) for several
    stream_index: int  # host's index of the first sample (set): counts received and lost samples
    lost_before: int  # samples (sets) missing between the previous frame and this one
    skipped_before: int = 0  # bytes of noise the decoder skipped since the previous data frame
    crc_errors_before: int = 0  # frames that failed their CRC since the previous data frame
    channels: int = 1
    saturated_mask: int = 0  # v2: bit c set when channel c has a value at 0 or full scale (v1: bit 0 from flags)
    flat_mask: int = 0  # v2: bit c set when all of channel c's values are equal

    @property
    def count(self) -> int:
        """Sample sets in the frame (one value per channel each)."""
        return len(self.samples)


@dataclass(frozen=True)
class BoardInfo:
    """What the board said in its hello frame."""

    board: str
    firmware: str
    rate_hz: int
    adc_bits: int
    vref_mv: int
    gain: float  # channel 0's
    frame_samples: int
    sample_format: int
    fields: dict[str, str]
    protocol: int = VERSION_1
    channels: int = 1
    gains: tuple[float, ...] = ()  # one per channel (v1: the one gain)
    pins: tuple[str, ...] = ()  # the board's input for each channel, as it names them (GP26, 34), if it says
    sensors: tuple[str, ...] = ()  # the sensor stored on the board per channel; "none": not set, the gain is a default
    skew_ns: int = 0  # channel c's value of a set is converted c * skew_ns after channel 0's (0: together)

    @property
    def sensor_unset(self) -> bool:
        """True when the board does not say which sensor a channel has: its gain, hence µV, is a guess."""
        return not self.sensors or "none" in self.sensors

    def channel_gains(self) -> tuple[float, ...]:
        return self.gains or (self.gain,)

    def counts_to_uv(self, counts: np.ndarray) -> np.ndarray:
        """ADC counts to µV at the electrodes: mid-scale is zero, divided by the sensor gain.

        `counts` is (n,) for one channel or (n, channels): each column by its channel's gain.
        """
        gains = np.asarray(self.channel_gains(), dtype=np.float64) if counts.ndim == 2 else self.gain
        uv_per_count = self.vref_mv * 1000.0 / (1 << self.adc_bits) / gains
        return (counts.astype(np.float64) - (1 << (self.adc_bits - 1))) * uv_per_count


@dataclass(frozen=True)
class HelloFrame:
    info: BoardInfo


@dataclass(frozen=True)
class StatusFrame:
    code: int
    text: str

    def counters(self) -> dict[str, int]:
        """The key=value integers of an END status (frames=.. samples=.. lost=..)."""
        out = {}
        for word in self.text.split():
            key, sep, value = word.partition("=")
            if sep and value.isdigit():
                out[key] = int(value)
        return out


Frame = DataFrame | HelloFrame | StatusFrame


class ProtocolError(ValueError):
    pass


def _per_channel(fields: dict[str, str], key: str, channels: int) -> tuple[str, ...]:
    """A comma-separated per-channel field: empty if absent, else exactly one value per channel."""
    if key not in fields:
        return ()
    values = tuple(v.strip() for v in fields[key].split(","))
    if len(values) != channels:
        raise ProtocolError(f"hello frame's {key} has {len(values)} values for {channels} channels")
    return values


def parse_hello(payload: bytes, version: int = VERSION_1) -> BoardInfo:
    try:
        text = payload.decode("ascii")
    except UnicodeDecodeError as exc:
        raise ProtocolError("hello frame is not ASCII") from exc
    fields: dict[str, str] = {}
    for line in text.split("\n")[:_HELLO_MAX_FIELDS]:
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    try:
        ints = {k: int(fields[k]) for k in _INT_HELLO_KEYS}
        channels = int(fields.get("channels", "1"))
        skew_ns = int(fields.get("skew_ns", "0"))
        gains = tuple(float(g) for g in fields["gain"].split(","))
    except (KeyError, ValueError) as exc:
        raise ProtocolError(f"hello frame lacks a valid field: {exc}") from exc
    if ints["protocol"] != version:
        raise ProtocolError(f"the board speaks protocol version {ints['protocol']} in a version {version} frame; "
                            f"this host reads versions {', '.join(map(str, VERSIONS))}")
    if not 1 <= channels <= (MAX_CHANNELS if version == VERSION else 1):
        raise ProtocolError(f"hello frame has {channels} channels (protocol {version}: 1 to "
                            f"{MAX_CHANNELS if version == VERSION else 1})")
    if len(gains) != channels:
        raise ProtocolError(f"hello frame's gain has {len(gains)} values for {channels} channels")
    if not (1 <= ints["adc_bits"] <= 16 and ints["rate_hz"] > 0 and min(gains) > 0 and ints["vref_mv"] > 0
            and ints["format"] in (FORMAT_U16, FORMAT_PACKED12) and skew_ns >= 0
            and 1 <= ints["frame_samples"] <= max_frame_samples(ints["format"], channels, version)):
        raise ProtocolError("hello frame has an impossible value")
    gain = gains[0]
    return BoardInfo(
        board=fields.get("board", "?"),
        firmware=fields.get("fw", "?"),
        rate_hz=ints["rate_hz"],
        adc_bits=ints["adc_bits"],
        vref_mv=ints["vref_mv"],
        gain=gain,
        frame_samples=ints["frame_samples"],
        sample_format=ints["format"],
        fields=fields,
        protocol=version,
        channels=channels,
        gains=gains,
        pins=_per_channel(fields, "pins", channels),
        sensors=_per_channel(fields, "sensor", channels),
        skew_ns=skew_ns,
    )

