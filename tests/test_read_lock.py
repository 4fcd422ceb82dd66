"""Readers of a published folder see one set (issue 17: a ``tianxin forecast`` reading
``data/processed`` while a ``tianxin clean`` publishes must not read half of each set)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import alive

from tianxin_analysis import cli, publish
from tianxin_analysis.paths import PROJECT_ROOT, RAW_DIR

fcntl = pytest.importorskip("fcntl")

READER = """
import sys, time
from pathlib import Path
from tianxin_analysis.publish import reading
folder, signal, go, result = map(Path, sys.argv[1:5])
with reading(folder):
    first = (folder / "a.txt").read_text(encoding="utf-8")
    signal.write_text("reading", encoding="utf-8")
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = (folder / "b.txt").read_text(encoding="utf-8")
result.write_text(first + "|" + second, encoding="utf-8")
"""

WRITER = """
import sys
from pathlib import Path
from tianxin_analysis.publish import publish
folder, staged = map(Path, sys.argv[1:3])
with publish(folder, "clean") as stage:
    for name in ("a.txt", "b.txt"):
        (stage.path / name).write_text("new", encoding="utf-8")
    staged.write_text("staged", encoding="utf-8")
"""


def _python(code: str, *args: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=PROJECT_ROOT)


def _wait_for(path: Path, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


def test_a_publish_waits_for_a_reader_in_another_process(tmp_path):
    """Reader: a.txt, then (after the writer has staged its set) b.txt. Writer: publishes a
    new a.txt and b.txt meanwhile. The reader reads the old set whole; the new set arrives
    once it is done."""
    folder = tmp_path / "processed"
    with publish.publish(folder, "clean") as stage:
        for name in ("a.txt", "b.txt"):
            (stage.path / name).write_text("old", encoding="utf-8")
    signal, go, result, staged = (tmp_path / n for n in ("signal", "go", "result", "staged"))
    reader = _python(READER, folder, signal, go, result)
    writer = None
    try:
        _wait_for(signal)
        writer = _python(WRITER, folder, staged)
        _wait_for(staged)
        time.sleep(1.0)  # ample time for a swap that did not wait
        assert alive(writer.pid), "the writer swapped while the set was being read"
        assert (folder / "a.txt").read_text(encoding="utf-8") == "old"
        go.write_text("go", encoding="utf-8")
        assert reader.wait(timeout=120) == 0
        assert writer.wait(timeout=120) == 0
    finally:
        for p in (reader, writer):
            if p is not None and p.poll() is None:
                p.kill()
    assert result.read_text(encoding="utf-8") == "old|old"
    assert (folder / "b.txt").read_text(encoding="utf-8") == "new"
    assert publish.verify_manifest(folder) == []


def test_forecast_reads_processed_under_the_read_lock(tmp_path, monkeypatch, capsys):
    """``tianxin forecast`` holds the shared lock while it reads: an exclusive lock (what a
    publish takes for its swap) cannot be had meanwhile, and can after."""
    import tianxin_analysis.forecast as forecast

    processed = tmp_path / "processed"
    assert cli.main(["--quiet", "clean", "--raw", str(RAW_DIR), "--out", str(processed)]) == 0
    lock = publish._read_lock_path(processed)
    real = forecast.evaluate_targets
    held = []

    def evaluate(*args, **kwargs):
        with open(lock, "a+b") as fh:  # another open file: flock locks conflict across them
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append(False)
            except BlockingIOError:
                held.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(forecast, "evaluate_targets", evaluate)
    code = cli.main(["--quiet", "forecast", "--processed", str(processed),
                     "--reports", str(tmp_path / "reports")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert held == [True]
    with open(lock, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when the command ended
