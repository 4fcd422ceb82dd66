"""Worker processes that do not outlive the command that started them.

``concurrent.futures.ProcessPoolExecutor`` shuts its workers down when the parent exits
normally or raises, but not when the parent is killed outright (``kill -9``, the kernel's
out-of-memory killer, a closed terminal on some set-ups): each worker then waits for work on
a queue whose other end it holds itself, forever, with its ~300 MB of pandas and matplotlib.
A killed ``tianxin report`` left one such process behind in our own test suite.

Every pool in the library is made here. Each worker starts a daemon thread that checks once
a second whether its parent is still the process that created the pool, and ends the worker
when it is not. Hand-written because it is a few lines; Linux's ``PR_SET_PDEATHSIG`` would do
it without polling but only on Linux, and psutil is not a dependency. On Windows a worker's
parent id does not change when the parent dies, so there the check never fires and the
behaviour is that of the standard library.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

# Below this many rows, a second thread for a step costs more than it saves (io, data).
THREADED_ROWS = 50_000

#: Seconds between two looks at the parent; an orphaned worker ends within about this long.
PARENT_CHECK_SECONDS = 1.0


def _exit_when_orphaned(parent_pid: int, interval: float) -> None:
    """Loop in a worker: end the process once its parent (``parent_pid``) is gone."""
    while True:
        time.sleep(interval)
        if os.getppid() != parent_pid:
            # The parent is gone: nobody will read a result. os._exit skips the interpreter's
            # shutdown, which would wait on the queue threads that keep the worker alive.
            os._exit(1)


def _start_worker(
    parent_pid: int,
    interval: float,
    initializer: Callable[..., Any] | None,
    initargs: tuple[Any, ...],
) -> None:
    """Worker initializer: start the orphan watch, then the caller's initializer."""
    threading.Thread(
        target=_exit_when_orphaned,
        args=(parent_pid, interval),
        name="tianxin-parent-watch",
        daemon=True,
    ).start()
    if initializer is not None:
        initializer(*initargs)


def process_pool(
    workers: int,
    initializer: Callable[..., Any] | None = None,
    initargs: tuple[Any, ...] = (),
    *,
    interval: float = PARENT_CHECK_SECONDS,
) -> ProcessPoolExecutor:
    """A ``spawn`` process pool whose workers end by themselves if this process is killed.

    ``spawn`` rather than ``fork`` on every platform: forking a process that has started
    threads (pyarrow's, tqdm's monitor) can deadlock, and the results must not depend on the
    platform's default. ``initializer`` and ``initargs`` are passed on to each worker.
    """
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_start_worker,
        initargs=(os.getpid(), interval, initializer, tuple(initargs)),
    )
