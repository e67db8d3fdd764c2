"""Shared test helpers: paths, and running scripts in the MicroPython Unix port."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from myotwitch.sources.simboard import find_micropython

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware"
UPY_TESTS = ROOT / "tests" / "firmware_upy"
DATA = ROOT / "data"
DEMO_EDF = ROOT / "host" / "myotwitch" / "data" / "demo_forearm_rest.edf"


def run_micropython(script: Path, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess:
    """Run a script under the real `micropython` command, firmware and fakes on MICROPYPATH."""
    path = os.pathsep.join(str(p) for p in (UPY_TESTS, FIRMWARE / "sim", FIRMWARE, FIRMWARE / "lib")) + ":.frozen"
    return subprocess.run(
        [find_micropython(), str(script), *args],
        capture_output=True, text=True, timeout=timeout_s, env=dict(os.environ, MICROPYPATH=path),
    )


# Scratch files in memory when the machine has a roomy tmpfs: the tests open about 90 SQLite logs and commit
# about 1000 times, and a commit's fsync costs 5 ms on this disk (0.2 ms on tmpfs), seconds of a run spent
# waiting on a disk that tests nothing. A TMPDIR you set, or --basetemp, is left as it is.
_MEMORY_TMP = Path("/dev/shm")
# The whole suite writes about 550 MB at most (a quick run 50 MB); a passing test's folder is removed after it
# (tmp_path_retention_policy in pyproject.toml), so what stays in memory is the failures of the last 3 runs.
_MEMORY_TMP_NEEDED_BYTES = 2 << 30


def memory_tmp_dir() -> Path | None:
    if "TMPDIR" in os.environ or not _MEMORY_TMP.is_dir() or not os.access(_MEMORY_TMP, os.W_OK | os.X_OK):
        return None
    fs = os.statvfs(_MEMORY_TMP)
    return _MEMORY_TMP if fs.f_bavail * fs.f_frsize >= _MEMORY_TMP_NEEDED_BYTES else None


def pytest_configure(config):
    if config.option.basetemp is None and (where := memory_tmp_dir()) is not None:
        tempfile.tempdir = str(where)


@pytest.fixture
def micropython_run():
    return run_micropython


@pytest.fixture(scope="session")
def _data_homes(tmp_path_factory):
    return tmp_path_factory.mktemp("data-homes"), itertools.count()


@pytest.fixture(autouse=True)
def private_data_dir(_data_homes, monkeypatch):
    """No test writes into the real per-user data folder (sessions, the default log): each test has its own.

    Numbered here rather than by `tmp_path_factory.mktemp`, which lists the whole temporary folder to number
    each one: for every test of a run, that was about half a second of the quick run."""
    base, numbers = _data_homes
    home = base / str(next(numbers))
    home.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home / "myotwitch"


# Slow tests in files other work owns right now, marked here until the marker moves into them:
# {file: {test function: why}}.
_SLOW_ELSEWHERE = {
    "test_wire_faults.py": {"test_coverage_guided_fuzzing_bounded_run": "8 s of fuzzing"},
    "test_detector.py": {"test_every_event_of_a_rich_signal_is_the_same_whatever_the_blocks": "4 s",
                         "test_output_does_not_depend_on_block_size": "2 s",
                         "test_every_event_is_the_same_however_many_candidates_are_measured_at_once": "1 s"},
}


# A module marked slow as a whole (`pytestmark = pytest.mark.slow` or a list starting with it).
_SLOW_MODULE = re.compile(r"^pytestmark = \[?pytest\.mark\.slow\b", re.MULTILINE)


def pytest_ignore_collect(collection_path, config):
    """The quick run (`-m "not slow"`) does not import modules marked slow as a whole: it would deselect all their
    tests anyway, and importing them builds their parameters (test_recording_mutations: half a second)."""
    if config.getoption("markexpr", "").strip() != "not slow" or collection_path.suffix != ".py":
        return None
    if collection_path.name.startswith("test_") and _SLOW_MODULE.search(collection_path.read_text(encoding="utf-8")):
        return True
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if getattr(item, "originalname", item.name) in _SLOW_ELSEWHERE.get(item.path.name, {}):
            item.add_marker(pytest.mark.slow)
