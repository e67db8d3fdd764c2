"""Finding the board: serial ports filtered by USB vendor (and product) id, then confirmed by
the firmware's hello frame. Only a port that answers INFO with a hello is taken."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from myotwitch.errors import MyotwitchError

# (vendor id, product id or None for any): who makes the USB side of boards we support.
KNOWN_USB_IDS: dict[tuple[int, int | None], str] = {
    (0x2E8A, None): "Raspberry Pi (Pico, Pico 2: MicroPython's own USB)",
    (0x303A, None): "Espressif (ESP32-S2/S3/C3 native USB)",
    (0x10C4, 0xEA60): "Silicon Labs CP210x (ESP32 DevKitC)",
    (0x1A86, 0x7523): "WCH CH340 (ESP32 clones)",
    (0x0403, None): "FTDI USB-UART",
}


@dataclass(frozen=True)
class PortSeen:
    device: str
    vid: int | None
    pid: int | None
    description: str

    @property
    def usb_id(self) -> str:
        return "-" if self.vid is None else f"{self.vid:04X}:{(self.pid or 0):04X}"

    @property
    def maker(self) -> str | None:
        if self.vid is None:
            return None
        return KNOWN_USB_IDS.get((self.vid, self.pid)) or KNOWN_USB_IDS.get((self.vid, None))


def list_serial_ports(comports: Callable[[], Iterable] | None = None) -> list[PortSeen]:
    if comports is None:
        from serial.tools import list_ports

        comports = list_ports.comports
    seen = [PortSeen(_callout_device(p.device), p.vid, p.pid, p.description or "") for p in comports()]
    return sorted(seen, key=lambda p: p.device)


def _callout_device(device: str) -> str:
    """On macOS, /dev/tty.* waits for a modem's carrier; /dev/cu.* is the one to open."""
    if sys.platform == "darwin" and device.startswith("/dev/tty."):
        return "/dev/cu." + device[len("/dev/tty."):]
    return device


def find_board(open_port: Callable[[str], object], comports: Callable[[], Iterable] | None = None):
    """Open the first known-vendor port whose firmware answers; returns what open_port returned.

    open_port(device) opens the port and asks for the hello frame, raising
    MyotwitchError when nothing answers. The error when no port answers names
    every port seen and what each did.
    """
    ports = list_serial_ports(comports)
    candidates = [p for p in ports if p.maker]
    tried: list[str] = []
    for port in candidates:
        try:
            return open_port(port.device)
        except MyotwitchError as exc:
            tried.append(f"  {port.device} ({port.usb_id}, {port.maker}): {exc}")
    if tried:
        raise MyotwitchError("no myotwitch firmware answered on the boards found:\n" + "\n".join(tried)
                             + "\nIs the firmware flashed (myotwitch flash)? Is another program using the port?")
    others = "".join(f"\n  {p.device} ({p.usb_id}) {p.description}" for p in ports) or " none at all"
    known = ", ".join(f"{vid:04X}" + (f":{pid:04X}" if pid is not None else "") for vid, pid in KNOWN_USB_IDS)
    raise MyotwitchError(f"no board found: no serial port with a known USB id ({known}). Ports seen:{others}\n"
                         "Plug the board in with a data cable, or give --port.")
