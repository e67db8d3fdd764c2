"""Raw captures: the bytes a board sent, saved by `--capture`, and their replay on the live timeline.

A capture file (`.mtwcap`) starts with the line `MTWCAP2`, then holds records
in the order they happened: each chunk the host read from the port (the host's
monotonic time of the read as float64 seconds, the chunk's length as uint32,
the bytes; little-endian), and each reading of the live session's clock (the
time, and the length 0xFFFFFFFF, no bytes). Captures written before version 2
are the bare bytes, still read (with no host times). The format is described
in docs/protocol.md.

The replay decodes the bytes with the live decoder and runs them through the
live session's own reconnection logic (`ReconnectingBoard`), whose clock
answers with the readings the live session made, in the same order: a board
that restarted or was unplugged gets the same gap, at the same place, as it
got live. Without them (a version 1 capture) a restart's gap cannot be known
and is taken as 0.
"""

from __future__ import annotations

import struct
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import BinaryIO, Self

from myotwitch.errors import ConnectionLost, MyotwitchError
from myotwitch.events import Event
from myotwitch.live.session import lost_gap, noise_note
from myotwitch.protocol import (
    STATUS_OK,
    BoardInfo,
    DataFrame,
    DecoderStats,
    Frame,
    FrameDecoder,
    HelloFrame,
    StatusFrame,
)
from myotwitch.recordings import CAPTURE_MAGIC
from myotwitch.sources import SampleBlock
from myotwitch.sources.reconnecting import ReconnectingBoard
from myotwitch.sources.serial_source import frame_block, note_status

_RECORD = struct.Struct("<dI")  # host monotonic time of the read (s), bytes that follow
_CLOCK_READ = 0xFFFFFFFF  # the length field of a record of one clock reading (no bytes follow)
_MAX_RECORD_BYTES = 1 << 20  # a port read is far smaller: a longer record means a damaged file
_CLOCK_LOOKAHEAD_RECORDS = 256  # records read ahead for a clock reading (live: one or two, a few per failed attempt)
_CHUNK_BYTES = 65536  # version 1 captures are read in pieces of this size
RESTARTED = "board restarted"  # the board's boot hello came mid-stream (SerialSource's words)
RECONNECTED = "board unplugged"  # a new connection's hello, with no boot hello before it


class _CaptureEnded(Exception):
    """The capture ends while the session looks for the board again: the replay ends there.

    Not a MyotwitchError: ReconnectingBoard retries on those."""


class CaptureWriter:
    """Saves each chunk read from the board with the host time it was read (`write` is what SerialSource calls)."""

    def __init__(self, file: BinaryIO, clock: Callable[[], float] = time.monotonic) -> None:
        self._file = file
        self._clock = clock  # the live session's clock, so replayed gaps are computed on the same times
        file.write(CAPTURE_MAGIC)

    @classmethod
    def create(cls, path: str | Path, clock: Callable[[], float] = time.monotonic) -> CaptureWriter:
        try:
            return cls(open(path, "wb"), clock)
        except OSError as exc:
            raise MyotwitchError(f"cannot write the capture {path}: {exc.strerror}") from None

    def write(self, data: bytes) -> int:
        if data:
            self._file.write(_RECORD.pack(self._clock(), len(data)) + data)
        return len(data)

    def clock(self) -> float:
        """The session's clock, each reading saved: give it to ReconnectingBoard so a replay can repeat them."""
        t_s = self._clock()
        self._file.write(_RECORD.pack(t_s, _CLOCK_READ))
        return t_s

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_chunks(path: Path) -> Iterator[tuple[float | None, bytes | None]]:
    """(host time or None, bytes) of each chunk of a capture, (time, None) for a clock reading.

    A record cut short (the writer was stopped) ends the capture with what it has."""
    try:
        with path.open("rb") as f:
            head = f.read(len(CAPTURE_MAGIC))
            if head != CAPTURE_MAGIC:  # version 1: the bare bytes
                if head:
                    yield None, head
                while chunk := f.read(_CHUNK_BYTES):
                    yield None, chunk
                return
            while header := f.read(_RECORD.size):
                if len(header) < _RECORD.size:
                    return  # the writer was cut off inside a record header
                t_s, n = _RECORD.unpack(header)
                if n == _CLOCK_READ:
                    yield t_s, None
                    continue
                if n > _MAX_RECORD_BYTES:
                    raise MyotwitchError(f"{path}: damaged capture: a record of {n} bytes at byte "
                                         f"{f.tell() - _RECORD.size}")
                yield t_s, f.read(n)
    except OSError as exc:
        raise MyotwitchError(f"{path}: cannot read: {exc.strerror}") from None


class _Frames:
    """The capture's frames in order, each with the record that completed it; and the clock readings."""

    def __init__(self, path: Path) -> None:
        self.decoder = FrameDecoder()
        self._records = read_chunks(path)
        self._records_read = 0
        self._queue: deque[tuple[int, float, Frame]] = deque()  # (record number, host time, frame)
        self._clock_reads: deque[tuple[int, float]] = deque()  # (record number, reading)
        self._last_clock_record = -1
        self.record = -1  # the record that completed the frame taken last
        self.now_s = 0.0  # its host time
        self.timed = True  # every chunk has a host time (a version 2 capture)
        self._ended = False

    def _read_record(self) -> bool:
        """Read one more record (frames decoded, or a clock reading); False at the end of the capture."""
        if self._ended:
            return False
        record = next(self._records, None)
        n = self._records_read
        self._records_read += 1
        if record is None:
            self._ended = True
            self._queue.extend((n, self.now_s, f) for f in self.decoder.finish())
            return False
        t_s, data = record
        if data is None:
            self._clock_reads.append((n, t_s if t_s is not None else self.now_s))
            return True
        self.timed &= t_s is not None
        t = self.now_s if t_s is None else t_s
        self._queue.extend((n, t, f) for f in self.decoder.feed(data))
        return True

    def next(self) -> Frame | None:
        while not self._queue:
            if not self._read_record() and not self._queue:
                return None
        self.record, self.now_s, frame = self._queue.popleft()
        return frame

    def push_back(self, frame: Frame, record: int, t_s: float) -> None:
        self._queue.appendleft((record, t_s, frame))

    def clock(self) -> float:
        """What the live session's clock read here: the next reading saved after the current frame's record.

        Readings before it (a reconnection's failed attempts) are passed over. Live, a block's reading
        follows its chunk within a record or two; a bounded look ahead finds it. Without any (an older
        capture), the host time of the current frame's record."""
        for _ in range(_CLOCK_LOOKAHEAD_RECORDS):
            after = max(self.record, self._last_clock_record)
            while self._clock_reads and self._clock_reads[0][0] <= after:
                self._clock_reads.popleft()
            if self._clock_reads:
                self._last_clock_record, t_s = self._clock_reads.popleft()
                return t_s
            if not self.timed or not self._read_record():
                break
        return self.now_s


class _StatsSince:
    """The decoder's figures since a connection began (ReconnectingBoard sums them over connections)."""

    def __init__(self, decoder: FrameDecoder) -> None:
        self._decoder = decoder
        self._start = DecoderStats(**{f.name: getattr(decoder.stats, f.name) for f in fields(DecoderStats)})
        self._end: DecoderStats | None = None

    def close(self) -> None:
        self._end = DecoderStats(**{f.name: getattr(self._decoder.stats, f.name) for f in fields(DecoderStats)})

    @property
    def stats(self) -> DecoderStats:
        now = self._end or self._decoder.stats
        return DecoderStats(**{f.name: getattr(now, f.name) - getattr(self._start, f.name)
                               for f in fields(DecoderStats)})


class _Connection:
    """One connection of the live session as the capture holds it: what one SerialSource read.

    It begins at the board's hello (the answer to INFO) and streams from the OK
    that answers START; a hello after that ends it, as SerialSource ends.
    """

    def __init__(self, frames: _Frames, info: BoardInfo | None = None) -> None:
        self._frames = frames
        self.errors: list[str] = []
        self.board_counters: dict[str, int] = {}
        self.info: BoardInfo | None = info
        while (frame := frames.next()) is not None:  # to the OK of START, keeping the latest hello
            if isinstance(frame, HelloFrame):
                self.info = frame.info
            elif isinstance(frame, StatusFrame) and frame.code == STATUS_OK and frame.text == "START":
                break
        else:
            raise _CaptureEnded()
        if self.info is None:
            raise MyotwitchError("no hello frame before START in this capture, so its rate and scale are unknown")
        self._info: BoardInfo = self.info
        self.decoder = _StatsSince(frames.decoder)
        self._base_index: int | None = None  # the decoder's index at START: this connection's 0

    def start(self) -> None:
        pass  # START was in the capture already

    def close(self) -> None:
        self.decoder.close()

    def blocks(self) -> Iterator[SampleBlock]:
        frames, first = self._frames, True
        last_block = (frames.record, frames.now_s)  # where the last data frame was completed
        while (frame := frames.next()) is not None:
            if isinstance(frame, HelloFrame):
                raise ConnectionLost("the board said hello mid-stream", self._why_ended(frame, last_block))
            if isinstance(frame, DataFrame):
                last_block = (frames.record, frames.now_s)
                # The live source restarts the decoder's noise count at START: noise before it is not the stream's.
                skipped = 0 if first else frame.skipped_before
                if first:  # after START the count begins at 0, so what came before this frame is its lost_before
                    self._base_index = frame.stream_index - frame.lost_before
                first = False
                assert self._base_index is not None
                yield replace(frame_block(self._info, frame), start_index=frame.stream_index - self._base_index,
                              skipped_bytes=skipped)
            elif isinstance(frame, StatusFrame) and note_status(self, frame):
                return

    def _why_ended(self, hello: HelloFrame, last_block: tuple[int, float]) -> str:
        """A boot hello followed by the next connection's own (INFO): a restart; only the latter: a new connection.

        Live, a restart ends the connection at the boot hello, but a lost port ends it after its last
        block, before the next connection's bytes: the session's clock is read next as it was there."""
        frames = self._frames
        at = (frames.record, frames.now_s)
        seen: list[tuple[Frame, int, float]] = [(hello, *at)]
        while (frame := frames.next()) is not None:
            seen.append((frame, frames.record, frames.now_s))
            if isinstance(frame, StatusFrame) and frame.code == STATUS_OK and frame.text == "START":
                break
        hellos = sum(isinstance(f, HelloFrame) for f, _, _ in seen)
        for f, record, t_s in reversed(seen):  # the next connection takes the latest hello of these
            frames.push_back(f, record, t_s)
        restarted = hellos >= 2
        frames.record, frames.now_s = at if restarted else last_block
        return RESTARTED if restarted else RECONNECTED


class CaptureSource:
    """A capture replayed as the live session saw it: blocks on the same timeline, gaps with their causes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.description = f"raw capture {self.path}"
        self.skipped: list[tuple[int, int]] = []  # as ReplaySource's: a capture holds no unreadable values
        self.info = self._find_hello()
        self.rate_hz = float(self.info.rate_hz)
        self._frames: _Frames | None = None
        self._board: ReconnectingBoard | None = None

    def _find_hello(self) -> BoardInfo:
        probe = FrameDecoder()
        for _t, chunk in read_chunks(self.path):
            for frame in probe.feed(chunk or b""):
                if isinstance(frame, HelloFrame):
                    return frame.info
        for frame in probe.finish():
            if isinstance(frame, HelloFrame):
                return frame.info
        raise MyotwitchError(f"{self.path}: no hello frame in this capture, so its rate and scale are unknown"
                             + (f" ({probe.last_problem})" if probe.last_problem else ""))

    @property
    def decoder(self) -> FrameDecoder:
        if self._frames is None:
            raise RuntimeError("blocks() first")
        return self._frames.decoder

    def blocks(self) -> Iterator[SampleBlock]:
        frames = self._frames = _Frames(self.path)
        board = self._board = ReconnectingBoard(lambda: _Connection(frames), self.description, clock=frames.clock,
                                                sleep=lambda _s: None)
        try:
            board.open()
        except _CaptureEnded:
            raise MyotwitchError(f"{self.path}: the board never streams in this capture (no OK to START)") from None
        except MyotwitchError as exc:
            raise MyotwitchError(f"{self.path}: {exc}") from None
        board.start()
        try:
            yield from board.blocks()
        except _CaptureEnded:
            pass  # the session ended while it looked for the board again
        finally:
            board.close()

    # -- what analyze reports of a capture ---------------------------------
    def events_for(self, block: SampleBlock) -> list[Event]:
        """The live session's notes before this block: the gap (with its cause) if samples are missing, and the
        line noise skipped. (Its pauses are not: they are host timing, which a replay does not repeat.)"""
        events: list[Event] = []
        if block.lost_before:
            events.append(lost_gap(block, self._board.gaps if self._board is not None else []))
        if block.skipped_bytes:
            events.append(noise_note(block))
        return events

    def summary(self) -> dict:
        """The decoder's and the session's figures, as the live summary names them."""
        stats = self.decoder.stats
        board = self._board
        return {
            "frames": stats.frames,
            "crc_errors": stats.crc_errors,
            "skipped_bytes": stats.skipped_bytes,
            "malformed_frames": stats.malformed_frames,
            "stale_frames": stats.stale_frames,
            "lost_at_end_samples": stats.tail_lost_samples,
            "gaps": len(board.gaps) if board is not None else 0,
            "reconnects": board.reconnects if board is not None else 0,
            "host_times": self._frames.timed if self._frames is not None else False,
        }
