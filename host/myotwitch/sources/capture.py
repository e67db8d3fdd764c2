"""Replay a raw capture: the bytes a board sent, saved by `--capture`, decoded again.

What was recorded once from a real board can be replayed in tests and
analysed offline through the very decoder that read it live. The capture
must contain the board's hello frame (it does: the handshake asks for one),
which gives the rate and the scale to µV.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from myotwitch.errors import MyotwitchError
from myotwitch.protocol import BoardInfo, DataFrame, FrameDecoder, HelloFrame
from myotwitch.sources import SampleBlock

CAPTURE_SUFFIX = ".mtwcap"
_CHUNK_BYTES = 65536


class CaptureSource:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.decoder = FrameDecoder()
        self.description = f"raw capture {self.path}"
        self.skipped: list[tuple[int, int]] = []  # as ReplaySource's: a capture holds no unreadable values
        self.info = self._find_hello()
        self.rate_hz = float(self.info.rate_hz)

    def _chunks(self) -> Iterator[bytes]:
        try:
            with self.path.open("rb") as f:
                while chunk := f.read(_CHUNK_BYTES):
                    yield chunk
        except OSError as exc:
            raise MyotwitchError(f"{self.path}: cannot read: {exc.strerror}") from None

    def _find_hello(self) -> BoardInfo:
        probe = FrameDecoder()
        for chunk in self._chunks():
            for frame in probe.feed(chunk):
                if isinstance(frame, HelloFrame):
                    return frame.info
        raise MyotwitchError(f"{self.path}: no hello frame in this capture, so its rate and scale are unknown")

    def blocks(self) -> Iterator[SampleBlock]:
        info = self.info
        for chunk in self._chunks():
            for frame in self.decoder.feed(chunk):
                if isinstance(frame, DataFrame):
                    yield SampleBlock(frame.stream_index, info.counts_to_uv(frame.samples), frame.lost_before)
                elif isinstance(frame, HelloFrame):
                    info = frame.info
