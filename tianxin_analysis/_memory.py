"""The Arrow memory pool for the large cleaning runs.

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
from collections.abc import Iterator

import pyarrow as pa

_PREFERRED = "jemalloc"


def _preferred_pool() -> pa.MemoryPool | None:
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
