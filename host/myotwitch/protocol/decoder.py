"""The sans-IO frame decoder: `FrameDecoder.feed(bytes) -> frames`, and the counts it keeps.

It never blocks, never reads a port, and keeps at most one maximal frame of unparsed bytes: garbage,
broken frames and text (a traceback on the board's console) are skipped and counted, and decoding
resynchronises on the next sync bytes whose frame passes its CRC. Sample sequence numbers are tracked
here, so that every sample the board produced is either in a frame or counted in
`DecoderStats.lost_samples`.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

import numpy as np

from myotwitch.protocol.frames import (
    DATA_HEADER_BYTES,
    DATA_HEADER_BYTES_1,
    FLAG_FLAT,
    FLAG_OVERFLOW,
    FLAG_SATURATED,
    FORMAT_PACKED12,
    FORMAT_U16,
    HEADER_BYTES,
    MAX_CHANNELS,
    MAX_PAYLOAD_BYTES,
    SEQ_MODULUS,
    STALE_WINDOW_SAMPLES,
    STATUS_END,
    STATUS_OK,
    SYNC,
    TYPE_DATA,
    TYPE_HELLO,
    TYPE_STATUS,
    VERSION,
    VERSIONS,
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

_KNOWN_TYPES = (TYPE_DATA, TYPE_HELLO, TYPE_STATUS)
_RECENT_FRAMES = STALE_WINDOW_SAMPLES  # frames remembered to tell stale from restarted: covers the window


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
