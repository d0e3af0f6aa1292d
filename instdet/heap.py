"""Keep the memory a training step frees for the next step (glibc's malloc, i.e. Linux).

By default glibc maps every block over 32 MiB fresh from the kernel and unmaps it when it
is freed, and gives the top of its heap back once more than 128 KiB of it is free. A
training step allocates and frees the same large activations every time (the CRNN's first
convolution of a batch: 16 x 32 x 128 x 128 floats, 32 MiB), so every step pays the kernel
to map and zero those pages again, one fault per 4 KiB page: most of a CPU step's time.
Raising both thresholds keeps freed memory in the heap for reuse. It changes no number a
model computes, only where its tensors live; the process keeps its peak memory until it
ends. ``benchmarks/bench_models.py`` measures training with and without it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
KEEP_BYTES = 1 << 30  # blocks up to 1 GiB come from (and return to) the heap

_kept = False


def keep_freed_memory(*, limit: int = KEEP_BYTES) -> bool:
    """Have glibc keep freed blocks up to ``limit`` bytes in the process for reuse.

    Parameters
    ----------
    limit : int
        Largest block served from the heap; also how much free heap top is kept.

    Returns
    -------
    bool
        True where the C library took the setting (glibc), False elsewhere (macOS,
        Windows, musl), where nothing changes.
    """
    global _kept
    if _kept:
        return True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    value = min(int(limit), 2**31 - 1)
    _kept = bool(mallopt(M_MMAP_THRESHOLD, value)) and bool(mallopt(M_TRIM_THRESHOLD, value))
    return _kept
