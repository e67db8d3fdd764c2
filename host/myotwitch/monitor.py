"""The detection pipeline shared by demo, live and analyze: blocks in, typed events out.

Events stay the detector's dataclasses, on absolute sample indices (see
`events.py`): Twitch, Rejected, ActivitySegment, SignalIssue, and the
Episodes the grouper closes. Gaps are made by the callers, who know why
samples are missing. `serialize.py` turns events into JSON, rows and
annotations at the edges.
"""

from __future__ import annotations

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

    def feed(self, block: SampleBlock) -> list[Event]:
        self.samples += len(block.samples_uv)
        self.lost_samples += block.lost_before
        events = self._events(self.detector.process(block.start_index, block.samples_uv))
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
