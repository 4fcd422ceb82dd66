"""Exports that are safe to open: no live formula in any CSV/XLSX, no personal data downstream.

Every check reads the written files back (CSV with the csv module, XLSX with openpyxl,
parquet with pyarrow); nothing trusts the writer's own frames.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from bad_inputs import FORMULA_PAYLOADS, FORMULA_PREFIXES, build_cases
from helpers_evaluation import make_evaluation

from tianxin_analysis._fs import neutralize_formula_text, neutralize_formulas
from tianxin_analysis.data import run_clean
from tianxin_analysis.io import read_sheets
from tianxin_analysis.sample import write_sample

HOSTILE = {
    "formula_payload_names", "formula_payload_csv", "formula_payload_candidate",
    "extra_columns", "personal_columns", "control_and_long_text", "formula_text_in_csv",
}  # fmt: skip
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
PERSONAL_HEADER = re.compile(r"联系人|电话|手机|身份证|邮箱|e-?mail|填报人", re.IGNORECASE)


def _dangerous(text: str) -> bool:
    """Text a spreadsheet would run as a formula (a plain negative number is only a number)."""
    return text.startswith(FORMULA_PREFIXES) and not _NUMBER.match(text.strip())


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("safe")
    raw, out = base / "raw", base / "processed"
    write_sample(raw)
    for case in build_cases():
        if case.name in HOSTILE:
            case.write(raw)
    run = run_clean(raw, out, progress=False)
    return {"raw": raw, "out": out, "run": run}


def test_neutralize_helpers_cover_every_prefix():
    for prefix in FORMULA_PREFIXES:
        assert neutralize_formula_text(prefix + "1+1") == "'" + prefix + "1+1"
    frame = pd.DataFrame({"=a": ["=1", "ok", None], "n": [-1.5, 2.0, 3.0]})
    out = neutralize_formulas(frame)
    assert out.columns.tolist() == ["'=a", "n"]
    assert out["'=a"].tolist()[:2] == ["'=1", "ok"]
    assert out["n"].tolist() == [-1.5, 2.0, 3.0]  # numbers stay numbers
    assert frame["=a"].tolist()[0] == "=1"  # input not mutated


def test_processed_csvs_hold_no_formula_text(hostile_run):
    out = hostile_run["out"]
    csvs = sorted(out.glob("*.csv"))
    assert {p.name for p in csvs} >= {"quarantine.csv", "reconciliation.csv",
                                      "hitech_certificates.csv"}  # fmt: skip
    seen_neutralised = 0
    for path in csvs:
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: Excel needs the UTF-8 BOM"
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row_no, row in enumerate(csv.reader(fh), start=1):
                for cell in row:
                    assert not _dangerous(cell), f"{path.name} row {row_no}: {cell[:60]!r}"
                    seen_neutralised += cell.startswith("'") and cell[1:].startswith(
                        FORMULA_PREFIXES
                    )
    # The payloads were kept (as neutralised text), not dropped to make the check pass.
    assert seen_neutralised >= len(FORMULA_PAYLOADS)


def test_payload_names_reach_the_table_as_text(hostile_run):
    certs = pd.read_csv(
        hostile_run["out"] / "hitech_certificates.csv", dtype=str, encoding="utf-8-sig",
        keep_default_na=False,
    )  # fmt: skip
    names = certs.loc[certs["source_file"].str.endswith("公式注入.xlsx"), "enterprise_name"]
    assert len(names) == len(FORMULA_PAYLOADS) + 1
    assert names.str.startswith("'").sum() == len(FORMULA_PAYLOADS)
    assert names.str.contains("HYPERLINK").sum() == 1


def _personal_values(raw: Path) -> set[str]:
    """Every value under a personal-data header in the raw files (what must never leak)."""
    values: set[str] = set()
    for path in raw.rglob("*"):
        if not path.is_file() or path.suffix == ".yaml":
            continue
        for sheet in read_sheets(path):
            grid = sheet.grid
            for row_no in grid.index[:10]:
                cols = [c for c, v in grid.loc[row_no].items()
                        if isinstance(v, str) and PERSONAL_HEADER.search(v)]  # fmt: skip
                if len(cols) >= 2:  # a header row with personal columns
                    below = grid.loc[grid.index > row_no, cols]
                    values |= {str(v).strip() for v in below.to_numpy().ravel() if v is not None}
                    break
    return {v for v in values if len(v) >= 3}


def test_no_personal_data_reaches_processed(hostile_run):
    out = hostile_run["out"]
    secrets = _personal_values(hostile_run["raw"])
    assert len(secrets) > 500  # the sample and the hostile cases do carry personal data
    phones = {s for s in secrets if re.search(r"\d{3,}-\d{4}", s)}
    emails = {s for s in secrets if "@" in s}
    assert phones and emails
    # Contact names are checked everywhere except the pipelines' `candidate` column: the
    # talent pipelines list their (masked) candidates by name, drawn from the same made-up
    # name pool as the contact persons; phones, e-mails and ID numbers are checked everywhere.
    strict = {s for s in secrets if re.search(r"[0-9@]", s)}
    assert strict
    for path in sorted(out.rglob("*")):
        if path.suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
        elif path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif path.suffix == ".json":
            text = path.read_text(encoding="utf-8")
            assert not [s for s in strict if s in text], path.name
            continue
        else:
            continue
        assert not [c for c in frame.columns if PERSONAL_HEADER.search(str(c))], path
        text = "\n".join(str(v) for v in frame.to_numpy().ravel())
        leaked = sorted(s for s in strict if s in text)
        assert not leaked, f"{path.name} carries personal data: {leaked[:5]}"
        cells = {str(v).strip() for v in frame.drop(columns="candidate", errors="ignore")
                 .to_numpy().ravel()}  # fmt: skip
        leaked = sorted((secrets - strict) & cells)
        assert not leaked, f"{path.name} carries contact names: {leaked[:5]}"


def test_briefing_xlsx_neutralises_every_text_cell(tmp_path):
    from tianxin_analysis.report import build_briefing

    evaluation = make_evaluation()
    lists = dict(evaluation.watch_lists)
    tid = next(iter(lists))
    frame = lists[tid]
    hostile = pd.DataFrame(
        {c: [frame[c].iloc[0]] * len(FORMULA_PAYLOADS) for c in frame.columns}
    ).assign(enterprise_name=list(FORMULA_PAYLOADS))
    lists[tid] = pd.concat([frame, hostile], ignore_index=True)
    evaluation = dataclasses.replace(evaluation, watch_lists=lists)
    written = build_briefing(
        evaluation, tmp_path, progress=False, figure_sizes=("a4",), figure_formats=("png",)
    )
    xlsx = [p for p in written if Path(p).suffix == ".xlsx"]
    assert xlsx, "the briefing writes an XLSX for Excel/WPS users"
    payload_cells = 0
    for path in xlsx:
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
                    if isinstance(cell.value, str):
                        assert not _dangerous(cell.value), f"{ws.title}!{cell.coordinate}"
                        payload_cells += "cmd|" in cell.value or "HYPERLINK" in cell.value
        wb.close()
    assert payload_cells >= 4  # the hostile names are in the workbook, as inert text
    for path in written:
        if Path(path).suffix == ".csv":
            with open(path, encoding="utf-8-sig", newline="") as fh:
                for row in csv.reader(fh):
                    assert not any(_dangerous(c) for c in row), (path, row)


def test_publishing_keeps_files_it_did_not_write(tmp_path):
    """A folder's own files (the README that git tracks in data/processed) survive the swap
    of a published set byte for byte, and the manifest lists them; our temporary names do not
    travel into the new set."""
    from stdnum.cn import uscc as stdnum_uscc

    from tianxin_analysis.publish import read_manifest, verify_manifest

    raw = tmp_path / "raw" / "tech_sme_registrations"
    raw.mkdir(parents=True)
    code = "91430103MA4L0G6E1" + stdnum_uscc.calc_check_digit("91430103MA4L0G6E1")
    (raw / "导出.csv").write_text(
        f"企业名称,统一社会信用代码,入库年度,入库批次\n长沙天心星澜云图科技有限公司,{code},2024,2\n",
        encoding="utf-8",
    )
    out = tmp_path / "processed"
    out.mkdir()
    (out / "README.md").write_text("# data/processed\n", encoding="utf-8")
    (out / ".old.csv.abc123.tmp").write_text("half", encoding="utf-8")  # an old killed write
    for _ in range(2):
        run = run_clean(tmp_path / "raw", out, progress=False)
        assert run.ok, run.failures
        assert (out / "README.md").read_text(encoding="utf-8") == "# data/processed\n"
        assert not (out / ".old.csv.abc123.tmp").exists()
        assert "README.md" in read_manifest(out)["outputs"] and verify_manifest(out) == []
