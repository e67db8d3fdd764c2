"""Summary lines that need words around their figures, so a reader knows why two counts differ."""

from __future__ import annotations


def frames_line(frames: int, frames_sent: int | None) -> str:
    """Frames received, against the board's own count (its last STATS report, once a second, or its END)."""
    if frames_sent is None:
        return f"{frames}"
    if frames_sent == frames:
        return f"{frames} (the board sent {frames_sent})"
    if frames_sent < frames:
        return (f"{frames} (the board had counted {frames_sent} at its last report; it reports once per second of "
                "signal, so the frames of the last second are not in its count)")
    return f"{frames} (the board counted {frames_sent} sent: {frames_sent - frames} did not arrive whole)"


def rate_line(rate_hz: float, effective_rate_hz: float, speed: float | None) -> str:
    """The nominal rate, and samples per second of this computer's clock, said for what they measure."""
    measured = f"{rate_hz:g} Hz nominal, {effective_rate_hz:.2f} samples per second of this computer's clock"
    if speed == 0:
        return measured + " (replayed as fast as possible: how fast the replay ran, not a rate of the signal)"
    if speed is not None and speed != 1:
        return measured + f" (replayed at {speed:g}x: {effective_rate_hz / speed:.2f} at real-time pace)"
    return measured
