"""Where the firmware is: inside the installed package, or in a source checkout.

A wheel carries the firmware as myotwitch/firmware/ (setup.py maps the
repository's top-level firmware/ there); an editable install or a checkout
finds it at the top of the repository, its source.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from myotwitch.errors import MyotwitchError

_CHECKOUT_FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"


def firmware_candidates() -> list[Path]:
    """Where the firmware may be, first choice first."""
    bundled = resources.files("myotwitch") / "firmware"
    # A wheel installs into a folder, so the Traversable is a Path; a zipped install has no firmware to hand
    # to the MicroPython Unix port or to mpy-cross as files.
    found = [bundled] if isinstance(bundled, Path) else []
    return [*found, _CHECKOUT_FIRMWARE]


def firmware_dir() -> Path:
    """The folder holding main.py, config.py, boards/ and lib/; a one-line error if there is none."""
    candidates = firmware_candidates()
    for folder in candidates:
        if (folder / "main.py").is_file() and (folder / "lib").is_dir():
            return folder
    raise MyotwitchError("firmware not found (looked in " + " and ".join(str(c) for c in candidates)
                         + "): reinstall myotwitch, or run from a source checkout")
