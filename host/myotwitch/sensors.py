"""Storing a sensor on the board: the SENSOR commands and the board's sensors.txt, from one sensor table.

The gain turns ADC counts into µV at the skin, so a wrong one makes every amplitude in a report wrong by
the same factor. It is stored on the board (`SENSOR c name gain`, docs/protocol.md) by
`myotwitch flash --sensor NAME` or `myotwitch live --sensor NAME`, and the board reports it in its hello.
The sensors and their published gains, with sources, are `myotwitch.builds.SENSORS` (one table for
`check`, the first-board guide and this).
"""

from __future__ import annotations

from myotwitch.builds import SENSORS, Sensor
from myotwitch.errors import MyotwitchError

__all__ = [
    "MAX_SENSOR_CHANNELS",
    "SENSORS",
    "sensor",
    "sensor_commands",
    "settings_file_text",
    "unset_sensor_warning",
    "uv_per_count",
]

MAX_SENSOR_CHANNELS = 8


def sensor(name: str) -> Sensor:
    try:
        return SENSORS[name]
    except KeyError:
        raise MyotwitchError(f"unknown sensor {name!r}: one of {', '.join(SENSORS)}") from None


def sensor_commands(names: list[str]) -> list[str]:
    """The board commands that store these sensors on channels 0, 1, ...: `SENSOR c name gain`."""
    if len(names) > MAX_SENSOR_CHANNELS:
        raise MyotwitchError(f"{len(names)} sensors given: a board has at most {MAX_SENSOR_CHANNELS} channels")
    return [f"SENSOR {c} {s.key} {s.gain:g}" for c, s in enumerate(sensor(n) for n in names)]


def settings_file_text(names: list[str]) -> str:
    """What the board keeps in sensors.txt for these sensors (firmware/lib/mtw_settings.py reads it)."""
    return "".join(f"{c} {s.key} {s.gain:g}\n" for c, s in enumerate(sensor(n) for n in names))


def uv_per_count(gain: float, adc_bits: int = 12, vref_mv: float = 3300.0) -> float:
    """The resolution at the electrodes: one ADC count in µV (MyoWare 2.0 on a Pico: 4.03 µV)."""
    return vref_mv * 1000.0 / (1 << adc_bits) / gain


def unset_sensor_warning(sensors: tuple[str, ...], gains: tuple[float, ...]) -> str | None:
    """One line for a board whose hello names no sensor on some channel, else None."""
    missing = [c for c, name in enumerate(sensors) if name == "none"] if sensors else list(range(len(gains) or 1))
    if not missing:
        return None
    which = "channel " + ", ".join(str(c) for c in missing) if sensors else "its channel"
    return (f"warning: the board has no sensor stored for {which}: µV assume its default gain "
            f"({', '.join(f'{gains[c]:g}' for c in missing if c < len(gains)) or '?'}), so every amplitude "
            f"depends on it; set it with --sensor {'|'.join(SENSORS)}")
