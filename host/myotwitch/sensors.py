"""The EMG sensors a board can carry, with the gain each applies from the electrodes to the ADC pin.

The gain turns ADC counts into µV at the skin, so a wrong one makes every amplitude in a report wrong by
the same factor. It is stored on the board (`SENSOR c name gain`, docs/protocol.md) by
`myotwitch flash --sensor NAME` or `myotwitch live --sensor NAME`, and the board reports it in its hello.
Each gain below is the maker's published figure, cited beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from myotwitch.errors import MyotwitchError


@dataclass(frozen=True)
class Sensor:
    name: str  # as stored on the board and given to --sensor
    label: str
    gain: float  # electrodes to ADC pin, V/V
    source: str  # where the gain is published


SENSORS: dict[str, Sensor] = {s.name: s for s in (
    Sensor("myoware2", "MyoWare 2.0 Muscle Sensor, RAW output (SparkFun DEV-21265)", 200.0,
           "SparkFun, Getting Started with the MyoWare 2.0 Muscle Sensor Ecosystem, 'Amplifiers and "
           "Adjustable Gain' (https://learn.sparkfun.com/tutorials/getting-started-with-the-myoware-20-muscle-"
           "sensor-ecosystem): RAW is the amplified, band-passed signal before rectification; 200 is the figure "
           "hardware/README.md gives for RAW (the excerpt read for this table did not show the number itself)"),
    Sensor("oymotion", "DFRobot / OYMotion Analog EMG Sensor (SEN0240)", 1000.0,
           "DFRobot wiki, SEN0240: 'amplifies minimal sEMG within ±1.5mV 1000 times', output centred at "
           "1.5 V (https://wiki.dfrobot.com/Analog_EMG_Sensor_by_OYMotion_SKU_SEN0240)"),
    Sensor("bioamp", "Upside Down Labs Muscle BioAmp Candy / BisCute", 2420.0,
           "Upside Down Labs, Muscle-BioAmp-Candy and Muscle-BioAmp-BisCute READMEs: 'a fixed gain of x2420 "
           "and BandPass filter of 72Hz - 720Hz' (https://github.com/upsidedownlabs/Muscle-BioAmp-Candy)"),
)}

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
    return [f"SENSOR {c} {s.name} {s.gain:g}" for c, s in enumerate(sensor(n) for n in names)]


def settings_file_text(names: list[str]) -> str:
    """What the board keeps in sensors.txt for these sensors (firmware/lib/mtw_settings.py reads it)."""
    return "".join(f"{c} {s.name} {s.gain:g}\n" for c, s in enumerate(sensor(n) for n in names))


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
