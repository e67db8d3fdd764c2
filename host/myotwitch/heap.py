"""Keep freed memory in the process's heap while recordings are analyzed (glibc on Linux only).

glibc's malloc hands large freed blocks back to the system (`munmap`, or trimming the heap's top) and
asks for them again moments later: numpy's temporaries of each piece (0.5 MiB each) come and go
thousands of times an hour of signal, and each return costs a page fault per 4 KiB when the memory is
touched again. Measured on the 1 h 2 kHz EDF+ (benchmarks/throughput.py's signal, 2026-12-01): 21,900
page faults and 0.687 s of CPU for the whole `analyze` with the defaults, 7,300 and 0.647 s with these
settings (then with a 128 MiB mmap threshold; best of 3, the same output).

The settings: blocks up to 32 MiB come from the heap (not mmap; glibc refuses more than 32 MiB on 64-bit
in some releases), the heap's top is given back only beyond 512 MiB free, and it grows 64 MiB at a time.
An analysis peaks at about 50 MiB, so a process holds on to that peak and no more.

They are for a process that `myotwitch` owns (the console command, the batch's pool workers), never for a
program that calls `myotwitch.cli.main` (its malloc is its own): see cli.run and batch.worker_pool. Where a
person set one of glibc's MALLOC_*_ variables, or malloc's GLIBC_TUNABLES, their setting is kept.
"""

from __future__ import annotations

import os
import sys

# mallopt's parameter numbers (glibc's malloc.h), the environment variable that sets each, and our value.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
SETTINGS = {
    "MALLOC_MMAP_THRESHOLD_": (_M_MMAP_THRESHOLD, 32 << 20),
    "MALLOC_TRIM_THRESHOLD_": (_M_TRIM_THRESHOLD, 512 << 20),
    "MALLOC_TOP_PAD_": (_M_TOP_PAD, 64 << 20),
}
_tried: bool | None = None  # None: not yet; else what the first call returned


def keep_freed_memory() -> bool:
    """Apply SETTINGS to this process's malloc, once; True if glibc took every one it was given."""
    global _tried
    if _tried is None:
        _tried = _apply()
    return _tried


def _apply() -> bool:
    if not sys.platform.startswith("linux") or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 - musl has a mallopt that ignores these parameters
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    taken = [mallopt(param, value) == 1 for name, (param, value) in SETTINGS.items() if name not in os.environ]
    return all(taken)
