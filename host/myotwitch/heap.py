"""Keep freed memory in the process's heap while a recording is analyzed (glibc only).

glibc's malloc hands large freed blocks back to the system (`munmap`, or trimming the heap's top) and
asks for them again moments later: numpy's temporaries of each piece (0.5 MiB each) come and
go thousands of times an hour of signal, and every return costs a page fault per 4 KiB when the memory
is touched again. Measured on the 1 h 2 kHz EDF+ (benchmarks/throughput.py's signal): 64,000 page
faults and 0.58 s of CPU with the defaults, 11,500 and 0.49 s with the settings below.

The settings: blocks up to 128 MiB come from the heap (not mmap), the heap's top is given back only
beyond 512 MiB free, and it grows 64 MiB at a time. An analysis peaks at about 50 MiB, so a process
holds on to that peak and no more. Where a person set one of glibc's MALLOC_*_ variables, their value
is kept. Other C libraries (musl, macOS, Windows) are left as they are: `keep_freed_memory` returns False.
"""

from __future__ import annotations

import os

# mallopt's parameter numbers (glibc's malloc.h), the environment variable that sets each, and our value.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
SETTINGS = {
    "MALLOC_MMAP_THRESHOLD_": (_M_MMAP_THRESHOLD, 128 << 20),
    "MALLOC_TRIM_THRESHOLD_": (_M_TRIM_THRESHOLD, 512 << 20),
    "MALLOC_TOP_PAD_": (_M_TOP_PAD, 64 << 20),
}
_done = False


def keep_freed_memory() -> bool:
    """Apply SETTINGS to this process's malloc, once; True if glibc took them (or has already)."""
    global _done
    if _done:
        return True
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt  # glibc has it; musl and macOS do not
        libc.gnu_get_libc_version  # noqa: B018 - only glibc's mallopt takes these parameters
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = all(mallopt(param, value) == 1 for name, (param, value) in SETTINGS.items() if name not in os.environ)
    _done = ok
    return ok
