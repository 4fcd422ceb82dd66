"""Revisions, not duplicates (issue 15, item 3), report dates, and what lineage says failed."""

from __future__ import annotations

import json
import os
import shutil
import time

import pandas as pd
import pytest

from tianxin_analysis.data import run_clean
from tianxin_analysis.data.coverage import report_date, unavailable_kinds
from tianxin_analysis.paths import RAW_DIR

SME = "tech_sme_registrations"


@pytest.mark.parametrize(
    ("name", "title", "expected"),
    [
        ("科创项目储备台账_2024-09-30.xlsx", "", "2024-09-30"),
        ("技术合同登记月报_2024年1-9月.xlsx", "", "2024-09-30"),
        ("技术合同登记月报_２０２４年１－９月.xls", "", "2024-09-30"),
        ("月报.xlsx", "天心区2024年科创平台储备台账（截至2024年09月30日）", "2024-09-30"),
        ("x_截至2024年9月.xlsx", "", "2024-09-30"),
        ("x_截至2024-10-15.csv", "", "2024-10-15"),
        ("x_截止2024年10月15日.csv", "", "2024-10-15"),
        ("x_2024年10月15日.xlsx", "", "2024-10-15"),
        ("高新技术企业认定名单_2018-2024.xlsx", "", None),  # a span of years is no report date
        ("科技型中小企业入库名单_2024.csv", "", None),
    ],
)
def test_report_date_from_name_or_title(name, title, expected):
    got = report_date(name, title)
    assert (None if got is None else f"{got:%Y-%m-%d}") == expected


def _sme_raw(tmp_path):
    raw = tmp_path / "raw"
    (raw / SME).mkdir(parents=True)
    for year in (2023, 2024):
        shutil.copy(RAW_DIR / SME / f"科技型中小企业入库名单_{year}.csv", raw / SME)
    return raw


def test_a_later_registry_export_revises_a_record_and_repeats_stay_duplicates(tmp_path):
    raw = _sme_raw(tmp_path)
    old = raw / SME / "科技型中小企业入库名单_2024.csv"
    lines = old.read_text(encoding="gb18030").splitlines(keepends=True)
    fields = lines[2].split(",")
    assert fields[4] == "2024-01-13"
    fields[4] = "2024-01-15"  # the registration date corrected in the later export
    revised = [lines[0], lines[1], ",".join(fields), *lines[3:]]
    new = raw / SME / "科技型中小企业入库名单_2024_截至2024-10-15.csv"
    new.write_text("".join(revised), encoding="gb18030")
    received = time.mktime((2024, 9, 1, 0, 0, 0, 0, 0, -1))
    os.utime(old, (received, received))

    before = run_clean(_sme_raw(tmp_path / "b"), tmp_path / "pb", progress=False)
    run = run_clean(raw, tmp_path / "p", progress=False)
    rev = pd.read_csv(tmp_path / "p" / "revisions.csv", encoding="utf-8-sig", dtype=str)
    assert len(rev) == 1
    r = rev.iloc[0]
    assert (r["column"], r["period"], r["new_report_date"]) == (
        "registration_date",
        "2024",
        "2024-10-15",
    )
    assert r["old_value"].startswith("2024-01-13") and r["new_value"].startswith("2024-01-15")
    assert r["old_file"].endswith("科技型中小企业入库名单_2024.csv") and r["key"].startswith(
        "91430103876900839D"
    )
    # nothing vanished: the same clean rows as one export, the revised one in its new form
    assert len(run.tables[SME]) == len(before.tables[SME])
    row = run.tables[SME].set_index("uscc").loc["91430103876900839D"]
    row = row[row["year"] == 2024]
    assert str(row["registration_date"].iloc[0])[:10] == "2024-01-15"
    rec = run.reconciliation.set_index("source_file")
    assert rec.loc[f"{SME}/科技型中小企业入库名单_2024.csv", "rows_revised"] == 1
    assert rec["balanced"].all()
    q = run.quarantine
    repeats = q[q["source_file"].str.endswith("2024-10-15.csv")]
    originals = q[q["source_file"].str.endswith("名单_2024.csv")]
    assert (repeats["rule"] == "duplicate_row").sum() > 500
    assert set(repeats["rule"]) <= set(originals["rule"]) | {"duplicate_row"}
    assert "duplicate_key" not in set(q["rule"])
    lineage = json.loads((tmp_path / "p" / "lineage.json").read_text(encoding="utf-8"))
    dated = {
        e["path"]: (e["report_date"][:10], e["report_date_source"]) for e in lineage["raw_files"]
    }
    assert dated[f"{SME}/{new.name}"] == ("2024-10-15", "file name")
    assert dated[f"{SME}/{old.name}"] == ("2024-09-01", "modification time")


def test_the_same_report_date_stays_a_key_clash(tmp_path):
    raw = _sme_raw(tmp_path)
    old = raw / SME / "科技型中小企业入库名单_2024.csv"
    lines = old.read_text(encoding="gb18030").splitlines(keepends=True)
    fields = lines[2].split(",")
    fields[4] = "2024-01-15"
    twin = raw / SME / "科技型中小企业入库名单_2024_副本.csv"
    twin.write_text("".join([lines[0], lines[1], ",".join(fields)]), encoding="gb18030")
    same = time.mktime((2024, 9, 1, 0, 0, 0, 0, 0, -1))
    for path in (old, twin):
        os.utime(path, (same, same))
    run = run_clean(raw, tmp_path / "p", progress=False)
    assert len(run.revisions) == 0
    assert (run.quarantine["rule"] == "duplicate_key").sum() == 2  # which one is right is unknown


def test_unavailable_kinds_reads_lineage_failures_tolerantly(tmp_path):
    (tmp_path / "lineage.json").write_text(
        json.dumps({"failures": [
            {"kind": SME, "file": f"{SME}/科技型中小企业入库名单_2024.csv", "sheet": "",
             "message": "HTML 文件中没有表格\nmore", "stage": "read", "extra": [1]},
            {"kind": "unknown_kind", "file": "x", "message": "y"},
            "not a record",
        ]}, ensure_ascii=False),
        encoding="utf-8",
    )  # fmt: skip
    got = unavailable_kinds(tmp_path)
    assert set(got) == {SME}
    assert "科技型中小企业入库名单_2024.csv" in got[SME] and "HTML 文件中没有表格" in got[SME]
    assert "more" not in got[SME]
    (tmp_path / "lineage.json").write_text("{garbled", encoding="utf-8")
    assert unavailable_kinds(tmp_path) == {}


def _toy_schema(**declared):
    from tianxin_analysis.data.declaration import Schema

    return Schema(kind="toy_ledger", fields=(), derive=lambda frame, ctx: frame, **declared)


@pytest.mark.parametrize(
    ("month", "periods"), [("period_month", ["2024-03", "2024-11"]), (None, ["2024", "2024"])]
)
def test_a_revision_names_its_period_by_the_declared_columns(month, periods):
    # a toy kind whose period columns are not called year/month: the revision's period is
    # read from the declaration (partition, and the month column when the kind declares one)
    import numpy as np

    from tianxin_analysis.data.revisions import Revisions, supersede

    schema = _toy_schema(key=("fiscal_year", "period_month"), partition="fiscal_year",
                         month=month, columns=("fiscal_year", "period_month", "amount"))  # fmt: skip
    df = pd.DataFrame({
        "fiscal_year": [2024, 2024, 2024, 2024], "period_month": [3, 11, 3, 11],
        "amount": [1.0, 2.0, 1.5, 2.5],
        "source_file": ["a.csv", "a.csv", "b.csv", "b.csv"], "source_sheet": "",
        "source_row": [2, 3, 2, 3],
    })  # fmt: skip
    times = {"a.csv": pd.Timestamp("2024-06-30"), "b.csv": pd.Timestamp("2024-12-31")}
    rows, key = np.arange(4), np.array([0, 1, 0, 1])
    superseded, found = supersede("toy_ledger", schema, df, rows, key, Revisions(times))
    assert superseded.tolist() == [True, True, False, False]  # the later report wins
    assert found["period"].tolist() == periods
    assert found["key_columns"].unique().tolist() == ["fiscal_year|period_month"]
    assert (found["column"] + "=" + found["new_value"]).tolist() == ["amount=1.5", "amount=2.5"]


def test_monthly_kinds_declare_their_month_column():
    from tianxin_analysis.data.kinds import SCHEMAS

    monthly = {k for k, s in SCHEMAS.items() if s.month is not None}
    assert {"tech_contracts", "hitech_value_added"} <= monthly
    assert all(SCHEMAS[k].month in SCHEMAS[k].columns for k in monthly)
