"""The interfaces every source of samples declares: `Source` (blocks of samples) and `Board` (a session's source).

A `Source` yields SampleBlocks in µV with absolute sample indices: a recording
replayed (`replay.ReplaySource`), a raw capture (`capture.CaptureSource`), a
seeded synthetic signal (`synthetic.SyntheticSource`), one connection to a
board on a serial port (`serial_source.SerialSource`, once opened).

A `Board` is what a live session (`live/session.py`) streams from: the
lifecycle (open, start, close) and the figures the session logs and the live
view shows. A board on a serial port that may be unplugged
(`reconnecting.ReconnectingBoard`, also for the simulated board on its
pseudo-terminal) and any Source played at a pace (`replay.ReplayBoard`: a
recording for `live --source PATH`, a synthetic signal, a capture) implement it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Protocol

from myotwitch.protocol import BoardInfo, DecoderStats
from myotwitch.sources import SampleBlock

if TYPE_CHECKING:
    from myotwitch.live.clock import DeviceClock, StreamClock


class Source(Protocol):
    """Blocks of samples in µV, each with the index of its first sample since the stream began."""

    @property
    def rate_hz(self) -> float: ...

    @property
    def description(self) -> str: ...  # for people and the session log: "EDF file rest.edf", "board on COM5"

    def blocks(self) -> Iterator[SampleBlock]: ...


class BoardDescription(Protocol):
    """What a board says of itself (a hello frame), or what a file stands in with."""

    @property
    def board(self) -> str: ...

    @property
    def firmware(self) -> str: ...

    @property
    def rate_hz(self) -> float: ...

    @property
    def adc_bits(self) -> int: ...  # 0: no ADC (a file)

    @property
    def fields(self) -> Mapping[str, str]: ...  # the hello frame's other fields (uid, upy, ...)


class Board(Protocol):
    """Everything a live session uses of its source, in the order it uses it."""

    @property
    def description(self) -> str: ...

    def open(self) -> BoardDescription: ...  # connect and learn the rate; nothing streams yet

    def start(self) -> None: ...  # ask for samples

    def blocks(self) -> Iterator[SampleBlock]: ...  # until the board ends the stream (or raises MyotwitchError)

    def close(self) -> None: ...  # always called, also after an error or Ctrl-C

    # Figures for the summary and the live view, read while and after streaming.
    @property
    def stats(self) -> DecoderStats: ...  # decoder counters, summed over the session's connections

    @property
    def stream_clock(self) -> StreamClock | None: ...  # arrival times: the effective rate on this computer's clock

    @property
    def device_clock(self) -> DeviceClock | None: ...  # the board's own frame times, if it sends them

    @property
    def board_counters(self) -> Mapping[str, int]: ...  # the board's STATS/END counters

    @property
    def errors(self) -> list[str]: ...  # error status frames from the board

    @property
    def gaps(self) -> list[tuple[int, int, str]]: ...  # (first index, samples, why) of samples lost

    @property
    def reconnects(self) -> int: ...


if TYPE_CHECKING:  # mypy checks that each source implements its interface; nothing runs here
    from myotwitch.sources.capture import CaptureSource
    from myotwitch.sources.reconnecting import ReconnectingBoard
    from myotwitch.sources.replay import ReplayBoard, ReplaySource
    from myotwitch.sources.serial_source import SerialSource
    from myotwitch.sources.synthetic import SyntheticSource

    def _sources_implement_source(replay: ReplaySource, capture: CaptureSource, synthetic: SyntheticSource,
                                  serial: SerialSource) -> list[Source]:
        return [replay, capture, synthetic, serial]

    def _boards_implement_board(reconnecting: ReconnectingBoard, replayed: ReplayBoard) -> list[Board]:
        return [reconnecting, replayed]


class StatsHolder(Protocol):
    @property
    def stats(self) -> DecoderStats: ...


class Connection(Protocol):
    """One connection to a board, opened (its hello read), as `ReconnectingBoard` strings them together: a
    SerialSource on a port, or one connection of a raw capture replayed (`capture._Connection`)."""

    @property
    def info(self) -> BoardInfo | None: ...

    @property
    def decoder(self) -> StatsHolder: ...  # its decoder's figures since this connection began

    @property
    def errors(self) -> list[str]: ...  # error status frames from the board

    @property
    def board_counters(self) -> dict[str, int]: ...  # the board's own counters at its last report

    def start(self) -> None: ...

    def blocks(self) -> Iterator[SampleBlock]: ...

    def close(self) -> None: ...
