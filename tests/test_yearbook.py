"""The real yearbook tables in ../shared/real-data/yearbook (skipped when absent)."""

from __future__ import annotations

import pytest
from conftest import REAL_YEARBOOK, needs_real_data

from tianxin_analysis.io import PROVINCES, detect_format, read_sheets, read_yearbook_table

pytestmark = needs_real_data

AGGREGATES = {"全国", "东部地区", "中部地区", "西部地区", "东北地区"}


def _files():
    return sorted(REAL_YEARBOOK.glob("*/*.xls")) if REAL_YEARBOOK.is_dir() else []


def _value(rel: str, region: str, year: int, indicator: str | None = None) -> float:
    df = read_yearbook_table(REAL_YEARBOOK / rel)
    sel = df[(df["region"] == region) & (df["year"] == year)]
    if indicator is not None:
        sel = sel[sel["indicator"] == indicator]
    assert len(sel) == 1, sel
    return float(sel["value"].iloc[0])


def test_every_file_parses_to_a_tidy_frame():
    files = _files()
    assert len(files) >= 40
    for path in files:
        df = read_yearbook_table(path)
        assert len(df) > 100, path
        assert str(df["year"].dtype) == "int64", path
        assert str(df["value"].dtype) == "float64", path
        assert df["is_aggregate"].dtype == bool, path
        for col in ("region", "region_en", "indicator", "unit"):
            assert df[col].dtype == "str", (path, col)
        assert df["value"].notna().all(), path
        assert not df["region"].str.contains(r"\s").any(), path
        assert (df["unit"] != "").all(), path
        assert df.duplicated(["region", "indicator", "year"]).sum() == 0, path
        regions = set(df["region"])
        assert {zh for zh, _ in PROVINCES} <= regions, path
        assert "全国" in regions, path
        flagged = set(df.loc[df["is_aggregate"], "region"])
        assert flagged == regions & AGGREGATES, path
        assert set(df.attrs) >= {"table_id", "title", "title_en", "notes", "source_file"}
        if "html" not in path.name:
            assert df.attrs["table_id"] is not None and df.attrs["title_en"], path


def test_containers_are_detected():
    kinds = {p.name: detect_format(p) for p in REAL_YEARBOOK.glob("rd-intensity-by-region/*")}
    assert kinds == {
        "2018.xls": "xls-encrypted",
        "2019.xls": "xls-encrypted",
        "2020.xls": "xls",
        "2020-html.xls": "html",
        "2021.xls": "xls",
        "2022.xls": "xls-encrypted",
    }
    # Decrypted in memory with Excel's default key; the CNKI link sheet is skipped.
    sheets = read_sheets(REAL_YEARBOOK / "rd-intensity-by-region/2022.xls")
    assert [s.sheet for s in sheets] == ["1"]
    assert sheets[0].grid.loc[1, 0] == "1-8 各地区研究与试验发展(R&D)经费投入强度"


def test_rd_intensity_values_and_revisions():
    assert _value("rd-intensity-by-region/2018.xls", "全国", 2018) == 2.14
    assert _value("rd-intensity-by-region/2018.xls", "全国", 2011) == 1.78
    assert _value("rd-intensity-by-region/2018.xls", "湖南", 2018) == 1.81
    # 2019 was revised from 2.23 (2019 edition) to 2.24 (2022 edition).
    assert _value("rd-intensity-by-region/2019.xls", "全国", 2019) == 2.23
    assert _value("rd-intensity-by-region/2022.xls", "全国", 2019) == 2.24
    assert _value("rd-intensity-by-region/2022.xls", "全国", 2022) == 2.54
    assert _value("rd-intensity-by-region/2022.xls", "湖南", 2022) == 2.41
    # Unrounded floats and float-noise year headers in the 2020 edition.
    assert _value("rd-intensity-by-region/2020.xls", "全国", 2012) == pytest.approx(1.9058175203)
    assert _value("rd-intensity-by-region/2020-html.xls", "全国", 2020) == 2.4
    notes = read_yearbook_table(REAL_YEARBOOK / "rd-intensity-by-region/2022.xls").attrs["notes"]
    assert notes[0].startswith("注:全国R&D经费支出与国内生产总值之比已根据")


def test_tech_market_values():
    rel = "tech-market-outflow-value/2022.xls"
    assert _value(rel, "全国", 2022) == 477910166.0
    assert _value(rel, "湖南", 2022) == 25428885.0
    assert _value("tech-market-outflow-value/2019.xls", "湖南", 2019) == 4906932.0
    assert _value("tech-market-outflow-value/2021.xls", "全国", 2021) == pytest.approx(372943029.73)
    assert _value("tech-market-inflow-contracts/2022.xls", "全国", 2022) == 772507.0
    df = read_yearbook_table(REAL_YEARBOOK / "tech-market-outflow-value/2021.xls")
    assert df.attrs["table_id"] == "8-37"
    assert set(df["unit"]) == {"万元"}
    # The English name split over two rows is joined back.
    hk = df.loc[df["region"] == "港澳台", "region_en"].iloc[0]
    assert hk == "Hong Kong, Macao & Taiwan"
    assert sorted(df["year"].unique())[:4] == [2000, 2005, 2010, 2015]


def test_hitech_industry_values():
    rel14 = "hitech-industry-by-region/2014.xls"
    assert _value(rel14, "全国", 2014, "主营业务收入") == 127368.0
    assert _value(rel14, "湖南", 2014, "主营业务收入") == 2834.4
    assert _value(rel14, "湖南", 2014, "企业数") == 900.0
    rel22 = "hitech-industry-by-region/2022.xls"
    assert _value(rel22, "湖南", 2022, "营业收入") == 5671.0
    df = read_yearbook_table(REAL_YEARBOOK / rel22)
    units = df.drop_duplicates("indicator").set_index("indicator")["unit"].to_dict()
    assert units == {"企业数": "个", "营业收入": "亿元", "利润总额": "亿元"}
    assert df.attrs["table_id"] == "5-2"
    assert _value("hitech-industry-by-region/2020-html.xls", "湖南", 2020, "营业收入") == 4196.0


def test_industrial_rd_three_row_header_and_subitems():
    rel = "industrial-firm-rd-spending-by-region/2018.xls"
    df = read_yearbook_table(REAL_YEARBOOK / rel)
    assert df.attrs["table_id"] == "2-10"
    assert df["indicator"].nunique() == 10
    assert _value(rel, "湖南", 2018, "R&D经费内部支出") == 5167217.0
    assert _value(rel, "湖南", 2018, "人员劳务费") == 1081094.0
    assert (
        _value(
            "industrial-firm-rd-spending-by-region/2022-all.xls", "湖南", 2022, "R&D经费内部支出"
        )
        == 9791734.0
    )
