"""Process pools: results, initializer, and workers that end when their parent is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from processes import HAVE_PROC, alive, wait_gone

from tianxin_analysis import _workers

pytestmark = pytest.mark.skipif(not HAVE_PROC, reason="process states are read from /proc (Linux)")

_INIT_VALUE: object = None


def _set_value(value: object) -> None:
    global _INIT_VALUE
    _INIT_VALUE = value


def _get_value(_: object) -> object:
    return _INIT_VALUE


def test_pool_runs_tasks_with_initializer():
    with _workers.process_pool(2, _set_value, ({"year": 2024},)) as pool:
        values = list(pool.map(_get_value, range(4)))
    assert values == [{"year": 2024}] * 4


def test_pool_without_initializer():
    with _workers.process_pool(1) as pool:
        assert pool.submit(sum, [1, 2, 3]).result() == 6


_PARENT = textwrap.dedent(
    """
    import os, sys, time
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing
    from tianxin_analysis import _workers

    if __name__ == "__main__":
        if sys.argv[1] == "library":
            pool = _workers.process_pool(1, interval=0.1)
        else:
            pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        print(pool.submit(os.getpid).result(), flush=True)
        time.sleep(120)
    """
)


def _orphan(kind: str, tmp_path: Path) -> int:
    """Start a parent holding a one-worker pool, SIGKILL the parent, return the worker's pid."""
    script = tmp_path / "parent.py"
    script.write_text(_PARENT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, str(script), kind], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        worker = int(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    return worker


def test_worker_ends_when_its_parent_is_killed(tmp_path):
    worker = _orphan("library", tmp_path)
    assert wait_gone(worker, 15), f"worker {worker} outlived its killed parent"


def test_standard_pool_worker_outlives_a_killed_parent(tmp_path):
    """The failure the library's pool prevents, shown on the standard pool (so the check above
    can fail): its worker is still running seconds after the parent was killed."""
    worker = _orphan("standard", tmp_path)
    try:
        assert not wait_gone(worker, 3)
    finally:
        if alive(worker):
            os.kill(worker, signal.SIGKILL)
