"""Type-check the firmware against MicroPython's published stubs for each board.

    .venv/bin/python tools/typecheck_firmware.py [rp2] [esp32]

Each platform's stub package (micropython-rp2-stubs, micropython-esp32-stubs)
is installed into its own folder under .venv/firmware-stubs/ (they cannot
share one environment: both provide `machine`), then mypy checks the portable
modules, main.py and that board's module with `platform` set, so the board's
branch of main.py is the one checked. The stubs' own errors are not ours and
are ignored. Exit code 0 when every platform is clean.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from myotwitch.flash import board_modules  # the board's module and its helpers, as flash installs them

ROOT = Path(__file__).resolve().parents[1]
STUBS = ROOT / ".venv" / "firmware-stubs"
PLATFORMS = {"rp2": "micropython-rp2-stubs", "esp32": "micropython-esp32-stubs"}


def stubs_for(platform: str) -> Path:
    target = STUBS / platform
    if not (target / "machine.pyi").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(target), PLATFORMS[platform]],
                       check=True)
    return target


def check(platform: str) -> subprocess.CompletedProcess:
    stubs = stubs_for(platform)
    fw = ROOT / "firmware"
    config = f"""[mypy]
platform = {platform}
python_version = 3.11
custom_typeshed_dir = {stubs}
mypy_path = {fw}:{fw / 'lib'}:{stubs}
explicit_package_bases = True
check_untyped_defs = True
warn_unreachable = False
incremental = False
cache_dir = /dev/null

[mypy-boards.sim]
follow_imports = skip

[mypy-machine,vfs,rp2.*,esp32,esp,network,_mpy_shed.*,micropython,time,select,struct,array,sys]
ignore_errors = True
"""
    files = [str(fw / "main.py"), str(fw / "config.py"), str(fw / "boards" / "__init__.py"),
             *map(str, board_modules(platform)),
             *map(str, sorted((fw / "lib").glob("*.py")))]
    with tempfile.TemporaryDirectory() as tmp:  # removed afterwards, config and all
        ini = Path(tmp) / "mypy.ini"
        ini.write_text(config)
        return subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ini), *files],
                              capture_output=True, text=True, cwd=ROOT)


def main(argv: list[str]) -> int:
    failed = 0
    for platform in argv or sorted(PLATFORMS):
        result = check(platform)
        print(f"{platform}: {result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr}")
        if result.returncode != 0:
            print(result.stdout)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
