"""The detection pipeline shared by demo, live and analyze: blocks in, events out.

Events are plain dicts with a "type", in seconds from the first sample and
µV, ready for JSON lines, the store or the screen:
  twitch    a counted fasciculation-like potential (t_s is its peak)
  rejected  a candidate that is not counted, with the reason
  activity  a segment of sustained activity (voluntary contraction, cramp or spasm)
  signal    a part of the signal where nothing could be detected (flat: lead off)
  episode   a bout of twitches
  gap       samples missing from the stream (made by the callers, who know why)
"""

from __future__ import annotations

from myotwitch.dsp.detector import (
    ActivitySegment,
    DetectorConfig,
    Rejected,
    SignalIssue,
    Twitch,
    TwitchDetector,
)
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
        "doublet_ms": None if t.doublet_interval_samples is None
        else round(t.doublet_interval_samples * 1000.0 / rate_hz, 1),
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


def gap_event(first_index: int, samples: int, rate_hz: float, why: str) -> dict:
    """Samples missing from the stream (counted as lost, never filled in), and why."""
    return {"type": "gap", "start_s": round(first_index / rate_hz, 4),
            "end_s": round((first_index + samples) / rate_hz, 4), "samples": samples, "why": why}


def other_event(e, rate_hz: float) -> dict:
    if isinstance(e, Rejected):
        return {"type": "rejected", "t_s": round(e.peak_index / rate_hz, 4), "peak_uv": round(e.peak_uv, 2),
                "reason": e.reason}
    if isinstance(e, ActivitySegment):
        return {"type": "activity", "start_s": round(e.start_index / rate_hz, 4),
                "end_s": round((e.end_index + 1) / rate_hz, 4),
                "duration_s": round((e.end_index - e.start_index + 1) / rate_hz, 3),
                "mean_envelope_uv": round(e.mean_envelope_uv, 2), "peak_envelope_uv": round(e.peak_envelope_uv, 2),
                "cramp_candidate": e.cramp_candidate}
    if isinstance(e, SignalIssue):
        return {"type": "signal", "kind": e.kind, "start_s": round(e.start_index / rate_hz, 4),
                "end_s": round((e.end_index + 1) / rate_hz, 4)}
    raise TypeError(type(e))


class Monitor:
    def __init__(self, rate_hz: float, detector: DetectorConfig = DetectorConfig(),
                 episodes: EpisodeConfig = EpisodeConfig()) -> None:
        self.rate_hz = float(rate_hz)
        self.detector = TwitchDetector(rate_hz, detector)
        self.grouper = EpisodeGrouper(episodes)
        self.episodes = 0
        self.activity_segments = 0
        self.samples = 0
        self.lost_samples = 0
        self.skipped_s: dict[str, float] = {}

    @property
    def twitches(self) -> int:
        return self.detector.stats.twitches

    def feed(self, block: SampleBlock) -> list[dict]:
        self.samples += len(block.samples_uv)
        self.lost_samples += block.lost_before
        events = self._events(self.detector.process(block.start_index, block.samples_uv))
        # Only time that no later twitch can fall into closes an episode.
        return events + self._episodes(self.grouper.advance(self.detector.settled_index / self.rate_hz))

    def finish(self) -> list[dict]:
        return self._events(self.detector.flush()) + self._episodes(self.grouper.flush())

    def summary(self) -> dict:
        return {
            "twitches": self.twitches,
            "episodes": self.episodes,
            "activity_segments": self.activity_segments,
            "rejected": dict(sorted(self.detector.stats.rejected.items())),
            "noise_uv": None if self.detector.noise_uv is None else round(self.detector.noise_uv, 3),
            "mains_hz": list(self.detector.mains_hz or ()),
            "skipped_s": {k: round(v, 3) for k, v in self.skipped_s.items()},
        }

    def _events(self, detected: list) -> list[dict]:
        events = []
        for d in detected:
            if isinstance(d, Twitch):
                event = twitch_event(d, self.rate_hz)
                events += self._episodes(self.grouper.add(event["t_s"], d.peak_uv))
                events.append(event)
                continue
            event = other_event(d, self.rate_hz)
            if event["type"] == "activity":
                self.activity_segments += 1
            elif event["type"] == "signal":
                self.skipped_s[event["kind"]] = self.skipped_s.get(event["kind"], 0.0) + event["end_s"] - event["start_s"]
            events.append(event)
        return events

    def _episodes(self, episodes: list[Episode]) -> list[dict]:
        self.episodes += len(episodes)
        return [episode_event(e) for e in episodes]
