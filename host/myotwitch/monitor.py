"""The detection pipeline shared by demo, live and analyze: blocks in, events out.

Events are plain dicts with a "type" ("twitch" or "episode"), in seconds
from the first sample and µV, ready for JSON lines, the store or the screen.
"""

from __future__ import annotations

from myotwitch.dsp.detector import DetectorConfig, Twitch, TwitchDetector
from myotwitch.episodes import Episode, EpisodeConfig, EpisodeGrouper
from myotwitch.sources import SampleBlock


def twitch_event(t: Twitch, rate_hz: float) -> dict:
    return {
        "type": "twitch",
        "t_s": round(t.peak_index / rate_hz, 4),
        "onset_s": round(t.onset_index / rate_hz, 4),
        "duration_ms": round(t.duration_ms(rate_hz), 2),
        "peak_uv": round(t.peak_uv, 2),
        "snr": round(t.snr, 2),
        "noise_uv": round(t.noise_uv, 3),
    }


def episode_event(e: Episode) -> dict:
    return {
        "type": "episode",
        "start_s": round(e.start_s, 4),
        "end_s": round(e.end_s, 4),
        "count": e.count,
        "rate_per_min": round(e.rate_per_min, 2),
        "median_peak_uv": round(e.median_peak_uv, 2),
        "max_peak_uv": round(e.max_peak_uv, 2),
    }


class Monitor:
    def __init__(self, rate_hz: float, detector: DetectorConfig = DetectorConfig(),
                 episodes: EpisodeConfig = EpisodeConfig()) -> None:
        self.rate_hz = float(rate_hz)
        self.detector = TwitchDetector(rate_hz, detector)
        self.grouper = EpisodeGrouper(episodes)
        self.twitches = 0
        self.episodes = 0
        self.samples = 0
        self.lost_samples = 0

    def feed(self, block: SampleBlock) -> list[dict]:
        self.samples += len(block.samples_uv)
        self.lost_samples += block.lost_before
        events = self._twitches(self.detector.process(block.start_index, block.samples_uv))
        # Only time that no later twitch can fall into closes an episode.
        events += self._episodes(self.grouper.advance(self.detector.settled_index / self.rate_hz))
        return events

    def finish(self) -> list[dict]:
        return self._twitches(self.detector.flush()) + self._episodes(self.grouper.flush())

    def _twitches(self, twitches: list[Twitch]) -> list[dict]:
        events = []
        for t in twitches:
            event = twitch_event(t, self.rate_hz)
            events += self._episodes(self.grouper.add(event["t_s"], t.peak_uv))
            events.append(event)
            self.twitches += 1
        return events

    def _episodes(self, episodes: list[Episode]) -> list[dict]:
        self.episodes += len(episodes)
        return [episode_event(e) for e in episodes]
