"""Issue 17: refuse what is ambiguous, bound what is hostile (the cases that need more than
one file, an option, or a measurement; single-file cases live in tests/bad_inputs.py)."""

from __future__ import annotations

import json
import shutil
import time

import bad_inputs
import pytest

from tianxin_analysis.data import run_clean
from tianxin_analysis.errors import InputFileError
from tianxin_analysis.io import DEFAULT_LIMITS, ReadLimits, read_sheets

# ----------------------------------------------------------------------------- bounds


def test_default_limits_are_generous_and_documented():
    # a national registry: ~600,000 enterprises x 20 columns in one sheet
    assert DEFAULT_LIMITS.max_cells >= 600_000 * 20
    assert DEFAULT_LIMITS.max_cell_chars == 32_767  # Excel's own cell limit
    assert ReadLimits.from_env({}) == DEFAULT_LIMITS


def test_limits_are_overridable_by_environment(tmp_path, monkeypatch):
    path = tmp_path / "长.csv"
    path.write_text("企业名称,备注\n甲," + "x" * 150_000 + "\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="单元格文字过长"):
        read_sheets(path, as_text=True)
    monkeypatch.setenv("TIANXIN_LIMIT_MAX_CELL_CHARS", "200_000")
    (sheet,) = read_sheets(path, as_text=True)
    assert len(sheet.grid.iloc[1, 1]) == 150_000
    monkeypatch.setenv("TIANXIN_LIMIT_MAX_CELLS", "lots")
    with pytest.raises(InputFileError, match="TIANXIN_LIMIT_MAX_CELLS"):
        read_sheets(path, as_text=True)


def test_zip_bomb_refused_from_the_zip_directory(tmp_path):
    path = tmp_path / "炸弹.xlsx"
    path.write_bytes(bad_inputs.zip_bomb_xlsx(64 << 20))
    assert path.stat().st_size < 2 << 20  # a ~0.5 MB file ...
    start = time.perf_counter()
    with pytest.raises(InputFileError, match="解压后过大") as err:
        read_sheets(path, limits=ReadLimits(max_inflated_bytes=32 << 20))
    assert time.perf_counter() - start < 1.0  # ... refused before anything is inflated
    assert str(path) in str(err.value) and "TIANXIN_LIMIT_MAX_INFLATED_BYTES" in str(err.value)


def test_many_cells_refused_while_streaming(tmp_path):
    path = tmp_path / "多单元格.xlsx"
    path.write_bytes(bad_inputs.zip_bomb_xlsx(16 << 20))  # ~410,000 one-cell rows
    with pytest.raises(InputFileError, match="单元格过多") as err:
        read_sheets(path, limits=ReadLimits(max_cells=100_000))
    assert str(path) in str(err.value)
    assert read_sheets(path)  # within the default bounds: read (every row is row 9)


def test_far_cell_in_an_encrypted_workbook_is_bounded_too(tmp_path):
    plain = bad_inputs.patch_xlsx(
        bad_inputs.cert_file(bad_inputs.cert_rows(bad_inputs.Ids(), 2)),
        {"xl/worksheets/sheet1.xml": lambda x: x.replace(b"</sheetData>", bad_inputs.FAR_CELL_ROW)},
    )
    path = tmp_path / "加密远端.xlsx"
    path.write_bytes(bad_inputs.encrypt_xlsx(plain, "VelvetSweatshop"))
    with pytest.raises(InputFileError, match="工作表范围过大"):
        read_sheets(path)


# ----------------------------------------------------------------------------- ambiguous sources


def _cert(n: int = 3, year: int = 2023, start: int = 1) -> bytes:
    return bad_inputs.cert_file(bad_inputs.cert_rows(bad_inputs.Ids(), n, start=start), year=year)


@pytest.fixture
def ambiguous_raw(tmp_path):
    """One good workbook beside every kind of ambiguity the issue lists."""
    raw = tmp_path / "raw"
    folder = raw / "hitech_certificates"
    (folder / "旧版").mkdir(parents=True)
    (folder / "名单.xlsx").write_bytes(_cert(3))
    (folder / "名单 - 副本.xlsx").write_bytes(_cert(3))  # the same file twice
    (folder / "旧版" / "名单_旧.xlsx").write_bytes(_cert(2, start=50))  # an older export
    (folder / "汇总.xlsx").mkdir()  # a folder named like a workbook
    (folder / "汇总.xlsx" / "x.csv").write_bytes(b"a,b\n1,2\n")
    for junk in ("Thumbs.db", "desktop.ini", ".DS_Store", "~$名单.xlsx"):
        (folder / junk).write_bytes(b"\x00\x01junk")
    hidden = bad_inputs.patch_xlsx(
        bad_inputs.xlsx_bytes({
            "2023年": bad_inputs.cert_rows(bad_inputs.Ids(), 0),
            "旧数据": [["x"]],
        }),
        {"xl/workbook.xml": lambda x: x.replace(b'sheetId="2" state="visible"', b'sheetId="2" state="hidden"')},
    )  # fmt: skip
    (folder / "含隐藏表.xlsx").write_bytes(hidden)
    return raw


def test_ambiguous_sources_are_listed_and_skipped(ambiguous_raw, tmp_path):
    run = run_clean(ambiguous_raw, tmp_path / "out", progress=False)
    skipped = {(s.file.split("/", 1)[1], s.sheet): s.message for s in run.skipped}
    assert "子文件夹" in skipped[("旧版/名单_旧.xlsx", "")]
    assert "名单.xlsx" in skipped[("名单 - 副本.xlsx", "")]  # names the file it repeats
    assert "隐藏" in skipped[("含隐藏表.xlsx", "旧数据")]
    assert len(skipped) == 3
    # the folder named like a workbook is a failure, by name; its content is never read
    (failure,) = run.failures
    assert failure.file == "hitech_certificates/汇总.xlsx" and "文件夹" in failure.message
    # system files: not a word
    text = run.summary_text()
    assert not any(j in text for j in ("Thumbs", "desktop.ini", "DS_Store", "~$"))
    assert "跳过 SKIPPED" in text and "旧版/名单_旧.xlsx" in text
    assert set(run.reconciliation["source_file"]) == {"hitech_certificates/名单.xlsx"}
    assert run.reconciliation["rows_clean"].sum() == 3
    lineage = json.loads((tmp_path / "out" / "lineage.json").read_text(encoding="utf-8"))
    assert len(lineage["skipped"]) == 3 and len(lineage["failures"]) == 1


def test_options_read_what_is_skipped_by_default(ambiguous_raw, tmp_path):
    shutil.rmtree(ambiguous_raw / "hitech_certificates" / "汇总.xlsx")
    run = run_clean(
        ambiguous_raw, tmp_path / "out", progress=False,
        include_subfolders=True, include_duplicates=True, include_hidden_sheets=True,
    )  # fmt: skip
    assert run.skipped == []
    files = set(run.reconciliation["source_file"])
    assert "hitech_certificates/旧版/名单_旧.xlsx" in files
    assert "hitech_certificates/名单 - 副本.xlsx" in files
    # the hidden sheet is read (its one cell is no table: a failure naming the sheet)
    assert [f.sheet for f in run.failures] == ["旧数据"]


def test_system_files_alone_do_not_stop_a_run(tmp_path):
    raw = tmp_path / "raw"
    (raw / "tech_contracts").mkdir(parents=True)
    (raw / "tech_contracts" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0 not a workbook")
    (raw / "tech_contracts" / "desktop.ini").write_text("[.ShellClassInfo]\n")
    run = run_clean(raw, tmp_path / "out", progress=False)
    assert run.ok and run.skipped == [] and run.reconciliation.empty


def test_empty_workbook_is_a_failure_in_lineage(tmp_path):
    raw = tmp_path / "raw"
    (raw / "tech_contracts").mkdir(parents=True)
    (raw / "tech_contracts" / "月报.xlsx").write_bytes(bad_inputs.xlsx_bytes({"Sheet1": []}))
    (raw / "tech_sme_registrations").mkdir(parents=True)
    (raw / "tech_sme_registrations" / "名单.csv").write_bytes(b"\r\n \r\n")
    run = run_clean(raw, tmp_path / "out", progress=False)
    lineage = json.loads((tmp_path / "out" / "lineage.json").read_text(encoding="utf-8"))
    failed = {f["file"]: f for f in lineage["failures"]}
    assert set(failed) == {"tech_contracts/月报.xlsx", "tech_sme_registrations/名单.csv"}
    assert all("文件为空" in f["message"] and f["kind"] for f in failed.values())
    assert not run.ok
