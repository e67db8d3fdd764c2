"""Group twitches into episodes (bouts of twitching). Streaming; owns no device."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class EpisodeConfig:
    # An episode closes after this much quiet: bouts of benign fasciculation
    # come in runs of seconds, with pauses of a few seconds inside a run.
    quiet_gap_s: float = 5.0
    # A lone twitch is still logged as a twitch, but a bout needs at least two.
    min_twitches: int = 2


@dataclass(frozen=True)
class Episode:
    start_s: float  # peak time of the first twitch
    end_s: float  # peak time of the last twitch
    count: int
    median_peak_uv: float
    max_peak_uv: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def rate_per_min(self) -> float:
        """Twitches per minute over the episode (count - 1 intervals over its span)."""
        return 60.0 * (self.count - 1) / self.duration_s if self.duration_s > 0 else 0.0


@dataclass
class EpisodeGrouper:
    config: EpisodeConfig = field(default_factory=EpisodeConfig)
    _times_s: list[float] = field(default_factory=list)
    _peaks_uv: list[float] = field(default_factory=list)

    def add(self, t_s: float, peak_uv: float) -> list[Episode]:
        """A twitch at t_s; returns an episode if this twitch came after the last one closed."""
        out = self.advance(t_s)
        self._times_s.append(t_s)
        self._peaks_uv.append(peak_uv)
        return out

    @property
    def open_twitches(self) -> tuple[float, int]:
        """(start s, twitches) of the bout still open, or (nan, 0)."""
        return (self._times_s[0], len(self._times_s)) if self._times_s else (float("nan"), 0)

    def advance(self, now_s: float) -> list[Episode]:
        """Time passed with no twitch: close the open episode once the quiet gap is over."""
        if self._times_s and now_s - self._times_s[-1] > self.config.quiet_gap_s:
            return self.flush()
        return []

    def flush(self) -> list[Episode]:
        times, peaks = self._times_s, self._peaks_uv
        self._times_s, self._peaks_uv = [], []
        if len(times) < self.config.min_twitches:
            return []
        return [Episode(times[0], times[-1], len(times), float(np.median(peaks)), float(max(peaks)))]
