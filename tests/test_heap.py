"""heap.keep_freed_memory: large freed blocks stay in the heap, so touching them again costs no page faults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from myotwitch import heap

HOST = Path(__file__).resolve().parents[1] / "host"

# 20 times: a 40 MiB array written, then freed. Above glibc's largest default mmap threshold (32 MiB), so by
# default each one is a fresh mapping that faults its pages in again; kept, the heap's pages are reused.
_LOOP = """
import resource, sys
import numpy as np
from myotwitch import heap
kept = heap.keep_freed_memory() if sys.argv[1] == "keep" else None
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    a = np.ones(5 << 20)
    del a
print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str, **env: str) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if k not in heap.SETTINGS}
    done = subprocess.run([sys.executable, "-c", _LOOP, mode], capture_output=True, text=True, check=True,
                          env=dict(clean, PYTHONPATH=str(HOST), **env))
    kept, count = done.stdout.split()
    return kept, int(count)


@pytest.fixture(scope="module")
def glibc() -> None:
    if faults("keep")[0] != "True":
        pytest.skip("not glibc: keep_freed_memory leaves other C libraries' malloc as it is")


def test_freed_blocks_are_reused_without_page_faults(glibc):
    _, kept = faults("keep")
    _, default = faults("default")
    assert kept * 5 < default, (kept, default)


def test_a_setting_the_person_made_is_kept(glibc):
    # MALLOC_MMAP_THRESHOLD_ set by hand (here: map every block): keep_freed_memory must not override it.
    kept_flag, count = faults("keep", MALLOC_MMAP_THRESHOLD_="4096")
    _, kept = faults("keep")
    assert kept_flag == "True"
    assert count > 5 * kept, (count, kept)
