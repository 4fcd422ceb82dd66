"""run_clean on the synthetic sample: quarantine, reconciliation, lineage, failures, outputs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from stdnum.cn import uscc as stdnum_uscc

from tianxin_analysis._fs import sha256_file
from tianxin_analysis.data import KINDS, is_synthetic, load_processed, run_clean
from tianxin_analysis.data.run import _reconcile
from tianxin_analysis.errors import InputFileError, ReconciliationError
from tianxin_analysis.sample import build_sample, write_sample

PERSONAL = ("联系人", "电话", "手机", "身份证", "邮箱", "填报人")


@pytest.fixture(scope="session")
def sample_raw(tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw")
    write_sample(raw, seed=2024)
    return raw


@pytest.fixture(scope="session")
def cleaned(sample_raw, tmp_path_factory):
    before = {p: sha256_file(p) for p in sample_raw.rglob("*") if p.is_file()}
    out = tmp_path_factory.mktemp("processed")
    run = run_clean(sample_raw, out, progress=False)
    return run, out, before


def test_run_is_ok_and_synthetic(cleaned):
    run, out, _ = cleaned
    assert run.ok, run.failures
    assert set(run.tables) == set(KINDS)
    assert run.synthetic and is_synthetic(out)
    assert "平衡 balanced" in run.summary_text()


def test_every_seeded_defect_is_quarantined_with_its_rule(cleaned):
    run, _, _ = cleaned
    expected = {(d.kind, d.file, d.sheet, d.row, d.rule) for d in build_sample(2024).defects}
    got = set(
        run.quarantine[["kind", "source_file", "source_sheet", "source_row", "rule"]].itertuples(
            index=False, name=None
        )
    )
    assert got == expected
    assert run.quarantine["reason_zh"].str.len().gt(0).all()
    assert run.quarantine["reason_en"].str.len().gt(0).all()


def test_reconciliation_balances_every_sheet(cleaned):
    run, out, _ = cleaned
    rec = pd.read_csv(out / "reconciliation.csv", encoding="utf-8-sig")
    assert rec["balanced"].all()
    assert (rec["rows_read"] == rec["rows_clean"] + rec["rows_quarantined"]).all()
    assert rec["rows_clean"].sum() == sum(len(t) for t in run.tables.values())
    assert rec["rows_quarantined"].sum() == len(run.quarantine)


def test_reconciliation_error_when_rows_are_lost():
    recon = [{"kind": "district_gdp", "source_file": "f.xlsx", "source_sheet": "s",
              "header_rows": "2", "rows_above_header": 1, "rows_blank": 0, "rows_read": 3}]  # fmt: skip
    table = pd.DataFrame({"source_file": ["f.xlsx"], "source_sheet": ["s"]})
    empty_q = pd.DataFrame(columns=["kind", "source_file", "source_sheet"])
    with pytest.raises(ReconciliationError, match="f.xlsx"):
        _reconcile(recon, {"district_gdp": table}, empty_q)


@pytest.mark.parametrize("files", [["f.csv"] * 4, ["f.csv", "g.csv", "f.csv", "g.csv"]])
def test_reconciliation_counts_one_file_and_several_alike(files, monkeypatch):
    recon = [{"kind": "hitech_certificates", "source_file": f, "source_sheet": "",
              "header_rows": "1", "rows_above_header": 0, "rows_blank": 0,
              "rows_read": files.count(f) + 1} for f in dict.fromkeys(files)]  # fmt: skip
    table = pd.DataFrame(
        {
            "source_file": pd.Series(files, dtype="str"),
            "source_sheet": pd.Series([""] * 4, dtype="str"),
        }
    )
    q = pd.DataFrame({"kind": "hitech_certificates", "source_file": list(dict.fromkeys(files)),
                      "source_sheet": ""})  # fmt: skip
    got = _reconcile(recon, {"hitech_certificates": table}, q)
    monkeypatch.setattr("tianxin_analysis.data.run._constant_text", lambda s: False)
    pd.testing.assert_frame_equal(got, _reconcile(recon, {"hitech_certificates": table}, q))
    assert got["rows_clean"].tolist() == [files.count(f) for f in dict.fromkeys(files)]
    assert got["balanced"].all()


def test_no_personal_data_in_any_output(cleaned):
    _, out, _ = cleaned
    for path in out.rglob("*"):
        if path.suffix == ".parquet":
            cols = pd.read_parquet(path).columns
            assert not [c for c in cols if any(w in c for w in PERSONAL)], path
        elif path.suffix in (".csv", ".json"):
            text = path.read_text(encoding="utf-8-sig")
            # the header names may appear in lineage (which columns were dropped), values never
            assert "139-0000-" not in text and "XXXX" not in text and "@example.com" not in text
            if path.suffix == ".csv":
                assert not [
                    c for c in text.splitlines()[0].split(",") if any(w in c for w in PERSONAL)
                ]


def test_load_processed_dtypes(cleaned):
    _, out, _ = cleaned
    for kind in KINDS:
        df = load_processed(kind, out)
        assert df["year"].dtype == "int64"
        assert df["source_row"].dtype == "int64"
        assert list(df.columns[-3:]) == ["source_file", "source_sheet", "source_row"]
    certs = load_processed("hitech_certificates", out)
    assert pd.api.types.is_datetime64_any_dtype(certs["issue_date"])
    assert (certs["expiry_year"] == certs["year"] + 3).all()
    assert certs["uscc"].str.len().eq(18).all()
    assert not certs.duplicated(["uscc", "year"]).any()
    smes = load_processed("tech_sme_registrations", out)
    assert str(smes["batch"].dtype) == "Int64"
    contracts = load_processed("tech_contracts", out)
    assert contracts["value_wan"].dtype == "float64"
    assert set(contracts.loc[contracts["months_covered"] == 2, "month"]) == {2}
    assert len(contracts[contracts["year"] == 2024]) == 12
    pipes = load_processed("pipelines", out)
    assert pipes.loc[pipes["stage"] != "已认定", "recognized_date"].isna().all()


def test_sample_magnitudes_against_targets(cleaned):
    _, out, _ = cleaned
    c = load_processed("hitech_certificates", out)
    valid = ~c["status"].isin(["已撤销", "已迁出"])
    stock = {y: int(((c["year"] >= y - 2) & (c["year"] <= y) & valid).sum()) for y in (2023, 2024)}
    assert 465 <= stock[2023] <= 495 and 505 <= stock[2024] <= 540
    t = load_processed("tech_contracts", out).query("year == 2024")
    assert 4300 <= t["contracts"].sum() <= 4800 and 1.35e6 <= t["value_wan"].sum() <= 1.55e6
    rd = load_processed("rd_expenditure", out).query("year == 2023")["rd_expenditure_wan"].sum()
    gdp = load_processed("district_gdp", out).set_index("year").loc[2023, "gdp_yi"]
    assert 2.7 <= rd / (gdp * 1e4) * 100 <= 2.9


def test_rerun_is_byte_identical(cleaned, tmp_path):
    run, out, _ = cleaned
    run2 = run_clean(run.raw_dir, tmp_path, progress=False)
    for path in out.glob("*.csv"):
        assert path.read_bytes() == (tmp_path / path.name).read_bytes(), path.name
    assert (out / "lineage.json").read_bytes() == (tmp_path / "lineage.json").read_bytes()
    for kind in KINDS:
        pd.testing.assert_frame_equal(load_processed(kind, out), load_processed(kind, tmp_path))
    assert run2.ok


def test_raw_files_unchanged_and_in_lineage(cleaned):
    run, out, before = cleaned
    after = {p: sha256_file(p) for p in run.raw_dir.rglob("*") if p.is_file()}
    assert after == before
    lineage = json.loads((out / "lineage.json").read_text(encoding="utf-8"))
    assert lineage["synthetic"] is True
    by_path = {e["path"]: e for e in lineage["raw_files"]}
    for p, digest in before.items():
        entry = by_path[p.relative_to(run.raw_dir).as_posix()]
        assert entry["sha256"] == digest and entry["size_bytes"] == p.stat().st_size
        assert entry["synthetic"] is True


def test_csv_has_bom(cleaned):
    _, out, _ = cleaned
    assert (out / "hitech_certificates.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_bad_files_reported_and_others_processed(sample_raw, tmp_path):
    raw = tmp_path / "raw"
    for kind in ("district_gdp", "tech_sme_registrations"):
        shutil.copytree(sample_raw / kind, raw / kind)
    bad = raw / "tech_sme_registrations" / "入库名单_缺列.csv"
    bad.write_text(
        "序号,企业名称,入库日期\n1,长沙测试星澜科技有限公司,2024-03-01\n", encoding="gbk"
    )
    corrupt = raw / "district_gdp" / "损坏文件.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    run = run_clean(raw, tmp_path / "out", progress=False)
    assert not run.ok
    messages = {f.file: f.message for f in run.failures}
    assert set(messages) == {
        "tech_sme_registrations/入库名单_缺列.csv",
        "district_gdp/损坏文件.xlsx",
    }
    assert "统一社会信用代码" in messages["tech_sme_registrations/入库名单_缺列.csv"]
    assert "缺少必需的列" in messages["tech_sme_registrations/入库名单_缺列.csv"]
    assert len(run.tables["tech_sme_registrations"]) > 2000
    assert len(run.tables["district_gdp"]) == 6
    assert "FAILED" in run.summary_text()


def test_header_synonyms_of_a_real_export(tmp_path):
    raw = tmp_path / "raw" / "tech_sme_registrations"
    raw.mkdir(parents=True)
    code = "91430103MA4L0G6E1" + stdnum_uscc.calc_check_digit("91430103MA4L0G6E1")
    (raw / "导出.csv").write_text(
        "企业全称,纳税人识别号,评价年度,入库批次,联系方式\n"
        f"长沙天心星澜云图科技有限公司,{code},2024年,第2批,13900000000\n",
        encoding="utf-8",
    )
    run = run_clean(tmp_path / "raw", tmp_path / "out", progress=False)
    assert run.ok, run.failures
    df = load_processed("tech_sme_registrations", tmp_path / "out")
    assert df.loc[0, "year"] == 2024 and df.loc[0, "batch"] == 2
    assert not is_synthetic(tmp_path / "out")


def test_interrupted_run_leaves_previous_outputs_readable(cleaned, tmp_path, monkeypatch):
    run, _, _ = cleaned
    raw = tmp_path / "raw"
    for kind in ("tech_contracts", "district_gdp", "pipelines"):
        shutil.copytree(run.raw_dir / kind, raw / kind)
    out = tmp_path / "out"
    run_clean(raw, out, progress=False)
    before = load_processed("tech_contracts", out)
    calls = {"n": 0}
    real = pq.write_table  # every parquet file goes through it (to_parquet too)

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(pq, "write_table", dying)
    with pytest.raises(KeyboardInterrupt):
        run_clean(raw, out, progress=False)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(load_processed("tech_contracts", out), before)
    assert not list(out.rglob("*.tmp"))


def test_load_processed_missing_table(tmp_path):
    with pytest.raises(InputFileError, match="tianxin clean"):
        load_processed("tech_contracts", tmp_path)


def test_csv_writer_matches_to_csv(tmp_path):
    """The Arrow CSV writer gives the bytes DataFrame.to_csv gave (BOM, "\\n", quoting)."""
    from tianxin_analysis._fs import neutralize_formulas
    from tianxin_analysis.data.run import _write_csv

    frame = pd.DataFrame(
        {
            "text": ["a,b", 'say "hi"', "two\nlines", "cr\rhere", "", "=SUM(A1)", "甲", "-1"],
            "maybe": pd.Series(["x", None, "", "y", None, "z", "@", "+"], dtype="str"),
            "obj": pd.Series(["p", "q", None, "r", "s", "t", "u", "v"], dtype=object),
            "n": np.arange(8, dtype="int64") - 3,
            "f": [1.5, np.nan, 1e20, -0.0, 1 / 3, 100.0, 2.5e-7, 12345678.9],
            "i": pd.array([1, None, 3, 4, None, 6, 7, 8], dtype="Int64"),
            "d": pd.to_datetime(["2024-01-02", None, "2023-12-31", "2020-02-29"] * 2),
            "b": [True, False] * 4,
            'we,ird "name"': ["k"] * 8,
        }
    )
    target = tmp_path / "out.csv"
    _write_csv(frame, target)
    expected = "\ufeff" + neutralize_formulas(frame).to_csv(
        index=False, lineterminator="\n", date_format="%Y-%m-%d"
    )
    assert target.read_bytes() == expected.encode("utf-8")
    _write_csv(frame.iloc[:0], target)
    assert target.read_bytes() == ("\ufeff" + frame.iloc[:0].to_csv(index=False)).encode()


def test_row_texts_same_for_text_and_object_grids():
    """Blank-row and footnote-text detection gives the same answer on str and object cells."""
    from tianxin_analysis.data.sheets import _row_texts

    cells = [
        ["甲", " 1 ", None],
        [None, "  ", "\u3000"],
        ["注：1. 模拟数据", None, ""],
        [" 制表人：张三\t", None, None],
        ["", "", ""],
        ["乙", None, "x"],
    ]
    obj = pd.DataFrame(cells, dtype=object, index=range(5, 11))
    txt = obj.astype("str")
    # as the as_text reader hands it over: blank cells already missing
    read = txt.apply(lambda s: s.where(s.str.strip() != ""))
    for grid, blanks_missing in ((obj, False), (txt, False), (read, True)):
        nonempty, single = _row_texts(grid, blanks_missing)
        assert nonempty.tolist() == [True, False, True, True, False, True]
        assert single.tolist() == ["", "", "注：1. 模拟数据", "制表人：张三", "", ""]
        assert list(single.index) == list(range(5, 11))


def test_all_missing_matches_isna_all():
    from tianxin_analysis.data.run import _all_missing

    grids = [
        pd.DataFrame(),
        pd.DataFrame({0: pd.Series([], dtype="str")}),
        pd.DataFrame({0: pd.Series([None, None], dtype="str"), 1: [None, None]}),
        pd.DataFrame({0: pd.Series([None, "x"], dtype="str"), 1: [None, None]}),
        pd.DataFrame({0: pd.Series([None, None], dtype="str"), 1: [None, 3]}),
        pd.DataFrame({0: pd.Series(["a", None], dtype="str").iloc[1:]}),
    ]
    for g in grids:
        assert _all_missing(g) == (g.empty or bool(g.isna().all().all()))
