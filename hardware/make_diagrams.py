"""Draw the wiring diagrams of both builds as SVG (schemdraw).

    .venv/bin/pip install -q schemdraw && .venv/bin/python hardware/make_diagrams.py

Writes hardware/wiring-pico-myoware.svg and hardware/wiring-esp32-oymotion.svg.
The pin assignments come from the tables in hardware/README.md and from the
firmware (firmware/boards/rp2.py ADC_PIN = 26, firmware/boards/esp32.py ADC_PIN = 34).
"""

from __future__ import annotations

from pathlib import Path

import schemdraw
import schemdraw.elements as elm

HERE = Path(__file__).resolve().parent


def box(label: str, pins: list[tuple[str, str]], side: str, at: tuple[float, float]) -> elm.Ic:
    return elm.Ic(pins=[elm.IcPin(name=name, side=side, anchorname=key) for key, name in pins],
                  edgepadW=3.2, edgepadH=0.6, pinspacing=1.2, plblsize=11).at(at).label(label, loc="top", fontsize=12)


def draw(filename: str, mcu: str, mcu_pins: list[tuple[str, str]], sens: str, sens_pins: list[tuple[str, str]],
         links: list[tuple[str, str, str, str]], note: str) -> Path:
    """Sensor on the left (pins on its right side), microcontroller on the right (pins on its left)."""
    with schemdraw.Drawing(show=False) as d:
        d.config(fontsize=11)
        sensor_box = box(sens, sens_pins, "right", (0, 0))
        d += sensor_box
        board_box = box(mcu, mcu_pins, "left", (14, 0))
        d += board_box
        for sk, mk, color, text in links:
            d += elm.Line().at(getattr(sensor_box, sk)).to(getattr(board_box, mk)).color(color).label(
                text, loc="top", fontsize=10)
        d += elm.Label().at((8.5, -1.5)).label(note, fontsize=10)
        out = HERE / filename
        d.save(str(out))
    return out


def main() -> None:
    note = "Laptop on battery (charger, dock, monitor unplugged) or a USB isolator while electrodes are on."
    print(draw(
        "wiring-pico-myoware.svg",
        "Raspberry Pi Pico / Pico 2", [("adc0", "GP26 / ADC0 (pin 31)"), ("agnd", "AGND (pin 33)"),
                                       ("v33", "3V3(OUT) (pin 36)")],
        "MyoWare 2.0", [("raw", "RAW (not ENV)"), ("gnd", "-  (GND)"), ("vs", "+  (Vs)")],
        [("raw", "adc0", "green", "raw EMG"), ("gnd", "agnd", "black", "ground"), ("vs", "v33", "red", "3.3 V")],
        note))
    print(draw(
        "wiring-esp32-oymotion.svg",
        "ESP32 DevKitC", [("io34", "GPIO34 (ADC1_CH6)"), ("gnd", "GND"), ("v33", "3V3")],
        "DFRobot / OYMotion EMG (SEN0240)", [("a", "A (analog out)"), ("gnd", "-  (GND)"), ("vcc", "+  (3.3-5.5 V)")],
        [("a", "io34", "green", "raw EMG"), ("gnd", "gnd", "black", "ground"), ("vcc", "v33", "red", "3.3 V")],
        note))


if __name__ == "__main__":
    main()
