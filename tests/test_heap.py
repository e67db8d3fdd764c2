"""heap.keep_freed_memory: large blocks come from the heap, not from mappings given back when freed; only in
processes myotwitch owns.

Checked on glibc's own accounting (mallinfo2: bytes in mmapped blocks), not by counting page faults,
which transparent huge pages and the machine's load make vary."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest

from myotwitch import heap

HOST = Path(__file__).resolve().parents[1] / "host"

# A 16 MiB array: by default its own mapping (a fresh process's mmap threshold is 128 KiB), unmapped and
# faulted in again next time when freed; kept, a block of the heap. `how` decides who applies the settings.
_PROBE = """
import ctypes, sys
import numpy as np
from myotwitch import heap

class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Mallinfo2
how, recording = sys.argv[1], sys.argv[2]
if how == "keep":
    heap.keep_freed_memory()
elif how in ("main", "run"):
    from myotwitch import cli
    argv = ["analyze", recording, "--rate", "1000", "--format", "jsonl"]
    sys.stdout = open("/dev/null", "w")
    try:
        cli.main(argv) if how == "main" else (setattr(sys, "argv", ["myotwitch", *argv]), cli.run())
    except SystemExit:
        pass
    sys.stdout = sys.__stdout__
before = libc.mallinfo2().hblkhd
a = np.ones(2 << 20)
print(heap._tried, (libc.mallinfo2().hblkhd - before) >> 20)
"""


def mapped_mib(how: str, recording: str = "-", **env: str) -> tuple[str, int]:
    """What keep_freed_memory settled on in a fresh process, and the MiB of mmapped blocks a 16 MiB array added."""
    clean = {k: v for k, v in os.environ.items() if k not in heap.SETTINGS and k != "GLIBC_TUNABLES"}
    done = subprocess.run([sys.executable, "-c", _PROBE, how, recording], capture_output=True, text=True,
                          check=True, env=dict(clean, PYTHONPATH=str(HOST), **env))
    tried, mib = done.stdout.split()
    return tried, int(mib)


@pytest.fixture(scope="module")
def glibc() -> None:
    try:
        tried = mapped_mib("keep")[0]
    except subprocess.CalledProcessError as exc:  # no mallinfo2: not glibc, or glibc before 2.33
        pytest.skip(f"no glibc mallinfo2 to check with: {exc.stderr.strip().splitlines()[-1]}")
    if tried != "True":
        pytest.skip("not glibc on Linux: keep_freed_memory leaves other C libraries' malloc as it is")


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("heap") / "rest.csv"
    path.write_text("".join(f"{(i * 7919) % 23 - 11}\n" for i in range(6000)))
    return str(path)


def test_large_blocks_stay_in_the_heap(glibc):
    assert mapped_mib("default") == ("None", 16)  # the default: a mapping of its own, given back when freed
    assert mapped_mib("keep") == ("True", 0)


def test_a_setting_the_person_made_is_kept(glibc):
    # MALLOC_MMAP_THRESHOLD_ set by hand (map every block from 4 KiB): keep_freed_memory must not override it.
    assert mapped_mib("keep", MALLOC_MMAP_THRESHOLD_="4096") == ("True", 16)
    # malloc's glibc tunables: the person tunes malloc their own way; nothing is applied. Others do not count.
    assert mapped_mib("keep", GLIBC_TUNABLES="glibc.malloc.check=0") == ("False", 16)
    assert mapped_mib("keep", GLIBC_TUNABLES="glibc.pthread.rseq=0") == ("True", 0)


def test_the_console_command_keeps_freed_memory_and_a_program_calling_main_does_not(glibc, recording):
    assert mapped_mib("run", recording) == ("True", 0)
    assert mapped_mib("main", recording) == ("None", 16)  # a program's malloc is its own


@pytest.mark.slow  # a process pool, in a fresh process: nothing there has applied the settings before
def test_the_batch_pool_workers_keep_freed_memory(glibc):
    script = ("from myotwitch import batch, heap\nassert heap._tried is None\n"
              "with batch.worker_pool(1) as pool:\n"
              "    print(pool.submit(eval, \"__import__('myotwitch.heap', fromlist=['heap'])._tried\").result())\n")
    clean = {k: v for k, v in os.environ.items() if k not in heap.SETTINGS and k != "GLIBC_TUNABLES"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120,
                          env=dict(clean, PYTHONPATH=str(HOST)))
    assert done.stdout.split() == ["True"]


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_elsewhere_nothing_is_applied(monkeypatch, platform):
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(heap, "_tried", None)
    assert heap.keep_freed_memory() is False


def test_a_loader_that_cannot_open_the_c_library_is_no_error(monkeypatch):
    # Windows' ctypes.CDLL(None) raises TypeError; a stripped system may raise OSError.
    for error in (TypeError("argument of type 'NoneType' is not iterable"), OSError("no libc")):
        def refuse(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(ctypes, "CDLL", refuse)
        monkeypatch.setattr(heap, "_tried", None)
        assert heap.keep_freed_memory() is False
