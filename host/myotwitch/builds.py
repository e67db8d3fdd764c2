"""What a build (sensor board x microcontroller) can resolve: µV per ADC count, and the noise floor to expect.

Every figure here is either a maker's published number (cited in SOURCES) or
computed from them; what no source gives is None and is said to be unknown.
hardware/first-board.md prints markdown_table(); `myotwitch check` compares a
measured noise floor with expected_floor_uv().
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Sensor:
    key: str
    name: str
    gain: float  # voltage gain from the electrodes to the output the ADC reads
    source: str  # where the gain is published
    note: str = ""


@dataclass(frozen=True)
class Board:
    key: str
    name: str
    adc_bits: int
    full_scale_mv: float  # the input voltage of the top code, as the firmware reports it (vref_mv)
    # ADC noise with a quiet input, in counts RMS: (best, worst) from a measurement, None where no source has one.
    adc_noise_counts_rms: tuple[float, float] | None
    source: str
    note: str = ""


SENSORS: dict[str, Sensor] = {
    s.key: s
    for s in (
        Sensor("myoware2", "MyoWare 2.0, RAW output", 200.0,
               "Advancer Technologies, MyoWare 2.0 Advanced Guide, last page: the RAW output has a gain of 200 "
               "(quoted by the maker, reddit.com/r/MyoWare/comments/158fn58, 2023-07-24)"),
        Sensor("oymotion", "DFRobot / OYMotion Analog EMG (SEN0240)", 1000.0,
               "wiki.dfrobot.com/Analog_EMG_Sensor_by_OYMotion_SKU_SEN0240: amplifies ±1.5 mV 1000 times, "
               "output 0-3.0 V around 1.5 V"),
        Sensor("bioamp", "Upside Down Labs Muscle BioAmp Candy / BisCute", 2420.0,
               "github.com/upsidedownlabs/Muscle-BioAmp-Candy (and -BisCute) README: fixed gain x2420, "
               "band-pass 72-720 Hz",
               note="its 720 Hz upper corner is above 500 Hz: sample at 2000 Hz, or 500-720 Hz folds into the band"),
    )
}

# The rest floor of skin, electrodes and a sensor's front end, before the ADC: what myotwitch's detector
# measures on the bundled real forearm rest recording (host/myotwitch/data/demo_forearm_rest.edf: 1.42 µV,
# README). Real builds will differ with skin, electrodes and sensor; it is the figure this project has measured.
BODY_FLOOR_UV = 1.4

BOARDS: dict[str, Board] = {
    b.key: b
    for b in (
        Board("pico", "Pico (RP2040)", 12, 3300.0, (0.97, 1.36),
              "RP2040 ADC with the input shorted: 0.97 counts RMS (power-save mode), 1.36 (PWM mode), "
              "pico-adc.markomo.me (2021); 3.3 V ADC_VREF on the Pico"),
        Board("pico2", "Pico 2 (RP2350)", 12, 3300.0, (0.97, 1.36),
              "no measurement found for the RP2350: taken as the RP2040's (unverified)"),
        Board("esp32", "ESP32 DevKitC, ADC1 at ATTN_11DB", 12, 3300.0, None,
              "Espressif publishes no ADC noise figure; esp-idf driver/adc.h: at 11 dB the full scale is about "
              "3.9 V (chip to chip), linear about 150-2450 mV",
              note="the firmware reports 3.3 V full scale; esp-idf's 11 dB full scale is nearer 3.9 V, so µV "
                   "would read about 15 % low until the board's own scale is calibrated (read_uv)"),
        Board("sim", "simulated board (MicroPython Unix port)", 12, 3300.0, (0.0, 0.0),
              "myotwitch.sources.simboard: an ideal 12-bit 3.3 V ADC, quantization only"),
    )
}

# Board names in the firmware's hello frame -> a row here (a Pico and a Pico 2 both say rp2: same ADC figures).
HELLO_BOARDS = {"rp2": "pico", "esp32": "esp32", "sim": "sim"}


def uv_per_count(sensor_gain: float, board: Board) -> float:
    """µV at the electrodes per ADC count: full scale over 2**bits, over the sensor's gain."""
    return board.full_scale_mv * 1000.0 / (1 << board.adc_bits) / sensor_gain


def input_range_uv(sensor_gain: float, board: Board) -> float:
    """± µV at the electrodes before the ADC clips, for an output centred at mid-scale."""
    return board.full_scale_mv * 1000.0 / 2 / sensor_gain


def expected_floor_uv(sensor_gain: float, board: Board, body_uv: float = BODY_FLOOR_UV) -> tuple[float, float | None]:
    """The noise floor to expect (best, worst) in µV: the body's floor and the ADC's noise added in power.

    The ADC's noise is at least quantization's 1/sqrt(12) count. Worst is None where the ADC's noise is unknown.
    """
    step_uv = uv_per_count(sensor_gain, board)
    quantization = 1 / math.sqrt(12)
    if board.adc_noise_counts_rms is None:
        return math.hypot(body_uv, quantization * step_uv), None
    low, high = (max(c, quantization) * step_uv for c in board.adc_noise_counts_rms)
    return math.hypot(body_uv, low), math.hypot(body_uv, high)


def markdown_table(boards: tuple[str, ...] = ("pico", "pico2", "esp32")) -> str:
    """The resolution and noise-floor table of hardware/first-board.md, computed."""
    header = ("| sensor (gain) | board | µV per count | range at the electrodes | 5 µV twitch in counts "
              "| expected noise floor |")
    lines = [header,
             "|---|---|---|---|---|---|"]
    for sensor in SENSORS.values():
        for key in boards:
            board = BOARDS[key]
            step = uv_per_count(sensor.gain, board)
            best, worst = expected_floor_uv(sensor.gain, board)
            floor = f"{best:.1f}-{worst:.1f} µV" if worst is not None else f"≥ {best:.1f} µV (ADC noise unknown)"
            lines.append(f"| {sensor.name} ({sensor.gain:g}) | {board.name} | {step:.2f} "
                         f"| ±{input_range_uv(sensor.gain, board):,.0f} µV | {5 / step:.1f} | {floor} |")
    return "\n".join(lines)
