"""The import contracts of pyproject.toml ([tool.importlinter]) hold: imports point down the
flow of data (STYLE.md), no module circles, declarations stay plain pandas."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tianxin_analysis.paths import PROJECT_ROOT

_LINT = (
    "from importlinter.cli import lint_imports; "
    "raise SystemExit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"
)


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the package found under ``root`` (a fresh interpreter, so that
    the package it analyses is the one in ``root``)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, "-c", _LINT],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_import_contracts_are_kept() -> None:
    result = _lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.slow
def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    # The contracts can fail: io (bottom) importing the CLI (top) is reported by name.
    shutil.copytree(
        PROJECT_ROOT / "tianxin_analysis",
        tmp_path / "tianxin_analysis",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    io_py = tmp_path / "tianxin_analysis" / "io" / "sniff.py"
    io_py.write_text(
        io_py.read_text(encoding="utf-8") + "\nfrom tianxin_analysis import cli  # noqa: E402\n",
        encoding="utf-8",
    )
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "tianxin_analysis.io.sniff -> tianxin_analysis.cli" in result.stdout
