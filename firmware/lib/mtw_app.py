# The firmware's main loop: text commands in, binary frames out.
# Portable: the board (ADC, timer, clock) and the byte streams are arguments.
import sys
import micropython
from micropython import const

import mtw_frame as F
from mtw_sampler import Sampler, wrap_add
from mtw_settings import Sensors, parse_gain, valid_name

FW_NAME = "myotwitch-fw"
FW_VERSION = "0.2.0"
PROTOCOL_VERSION = const(2)
_LINE_MAX = const(40)
_SELFTEST_SAMPLES = const(256)
_HEARTBEAT_FRAMES = const(10)  # the LED changes every 10 frames while streaming
_STATS_HEAD = b"STATS "


class StdinCommands:
    """Bytes from the host, read without blocking (select.poll on stdin)."""

    def __init__(self, stream=None):
        import select

        self._stream = stream if stream is not None else sys.stdin
        self._buffer = getattr(self._stream, "buffer", self._stream)
        self._poll = select.poll()
        self._poll.register(self._stream, select.POLLIN)

    def wait(self, timeout_ms):
        return bool(self._poll.poll(timeout_ms))

    def read_byte(self):
        """One byte, or -1 at end of input."""
        b = self._buffer.read(1)
        return b[0] if b else -1


def _joined(values):
    """Per-channel hello values as one comma-separated field."""
    return ",".join(str(v) for v in values)


class App:
    def __init__(self, board, out, commands, frame_samples=50, sample_format=None, watchdog_ms=0):
        self.board = board
        self.channels = getattr(board, "channels", 1)
        # The sensor per channel, stored on the board (SENSOR); boards without a settings file use their gain.
        self.sensors = Sensors(getattr(board, "settings_path", "sensors.txt"), self.channels, board.gain)
        # Opt-in: a board's watchdog cannot be stopped once started, so it is
        # started by the first START (a board left at the REPL is not reset)
        # and fed by the main loop from then on.
        self.watchdog_ms = watchdog_ms
        self._wdt = None
        self._stats_frames = 1
        self._write = out.write
        self._commands = commands
        self.frame_samples = frame_samples
        if sample_format is None:
            sample_format = F.FORMAT_PACKED12 if board.adc_bits <= 12 else F.FORMAT_U16
        self.sample_format = sample_format
        most = F.max_frame_samples(sample_format, self.channels)
        if not 1 <= frame_samples <= most:
            raise ValueError("frame_samples must be 1 to %d in format %d with %d channels"
                             % (most, sample_format, self.channels))
        self.rate_hz = board.default_rate_hz
        # Pre-bound: looked up once, not per STATS frame (0 on boards without the rp2 DMA path).
        self._fifo_overruns = getattr(board, "fifo_overruns", None)
        self.sampler = Sampler(board.read_u16, board.ticks_us, board.ticks_mask, board.adc_bits,
                               ring=getattr(board, "ring", None), reads=getattr(board, "reads", None))
        if self.sampler.channels != self.channels:
            raise ValueError("the board reads %d channels but says %d" % (self.sampler.channels, self.channels))
        self.writer = F.FrameWriter()
        self.streaming = False
        self.running = True
        self.frames_sent = 0
        self.short_writes = 0
        self.saturated_frames = 0  # frames with a sample at an ADC rail
        self.flat_frames = 0  # frames whose samples were all equal (electrode off?)
        self._reported_lost = 0
        self._line = bytearray(_LINE_MAX)
        self._line_len = 0
        self._line_overflow = False

    # -- output -----------------------------------------------------------
    def _send(self, length):
        """Write the frame of `length` bytes that self.writer just built."""
        n = self._write(self.writer.buf, length)
        if n is not None and n < length:
            # A USB CDC write that timed out: the rest of this frame is gone.
            # The host sees a broken frame (CRC) and a sequence gap.
            self.short_writes = wrap_add(self.short_writes, 1)
            return False
        return True

    def hello_fields(self):
        board = self.board
        fields = [
            ("board", board.name),
            ("fw", FW_NAME + " " + FW_VERSION),
            ("protocol", PROTOCOL_VERSION),
            ("upy", ".".join(str(v) for v in sys.implementation.version[:3])),
            ("rate_hz", self.rate_hz),
            ("adc_bits", board.adc_bits),
            ("vref_mv", board.vref_mv),
            ("channels", self.channels),
            ("pins", _joined(getattr(board, "pins", ("?",) * self.channels))),
            ("gain", _joined(self.sensors.gains)),
            ("sensor", _joined(self.sensors.names)),
            ("skew_ns", board.skew_ns(self.rate_hz) if hasattr(board, "skew_ns") else 0),
            ("frame_samples", self.frame_samples),
            ("format", self.sample_format),
            ("uid", board.uid()),
            ("watchdog_ms", self.watchdog_ms),
        ]
        if self.sensors.problem:
            fields.append(("settings", self.sensors.problem))
        return fields

    def send_hello(self):
        self._send(self.writer.hello(self.hello_fields()))

    def _status(self, code, text):
        self._send(self.writer.status(code, text))

    # -- commands ---------------------------------------------------------
    def handle_command(self, line):
        """Run one command line (bytes, no newline). Unknown or malformed: error, nothing changes."""
        parts = line.split()
        if not parts:
            return
        try:
            word = parts[0].decode().upper()
        except UnicodeError:
            word = ""
        if word == "INFO" and len(parts) == 1:
            self.send_hello()
        elif word == "START" and len(parts) == 1:
            self.start()
        elif word == "STOP" and len(parts) == 1:
            self.stop()
            self._status(F.STATUS_OK, "STOP")
        elif word == "PING" and len(parts) == 1:
            self._status(F.STATUS_OK, "PONG")
        elif word == "RATE" and len(parts) == 2:
            self._set_rate(parts[1])
        elif word == "SELFTEST" and len(parts) <= 2:
            self._selftest(parts[1] if len(parts) == 2 else b"0")
        elif word == "SENSOR" and len(parts) == 4:
            self._set_sensor(parts[1], parts[2], parts[3])
        elif word == "SENSOR" and len(parts) == 3:
            self._set_sensor(parts[1], parts[2], b"0")
        else:
            self._status(F.STATUS_ERROR, "unknown command")

    def _selftest(self, channel_arg):
        """SELFTEST [channel]: read that channel's ADC directly and report its noise and range, in ADC counts."""
        if self.streaming:
            self._status(F.STATUS_ERROR, "SELFTEST while streaming: STOP first")
            return
        reads = getattr(self.board, "reads", (self.board.read_u16,))
        try:
            channel = int(channel_arg)
        except ValueError:
            channel = -1
        if not 0 <= channel < len(reads):
            self._status(F.STATUS_ERROR, "no such channel")
            return
        shift = 16 - self.board.adc_bits
        read = reads[channel]
        lo, hi, total, squares = 1 << 16, -1, 0, 0
        for _ in range(_SELFTEST_SAMPLES):
            v = read() >> shift
            lo = min(lo, v)
            hi = max(hi, v)
            total += v
            squares += v * v
        n = _SELFTEST_SAMPLES
        mean = total / n
        sd = max(0.0, squares / n - mean * mean) ** 0.5
        full = (1 << self.board.adc_bits) - 1
        verdict = "flat" if hi == lo else ("rail" if lo == 0 or hi == full else "ok")
        self._status(F.STATUS_OK, "SELFTEST n=%d min=%d max=%d mean=%.1f sd=%.2f %s" % (n, lo, hi, mean, sd, verdict))

    def _set_sensor(self, channel_arg, name_arg, gain_arg):
        """SENSOR <channel> <name> <gain>, or SENSOR <channel> none: stored on the board, in the hello from now on."""
        if self.streaming:
            self._status(F.STATUS_ERROR, "SENSOR while streaming: STOP first")
            return
        try:
            channel = int(channel_arg)
            name = name_arg.decode()
        except (ValueError, UnicodeError):
            channel, name = -1, ""
        gain = parse_gain(gain_arg.decode()) if name != "none" else 0
        if not 0 <= channel < self.channels:
            self._status(F.STATUS_ERROR, "no such channel")
        elif not valid_name(name):
            self._status(F.STATUS_ERROR, "bad sensor name")
        elif name != "none" and gain < 0:
            self._status(F.STATUS_ERROR, "bad gain (1 to 100000)")
        else:
            try:
                self.sensors.set(channel, name, gain)
            except OSError:
                self._status(F.STATUS_ERROR, "cannot write " + self.sensors.path)
                return
            self._status(F.STATUS_OK, "SENSOR %d %s %s" % (channel, name, self.sensors.gains[channel]))

    def _set_rate(self, arg):
        if self.streaming:
            self._status(F.STATUS_ERROR, "RATE while streaming: STOP first")
            return
        try:
            rate_hz = int(arg)
        except ValueError:
            rate_hz = -1
        if rate_hz not in self.board.rates_hz:
            self._status(F.STATUS_ERROR, "unsupported rate")
            return
        self.rate_hz = rate_hz
        self._status(F.STATUS_OK, "RATE " + str(rate_hz))

    def start(self):
        if self.streaming:
            self._status(F.STATUS_ERROR, "already streaming")
            return
        self.sampler.reset()
        self.frames_sent = 0
        self.short_writes = 0
        self.saturated_frames = 0
        self.flat_frames = 0
        self._reported_lost = 0
        self._stats_frames = max(1, self.rate_hz // self.frame_samples)  # a STATS status each second
        self._status(F.STATUS_OK, "START")
        if self.watchdog_ms and self._wdt is None:
            import machine

            self._wdt = machine.WDT(timeout=self.watchdog_ms)
        # Binary from here on: a 0x03 in the data must not raise KeyboardInterrupt.
        micropython.kbd_intr(-1)
        self.streaming = True
        self.board.start_sampling(self.rate_hz, self.sampler)

    def stop(self):
        if self.streaming:
            self.board.stop_sampling()
            self._flush_frames(final=True)
            self.streaming = False
            micropython.kbd_intr(3)

    def _poll_commands(self, timeout_ms):
        commands = self._commands
        if not commands.wait(timeout_ms):
            return
        # Read what is there without blocking; commands are short.
        while True:
            b = commands.read_byte()
            if b < 0:
                self.running = False  # host closed our input
                return
            if b == 0x0A:  # '\n' ends a command; '\r' is ignored
                if self._line_overflow:
                    self._status(F.STATUS_ERROR, "command too long")
                else:
                    self.handle_command(bytes(self._line[: self._line_len]))
                self._line_len = 0
                self._line_overflow = False
            elif b != 0x0D:
                if self._line_len < _LINE_MAX:
                    self._line[self._line_len] = b
                    self._line_len += 1
                else:
                    self._line_overflow = True
            if not commands.wait(0):
                return

    # -- streaming --------------------------------------------------------
    def _flush_frames(self, final=False):
        s = self.sampler
        while True:
            available = s.pending()
            if available == 0 or (available < self.frame_samples and not final):
                return
            count = min(available, self.frame_samples)
            flags = 0
            if s.lost != self._reported_lost:
                flags |= F.FLAG_OVERFLOW
                self._reported_lost = s.lost
            s.first_time()
            length = self.writer.data(
                s.seq_hi16, s.seq_lo16, s.t_hi16, s.t_lo16, flags, self.sample_format,
                s.ring, s.ring_mask, s.first_pos(), count, s.full_scale, s.channels,
            )
            if not s.still_intact():
                s.drop(count)  # overwritten while we copied: counted, not sent
                continue
            s.advance(count)
            sent_flags = self.writer.buf[F.HEADER_BYTES + 8]
            # Counters wrap at 2**30 (310 days of frames at 2 kHz), as small ints on the boards.
            if sent_flags & F.FLAG_SATURATED:
                self.saturated_frames = wrap_add(self.saturated_frames, 1)
            if sent_flags & F.FLAG_FLAT:
                self.flat_frames = wrap_add(self.flat_frames, 1)
            if self._send(length):
                self.frames_sent = wrap_add(self.frames_sent, 1)
                if self.frames_sent % _HEARTBEAT_FRAMES == 0:
                    self.board.heartbeat()
                if self.frames_sent % self._stats_frames == 0:
                    self._send(self._counters_frame(F.STATUS_OK, _STATS_HEAD))

    def _counters_frame(self, code, head):
        """A status frame: `head`, then what the board counted since START as key=value words
        (STATS and END). Built in place, allocating nothing; returns its length."""
        s = self.sampler
        w = self.writer
        waiting = s.pending()
        # samples produced = seq + waiting, modulo 2**32, added in 16-bit halves.
        lo = s.seq_lo16 + (waiting & 0xFFFF)
        hi = (s.seq_hi16 + (waiting >> 16) + (lo >> 16)) & 0xFFFF
        overruns = self._fifo_overruns() if self._fifo_overruns is not None else 0
        o = w.put_text(w.status_begin(code), head)
        o = w.put_u32(w.put_text(o, b"frames="), self.frames_sent >> 16, self.frames_sent & 0xFFFF)
        o = w.put_u32(w.put_text(o, b" samples="), hi, lo & 0xFFFF)
        o = w.put_u32(w.put_text(o, b" lost="), s.lost >> 16, s.lost & 0xFFFF)
        o = w.put_u32(w.put_text(o, b" short_writes="), self.short_writes >> 16, self.short_writes & 0xFFFF)
        o = w.put_u32(w.put_text(o, b" fifo_overruns="), overruns >> 16, overruns & 0xFFFF)
        o = w.put_u32(w.put_text(o, b" saturated="), self.saturated_frames >> 16, self.saturated_frames & 0xFFFF)
        o = w.put_u32(w.put_text(o, b" flat="), self.flat_frames >> 16, self.flat_frames & 0xFFFF)
        return w.status_end(o)

    def counters(self):
        """The counters' text, as STATS and END carry it (tests; overwrites the writer's buffer)."""
        n = self._counters_frame(F.STATUS_OK, b"")
        return bytes(self.writer.buf[F.HEADER_BYTES + 1 : n - F.CRC_BYTES]).decode()

    def _end_of_signal(self):
        self.stop()
        self._send(self._counters_frame(F.STATUS_END, b""))
        if self.board.exit_on_end:
            self.running = False

    def run(self):
        self.send_hello()
        while self.running:
            if self._wdt is not None:
                self._wdt.feed()
            self.board.service()
            if self.streaming:
                self._poll_commands(0)
                if self.streaming:
                    self._flush_frames()
                    if self.board.finished():
                        self._end_of_signal()
                    else:
                        self.board.idle()
            else:
                self._poll_commands(50)
        micropython.kbd_intr(3)
