"""Group twitches into episodes (bouts of twitching). Streaming, on sample indices; owns no device."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from myotwitch.dsp.streaming import medians


@dataclass(frozen=True)
class EpisodeConfig:
    # An episode closes after this much quiet: bouts of benign fasciculation
    # come in runs of seconds, with pauses of a few seconds inside a run.
    quiet_gap_s: float = 5.0
    # A lone twitch is still logged as a twitch, but a bout needs at least two.
    min_twitches: int = 2


@dataclass(frozen=True)
class Episode:
    start_index: int  # peak of the first twitch
    end_index: int  # peak of the last twitch
    count: int
    median_peak_uv: float
    max_peak_uv: float

    def rate_per_min(self, rate_hz: float) -> float:
        """Twitches per minute over the episode (count - 1 intervals over its span)."""
        span = self.end_index - self.start_index
        return 60.0 * (self.count - 1) * rate_hz / span if span > 0 else 0.0


@dataclass
class EpisodeGrouper:
    rate_hz: float
    config: EpisodeConfig = field(default_factory=EpisodeConfig)
    _peak_indices: list[int] = field(default_factory=list)
    _peaks_uv: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._quiet_samples = self.config.quiet_gap_s * self.rate_hz

    def add(self, peak_index: int, peak_uv: float) -> list[Episode]:
        """A twitch peaking at peak_index; returns an episode if this twitch came after the last one closed."""
        out = self.advance(peak_index)
        self._peak_indices.append(peak_index)
        self._peaks_uv.append(peak_uv)
        return out

    @property
    def open_twitches(self) -> tuple[int | None, int]:
        """(first peak index, twitches) of the bout still open, or (None, 0)."""
        return (self._peak_indices[0], len(self._peak_indices)) if self._peak_indices else (None, 0)

    def advance(self, now_index: int) -> list[Episode]:
        """No twitch before now_index: close the open episode once the quiet gap is over."""
        if self._peak_indices and now_index - self._peak_indices[-1] > self._quiet_samples:
            return self.flush()
        return []

    def flush(self) -> list[Episode]:
        peaks, amplitudes = self._peak_indices, self._peaks_uv
        self._peak_indices, self._peaks_uv = [], []
        if len(peaks) < self.config.min_twitches:
            return []
        # streaming.medians: np.median's value, without np.median's import of numpy.ma (8 ms of analyze's start-up)
        return [Episode(peaks[0], peaks[-1], len(peaks), float(medians(np.array(amplitudes))), float(max(amplitudes)))]
