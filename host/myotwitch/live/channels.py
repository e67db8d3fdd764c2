"""A board's several channels in a live session: one detector per channel and the cross-channel rules.

`LiveChannels` wraps a `MultiMonitor` (monitor.py) behind the interface the session loop uses for one
channel (`feed(block)`, `finish()`, `samples`, `lost_samples`, `twitches`, `episodes`, `summary()`),
so the loop, the batching and the recorder stay as they are; every event comes out as a ChannelEvent
naming its channel (0-based) and muscle.

Skew. A board with one ADC converts a sample set's channels in turn (the Pico's round-robin): channel c's
sample k was taken c * channel_skew_s after channel 0's (the hello says the skew; the sources put it on
each block). The cross-channel rules compare channels by absolute sample index, so channel c is fed at
index k + round(c * skew_s * rate_hz): its samples sit at the index of channel 0's sample taken nearest
in time, and its events' times are on channel 0's time base. What rounding leaves (under half a sample,
0.25 ms at 2 kHz) is inside the rules' own lag search (ChannelRulesConfig.max_skew_ms). Today's boards
convert a set within one sample (skew 1/(N x rate)), so for 3 channels the shift is 0, 0 and 1 samples.
"""

from __future__ import annotations

from myotwitch.errors import MyotwitchError
from myotwitch.events import Event
from myotwitch.monitor import MultiMonitor
from myotwitch.sources import SampleBlock


def skew_shifts(channels: int, skew_s: float, rate_hz: float) -> list[int]:
    """The index shift (samples) that puts each channel's samples on channel 0's time base."""
    return [round(c * skew_s * rate_hz) for c in range(channels)]


def channel_names(channels: int, muscles: list[str] | None, labels: list[str] | None = None) -> list[str]:
    """One muscle name per channel: the ones given, else the recording's signal labels, else 'channel C'.
    A count that does not match the board's channels is a MyotwitchError."""
    if muscles:
        if len(muscles) != channels:
            raise MyotwitchError(f"{len(muscles)} muscle{'' if len(muscles) == 1 else 's'} named for a board "
                                 f"streaming {channels} channels: give one --muscle per channel, in order")
        return list(muscles)
    if labels and len(labels) == channels:
        return list(labels)
    return [f"channel {c}" for c in range(channels)]


class LiveChannels:
    """Blocks of a multi-channel board in, ChannelEvents out (see the module's docstring)."""

    def __init__(self, rate_hz: float, muscles: list[str], skew_s: float = 0.0) -> None:
        try:
            self.multi = MultiMonitor(rate_hz, muscles)
        except ValueError as exc:  # an unsupported rate
            raise MyotwitchError(str(exc)) from None
        self.rate_hz = float(rate_hz)
        self.muscles = list(muscles)
        self.shifts = skew_shifts(len(muscles), skew_s, rate_hz)

    @property
    def channels(self) -> int:
        return len(self.muscles)

    def channel_monitor(self, channel: int):
        """Channel `channel`'s Monitor (its detector's noise floor and mains, its open episode), for the views."""
        return self.multi.channels[channel]

    # The one-channel views read a Monitor's detector (noise floor, mains) and grouper (the open episode):
    # they get channel 0's.
    @property
    def detector(self):
        return self.multi.channels[0].detector

    @property
    def grouper(self):
        return self.multi.channels[0].grouper

    @property
    def samples(self) -> int:  # the fullest channel's, as MultiMonitor.summary counts the time with signal
        return max(self.multi.channels, key=lambda m: m.samples).samples

    @property
    def lost_samples(self) -> int:
        return max(self.multi.channels, key=lambda m: m.samples).lost_samples

    @property
    def twitches(self) -> int:
        return sum(self.multi.rules.twitches)

    @property
    def episodes(self) -> int:
        return sum(m.episodes for m in self.multi.channels)

    def feed(self, block: SampleBlock) -> list[Event]:
        rows = block.per_channel()
        if len(rows) != self.channels:
            raise MyotwitchError(f"a block of {len(rows)} channels in a session of {self.channels}")
        shifted: list[SampleBlock | None] = [
            row if shift == 0 else SampleBlock(row.start_index + shift, row.samples_uv, row.lost_before)
            for row, shift in zip(rows, self.shifts, strict=True)]
        return list(self.multi.feed(shifted))

    def finish(self) -> list[Event]:
        return list(self.multi.finish())

    def summary(self) -> dict:
        """Totals and one entry per channel under "channels", as analyze's summary of a multi-signal file."""
        return self.multi.summary()
