"""Memory settings for the large cleaning runs: the Arrow pool, and numpy's huge pages.

pyarrow allocates every column it builds (the parsed CSV, each take, each string kernel's
output) from its default pool, mimalloc in the Linux wheels. On the 2-core benchmark VM a
10^6-row clean spent 2.8-3.6 s of its ~9 s of CPU in the kernel, mapping fresh pages for
those allocations; with jemalloc's pool, which keeps and reuses freed pages, the kernel time
fell to 1.1-1.5 s and the run from 4.7-5.4 s to 3.6-4.3 s (alternated runs, same file,
outputs identical), at the same peak memory (~1.1 GB; the plain system allocator was as fast
but peaked at 1.9 GB).

Only the default pool of new allocations changes; every Arrow buffer remembers the pool it
came from, so buffers made before or during the run are freed correctly whenever they go.
An analyst's own choice (the ``ARROW_DEFAULT_MEMORY_POOL`` variable) is left alone, and
where pyarrow was built without jemalloc (Windows and macOS wheels) nothing changes.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

# pyarrow is imported inside the functions: configure_arrow_jemalloc must run before it loads.

# Arrow's bundled jemalloc reads this variable once, when pyarrow loads.
_JEMALLOC_CONF_VAR = "JE_ARROW_MALLOC_CONF"
_JEMALLOC_CONF = "narenas:1,dirty_decay_ms:-1"


def configure_arrow_jemalloc() -> bool:
    """Before pyarrow loads: Arrow's jemalloc with one arena that keeps the pages it frees.

    Arrow's build returns freed pages to the kernel at once, in one arena per thread, so
    every new column, take and write buffer of a clean faults fresh zeroed pages in (each
    fault ~3 us on the benchmark VM). One arena that keeps them reuses the pages instead:
    in a 10^6-row clean the page faults fell from 450k to 336k and the run from 3.03 to
    2.87 s (medians of 6 alternated runs, outputs identical), at about the same peak memory
    (1.1-1.2 GB). Keeping pages alone, with an arena per thread, was slower and peaked at
    1.6 GB; so was a 10 s decay.

    The price: the process holds its freed Arrow memory until it exits. That suits the
    ``tianxin`` command, which exits after one command, so only the command (and the
    benchmark child, which measures it) call this, first thing. Returns False and changes
    nothing when pyarrow is loaded already (a notebook: too late) or the variable is set
    (the analyst's choice).
    """
    if "pyarrow" in sys.modules or _JEMALLOC_CONF_VAR in os.environ:
        return False
    os.environ[_JEMALLOC_CONF_VAR] = _JEMALLOC_CONF
    return True


_PREFERRED = "jemalloc"


def _preferred_pool() -> pa.MemoryPool | None:
    """pyarrow's jemalloc pool when it is built in and no pool was chosen by the environment."""
    import pyarrow as pa

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return None  # chosen by whoever runs us
    if _PREFERRED not in pa.supported_memory_backends():
        return None
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # listed but not usable in this build
        return None


@contextlib.contextmanager
def arrow_pool_for_bulk_work() -> Iterator[pa.MemoryPool]:
    """Make jemalloc pyarrow's default pool for the duration, then restore the previous one.

    Yields the pool in use. Process-wide while it lasts (pyarrow has one default pool), which
    only changes where other threads' new Arrow buffers come from, never their contents.
    """
    import pyarrow as pa

    previous = pa.default_memory_pool()
    pool = _preferred_pool()
    if pool is None or pool.backend_name == previous.backend_name:
        yield previous
        return
    pa.set_memory_pool(pool)
    try:
        yield pool
    finally:
        pa.set_memory_pool(previous)


# numpy >= 1.20 (Linux): advise huge pages for every array of 4 MB and more, unless the
# NUMPY_MADVISE_HUGEPAGE variable says otherwise. Private but stable since 1.20; looked up
# defensively so that a numpy without it just keeps its default.
_SET_MADVISE = getattr(getattr(np, "_core", None), "multiarray", None)
_SET_MADVISE = getattr(_SET_MADVISE, "_set_madvise_hugepage", None)


@contextlib.contextmanager
def numpy_without_huge_pages() -> Iterator[bool]:
    """numpy's ``madvise(MADV_HUGEPAGE)`` for large arrays off for the duration, then as before.

    A clean allocates hundreds of short-lived 10^6-element arrays (masks, codes, gathers),
    each used once. Advised huge pages buy such arrays nothing, while each of their faults
    zeroes (and with ``defrag=madvise``, the kernel's usual setting, may first compact) a
    2 MB page: in a 10^6-row clean the kernel's page zeroing (``clear_page_erms``) was most
    of the single-threaded stretch after the parse (perf), and turning the advice off took
    the run from 3.42 to 3.22 s (medians of 8 alternated runs each, same file, outputs
    identical; 3.74 -> 3.51 s in 6 more with ``NUMPY_MADVISE_HUGEPAGE=0``).

    Yields whether the advice was turned off (False where numpy lacks the switch or the
    analyst set ``NUMPY_MADVISE_HUGEPAGE``, whose choice is kept). Process-wide while it
    lasts; it only changes how other threads' new arrays are backed, never their contents.
    """
    if _SET_MADVISE is None or os.environ.get("NUMPY_MADVISE_HUGEPAGE"):
        yield False
        return
    previous = _SET_MADVISE(False)
    try:
        yield True
    finally:
        _SET_MADVISE(previous)
