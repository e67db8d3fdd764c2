"""Wire protocol v1: a sans-IO frame decoder, and an encoder for tests.

The decoder is fed bytes as they arrive (``FrameDecoder.feed``) and returns
the frames it completed. It never blocks, never reads a port, and keeps at
most one maximal frame of unparsed bytes: garbage, broken frames and text
(a traceback on the board's console) are skipped and counted, and decoding
resynchronises on the next sync bytes whose frame passes its CRC.

Sample sequence numbers are tracked here, so that every sample the board
produced is either in a frame or counted in ``DecoderStats.lost_samples``.
The layout is specified in docs/protocol.md.
"""

from __future__ import annotations

import binascii
import struct
from collections import deque
from dataclasses import dataclass

import numpy as np

SYNC = b"\xa5\x5a"
VERSION = 1
TYPE_DATA = 0x44  # 'D'
TYPE_HELLO = 0x48  # 'H'
TYPE_STATUS = 0x53  # 'S'
HEADER_BYTES = 6
CRC_BYTES = 2
MAX_PAYLOAD_BYTES = 1024
MAX_FRAME_BYTES = HEADER_BYTES + MAX_PAYLOAD_BYTES + CRC_BYTES
DATA_HEADER_BYTES = 12
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
# The most samples one data frame carries: 512 packed 12-bit samples (768 bytes). In uint16, the
# 1024-byte payload limit allows 506 ((1024 - 12) // 2). A larger count is malformed.
MAX_FRAME_SAMPLES = 512
MAX_FRAME_SAMPLES_U16 = (MAX_PAYLOAD_BYTES - DATA_HEADER_BYTES) // 2
_RECENT_FRAMES = STALE_WINDOW_SAMPLES  # frames remembered to tell stale from restarted: covers the window
_INT_HELLO_KEYS = ("rate_hz", "adc_bits", "vref_mv", "frame_samples", "format", "protocol")


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xor-out)."""
    return binascii.crc_hqx(data, 0xFFFF)


def sample_bytes(count: int, sample_format: int) -> int:
    if sample_format == FORMAT_PACKED12:
        return (count * 3 + 1) // 2
    return count * 2


def max_frame_samples(sample_format: int) -> int:
    """The largest `count` a data frame of that format may have (512 packed 12-bit, 506 uint16)."""
    return MAX_FRAME_SAMPLES if sample_format == FORMAT_PACKED12 else MAX_FRAME_SAMPLES_U16


@dataclass(frozen=True)
class DataFrame:
    seq: int  # index of the first sample since START, modulo 2**32
    t_us: int  # device time of the first sample, µs, modulo 2**32
    flags: int
    samples: np.ndarray  # ADC counts, uint16
    stream_index: int  # host's index of the first sample: counts received and lost samples
    lost_before: int  # samples missing between the previous frame and this one
    skipped_before: int = 0  # bytes of noise the decoder skipped since the previous data frame
    crc_errors_before: int = 0  # frames that failed their CRC since the previous data frame


@dataclass(frozen=True)
class BoardInfo:
    """What the board said in its hello frame."""

    board: str
    firmware: str
    rate_hz: int
    adc_bits: int
    vref_mv: int
    gain: float
    frame_samples: int
    sample_format: int
    fields: dict[str, str]

    def counts_to_uv(self, counts: np.ndarray) -> np.ndarray:
        """ADC counts to µV at the electrodes: mid-scale is zero, divided by the sensor gain."""
        uv_per_count = self.vref_mv * 1000.0 / (1 << self.adc_bits) / self.gain
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


def parse_hello(payload: bytes) -> BoardInfo:
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
        gain = float(fields["gain"])
    except (KeyError, ValueError) as exc:
        raise ProtocolError(f"hello frame lacks a valid field: {exc}") from exc
    if ints["protocol"] != VERSION:
        raise ProtocolError(f"the board speaks protocol version {ints['protocol']}; this host reads version {VERSION}")
    if not (1 <= ints["adc_bits"] <= 16 and ints["rate_hz"] > 0 and gain > 0 and ints["vref_mv"] > 0
            and ints["format"] in (FORMAT_U16, FORMAT_PACKED12)
            and 1 <= ints["frame_samples"] <= max_frame_samples(ints["format"])):
        raise ProtocolError("hello frame has an impossible value")
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
            if version != VERSION or frame_type not in _KNOWN_TYPES or length > MAX_PAYLOAD_BYTES:
                self.stats.skipped_bytes += 1
                pos += 1
                continue
            end = pos + HEADER_BYTES + length
            if len(buf) < end + CRC_BYTES:
                if final:  # nothing more will come: this frame cannot be whole
                    self.stats.skipped_bytes += 1
                    pos += 1
                    continue
                break
            (crc_wire,) = struct.unpack_from("<H", buf, end)
            if crc16(bytes(buf[pos + 2 : end])) != crc_wire:
                # The length may be the corrupted byte: look for sync again
                # one byte on, not past the claimed frame.
                self.stats.crc_errors += 1
                self.stats.skipped_bytes += 1
                pos += 1
                continue
            payload = bytes(buf[pos + HEADER_BYTES : end])
            pos = end + CRC_BYTES
            frame = self._parse(frame_type, payload, crc_wire)
            if frame is not None:
                frames.append(frame)
        del buf[:pos]
        return frames

    def _parse(self, frame_type: int, payload: bytes, crc: int) -> Frame | None:
        try:
            if frame_type == TYPE_DATA:
                return self._parse_data(payload, crc)
            if frame_type == TYPE_HELLO:
                # A hello mid-stream means the board (re)started: sequence starts again.
                self._new_count()
                return HelloFrame(parse_hello(payload))
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

    def _parse_data(self, payload: bytes, crc: int) -> DataFrame | None:
        if len(payload) < DATA_HEADER_BYTES:
            raise ProtocolError("short data frame")
        seq, t_us, flags, sample_format, count = struct.unpack_from("<IIBBH", payload, 0)
        if sample_format not in (FORMAT_U16, FORMAT_PACKED12):
            raise ProtocolError(f"unknown sample format {sample_format}")
        if not 1 <= count <= max_frame_samples(sample_format):
            raise ProtocolError(f"sample count {count} out of range (1 to {max_frame_samples(sample_format)})")
        raw = payload[DATA_HEADER_BYTES:]
        if len(raw) != sample_bytes(count, sample_format):
            raise ProtocolError("sample count does not match frame length")
        if sample_format == FORMAT_PACKED12:
            samples = unpack12(raw, count)
        else:
            samples = np.frombuffer(raw, dtype="<u2").astype(np.uint16)

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
                          self.stats.skipped_bytes - self._skipped_mark, self.stats.crc_errors - self._crc_mark)
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


def encode_frame(frame_type: int, payload: bytes) -> bytes:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError("payload too long")
    body = bytes([VERSION, frame_type]) + struct.pack("<H", len(payload)) + payload
    return SYNC + body + struct.pack("<H", crc16(body))


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


def encode_data(seq: int, t_us: int, flags: int, samples, sample_format: int = FORMAT_U16) -> bytes:
    samples = np.asarray(samples, dtype=np.uint16)
    header = struct.pack("<IIBBH", seq % SEQ_MODULUS, t_us % SEQ_MODULUS, flags, sample_format, len(samples))
    raw = pack12(samples) if sample_format == FORMAT_PACKED12 else samples.astype("<u2").tobytes()
    return encode_frame(TYPE_DATA, header + raw)


def encode_hello(fields: list[tuple[str, object]]) -> bytes:
    return encode_frame(TYPE_HELLO, "\n".join(f"{k}={v}" for k, v in fields).encode("ascii"))


def encode_status(code: int, text: str) -> bytes:
    return encode_frame(TYPE_STATUS, bytes([code]) + text.encode("ascii"))
