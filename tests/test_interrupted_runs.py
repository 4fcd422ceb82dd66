"""Interrupted, concurrent and starved runs: a real ``tianxin`` process is killed part-way,
two run at once, or the disk fills up (a tmpfs in a private mount namespace).

The previous outputs must still be there as a whole set that agrees with its ``run.json``
(outputs are written into a staging folder and swapped in whole), a rerun on the same inputs
gives the same bytes, and raw data is never written.
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
from tianxin_analysis.publish import publish, verify_manifest
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
    pd.read_parquet(out / "_meta" / "quarantine.parquet")
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


def _staged(out: Path) -> list[Path]:
    """Files the running command has written so far into its staging folder beside ``out``."""
    return [p for stage in out.parent.glob(f".{out.name}.staging-*") for p in stage.rglob("*")
            if p.is_file()]  # fmt: skip


def _changed(out: Path, before: dict[str, tuple[int, int]]) -> bool:
    """The run has started writing outputs (into its stage) or has published them."""
    if _staged(out):
        return True
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
    # Same inputs, deterministic outputs: whichever set is published, its bytes match.
    assert _hashes(out) == baseline["hashes"]
    assert verify_manifest(out) == []
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
    assert got in (old, new), "the published files are a mix of two runs"
    assert verify_manifest(out) == []
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


def _previous_briefing(reports: Path) -> dict[str, str]:
    """A published reports set standing in for last month's briefing (a full report takes
    about a minute): marker files at the paths the report writes, with their run.json."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    with publish(reports, "report", params={"as_of": "2024-06"}) as stage:
        (stage.path / "forecast_summary.csv").write_text("target,previous\nx,1\n", encoding="utf-8")
        (stage.path / "briefing.html").write_text(
            "<html><body>June</body></html>", encoding="utf-8"
        )
        (stage.path / "notebooks").mkdir()
        (stage.path / "notebooks" / "01.ipynb").write_text("{}", encoding="utf-8")
        (stage.path / "figures").mkdir()
        for stem in ("fan_tech_smes_a4", "overview_bullet_a4"):
            for ext in ("png", "svg", "pdf"):
                fig.savefig(stage.path / "figures" / f"{stem}.{ext}", format=ext)
    plt.close(fig)
    assert verify_manifest(reports) == []
    return _hashes(reports)


def _wait_for_staged(out: Path, proc: subprocess.Popen, n: int, seconds: float = 150) -> None:
    deadline = time.monotonic() + seconds
    while proc.poll() is None and len(_staged(out)) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be interrupted"


def _after_kill(reports: Path, before: dict[str, str]) -> None:
    """The killed run published nothing; the next writer clears its stage and lock."""
    assert _hashes(reports) == before
    assert verify_manifest(reports) == []
    with publish(reports, "check"):
        pass
    assert not _staged(reports) and verify_manifest(reports) == []


def test_kill_report_part_way_keeps_previous_outputs(sample_raw, processed_sample, tmp_path):
    """`tianxin report` killed (-9) after it has written a few new files: the previous
    briefing set is still published whole and agrees with its manifest."""
    reports = tmp_path / "reports"
    before = _previous_briefing(reports)
    proc = subprocess.Popen(
        [*CLI, "--quiet", "report", "--raw", str(sample_raw), "--processed",
         str(processed_sample), "--reports", str(reports)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _wait_for_staged(reports, proc, 4)  # forecast table and a few figures
    helpers = children(proc.pid) if HAVE_PROC else []  # chart workers, resource tracker
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    # Its worker processes end by themselves instead of waiting for work forever.
    left = [pid for pid in helpers if not wait_gone(pid, 15)]
    assert not left, f"processes {left} outlived the killed report"
    _after_kill(reports, before)


def test_kill_all_keeps_previous_reports(sample_raw, baseline, tmp_path):
    """`tianxin all` killed (-9, with its notebook kernels) while it writes the reports:
    the processed data is one whole set (the clean step had published it), the reports are
    last month's set."""
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    shutil.copytree(baseline["out"], processed)
    before = _previous_briefing(reports)
    proc = subprocess.Popen(
        [*CLI, "--quiet", "all", "--raw", str(sample_raw), "--processed", str(processed),
         "--reports", str(reports)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    _wait_for_staged(reports, proc, 1, seconds=300)  # the forecast table is staged
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert verify_manifest(processed) == []
    assert _hashes(processed) == baseline["hashes"]  # same inputs: the same set
    _after_kill(reports, before)


def test_two_cleans_at_once_one_is_refused(sample_raw, baseline, tmp_path):
    """A second `tianxin clean` on the same folder while the first runs: refused with a
    message naming the folder and the first run; the published set is the first run's."""
    out = tmp_path / "processed"
    first = _start_clean(sample_raw, out)
    lock = tmp_path / ".processed.lock"
    deadline = time.monotonic() + 60
    while first.poll() is None and str(first.pid) not in (
        lock.read_text(encoding="utf-8") if lock.exists() else ""
    ) and time.monotonic() < deadline:  # fmt: skip
        time.sleep(0.01)
    second = subprocess.run(
        [*CLI, "--quiet", "clean", "--raw", str(sample_raw), "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert first.poll() is None, "the first run ended before the second tried (not at once)"
    assert first.wait(timeout=120) == 0
    assert second.returncode == 2, second.stderr[-2000:]
    assert str(out) in second.stderr and f"pid {first.pid}" in second.stderr
    assert "另一个" in second.stderr and "Traceback" not in second.stderr
    assert _hashes(out) == baseline["hashes"] and verify_manifest(out) == []
    _read_back(out)


# ---- a full or read-only disk: a tmpfs in a private mount namespace ------------------------

_TMPFS_SCRIPT = r"""
set -e
mount -t tmpfs -o size="$SIZE_KB"k tmpfs "$MNT"
if [ -n "$SEED" ]; then cp -a "$SEED" "$MNT/"; fi
if [ -n "$READ_ONLY" ]; then mount -o remount,ro "$MNT"; fi
set +e
"$@" > "$RESULT/stdout" 2> "$RESULT/stderr"
echo $? > "$RESULT/rc"
cp -a "$MNT/." "$RESULT/tree/"
"""


def _can_mount_tmpfs(tmp: Path) -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         f"mount -t tmpfs -o size=64k tmpfs {tmp} && umount {tmp}"],
        capture_output=True,
    )  # fmt: skip
    return probe.returncode == 0


def _in_tmpfs(tmp_path: Path, size_kb: int, seed: Path | None, argv: list[str],
              read_only: bool = False) -> tuple[int, str, Path]:  # fmt: skip
    """Run ``tianxin argv`` (paths under ``tmp_path/mnt``) with ``tmp_path/mnt`` a fresh
    tmpfs of ``size_kb`` KiB holding a copy of ``seed``; return exit code, stderr and a copy
    of what the tmpfs held afterwards."""
    mnt, result = tmp_path / "mnt", tmp_path / "result"
    mnt.mkdir()
    (result / "tree").mkdir(parents=True)
    if not _can_mount_tmpfs(mnt):
        pytest.skip("cannot mount a tmpfs here (no unshare or no privilege)")
    env = {**os.environ, "MNT": str(mnt), "SEED": str(seed or ""), "SIZE_KB": str(size_kb),
           "RESULT": str(result), "READ_ONLY": "1" if read_only else ""}  # fmt: skip
    subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", _TMPFS_SCRIPT, "sh", *CLI,
         "--quiet", *argv],
        cwd=REPO, env=env, check=True, timeout=600,
    )  # fmt: skip
    rc = int((result / "rc").read_text())
    return rc, (result / "stderr").read_text(encoding="utf-8"), result / "tree"


def _size_kb(folder: Path) -> int:
    return sum(-(-p.stat().st_size // 4096) * 4 for p in folder.rglob("*") if p.is_file())


def test_disk_full_during_clean_keeps_previous_set(sample_raw, baseline, tmp_path):
    seed = baseline["out"]  # last month's processed folder, on a disk with room for half more
    out = tmp_path / "mnt" / "processed"
    rc, err, tree = _in_tmpfs(tmp_path, _size_kb(seed) * 3 // 2 + 64, seed,
                              ["clean", "--raw", str(sample_raw), "--out", str(out)])  # fmt: skip
    assert rc == 2, err[-2000:]
    assert "磁盘空间不足" in err and "no space" in err and str(out) in err
    assert "Traceback" not in err
    assert _hashes(tree / "processed") == baseline["hashes"]
    assert verify_manifest(tree / "processed") == []
    assert not [p for p in tree.iterdir() if ".staging-" in p.name]


def test_disk_full_during_report_keeps_previous_set(sample_raw, processed_sample, tmp_path):
    seed = tmp_path / "seed" / "reports"
    before = _previous_briefing(seed)
    reports = tmp_path / "mnt" / "reports"
    rc, err, tree = _in_tmpfs(tmp_path, _size_kb(seed) + 1024, seed,
                              ["report", "--raw", str(sample_raw), "--processed",
                               str(processed_sample), "--reports", str(reports)])  # fmt: skip
    assert rc == 2, err[-2000:]
    assert "磁盘空间不足" in err and str(reports) in err and "Traceback" not in err
    assert _hashes(tree / "reports") == before
    assert verify_manifest(tree / "reports") == []
    assert not [p for p in tree.iterdir() if ".staging-" in p.name]


def test_read_only_output_folder_is_a_message(sample_raw, baseline, tmp_path):
    seed = baseline["out"]
    out = tmp_path / "mnt" / "processed"
    rc, err, tree = _in_tmpfs(tmp_path, _size_kb(seed) * 3, seed,
                              ["clean", "--raw", str(sample_raw), "--out", str(out)],
                              read_only=True)  # fmt: skip
    assert rc == 2, err[-2000:]
    assert "只读" in err and "read-only" in err and str(out) in err and "Traceback" not in err
    assert _hashes(tree / "processed") == baseline["hashes"]
