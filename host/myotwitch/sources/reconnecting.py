"""One stream of samples from a board that may be unplugged and plugged in again.

`connect()` opens the board (a port, a search by USB id, the simulated
board's current pty) and returns an opened SerialSource. When the stream
breaks (port gone, board silent, board restarted), the board is looked for
again with backoff, restarted with START, and its new counter is placed after
the gap: the gap's length is the host time during which no sample arrived,
in samples at the measured effective rate. The samples of a gap are counted
as lost and listed in `gaps`; none is filled in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import fields, replace

from myotwitch.errors import ConnectionLost, MyotwitchError
from myotwitch.live.clock import DeviceClock, StreamClock
from myotwitch.protocol import BoardInfo, DecoderStats
from myotwitch.sources import SampleBlock
from myotwitch.sources.base import Connection

RETRY_S = (0.25, 0.5, 1.0, 2.0, 4.0)  # backoff between attempts; the last repeats


class ReconnectingBoard:
    """A Board (sources/base.py) over successive connections to one board."""

    def __init__(self, connect: Callable[[], Connection], description: str, *,
                 give_up_after_s: float | None = None, retry_s: tuple[float, ...] = RETRY_S,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 say: Callable[[str], None] = lambda message: None) -> None:
        self._connect = connect
        self.description = description
        self.give_up_after_s = give_up_after_s
        self.retry_s = retry_s
        self._clock = clock
        self._sleep = sleep
        self._say = say
        self._source: Connection | None = None
        self._closed: list[Connection] = []  # the session's earlier connections, for their figures
        self.info: BoardInfo | None = None
        self.stream_clock: StreamClock | None = None
        self.device_clock: DeviceClock | None = None
        self.gaps: list[tuple[int, int, str]] = []  # (first stream index, samples, why)
        self.reconnects = 0

    # -- the Board interface (sources/base.py) ----------------------------------
    def open(self) -> BoardInfo:
        self._source = self._connect()
        self.info = self._source.info
        assert self.info is not None, "connect() returns an opened source"
        self.stream_clock = StreamClock(self.info.rate_hz)
        self.device_clock = DeviceClock(self.info.rate_hz)
        return self.info

    def start(self) -> None:
        self._connected().start()

    def close(self) -> None:
        if self._source is not None:
            self._source.close()

    def _connected(self) -> Connection:
        if self._source is None:
            raise RuntimeError("open() first")
        return self._source

    def _connections(self) -> list[Connection]:
        return self._closed + ([self._source] if self._source is not None else [])

    @property
    def stats(self) -> DecoderStats:
        """Decoder figures summed over every connection of the session."""
        total = DecoderStats()
        for source in self._connections():
            for f in fields(DecoderStats):
                setattr(total, f.name, getattr(total, f.name) + getattr(source.decoder.stats, f.name))
        return total

    @property
    def errors(self) -> list[str]:
        """Error status frames from the board, over every connection."""
        return [text for source in self._connections() for text in source.errors]

    @property
    def board_counters(self) -> dict[str, int]:
        """The board's own counters (frames, samples, lost, ...), summed over connections."""
        total: dict[str, int] = {}
        for source in self._connections():
            for key, value in source.board_counters.items():
                total[key] = total.get(key, 0) + value
        return total

    # -- streaming ----------------------------------------------------------
    def blocks(self) -> Iterator[SampleBlock]:
        if self.info is None or self.stream_clock is None or self.device_clock is None:
            raise RuntimeError("open() first")
        info, stream_clock, device_clock = self.info, self.stream_clock, self.device_clock
        offset = 0  # session index of this connection's index 0
        end_index = 0  # session index after the last sample received
        pending: tuple[float, str] | None = None  # (host time of the last arrival before the break, why)
        while True:
            try:
                for block in self._connected().blocks():
                    now = self._clock()
                    count = len(block.samples_uv)
                    if pending is not None:
                        last_arrival_s, why = pending
                        rate = stream_clock.rate_for_gaps_hz()
                        first_sample_s = now - (block.start_index + count) / rate
                        gap = max(0, round((first_sample_s - last_arrival_s) * rate))
                        offset = end_index + gap
                        if gap:
                            self.gaps.append((end_index, gap, why))
                        self._say(f"board back: a gap of {gap / info.rate_hz:.2f} s ({gap} samples) recorded")
                        block = replace(block, lost_before=block.lost_before + gap)
                        pending = None
                    mapped = replace(block, start_index=block.start_index + offset)
                    end_index = mapped.start_index + count
                    stream_clock.frame(end_index, now)
                    if block.device_t_us is not None:
                        device_clock.frame(mapped.start_index, block.device_t_us)
                    yield mapped
                return  # the board said END
            except ConnectionLost as exc:
                last = stream_clock.last_arrival_s
                if pending is None:
                    pending = (self._clock() if last is None else last, exc.why)
                # The reason, not the serial library's text (that goes with a failure, if it comes to one).
                self._say(f"board disconnected ({exc.why}); reconnecting (Ctrl-C stops)")
                lost = self._connected()
                self._closed.append(lost)
                lost.close()
                self._source = None
                self._reconnect()
                stream_clock.connected()
                device_clock.connected()

    def _reconnect(self) -> None:
        assert self.info is not None, "open() first"
        rate_hz = self.info.rate_hz
        began = self._clock()
        attempt = 0
        while True:
            self._sleep(self.retry_s[min(attempt, len(self.retry_s) - 1)])
            attempt += 1
            try:
                source = self._connect()
            except MyotwitchError as exc:
                waited = self._clock() - began
                if self.give_up_after_s is not None and waited >= self.give_up_after_s:
                    raise MyotwitchError(f"the board did not come back within {self.give_up_after_s:g} s: {exc}") \
                        from None
                continue
            came_back_hz = source.info.rate_hz if source.info is not None else 0
            if came_back_hz != rate_hz:
                source.close()
                raise MyotwitchError(f"the board came back at {came_back_hz} Hz, not {rate_hz} Hz")
            self._source = source
            self.reconnects += 1
            source.start()
            return

