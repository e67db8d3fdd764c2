"""The stream's clock: the board's sample counter, anchored to the host's clock.

Each data frame's arrival (host monotonic seconds) is paired with the stream
index just after its last sample. A least-squares line through those pairs,
per connection, gives the effective sampling rate in samples per host second:
a board crystal off by 0.1 % shows as 1001 Hz at 1000 Hz nominal, a replay at
speed 10 as 10x the nominal rate. Arrival jitter (USB polling, scheduling)
averages out over the line.
"""

from __future__ import annotations

from dataclasses import dataclass

_MIN_SPAN_S = 2.0  # shorter fits are dominated by arrival jitter


@dataclass
class _Fit:
    """Running sums for t = a + b * index over one connection, centred on the first pair."""

    index0: int
    t0_s: float
    n: int = 0
    si: float = 0.0
    st: float = 0.0
    sii: float = 0.0
    sit: float = 0.0
    last_index: int = 0
    last_t_s: float = 0.0

    def add(self, index: int, t_s: float) -> None:
        i, t = float(index - self.index0), t_s - self.t0_s
        self.n += 1
        self.si += i
        self.st += t
        self.sii += i * i
        self.sit += i * t
        self.last_index, self.last_t_s = index, t_s

    @property
    def span_s(self) -> float:
        return self.last_t_s - self.t0_s

    def rate_hz(self) -> float | None:
        if self.n < 3 or self.span_s < _MIN_SPAN_S:
            return None
        var = self.n * self.sii - self.si * self.si
        if var <= 0:
            return None
        slope = (self.n * self.sit - self.si * self.st) / var  # host seconds per sample
        return 1.0 / slope if slope > 0 else None


class StreamClock:
    def __init__(self, nominal_rate_hz: float) -> None:
        self.nominal_rate_hz = float(nominal_rate_hz)
        self._fits: list[_Fit] = []
        self._new_line = True

    def connected(self) -> None:
        """A new connection starts: its arrivals get their own line (the board's counter restarted)."""
        self._new_line = True

    def frame(self, end_index: int, arrival_s: float) -> None:
        """A frame whose last sample has stream index end_index - 1 arrived at arrival_s."""
        if self._new_line:
            self._fits.append(_Fit(end_index, arrival_s))
            self._new_line = False
        self._fits[-1].add(end_index, arrival_s)

    @property
    def last_arrival_s(self) -> float | None:
        return self._fits[-1].last_t_s if self._fits else None

    def effective_rate_hz(self) -> float | None:
        """Samples per host second, weighted by each connection's span; None until 2 s of stream."""
        rates = [(r, f.span_s) for f in self._fits if (r := f.rate_hz()) is not None]
        if not rates:
            return None
        return sum(r * w for r, w in rates) / sum(w for _, w in rates)

    def rate_for_gaps_hz(self) -> float:
        return self.effective_rate_hz() or self.nominal_rate_hz


class DeviceClock:
    """The board's own clock: each data frame's device time (µs, modulo 2**32) against its stream index.

    Measures what the sample counter cannot show: a soft timer that drops ticks
    keeps the counter contiguous while device time runs on, so the effective
    rate in samples per device second falls below nominal; late or early
    frames show as jitter. Per connection, since a restarted board restarts
    its clock.
    """

    def __init__(self, nominal_rate_hz: float) -> None:
        self.nominal_rate_hz = float(nominal_rate_hz)
        # The same per-connection line fit as the host's clock, over device seconds instead.
        self._fit = StreamClock(nominal_rate_hz)
        self._last: tuple[int, int] | None = None  # (stream index, unwrapped µs) of the previous frame
        self.frames = 0
        self.max_jitter_us = 0.0  # largest |device interval - samples / nominal rate| between frames
        self._sum_sq_jitter_us = 0.0

    def connected(self) -> None:
        self._fit.connected()
        self._last = None

    def frame(self, start_index: int, t_us: int) -> None:
        """A frame whose first sample (stream index start_index) the board timed at t_us."""
        if self._last is None:
            unwrapped = t_us
        else:
            last_index, last_us = self._last
            unwrapped = last_us + ((t_us - last_us) & 0xFFFFFFFF)
            jitter = (unwrapped - last_us) - (start_index - last_index) * 1e6 / self.nominal_rate_hz
            self.max_jitter_us = max(self.max_jitter_us, abs(jitter))
            self._sum_sq_jitter_us += jitter * jitter
            self.frames += 1
        self._fit.frame(start_index, unwrapped / 1e6)
        self._last = (start_index, unwrapped)

    def effective_rate_hz(self) -> float | None:
        """Samples per device second, weighted by each connection's span; None until 2 s of stream."""
        return self._fit.effective_rate_hz()

    def rms_jitter_us(self) -> float | None:
        return None if not self.frames else (self._sum_sq_jitter_us / self.frames) ** 0.5
