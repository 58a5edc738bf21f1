"""glibc's malloc told to keep the memory a process frees, for the next allocation of the same size.

torch takes every CPU tensor from malloc and frees it when the last reference goes.  A training step makes
and frees tensors of a few MB (K models x a minibatch x a data dimension); glibc serves those above its
mmap threshold from fresh ``mmap`` pages and gives back to the kernel whatever is free at the top of its heap
above its trim threshold, so each step faults the same pages in again: the digits' CVAE sweep spent 7 of its
52 CPU-seconds in the kernel doing that (5 million page faults).  With the two thresholds raised the pages
stay with the process; the arithmetic is untouched, so every result is the same to the bit.

Only the commands and worker processes of this package call :func:`keep_freed_memory`; importing the package
changes nothing in the process of a user who calls it as a library.  A ``MALLOC_TRIM_THRESHOLD_``,
``MALLOC_MMAP_THRESHOLD_`` or ``GLIBC_TUNABLES`` setting of the user's wins: then nothing is changed.
"""
from __future__ import annotations

import ctypes
import os
import platform

# mallopt's parameter numbers (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# The largest mmap threshold glibc accepts on 64-bit systems (HEAP_MAX_SIZE / 2): allocations below it come
# from the heap and are reused there.
MMAP_THRESHOLD = 32 * 2**20
# Free memory at the heap's top is returned to the kernel only beyond this much; a run's working set (a
# few hundred MB at most: the report's peak is under 1 GB) stays mapped between its steps.
TRIM_THRESHOLD = 512 * 2**20
USER_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds in this process; True when they were set.  A no-op (False)
    on another C library, or where the user set malloc's thresholds themselves."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    if any(name in os.environ for name in USER_SETTINGS):
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)    # the C library the interpreter runs on
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt returns 1 on success; setting either threshold also ends glibc's adjusting both as it runs.
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
