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
"""

from __future__ import annotations

import binascii
import struct
from collections import deque
from dataclasses import dataclass

import numpy as np

SYNC = b"\xa5\x5a"
VERSION = 2  # what the firmware sends and the encoder below writes
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
_KNOWN_TYPES = (TYPE_DATA, TYPE_HELLO, TYPE_STATUS)
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
_RECENT_FRAMES = STALE_WINDOW_SAMPLES  # frames remembered to tell stale from restarted: covers the window
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


@dataclass
class DecoderStats:
    bytes_in: int = 0
    frames: int = 0  # data frames decoded
    samples: int = 0
    lost_samples: int = 0  # from sequence gaps
    crc_errors: int = 0
    skipped_bytes: int = 0  # garbage between frames, bytes of broken frames
    malformed_frames: int = 0  # good CRC, impossible content
    seq_resets: int = 0  # sequence went far backwards without a hello: taken as a restart
    stale_frames: int = 0  # duplicated, or overtaken by later frames: dropped (already delivered or counted lost)
    tail_lost_samples: int = 0  # of lost_samples: produced (the board's last STATS/END) but never received
    saturated_frames: int = 0
    overflow_frames: int = 0
    flat_frames: int = 0


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


def unpack12(raw: bytes, count: int) -> np.ndarray:
    """Packed 12-bit samples (two in three bytes, little-endian nibbles) to uint16."""
    b = np.frombuffer(raw, dtype=np.uint8).astype(np.uint16)
    out = np.empty(count + (count & 1), dtype=np.uint16)
    padded = np.zeros(len(out) // 2 * 3, dtype=np.uint16)
    padded[: len(b)] = b
    triples = padded.reshape(-1, 3)
    out[0::2] = triples[:, 0] | ((triples[:, 1] & 0x0F) << 8)
    out[1::2] = (triples[:, 1] >> 4) | (triples[:, 2] << 4)
    return out[:count]


class FrameDecoder:
    """Feed bytes, get frames. Pure: no IO, no clock, bounded memory."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.stats = DecoderStats()
        self.last_problem = ""  # why the latest malformed frame was dropped (one line)
        self._expected_seq: int | None = None
        self._stream_index = 0
        self._skipped_mark = 0  # stats.skipped_bytes and crc_errors at the previous data frame
        self._crc_mark = 0
        # Delivered frames of the current count, newest last: (seq, count, t_us, crc, lost_before).
        self._recent: deque[tuple[int, int, int, int, int]] = deque(maxlen=_RECENT_FRAMES)
        self._produced_seq: int | None = None  # samples produced, from the board's latest STATS or END

    @property
    def buffered_bytes(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        self.stats.bytes_in += len(data)
        self._buf += data
        return self._scan(final=False)

    def finish(self) -> list[Frame]:
        """End of input: decode what is buffered, then count the samples that never came.

        A frame whose claimed length runs past the end cannot complete: its first
        byte is skipped and the rest scanned again, so good frames behind a
        corrupted length are still found. Whatever is left is counted skipped.
        Then, if the board's latest STATS or END status (of the current count)
        says more samples were produced than arrived, the difference is counted
        lost (`tail_lost_samples`): every sample produced is received or lost.
        """
        frames = self._scan(final=True)
        self.stats.skipped_bytes += len(self._buf)
        self._buf.clear()
        if self._produced_seq is not None and self._expected_seq is not None:
            tail = (self._produced_seq - self._expected_seq) % SEQ_MODULUS
            if 0 < tail < SEQ_MODULUS // 2:
                self.stats.lost_samples += tail
                self.stats.tail_lost_samples += tail
                self._stream_index += tail
                self._expected_seq = self._produced_seq
        return frames

    @property
    def stream_index(self) -> int:
        """The host's index after the last sample delivered or counted lost."""
        return self._stream_index

    def _scan(self, final: bool) -> list[Frame]:
        frames: list[Frame] = []
        buf = self._buf
        pos = 0  # scan by offset and trim once: linear time even on a long run of false syncs
        while True:
            start = buf.find(SYNC, pos)
            if start < 0:
                # Keep a trailing first sync byte: the second may come next.
                keep = 1 if len(buf) > pos and buf[-1] == SYNC[0] else 0
                self.stats.skipped_bytes += len(buf) - keep - pos
                pos = len(buf) - keep
                break
            self.stats.skipped_bytes += start - pos
            pos = start
            if len(buf) - pos < HEADER_BYTES:
                break
            version, frame_type, length = buf[pos + 2], buf[pos + 3], struct.unpack_from("<H", buf, pos + 4)[0]
            if version not in VERSIONS or frame_type not in _KNOWN_TYPES or length > MAX_PAYLOAD_BYTES:
                self.stats.skipped_bytes += 1
                pos += 1
                continue
            end = pos + HEADER_BYTES + length
            n_crc = crc_bytes(version)
            if len(buf) < end + n_crc:
                if final:  # nothing more will come: this frame cannot be whole
                    self.stats.skipped_bytes += 1
                    pos += 1
                    continue
                break
            if version == VERSION:
                (crc_wire,) = struct.unpack_from("<I", buf, end)
                crc_ok = crc32(bytes(buf[pos + 2 : end])) == crc_wire
            else:
                (crc_wire,) = struct.unpack_from("<H", buf, end)
                crc_ok = crc16(bytes(buf[pos + 2 : end])) == crc_wire
            if not crc_ok:
                # The length may be the corrupted byte: look for sync again
                # one byte on, not past the claimed frame.
                self.stats.crc_errors += 1
                self.stats.skipped_bytes += 1
                pos += 1
                continue
            payload = bytes(buf[pos + HEADER_BYTES : end])
            pos = end + n_crc
            frame = self._parse(version, frame_type, payload, crc_wire)
            if frame is not None:
                frames.append(frame)
        del buf[:pos]
        return frames

    def _parse(self, version: int, frame_type: int, payload: bytes, crc: int) -> Frame | None:
        try:
            if frame_type == TYPE_DATA:
                return self._parse_data(version, payload, crc)
            if frame_type == TYPE_HELLO:
                # A hello mid-stream means the board (re)started: sequence starts again.
                self._new_count()
                return HelloFrame(parse_hello(payload, version))
            if len(payload) < 1:
                raise ProtocolError("empty status frame")
            status = StatusFrame(payload[0], payload[1:].decode("ascii", errors="replace"))
            if status.code == STATUS_OK and status.text == "START":
                # The board answers START before its first sample: the new count begins at seq 0,
                # so a first frame lost on the way is counted too.
                self._new_count()
                self._expected_seq = 0
            if status.code == STATUS_END or (status.code == STATUS_OK and status.text.startswith("STATS ")):
                produced = status.counters().get("samples")
                if produced is not None:
                    self._produced_seq = produced % SEQ_MODULUS
            return status
        except ProtocolError as exc:
            self.stats.malformed_frames += 1
            self.last_problem = str(exc)
            return None

    def _new_count(self) -> None:
        """The board's counter starts again (a hello, START): nothing of the previous count applies."""
        self._expected_seq = None
        self._produced_seq = None
        self._recent.clear()

    def _is_stale(self, seq: int, t_us: int, crc: int) -> bool:
        """A frame behind the expected seq (within the window): already seen, or overtaken?

        A duplicate is byte for byte a frame delivered before (same seq and CRC).
        A late frame lies in a gap already counted lost (or in the window before
        the first frame of a count joined mid-way), and its device time lies
        between those of the frames around that gap. Anything else behind is a
        counter that started again without a hello (its hello lost): a restart.
        """
        m = SEQ_MODULUS
        previous_t: int | None = None
        for r_seq, _count, r_t, r_crc, r_lost in self._recent:
            if r_seq == seq and r_crc == crc:
                return True
            if r_lost and (seq - (r_seq - r_lost)) % m < r_lost:
                after_previous = previous_t is None or 0 < (t_us - previous_t) % m < m // 2
                if after_previous and 0 < (r_t - t_us) % m < m // 2:
                    return True
            previous_t = r_t
        return False

    def _parse_data(self, version: int, payload: bytes, crc: int) -> DataFrame | None:
        header_bytes = DATA_HEADER_BYTES if version == VERSION else DATA_HEADER_BYTES_1
        if len(payload) < header_bytes:
            raise ProtocolError("short data frame")
        seq, t_us, flags, sample_format, count = struct.unpack_from("<IIBBH", payload, 0)
        channels, saturated_mask, flat_mask = 1, flags & FLAG_SATURATED, (flags & FLAG_FLAT) >> 2
        if version == VERSION:
            channels, saturated_mask, flat_mask, reserved = payload[12], payload[13], payload[14], payload[15]
            if not 1 <= channels <= MAX_CHANNELS:
                raise ProtocolError(f"{channels} channels out of range (1 to {MAX_CHANNELS})")
            if reserved or saturated_mask >> channels or flat_mask >> channels:
                raise ProtocolError("data frame's channel masks name channels it does not have")
            if bool(saturated_mask) != bool(flags & FLAG_SATURATED) or bool(flat_mask) != bool(flags & FLAG_FLAT):
                raise ProtocolError("data frame's flags disagree with its channel masks")
        if sample_format not in (FORMAT_U16, FORMAT_PACKED12):
            raise ProtocolError(f"unknown sample format {sample_format}")
        most = max_frame_samples(sample_format, channels, version)
        if not 1 <= count <= most:
            raise ProtocolError(f"sample count {count} out of range (1 to {most} for {channels} channels)")
        raw = payload[header_bytes:]
        values = count * channels
        if len(raw) != sample_bytes(values, sample_format):
            raise ProtocolError("sample count does not match frame length")
        if sample_format == FORMAT_PACKED12:
            samples = unpack12(raw, values)
        else:
            samples = np.frombuffer(raw, dtype="<u2").astype(np.uint16)
        if channels > 1:
            samples = samples.reshape(count, channels)

        lost = 0
        # Before the first frame of a count joined mid-way, any frame of the window may have been
        # missed: recorded as a gap of the window's size, so one overtaken there is dropped as late.
        unknown_before = self._expected_seq is None
        if self._expected_seq is not None:
            behind = (self._expected_seq - seq) % SEQ_MODULUS
            if 0 < behind <= STALE_WINDOW_SAMPLES and self._is_stale(seq, t_us, crc):
                # Its samples were delivered already (a duplicate) or counted lost
                # when a later frame came first (reordered): never twice.
                self.stats.stale_frames += 1
                return None
            gap = (seq - self._expected_seq) % SEQ_MODULUS
            if gap < SEQ_MODULUS // 2:
                lost = gap
            else:
                # Far back, or near but neither a duplicate nor late: the counter started again.
                self.stats.seq_resets += 1
                self._new_count()
                unknown_before = True
        self._stream_index += lost
        self.stats.lost_samples += lost
        frame = DataFrame(seq, t_us, flags, samples, self._stream_index, lost,
                          self.stats.skipped_bytes - self._skipped_mark, self.stats.crc_errors - self._crc_mark,
                          channels, saturated_mask, flat_mask)
        self._skipped_mark, self._crc_mark = self.stats.skipped_bytes, self.stats.crc_errors
        self._stream_index += count
        self._expected_seq = (seq + count) % SEQ_MODULUS
        self._recent.append((seq, count, t_us, crc, STALE_WINDOW_SAMPLES if unknown_before else lost))
        self.stats.frames += 1
        self.stats.samples += count
        self.stats.saturated_frames += bool(flags & FLAG_SATURATED)
        self.stats.overflow_frames += bool(flags & FLAG_OVERFLOW)
        self.stats.flat_frames += bool(flags & FLAG_FLAT)
        return frame

    def restart_sequence(self) -> None:
        """The host restarted the stream (START): the next frame's seq starts a new count,
        and what was skipped before it (the port's opening, a boot log) is not the stream's."""
        self._new_count()
        self._skipped_mark, self._crc_mark = self.stats.skipped_bytes, self.stats.crc_errors


# -- encoder (the simulator and tests; the firmware has its own in MicroPython) --


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
