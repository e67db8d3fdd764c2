"""What the detector reports: one class per event, typed until the edges (output, store, recorder, LSL)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Reason(enum.StrEnum):
    """Why a candidate is not counted as a twitch. The values are the strings written to JSON, the store and
    the annotations: a StrEnum compares equal to them and serialises as them."""

    ACTIVITY = "activity"
    DENSE = "dense firing"
    CONTINUAL = "continual firing"
    ECHO = "echo"
    DOUBLET_SECOND = "doublet second"
    POP = "artifact: electrode pop"
    MOTION = "artifact: motion"
    CLIPPING = "artifact: clipping"
    ECG = "artifact: ECG-like"
    LONG = "too long for a twitch"
    BURST = "burst of activity"
    # Across channels (dsp/channels.py): one potential on every channel at once, or a smaller copy of it.
    COMMON_MODE = "artifact: common-mode"
    CROSSTALK = "crosstalk"


ARTIFACTS = (Reason.POP, Reason.MOTION, Reason.CLIPPING)
NOT_IN_ECG_CHAINS = (Reason.ECHO, Reason.DOUBLET_SECOND)  # no heart beat of their own
NOT_DISCHARGES = ARTIFACTS + NOT_IN_ECG_CHAINS  # not a motor unit firing, for the continual-firing rule


@dataclass(frozen=True)
class Twitch:
    peak_index: int
    onset_index: int  # first sample above the delimit threshold
    end_index: int  # last sample above it
    peak_uv: float  # largest absolute excursion of the filtered signal
    noise_uv: float  # noise sigma when it was detected
    doublet_interval_samples: int | None = None  # a second discharge followed this soon

    @property
    def snr(self) -> float:
        return self.peak_uv / self.noise_uv if self.noise_uv > 0 else float("inf")

    def duration_ms(self, rate_hz: float) -> float:
        return (self.end_index - self.onset_index + 1) * 1000.0 / rate_hz


@dataclass(frozen=True)
class Rejected:
    """A candidate that is not counted, and why."""

    peak_index: int
    peak_uv: float
    reason: Reason


@dataclass(frozen=True)
class ActivitySegment:
    start_index: int
    end_index: int
    mean_envelope_uv: float
    peak_envelope_uv: float
    cramp_candidate: bool  # sustained long enough to be a cramp or a spasm (or a held contraction)


@dataclass(frozen=True)
class SignalIssue:
    """Part of the signal that is not usable EMG: flat (lead off; skipped) or clipped (at the ADC's rails)."""

    kind: str
    start_index: int
    end_index: int


@dataclass
class DetectorStats:
    samples: int = 0
    candidates: int = 0
    twitches: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # keys: Reason
    gaps: int = 0
    flat_samples: int = 0
