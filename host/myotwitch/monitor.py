"""The detection pipeline shared by demo, live and analyze: blocks in, typed events out.

Events stay the detector's dataclasses, on absolute sample indices (see
`events.py`): Twitch, Rejected, ActivitySegment, SignalIssue, and the
Episodes the grouper closes. Gaps are made by the callers, who know why
samples are missing. `serialize.py` turns events into JSON, rows and
annotations at the edges.
"""

from __future__ import annotations

from myotwitch.dsp.channels import ChannelEvent, ChannelRules, ChannelRulesConfig
from myotwitch.dsp.conditioning import Conditioned
from myotwitch.dsp.detector import (
    ActivitySegment,
    DetectorConfig,
    SignalIssue,
    Twitch,
    TwitchDetector,
)
from myotwitch.episodes import Episode, EpisodeConfig, EpisodeGrouper
from myotwitch.events import Event
from myotwitch.sources import SampleBlock


class Monitor:
    def __init__(self, rate_hz: float, detector: DetectorConfig = DetectorConfig(),
                 episodes: EpisodeConfig = EpisodeConfig()) -> None:
        self.rate_hz = float(rate_hz)
        self.detector = TwitchDetector(rate_hz, detector)
        self.grouper = EpisodeGrouper(self.rate_hz, episodes)
        self.episodes = 0
        self.activity_segments = 0
        self.samples = 0
        self.lost_samples = 0
        self._skipped_samples: dict[str, int] = {}  # by kind of signal issue (flat: lead off)

    @property
    def twitches(self) -> int:
        return self.detector.stats.twitches

    @property
    def skipped_s(self) -> dict[str, float]:
        """Seconds of signal where nothing could be detected, by kind of signal issue."""
        return {kind: samples / self.rate_hz for kind, samples in self._skipped_samples.items()}

    def feed(self, block: SampleBlock, conditioned: Conditioned | None = None) -> list[Event]:
        """`conditioned`: `self.detector.condition(...)` of this block, if made ahead (analysis.py's read-ahead)."""
        self.samples += len(block.samples_uv)
        self.lost_samples += block.lost_before
        detected = (self.detector.process(block.start_index, block.samples_uv) if conditioned is None
                    else self.detector.consume(conditioned))
        events = self._events(detected)
        # Only time that no later twitch can fall into closes an episode.
        return events + self._episodes(self.grouper.advance(self.detector.settled_index))

    def finish(self) -> list[Event]:
        return self._events(self.detector.flush()) + self._episodes(self.grouper.flush())

    def summary(self) -> dict:
        return {
            "twitches": self.twitches,
            "episodes": self.episodes,
            "activity_segments": self.activity_segments,
            "rejected": {str(reason): n for reason, n in sorted(self.detector.stats.rejected.items())},
            "noise_uv": None if self.detector.noise_uv is None else round(self.detector.noise_uv, 3),
            "mains_hz": list(self.detector.mains_hz or ()),
            "skipped_s": {k: round(v, 3) for k, v in self.skipped_s.items()},
        }

    def _events(self, detected: list) -> list[Event]:
        events: list[Event] = []
        for d in detected:
            if isinstance(d, Twitch):
                events += self._episodes(self.grouper.add(d.peak_index, d.peak_uv))
            elif isinstance(d, ActivitySegment):
                self.activity_segments += 1
            elif isinstance(d, SignalIssue):
                self._skipped_samples[d.kind] = self._skipped_samples.get(d.kind, 0) + d.end_index + 1 - d.start_index
            events.append(d)
        return events

    def _episodes(self, episodes: list[Episode]) -> list[Event]:
        self.episodes += len(episodes)
        return list(episodes)


class MultiMonitor:
    """Several channels: one Monitor's detector and grouper per channel, the cross-channel rules between.

    `feed(blocks)` takes one block per channel (None for a channel with nothing new); events come out as
    ChannelEvents. A channel's twitches reach its episode grouper only once the rules (dsp/channels.py)
    have decided them against the other channels, so its episodes count twitches of its own muscle.
    """

    def __init__(self, rate_hz: float, muscles: list[str], detector: DetectorConfig | None = None,
                 episodes: EpisodeConfig | None = None, rules: ChannelRulesConfig | None = None) -> None:
        self.rate_hz = float(rate_hz)
        self.muscles = list(muscles)
        self.channels = [Monitor(rate_hz, detector or DetectorConfig(), episodes or EpisodeConfig()) for _ in muscles]
        self.rules = ChannelRules(rate_hz, len(muscles), rules or ChannelRulesConfig())

    def feed(self, blocks: list[SampleBlock | None]) -> list[ChannelEvent]:
        out: list[ChannelEvent] = []
        for c, (monitor, block) in enumerate(zip(self.channels, blocks, strict=True)):
            if block is None:
                continue
            monitor.samples += len(block.samples_uv)
            monitor.lost_samples += block.lost_before
            detected = monitor.detector.process(block.start_index, block.samples_uv)
            self.rules.feed(c, block.start_index, block.samples_uv, detected)
            out += self._tagged(c, monitor._events([d for d in detected if not isinstance(d, Twitch)]))
        settled = [m.detector.settled_index for m in self.channels]
        out += self._decided(self.rules.decide(settled))
        # Every twitch before the rules' frontier has reached its grouper: time before it closes episodes.
        for c, monitor in enumerate(self.channels):
            out += self._tagged(c, monitor._episodes(monitor.grouper.advance(
                min(settled[c], self.rules.frontier_index))))
        return out

    def finish(self) -> list[ChannelEvent]:
        out: list[ChannelEvent] = []
        for c, monitor in enumerate(self.channels):
            detected = monitor.detector.flush()
            self.rules.hold(c, detected)
            out += self._tagged(c, monitor._events([d for d in detected if not isinstance(d, Twitch)]))
        out += self._decided(self.rules.flush())
        for c, monitor in enumerate(self.channels):
            out += self._tagged(c, monitor._episodes(monitor.grouper.flush()))
        return out

    def summary(self) -> dict:
        """Totals over the channels and each channel's summary (with its muscle's nerve and roots) under
        "channels": what analyze of a multi-signal file and a live session of a multi-channel board print.

        Time with signal is the fullest channel's (its samples and lost samples), so a rate per minute of
        signal stays one; each channel's own counts are in its entry."""
        channels = self.summaries()
        for s in channels:
            s.update(muscle_fields(s["muscle"]))
        fullest = max(self.channels, key=lambda m: m.samples)
        return {
            "seconds": round((fullest.samples + fullest.lost_samples) / self.rate_hz, 3),
            "samples": fullest.samples,
            "lost_samples": fullest.lost_samples,
            "twitches": sum(s["twitches"] for s in channels),
            "episodes": sum(s["episodes"] for s in channels),
            "activity_segments": sum(s["activity_segments"] for s in channels),
            "channels": channels,
        }

    def summaries(self) -> list[dict]:
        """Each channel's summary, as Monitor.summary, with the twitches and rejections after the rules."""
        out = []
        for c, monitor in enumerate(self.channels):
            s = monitor.summary()
            rejected = dict(s["rejected"])
            for reason, n in self.rules.rejected[c].items():
                rejected[reason] = rejected.get(reason, 0) + n
            s["twitches"] = self.rules.twitches[c]
            s["rejected"] = dict(sorted(rejected.items()))
            out.append({"channel": c, "muscle": self.muscles[c], "samples": monitor.samples,
                        "lost_samples": monitor.lost_samples, **s})
        return out

    def _decided(self, decided: list[ChannelEvent]) -> list[ChannelEvent]:
        out: list[ChannelEvent] = []
        for d in decided:
            out += self._tagged(d.channel, self.channels[d.channel]._events([d.event]))
        return out

    def _tagged(self, channel: int, events: list[Event]) -> list[ChannelEvent]:
        return [ChannelEvent(channel, e, self.muscles[channel]) for e in events]


def muscle_fields(name: str) -> dict:
    """The muscle as named, and the nerve and roots that supply it where the table knows it."""
    from myotwitch.anatomy import placement

    known = placement(name).muscle
    return {"muscle": name, "nerve": known.nerve if known else None, "roots": known.roots if known else None}
