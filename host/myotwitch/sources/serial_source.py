"""A board on a serial port (any pyserial URL: /dev/ttyACM0, COM5, loop://, a pty path).

The port is opened the way mpremote does (DTR and RTS low before opening, so
an ESP32 dev kit is not reset), the board is asked for its hello frame, and
then frames are decoded as they arrive. Decoding is the sans-IO FrameDecoder;
this module is only the read loop.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import BinaryIO, Protocol

import numpy as np
import serial

from myotwitch.errors import ConnectionLost, MyotwitchError
from myotwitch.protocol import (
    FLAG_OVERFLOW,
    STATUS_END,
    STATUS_ERROR,
    STATUS_OK,
    BoardInfo,
    DataFrame,
    FrameDecoder,
    HelloFrame,
    StatusFrame,
)
from myotwitch.sources import SampleBlock

# Why samples went missing, as the wire shows it (gap annotations are cut at 40 characters).
OVERFLOW_GAP = "board buffer overflow (stall)"  # the frame after the gap has the overflow flag
CRC_GAP = "frame broken on the wire (CRC)"  # a frame failed its CRC since the previous one


def why_lost(frame: DataFrame) -> str | None:
    """The cause of a sequence gap before this frame, as far as the wire shows it."""
    if not frame.lost_before:
        return None
    if frame.flags & FLAG_OVERFLOW:
        return OVERFLOW_GAP
    return CRC_GAP if frame.crc_errors_before else None


DEFAULT_BAUDRATE = 115200  # ignored by USB CDC boards; what a USB-UART bridge needs for 2 kHz

class StatusNotes(Protocol):
    board_counters: dict[str, int]
    errors: list[str]


def note_status(connection: StatusNotes, frame: StatusFrame) -> bool:
    """A status frame while streaming, noted on the connection: the board's counters (STATS once a second, and
    END), its errors. True at END: the board ended the stream."""
    if frame.code == STATUS_END:
        connection.board_counters = frame.counters()
        return True
    if frame.code == STATUS_OK and frame.text.startswith("STATS "):
        connection.board_counters = frame.counters()
    if frame.code == STATUS_ERROR:
        connection.errors.append(frame.text)
    return False


# While streaming, the port is read on a pace: what is waiting, then a sleep to READ_INTERVAL_S after the
# wake-up, so the host wakes ~10 times a second whatever the frame rate. A blocking read of 4 KiB with the
# port's 50 ms timeout still woke once per frame (pyserial's select loop returns on every arrival) and once
# per timeout: 60 wake-ups a second at 2 kHz. 100 ms of the fastest stream (3 channels at 2 kHz, ~1 KB) fits
# the OS's tty buffer (4 KiB) with room; a read that finds half of READ_CHUNK_BYTES or more (a backlog, or an
# unpaced simulated board) reads again at once instead of sleeping. Only an empty port is read with a
# blocking 1-byte read (up to the port's timeout), so an unplugged board still shows as a failed read.
# Pacing starts after a connection's first data frame, which is read as it arrives: a reconnection places
# the new counter after the gap by that frame's arrival time (sources/reconnecting.py), so it must not be
# up to an interval late. The last arrival before a break is late by at most one frame's period. A board
# faster than real time (the simulated board at --speed 0) fills the tty buffer within a few ms of a sleep and
# then waits on it: read it unpaced (read_interval_s=0), as it writes.
READ_CHUNK_BYTES = 4096
READ_INTERVAL_S = 0.1


class SerialSource:
    def __init__(
        self,
        url: str,
        baudrate: int = DEFAULT_BAUDRATE,
        rate_hz: int | None = None,
        answer_timeout_s: float = 3.0,
        silence_timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        capture: BinaryIO | None = None,
        sensors: list[str] | None = None,
        read_interval_s: float = READ_INTERVAL_S,
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.requested_rate_hz = rate_hz
        self.answer_timeout_s = answer_timeout_s
        self.silence_timeout_s = silence_timeout_s
        self._clock = clock
        self._sleep = sleep
        # 0: read what arrives as it arrives, for a board that is not real time (the simulated board at
        # --speed 0): it writes as fast as the tty buffer takes, so a pace would only hold it up.
        self.read_interval_s = read_interval_s
        self._capture = capture  # every byte received is appended here (a raw capture to replay)
        self.sensors = list(sensors or [])  # sensor names (myotwitch.sensors) to store on channels 0, 1, ...
        self.decoder = FrameDecoder()
        self.info: BoardInfo | None = None
        self.errors: list[str] = []  # error status frames from the board
        self.board_counters: dict[str, int] = {}  # the board's latest STATS (or END) counters
        self.restarts = 0  # hello frames while streaming
        self._port: serial.SerialBase | None = None
        self._frames: deque = deque()  # decoded but not yet consumed
        self.description = f"board on {url}"

    @property
    def rate_hz(self) -> float:
        if self.info is None:
            raise RuntimeError("open() first")
        return float(self.info.rate_hz)

    # -- connection ---------------------------------------------------------
    def open(self) -> BoardInfo:
        try:
            port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.05, do_not_open=True)
            port.dtr = False
            port.rts = False
            if os.name == "posix" and isinstance(port, serial.Serial):
                port.exclusive = True  # flock: a second program opening the port gets an error, not half the bytes
            port.open()
        except (serial.SerialException, ValueError, OSError) as exc:
            hint = ""
            if "lock" in str(exc):
                hint = " (another program has it open: a second myotwitch, a serial monitor, mpremote? Close it first)"
            # pyserial wraps the OS error in its own text ("[Errno 2] could not open port X: [Errno 2] ..."):
            # the OS's reason alone, where there is one, reads once.
            errno = getattr(exc, "errno", None)
            reason = os.strerror(errno) if isinstance(errno, int) and errno > 0 and not hint else str(exc)
            raise MyotwitchError(f"cannot open {self.url}: {reason}{hint}") from None
        self._port = port
        try:
            self._write(b"STOP\n")  # a board left streaming by an earlier session
            self._write(b"INFO\n")
            self.info = self._await(lambda f: isinstance(f, HelloFrame), "a hello frame (INFO)").info
            asked = False
            if self.requested_rate_hz and self.requested_rate_hz != self.info.rate_hz:
                self._command(f"RATE {self.requested_rate_hz}")
                asked = True
            if self.sensors:
                asked |= self._store_sensors(self.info)
            if asked:
                self._write(b"INFO\n")
                self.info = self._await(lambda f: isinstance(f, HelloFrame), "a hello frame (INFO)").info
        except BaseException:
            self.close()
            raise
        return self.info

    def _store_sensors(self, info: BoardInfo) -> bool:
        """Store the sensors asked for on the board (SENSOR), those it does not already have; True if any."""
        from myotwitch.sensors import sensor, sensor_commands

        if len(self.sensors) > info.channels:
            raise MyotwitchError(f"{len(self.sensors)} sensors given for a board of {info.channels} channel(s)")
        changed = False
        for c, (name, command) in enumerate(zip(self.sensors, sensor_commands(self.sensors), strict=True)):
            stored = info.sensors[c] if info.sensors else None
            if stored != name or info.channel_gains()[c] != sensor(name).gain:
                if info.protocol < 2:
                    raise MyotwitchError("this board's firmware (protocol 1) cannot store a sensor: "
                                         "update it with myotwitch flash")
                self._command(command)
                changed = True
        return changed

    def start(self) -> None:
        self.decoder.restart_sequence()
        self._command("START")

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                if port.is_open:
                    port.write(b"STOP\n")
                    port.flush()
            except (serial.SerialException, OSError):
                pass  # the board is gone already
            port.close()

    def _opened(self) -> serial.SerialBase:
        if self._port is None:  # closed (or never opened): the session's own mistake, said plainly
            raise MyotwitchError(f"{self.url}: the port is not open")
        return self._port

    def _write(self, data: bytes) -> None:
        port = self._opened()
        try:
            port.write(data)
        except (serial.SerialException, OSError) as exc:
            raise MyotwitchError(f"{self.url}: write failed: {exc}") from None

    def _read(self) -> bytes:
        """What arrives within the port's timeout (answers to commands), up to READ_CHUNK_BYTES."""
        return self._read_port(lambda port: port.read(READ_CHUNK_BYTES))

    def _read_waiting(self) -> bytes:
        """What is waiting, at once; from an empty port, one byte within its timeout (see READ_INTERVAL_S)."""
        return self._read_port(lambda port: port.read(min(port.in_waiting, READ_CHUNK_BYTES) or 1))

    def _read_port(self, read: Callable[[serial.SerialBase], bytes]) -> bytes:
        port = self._opened()
        try:
            data = read(port)
        except (serial.SerialException, OSError) as exc:
            raise ConnectionLost(f"{self.url}: the port disappeared ({exc})", "board unplugged") from None
        if data and self._capture is not None:
            self._capture.write(data)
        return data

    def _command(self, text: str) -> None:
        self._write(text.encode("ascii") + b"\n")
        word = text.split()[0]

        def answer(f: object) -> bool:
            return isinstance(f, StatusFrame) and (
                f.code == STATUS_ERROR or (f.code == STATUS_OK and f.text.split()[:1] == [word])
            )

        status = self._await(answer, text)
        if status.code != STATUS_OK:
            raise MyotwitchError(f"the board refused '{text}': {status.text}")

    def _await(self, wanted: Callable[[object], bool], what: str):
        deadline = self._clock() + self.answer_timeout_s
        while True:
            while self._frames:
                frame = self._frames.popleft()
                if wanted(frame):
                    return frame
            if self._clock() >= deadline:
                break
            self._frames.extend(self.decoder.feed(self._read()))
        seen = self.decoder.stats.bytes_in
        raise MyotwitchError(
            f"no myotwitch firmware answered on {self.url}: waited {self.answer_timeout_s:g} s for {what}, "
            f"got {seen} bytes with no such frame (is the firmware flashed, and is this its port?)"
        )

    # -- streaming ----------------------------------------------------------
    def block(self, frame: DataFrame) -> SampleBlock:
        """A data frame as a block in µV: one channel, or (channels, n) in `channels_uv` with channel 0 in
        `samples_uv`. A frame whose channel count is not the hello's cannot be scaled: MyotwitchError."""
        info = self.info
        if info is None:
            raise RuntimeError("open() first")
        return frame_block(info, frame)

    def blocks(self) -> Iterator[SampleBlock]:
        """Samples in µV until the board says END, or the caller stops iterating.

        Raises ConnectionLost when the port goes away, the board goes silent or restarts.
        """
        if self.info is None:
            raise RuntimeError("open() first")
        last_data = self._clock()
        paced = False  # from the first data frame on: the first one's arrival is read at once (see ConnectionLost)
        while True:
            woke = self._clock()
            chunk = self._read_waiting()
            now = self._clock()
            if chunk:
                last_data = now
            elif now - last_data > self.silence_timeout_s:
                raise ConnectionLost(f"{self.url}: the board sent nothing for {self.silence_timeout_s:g} s",
                                     "board silent")
            self._frames.extend(self.decoder.feed(chunk))
            while self._frames:
                frame = self._frames.popleft()
                if isinstance(frame, DataFrame):
                    paced = True
                    yield self.block(frame)
                elif isinstance(frame, StatusFrame):
                    if note_status(self, frame):
                        return
                elif isinstance(frame, HelloFrame):
                    # The board restarted (a watchdog, a reset button): its counter starts again,
                    # and it waits for START. The caller decides whether to reconnect.
                    self.restarts += 1
                    raise ConnectionLost(f"{self.url}: the board restarted mid-stream", "board restarted")
            if paced and len(chunk) < READ_CHUNK_BYTES // 2:  # caught up: what arrives next is read in one wake-up
                rest_s = self.read_interval_s - (self._clock() - woke)
                if rest_s > 0:
                    self._sleep(rest_s)


def frame_block(info: BoardInfo, frame: DataFrame) -> SampleBlock:
    """A decoded data frame as a SampleBlock in µV, by the hello's per-channel gains (serial and capture)."""
    if frame.channels != info.channels:
        raise MyotwitchError(f"a data frame of {frame.channels} channels from a board whose hello said "
                             f"{info.channels}: the stream cannot be scaled")
    uv = info.counts_to_uv(frame.samples)
    if frame.channels == 1:
        return SampleBlock(frame.stream_index, uv, frame.lost_before, frame.t_us, why_lost(frame),
                           frame.skipped_before)
    rows = np.ascontiguousarray(uv.T)
    return SampleBlock(frame.stream_index, rows[0], frame.lost_before, frame.t_us, why_lost(frame),
                       frame.skipped_before, channels_uv=rows, channel_skew_s=info.skew_ns / 1e9)
