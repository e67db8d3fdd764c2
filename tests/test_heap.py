"""heap.keep_freed_memory: large blocks come from the heap, not from mappings given back when freed.

Checked on glibc's own accounting (mallinfo2: bytes in mmapped blocks), not by counting page faults,
which transparent huge pages and the machine's load make vary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from myotwitch import heap

HOST = Path(__file__).resolve().parents[1] / "host"

# A 40 MiB array: above glibc's largest default mmap threshold (32 MiB), so by default its own mapping,
# unmapped (and faulted in again next time) when freed; kept, a block of the heap.
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
kept = heap.keep_freed_memory() if sys.argv[1] == "keep" else None
before = libc.mallinfo2().hblkhd
a = np.ones(5 << 20)
print(kept, (libc.mallinfo2().hblkhd - before) >> 20)
"""


def mapped_mib(mode: str, **env: str) -> tuple[str, int]:
    """keep_freed_memory's answer and the MiB of mmapped blocks a 40 MiB array added."""
    clean = {k: v for k, v in os.environ.items() if k not in heap.SETTINGS}
    done = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True,
                          env=dict(clean, PYTHONPATH=str(HOST), **env))
    kept, mib = done.stdout.split()
    return kept, int(mib)


@pytest.fixture(scope="module")
def glibc() -> None:
    try:
        kept = mapped_mib("keep")[0]
    except subprocess.CalledProcessError as exc:  # no mallinfo2: not glibc, or glibc before 2.33
        pytest.skip(f"no glibc mallinfo2 to check with: {exc.stderr.strip().splitlines()[-1]}")
    if kept != "True":
        pytest.skip("not glibc: keep_freed_memory leaves other C libraries' malloc as it is")


def test_large_blocks_stay_in_the_heap(glibc):
    assert mapped_mib("default") == ("None", 40)  # the default: a mapping of its own, given back when freed
    assert mapped_mib("keep") == ("True", 0)


def test_a_setting_the_person_made_is_kept(glibc):
    # MALLOC_MMAP_THRESHOLD_ set by hand (map every block from 4 KiB): keep_freed_memory must not override it.
    assert mapped_mib("keep", MALLOC_MMAP_THRESHOLD_="4096") == ("True", 40)


def test_analyze_keeps_freed_memory(glibc, tmp_path):
    # The single-file analyze (and so each batch worker, which runs it) applies the settings before it reads.
    recording = tmp_path / "rest.csv"
    recording.write_text("".join(f"{(i * 7919) % 23 - 11}\n" for i in range(6000)))
    script = _PROBE.replace("kept = heap.keep_freed_memory() if sys.argv[1] == \"keep\" else None",
                            "from myotwitch.cli import main\n"
                            f"main(['analyze', {str(recording)!r}, '--rate', '1000', '--format', 'jsonl'])\n"
                            "kept = heap._done")
    assert script != _PROBE
    clean = {k: v for k, v in os.environ.items() if k not in heap.SETTINGS}
    done = subprocess.run([sys.executable, "-c", script, "-"], capture_output=True, text=True, check=True,
                          env=dict(clean, PYTHONPATH=str(HOST)))
    assert done.stdout.splitlines()[-1].split() == ["True", "0"]
