"""Interrupted and repeated runs: a real ``tianxin`` process is killed part-way.

The previous outputs must still be there and read back whole (every file is written to a
temporary name and renamed), a rerun on the same inputs gives the same bytes, and raw data
is never written.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from bad_inputs import large_sme_csv
from processes import HAVE_PROC, children, wait_gone

from tianxin_analysis._fs import sha256_file
from tianxin_analysis.data import KINDS, load_processed, run_clean
from tianxin_analysis.sample import write_sample

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "tianxin_analysis.cli"]


def _hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every non-temporary file under ``folder`` (relative posix path -> hash)."""
    return {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".tmp")
    }


def _read_back(out: Path) -> None:
    """Every processed output opens and parses completely."""
    for kind in KINDS:
        if (out / kind).is_dir():
            assert len(load_processed(kind, out)) > 0
            pd.read_csv(out / f"{kind}.csv", encoding="utf-8-sig", dtype=str)
    pd.read_parquet(out / "quarantine.parquet")
    pd.read_csv(out / "quarantine.csv", encoding="utf-8-sig", dtype=str)
    rec = pd.read_csv(out / "reconciliation.csv", encoding="utf-8-sig")
    assert rec["balanced"].all()
    json.loads((out / "lineage.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory):
    """The synthetic sample plus a 15,000-row registration CSV so a run lasts a few seconds."""
    raw = tmp_path_factory.mktemp("interrupt") / "raw"
    write_sample(raw)
    shutil.copytree(REPO / "data" / "raw" / "targets", raw / "targets")
    large_sme_csv(raw / "tech_sme_registrations" / "入库名单_大.csv", 15_000, year=2022)
    return raw


@pytest.fixture(scope="module")
def baseline(sample_raw, tmp_path_factory):
    raw_before = _hashes(sample_raw)
    out = tmp_path_factory.mktemp("baseline") / "processed"
    run = run_clean(sample_raw, out, progress=False)
    assert not run.failures
    return {"out": out, "hashes": _hashes(out), "raw_hashes": raw_before}


def _changed(out: Path, before: dict[str, tuple[int, int]]) -> bool:
    for p in out.rglob("*"):
        if p.is_file():
            st = p.stat()
            if p.name.endswith(".tmp") or before.get(str(p)) != (st.st_mtime_ns, st.st_size):
                return True
    return False


def _stat_all(out: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in out.rglob("*") if p.is_file()}


def _start_clean(raw: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, "--quiet", "clean", "--raw", str(raw), "--out", str(out)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def test_kill_while_writing_outputs_leaves_them_readable(sample_raw, baseline, tmp_path):
    """SIGKILL the moment the run starts writing: every output is the old file or the new one."""
    out = tmp_path / "processed"
    shutil.copytree(baseline["out"], out)
    before = _stat_all(out)
    proc = _start_clean(sample_raw, out)
    deadline = time.monotonic() + 120
    while proc.poll() is None and not _changed(out, before) and time.monotonic() < deadline:
        time.sleep(0.002)
    assert proc.poll() is None, "run finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # Same inputs, deterministic outputs: whichever version each file is, its bytes match.
    assert _hashes(out) == baseline["hashes"]
    _read_back(out)
    assert _hashes(sample_raw) == baseline["raw_hashes"]


def test_sigint_mid_run_exits_cleanly_and_keeps_outputs(sample_raw, baseline, tmp_path):
    """Ctrl-C as soon as the progress bar shows: exit 130, a message, no traceback."""
    out = tmp_path / "processed"
    shutil.copytree(baseline["out"], out)
    before = _hashes(out)
    proc = subprocess.Popen(
        [*CLI, "clean", "--raw", str(sample_raw), "--out", str(out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    seen = b""
    deadline = time.monotonic() + 60
    while "清洗".encode() not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.5)
        if ready:
            chunk = os.read(proc.stderr.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
    assert proc.poll() is None, "run finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    stdout_b, stderr_b = proc.communicate(timeout=60)
    stdout, stderr = stdout_b.decode(), (seen + stderr_b).decode()
    assert proc.returncode == 130, stderr[-2000:]
    assert "已中断" in stderr and "interrupted" in stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    assert _hashes(out) == before
    _read_back(out)


def test_kill_with_changed_inputs_leaves_old_or_new_files(sample_raw, baseline, tmp_path):
    """Inputs changed since the last run, run killed mid-write: each file is whole, old or new."""
    raw = tmp_path / "raw"
    shutil.copytree(sample_raw, raw)
    large_sme_csv(raw / "tech_sme_registrations" / "入库名单_大.csv", 15_500, year=2022)
    new_out = tmp_path / "new"
    run_clean(raw, new_out, progress=False)
    new = _hashes(new_out)
    old = baseline["hashes"]
    assert new != old

    out = tmp_path / "processed"
    shutil.copytree(baseline["out"], out)
    before = _stat_all(out)
    proc = _start_clean(raw, out)
    while proc.poll() is None and not _changed(out, before):
        time.sleep(0.002)
    time.sleep(0.05)  # let it get a few files into the writing phase
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    got = _hashes(out)
    assert set(got) <= set(old) | set(new)
    for name, digest in got.items():
        assert digest in {old.get(name), new.get(name)}, f"{name} is neither version"
    for part in out.rglob("*.parquet"):
        pd.read_parquet(part)  # whole, not truncated
    for csv in out.glob("*.csv"):
        pd.read_csv(csv, encoding="utf-8-sig", dtype=str)


def test_rerun_is_byte_identical_and_raw_untouched(sample_raw, baseline, tmp_path):
    """Rerun into a copy of the previous outputs: same bytes (CSV, JSON), same parquet content."""
    out = tmp_path / "processed"
    shutil.copytree(baseline["out"], out)
    run_clean(sample_raw, out, progress=False)
    again = _hashes(out)
    assert set(again) == set(baseline["hashes"])
    for name, digest in again.items():
        if name.endswith((".csv", ".json")):
            assert baseline["hashes"][name] == digest, name
        else:  # parquet: identical in content
            pd.testing.assert_frame_equal(
                pd.read_parquet(out / name), pd.read_parquet(baseline["out"] / name)
            )
    assert _hashes(sample_raw) == baseline["raw_hashes"]
    lineage = json.loads((out / "lineage.json").read_text(encoding="utf-8"))
    listed = {f["path"]: f["sha256"] for f in lineage["raw_files"]}
    cleaned = {k: v for k, v in baseline["raw_hashes"].items() if not k.startswith("targets/")}
    assert listed == cleaned
    for f in lineage["raw_files"]:
        assert f["size_bytes"] == (sample_raw / f["path"]).stat().st_size


def _valid(path: Path) -> None:
    """A report output opens completely in the library that reads its format."""
    data = path.read_bytes()
    if path.suffix == ".png":
        import matplotlib.image

        matplotlib.image.imread(path)
    elif path.suffix == ".pdf":
        import pypdf

        assert len(pypdf.PdfReader(path).pages) >= 1
    elif path.suffix == ".svg" or path.suffix == ".html":
        import lxml.html

        assert data.rstrip().endswith((b"</svg>", b"</html>"))
        lxml.html.fromstring(data)
    elif path.suffix == ".csv":
        pd.read_csv(path, encoding="utf-8-sig")
    elif path.suffix == ".xlsx":
        import openpyxl

        openpyxl.load_workbook(path).close()


@pytest.fixture(scope="module")
def processed_sample(sample_raw, baseline):
    return baseline["out"]


def test_kill_report_part_way_keeps_previous_outputs(sample_raw, processed_sample, tmp_path):
    """`tianxin report` killed after it has replaced a few files: every file is still whole.

    The previous briefing is stood in for by marker files at the paths the report writes
    (a full report takes about a minute); each one must afterwards be either the untouched
    marker or a complete new file.
    """
    reports = tmp_path / "reports"
    markers: dict[Path, bytes] = {}
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    for name in ("forecast_summary.csv", "briefing.html"):
        p = reports / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".csv"):
            p.write_text("target,previous\nx,1\n", encoding="utf-8")
        else:
            p.write_text("<html><body>previous briefing</body></html>", encoding="utf-8")
        markers[p] = p.read_bytes()
    for stem in ("fan_tech_smes_a4", "fan_hitech_enterprises_a4", "overview_bullet_a4"):
        for ext in ("png", "svg", "pdf"):
            p = reports / "figures" / f"{stem}.{ext}"
            p.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(p, format=ext)
            markers[p] = p.read_bytes()
    plt.close(fig)
    before = _stat_all(reports)
    proc = subprocess.Popen(
        [*CLI, "--quiet", "report", "--raw", str(sample_raw), "--processed",
         str(processed_sample), "--reports", str(reports)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 150
    while proc.poll() is None and time.monotonic() < deadline:
        changed = [p for p in reports.rglob("*") if p.is_file() and (
            str(p) not in before or (p.stat().st_mtime_ns, p.stat().st_size) != before[str(p)])]  # fmt: skip
        if len(changed) >= 3:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "report finished before it could be interrupted"
    helpers = children(proc.pid) if HAVE_PROC else []  # chart workers, resource tracker
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    # Its worker processes end by themselves instead of waiting for work forever.
    left = [pid for pid in helpers if not wait_gone(pid, 15)]
    assert not left, f"processes {left} outlived the killed report"
    for p in sorted(reports.rglob("*")):
        if not p.is_file() or p.name.endswith(".tmp") or p.name.startswith("."):
            continue
        if p in markers and p.read_bytes() == markers[p]:
            continue
        _valid(p)  # a replaced file is a whole new file, never half of one
    assert all(p.exists() for p in markers)
    # SIGKILL may leave the temporary files being written; they are hidden (".name.tmp") and
    # never take an output's name.
    leftovers = [p for p in reports.rglob("*") if p.is_file() and p.name.endswith(".tmp")]
    assert all(p.name.startswith(".") for p in leftovers)
