"""The C heap's hold on freed memory (glibc): what bounded-memory estimation needs of it.

numpy's arrays live in the C heap (small) or in their own mappings (large).  glibc raises its
mapping threshold to the size of the largest mapped array freed so far (up to 32 MiB), so later
arrays below it come from the heap, and the holes they leave when freed stay resident: the
process's memory creeps up although what it holds does not grow.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
HEAP_THRESHOLD = 1 << 17


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def return_freed_memory() -> bool:
    """From now on, arrays of 128 KiB or more are mapped and unmapped, and the heap is trimmed
    above 128 KiB free, so freed memory goes back to the system at once (the memory-limited path:
    its memory must not creep up block after block; it costs page faults).  Returns whether it
    applied (glibc only)."""
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, HEAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, HEAP_THRESHOLD))


def trim() -> bool:
    """Hand the heap's free memory back to the system now (glibc's ``malloc_trim``): after a
    stage that freed its temporaries, so the next one does not stack on their holes."""
    fn = getattr(_libc(), "malloc_trim", None)
    return bool(fn(0)) if fn is not None else False
