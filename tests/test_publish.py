"""Publishing all or nothing (``tianxin_analysis.publish``): the lock, the staging folder, the
manifest ``run.json``, a failed kind's last good table, disk-full and read-only folders,
unreadable processed data. Every check reads the files back."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tianxin_analysis import cli, publish
from tianxin_analysis._fs import sha256_file
from tianxin_analysis.data import load_processed, run_clean
from tianxin_analysis.data import run as data_run
from tianxin_analysis.errors import InputFileError, OutputError
from tianxin_analysis.publish import read_manifest, verify_manifest
from tianxin_analysis.sample import write_sample

REPO = Path(__file__).resolve().parents[1]
SME = "tech_sme_registrations"


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): sha256_file(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def _leftovers(dest: Path) -> list[Path]:
    return [
        p for p in dest.parent.iterdir() if ".staging-" in p.name or p.name.endswith(".previous")
    ]


def _published(dest: Path, files: dict[str, str]) -> dict[str, str]:
    with publish.publish(dest, "test") as stage:
        for rel, text in files.items():
            (stage.path / rel).parent.mkdir(parents=True, exist_ok=True)
            (stage.path / rel).write_text(text, encoding="utf-8")
    assert verify_manifest(dest) == []
    return _hashes(dest)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    base = tmp_path_factory.mktemp("publish")
    raw = base / "raw"
    write_sample(raw)
    shutil.copytree(REPO / "data" / "raw" / "targets", raw / "targets")
    out = base / "processed"
    run = run_clean(raw, out, progress=False)
    assert run.ok
    return {"raw": raw, "out": out, "hashes": _hashes(out)}


def _forecast(sample, processed: Path, tmp_path: Path, capsys) -> tuple[int, str]:
    code = cli.main(["--quiet", "forecast", "--raw", str(sample["raw"]), "--processed",
                     str(processed), "--reports", str(tmp_path / "reports")])  # fmt: skip
    return code, capsys.readouterr().err


# ---- lock ----------------------------------------------------------------------------------


def test_second_writer_is_refused_naming_folder_and_holder(tmp_path):
    dest = tmp_path / "reports"
    before = _published(dest, {"a.txt": "old"})
    with publish.publish(dest, "report") as stage:
        (stage.path / "a.txt").write_text("new", encoding="utf-8")
        with pytest.raises(OutputError) as err, publish.publish(dest, "clean"):
            pass
        message = str(err.value)
        assert str(dest) in message and "另一个" in message and "another" in message
        assert f"pid {__import__('os').getpid()}" in message and "report" in message
        assert _hashes(dest) == before  # nothing published yet
    assert (dest / "a.txt").read_text(encoding="utf-8") == "new"
    assert verify_manifest(dest) == [] and not _leftovers(dest)


def test_dead_holders_lock_and_stage_are_recognised_and_cleared(tmp_path, capsys):
    dest = tmp_path / "processed"
    before = _published(dest, {"t.csv": "1"})
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(dead.stdout)
    lock = tmp_path / ".processed.lock"
    lock.write_text(json.dumps({"pid": pid, "command": "clean",
                                "started_utc": "2026-01-01 00:00:00"}), encoding="utf-8")  # fmt: skip
    stale = tmp_path / f".processed.staging-{pid}"
    stale.mkdir()
    (stale / "half.csv").write_text("half", encoding="utf-8")
    with publish.publish(dest, "clean") as stage:
        assert not stale.exists()  # the killed run's stage is gone before this one writes
        (stage.path / "t.csv").write_text("2", encoding="utf-8")
    err = capsys.readouterr().err
    assert f"pid {pid}" in err and "未正常结束" in err
    assert _hashes(dest) != before and verify_manifest(dest) == [] and not _leftovers(dest)


# ---- staging and swap ----------------------------------------------------------------------


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_failed_body_changes_nothing_and_success_swaps_whole(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(publish, "_exchange", lambda a, b: False)
    dest = tmp_path / "out"
    before = _published(dest, {"a.txt": "1", "sub/b.txt": "2", "keep.txt": "k"})
    with pytest.raises(RuntimeError), publish.publish(dest, "test") as stage:
        (stage.path / "a.txt").write_text("half", encoding="utf-8")
        stage.discard("sub")
        raise RuntimeError("boom")
    assert _hashes(dest) == before and not _leftovers(dest)
    with publish.publish(dest, "test2") as stage:
        (stage.path / "a.txt").write_text("new", encoding="utf-8")
        stage.discard("sub")
    manifest = read_manifest(dest)
    assert sorted(_hashes(dest)) == ["a.txt", "keep.txt", "run.json"]
    assert verify_manifest(dest) == [] and not _leftovers(dest)
    outputs = manifest["outputs"]
    assert outputs["a.txt"]["run_id"] == manifest["run_id"]
    old_id = outputs["keep.txt"]["run_id"]  # carried over: the run that wrote it is named
    assert old_id != manifest["run_id"] and manifest["runs"][old_id]["command"] == "test"


def test_interrupted_two_rename_swap_is_completed_by_the_next_run(tmp_path):
    dest = tmp_path / "out"
    before = _published(dest, {"a.txt": "1"})
    dest.rename(tmp_path / ".out.previous")  # killed between the two renames
    with publish.publish(dest, "test"):
        assert dest.is_dir()  # put back before the run reads the published set
    assert {k: v for k, v in _hashes(dest).items() if k != "run.json"} == {
        k: v for k, v in before.items() if k != "run.json"
    }
    assert not _leftovers(dest)


def test_destination_above_the_working_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    with pytest.raises(OutputError, match="当前目录"), publish.publish(tmp_path, "test"):
        pass


def test_same_inputs_same_run_id(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("x", encoding="utf-8")
    ids = []
    for dest in (tmp_path / "a", tmp_path / "b"):
        with publish.publish(dest, "report", params={"as_of": "2024-09"}, inputs={"in": src}) as s:
            ids.append(s.run_id)
    src.write_text("y", encoding="utf-8")
    with publish.publish(
        tmp_path / "c", "report", params={"as_of": "2024-09"}, inputs={"in": src}
    ) as s:
        ids.append(s.run_id)
    assert ids[0] == ids[1] != ids[2]


# ---- clean ---------------------------------------------------------------------------------


def test_files_hashed_as_written_are_not_hashed_again_unless_changed(tmp_path, monkeypatch):
    calls = []
    real = publish.sha256_file
    monkeypatch.setattr(publish, "sha256_file", lambda p: calls.append(Path(p).name) or real(p))
    dest = tmp_path / "out"
    with publish.publish(dest, "test") as stage:
        for name in ("kept.csv", "changed.csv", "plain.csv"):
            (stage.path / name).write_text("a,b\n1,2\n", encoding="utf-8")
        stage.hashed(stage.path / "kept.csv")
        stage.hashed(stage.path / "changed.csv")
        (stage.path / "changed.csv").write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
        calls.clear()
    # the manifest hashed only what was not recorded or changed since, and agrees with it
    assert sorted(calls) == ["changed.csv", "plain.csv"]
    assert verify_manifest(dest) == []


def test_clean_publishes_a_manifest_that_agrees_with_its_files(sample):
    out = sample["out"]
    assert verify_manifest(out) == []
    manifest = read_manifest(out)
    lineage = json.loads((out / "lineage.json").read_text(encoding="utf-8"))
    assert manifest["command"] == "clean" and lineage["run_id"] == manifest["run_id"]
    raw_inputs = {k.removeprefix("raw/"): v for k, v in manifest["inputs"].items()}
    assert raw_inputs == {f["path"]: f["sha256"] for f in lineage["raw_files"]}


def test_failed_file_keeps_the_kinds_last_good_table(sample, tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "processed"
    shutil.copytree(sample["raw"], raw)
    shutil.copytree(sample["out"], out)
    before = _hashes(out)
    kind_before = {k: v for k, v in before.items() if k.startswith((f"{SME}/", f"{SME}.csv"))}
    assert any("year=2024" in k for k in kind_before)
    q_before = pd.read_parquet(out / "_meta" / "quarantine.parquet")
    # the 2024 list replaced by the HTML error page of a portal
    (raw / SME / "科技型中小企业入库名单_2024.csv").write_text(
        "<html><body><h1>502 Bad Gateway</h1></body></html>", encoding="utf-8"
    )
    run = run_clean(raw, out, progress=False)
    assert not run.ok and run.kept_last_good == [SME]
    after = _hashes(out)
    assert {k: v for k, v in after.items() if k in kind_before} == kind_before
    assert set(after) - {"run.json"} == set(before) - {"run.json"}
    assert len(load_processed(SME, out)) == len(load_processed(SME, sample["out"]))
    lineage = json.loads((out / "lineage.json").read_text(encoding="utf-8"))
    (failure,) = lineage["failures"]
    assert failure["kind"] == SME and failure["kept_last_good"] is True
    assert failure["file"].endswith("_2024.csv") and failure["message"]
    kept_from = {f["path"] for f in lineage["last_good"][SME]["raw_files"]}
    assert f"{SME}/科技型中小企业入库名单_2024.csv" in kept_from
    q_after = pd.read_parquet(out / "_meta" / "quarantine.parquet")
    pd.testing.assert_frame_equal(
        q_after.loc[q_after["kind"] == SME].reset_index(drop=True),
        q_before.loc[q_before["kind"] == SME].reset_index(drop=True),
    )
    rec = pd.read_csv(out / "reconciliation.csv", encoding="utf-8-sig")
    assert (rec.loc[rec["kind"] == SME, "source_file"].str.endswith("_2024.csv")).any()
    assert verify_manifest(out) == []
    assert read_manifest(out)["failures"] == lineage["failures"]
    assert "保留上次清洗结果" in run.summary_text()
    # A second failing run keeps pointing at the same last good raw files.
    run_clean(raw, out, progress=False)
    again = json.loads((out / "lineage.json").read_text(encoding="utf-8"))
    assert again["last_good"] == lineage["last_good"]
    assert {k: v for k, v in _hashes(out).items() if k in kind_before} == kind_before


def test_clean_disk_full_mid_write_changes_nothing(sample, tmp_path, monkeypatch):
    out = tmp_path / "processed"
    shutil.copytree(sample["out"], out)
    before = _hashes(out)
    real = data_run._write_partition
    calls = []

    def full_disk(table, rows, target, *args):
        calls.append(target)
        if len(calls) == 5:  # a few partitions in, the disk fills up half-way through a file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"PAR1" + b"\0" * 100)
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return real(table, rows, target, *args)

    monkeypatch.setattr(data_run, "_write_partition", full_disk)
    code = cli.main(["--quiet", "clean", "--raw", str(sample["raw"]), "--out", str(out)])
    assert code == 2 and len(calls) >= 5
    assert _hashes(out) == before and verify_manifest(out) == [] and not _leftovers(out)


def test_report_disk_full_mid_write_changes_nothing(sample, tmp_path, monkeypatch, capsys):
    from tianxin_analysis.forecast.evaluation import Evaluation

    reports = tmp_path / "reports"
    before = _published(reports, {"briefing.html": "<html>June</html>", "figures/a.png": "png"})

    def full_disk(self, folder):
        (Path(folder) / "forecast_summary.csv").write_bytes(b"\xef\xbb\xbf")  # half a file
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Evaluation, "write", full_disk)
    code = cli.main(["--quiet", "report", "--raw", str(sample["raw"]), "--processed",
                     str(sample["out"]), "--reports", str(reports)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "磁盘空间不足" in err and str(reports) in err and "Traceback" not in err
    assert _hashes(reports) == before and verify_manifest(reports) == [] and not _leftovers(reports)


def test_processed_set_replaced_while_read_is_not_published(sample, tmp_path, monkeypatch, capsys):
    import tianxin_analysis.forecast as forecast

    processed = tmp_path / "processed"
    shutil.copytree(sample["out"], processed)
    real = forecast.evaluate_targets

    def concurrent_clean(plan, folder, **kwargs):
        evaluation = real(plan, folder, **kwargs)
        (processed / "run.json").write_text("{}", encoding="utf-8")  # a clean swapped in
        return evaluation

    monkeypatch.setattr(forecast, "evaluate_targets", concurrent_clean)
    code, err = _forecast(sample, processed, tmp_path, capsys)
    assert code == 2 and "被另一次运行替换" in err and "processed/run.json" in err
    assert not (tmp_path / "reports").exists()


# ---- unreadable processed data -------------------------------------------------------------


def test_corrupt_parquet_is_a_message_naming_the_file(sample, tmp_path, capsys):
    processed = tmp_path / "processed"
    shutil.copytree(sample["out"], processed)
    part = sorted((processed / SME).glob("year=*/part-0.parquet"))[-1]
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    with pytest.raises(InputFileError, match="tianxin clean"):
        load_processed(SME, processed)
    code, err = _forecast(sample, processed, tmp_path, capsys)
    # One unreadable table is one kind missing (issue 15): its targets are 数据不足 with the
    # file named in the warning, the other targets are still evaluated.
    assert code == 0 and "Traceback" not in err
    warned = [line for line in err.splitlines() if part.name in line or str(part) in line]
    assert warned and all("数据不足" in line or "tianxin clean" in line for line in warned)
    table = pd.read_csv(tmp_path / "reports" / "forecast_summary.csv", encoding="utf-8-sig")
    status = dict(zip(table["指标代码"], table["状态"], strict=True))
    assert status["tech_smes"] == "数据不足"
    assert sum(s == "数据不足" for s in status.values()) == 1


def test_garbled_lineage_is_a_message_naming_the_file(sample, tmp_path, capsys):
    processed = tmp_path / "processed"
    shutil.copytree(sample["out"], processed)
    (processed / "lineage.json").write_bytes(b'{"synthetic": tr\x00\xff')
    code, err = _forecast(sample, processed, tmp_path, capsys)
    assert code == 2 and "lineage.json" in err and "tianxin clean" in err
    assert "Traceback" not in err


# ---- run id in the briefing ----------------------------------------------------------------


def test_briefing_shows_the_run_id(tmp_path):
    import openpyxl
    import pypdf
    from helpers_evaluation import make_evaluation

    from tianxin_analysis.report import build_briefing

    written = build_briefing(make_evaluation(), tmp_path, progress=False, figure_sizes=("a4",),
                             figure_formats=("png",), workers=1, run_id="0123abcd4567")  # fmt: skip
    by_suffix = {Path(p).suffix: Path(p) for p in written[:3]}
    assert "运行编号 run id 0123abcd4567" in by_suffix[".html"].read_text(encoding="utf-8")
    pdf_text = "".join(page.extract_text() for page in pypdf.PdfReader(by_suffix[".pdf"]).pages)
    assert "0123abcd4567" in pdf_text
    wb = openpyxl.load_workbook(by_suffix[".xlsx"])
    cells = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert any(isinstance(v, str) and "0123abcd4567" in v for v in cells)
