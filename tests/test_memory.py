"""The Arrow memory pool during a clean: jemalloc where available, restored afterwards."""

from __future__ import annotations

import pyarrow as pa
import pytest

from tianxin_analysis import _memory
from tianxin_analysis.data import run as run_mod

HAVE_JEMALLOC = "jemalloc" in pa.supported_memory_backends()


@pytest.fixture
def no_pool_choice(monkeypatch):
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)


@pytest.mark.skipif(not HAVE_JEMALLOC, reason="this pyarrow build has no jemalloc")
def test_clean_runs_on_jemalloc_and_restores_the_pool(no_pool_choice, monkeypatch, tmp_path):
    seen = []
    inner = run_mod._run_clean

    def spy(*args):
        seen.append(pa.default_memory_pool().backend_name)
        return inner(*args)

    monkeypatch.setattr(run_mod, "_run_clean", spy)
    before = pa.default_memory_pool().backend_name
    (tmp_path / "raw").mkdir()
    run_mod.run_clean(tmp_path / "raw", tmp_path / "out", progress=False)
    assert seen == ["jemalloc"]
    assert pa.default_memory_pool().backend_name == before


def test_pool_restored_when_the_run_fails(no_pool_choice):
    before = pa.default_memory_pool().backend_name
    with pytest.raises(RuntimeError), _memory.arrow_pool_for_bulk_work():
        raise RuntimeError("boom")
    assert pa.default_memory_pool().backend_name == before


def test_analysts_choice_is_kept(monkeypatch):
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    before = pa.default_memory_pool()
    with _memory.arrow_pool_for_bulk_work() as pool:
        assert pool.backend_name == before.backend_name
        assert pa.default_memory_pool().backend_name == before.backend_name


def test_no_jemalloc_means_no_change(no_pool_choice, monkeypatch):
    monkeypatch.setattr(pa, "supported_memory_backends", lambda: ["mimalloc", "system"])
    before = pa.default_memory_pool().backend_name
    with _memory.arrow_pool_for_bulk_work() as pool:
        assert pool.backend_name == before == pa.default_memory_pool().backend_name


@pytest.mark.skipif(not HAVE_JEMALLOC, reason="this pyarrow build has no jemalloc")
def test_buffers_made_in_the_pool_outlive_it(no_pool_choice):
    with _memory.arrow_pool_for_bulk_work():
        arr = pa.array([f"企业{i}" for i in range(1000)]).take(pa.array([3, 1, 2]))
    assert arr.to_pylist() == ["企业3", "企业1", "企业2"]
    del arr  # freed by jemalloc although the default pool is mimalloc again


def _huge_pages_advised() -> bool:
    previous = _memory._SET_MADVISE(True)
    _memory._SET_MADVISE(previous)
    return bool(previous)


needs_switch = pytest.mark.skipif(_memory._SET_MADVISE is None, reason="numpy has no switch")


@needs_switch
def test_clean_runs_without_numpy_huge_pages_and_restores(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    seen = []
    inner = run_mod._run_clean

    def spy(*args):
        seen.append(_huge_pages_advised())
        return inner(*args)

    monkeypatch.setattr(run_mod, "_run_clean", spy)
    initial = _huge_pages_advised()
    for before in (True, False):
        _memory._SET_MADVISE(before)
        (tmp_path / "raw").mkdir(exist_ok=True)
        run_mod.run_clean(tmp_path / "raw", tmp_path / "out", progress=False)
        assert _huge_pages_advised() is before
    _memory._SET_MADVISE(initial)
    assert seen == [False, False]


@needs_switch
def test_huge_page_advice_restored_on_failure_and_env_kept(monkeypatch):
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    initial = _memory._SET_MADVISE(True)
    with pytest.raises(RuntimeError), _memory.numpy_without_huge_pages() as off:
        assert off and not _huge_pages_advised()
        raise RuntimeError("boom")
    assert _huge_pages_advised()
    monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")
    with _memory.numpy_without_huge_pages() as off:
        assert not off and _huge_pages_advised()
    _memory._SET_MADVISE(initial)


def _child(code: str, **env: str) -> str:
    import os
    import subprocess
    import sys

    full = {k: v for k, v in os.environ.items() if k != "JE_ARROW_MALLOC_CONF"} | env
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, check=True
    )
    return out.stdout.strip()


_SHOW = (
    "import os, sys; from tianxin_analysis import _memory; "
    "print(_memory.configure_arrow_jemalloc(), os.environ.get('JE_ARROW_MALLOC_CONF'))"
)


def test_jemalloc_configured_before_pyarrow_loads():
    assert _child(_SHOW) == f"True {_memory._JEMALLOC_CONF}"


def test_jemalloc_left_alone_once_pyarrow_loaded_or_chosen():
    assert _child("import pyarrow; " + _SHOW) == "False None"
    assert _child(_SHOW, JE_ARROW_MALLOC_CONF="narenas:4") == "False narenas:4"


def test_the_command_configures_it_first():
    code = (
        "import os\nfrom tianxin_analysis import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(os.environ.get('JE_ARROW_MALLOC_CONF'))"
    )
    assert _child(code).splitlines()[-1] == _memory._JEMALLOC_CONF
