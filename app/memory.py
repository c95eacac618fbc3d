"""Handing memory back to the operating system after a request that needed a lot of it.

CPython returns freed objects to its own allocator and glibc keeps freed heap memory for the
process, so after a 32 MiB import a worker would stay hundreds of MiB larger for good.
``malloc_trim`` gives glibc's free memory back (a no-op where there is no glibc).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

LARGE_BYTES = 4 * 1024 * 1024  # bodies from this size on are worth a trim afterwards


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # musl and others: nothing to trim
        return None
    return trim


_TRIM = _malloc_trim()


def trim() -> None:
    if _TRIM is not None:
        _TRIM(0)
