"""Run the firmware's own tests inside the MicroPython Unix port (not CPython)."""

from __future__ import annotations

import re

import pytest

from conftest import UPY_TESTS, run_micropython

UPY_TEST_FILES = sorted(UPY_TESTS.glob("upy_test_*.py"))


def test_there_are_firmware_tests():
    assert len(UPY_TEST_FILES) >= 3


@pytest.mark.parametrize("script", UPY_TEST_FILES, ids=lambda p: p.stem)
def test_firmware_module_under_micropython(script):
    result = run_micropython(script)
    assert result.returncode == 0, result.stdout + result.stderr
    ran = re.search(r"^RAN (\d+) FAILED (\d+)$", result.stdout, re.M)
    assert ran, result.stdout
    assert int(ran.group(1)) >= 5 and int(ran.group(2)) == 0
    assert result.stdout.count("PASS ") == int(ran.group(1))


def test_interpreter_really_is_micropython(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import sys\nprint(sys.implementation.name)\n")
    assert run_micropython(probe).stdout.strip() == "micropython"


def test_a_failing_upy_test_is_reported(tmp_path):
    # The runner must not hide failures: a deliberately failing test exits 1.
    script = tmp_path / "upy_test_fails.py"
    script.write_text("from upytest import run\n\ndef test_fails():\n    assert 1 == 2\n\nrun(globals())\n")
    result = run_micropython(script)
    assert result.returncode == 1 and "FAIL test_fails" in result.stdout
