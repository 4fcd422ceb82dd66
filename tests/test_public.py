"""yearbook_panel / build_public_series / load_public_series."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
from conftest import REAL_YEARBOOK, needs_real_data

from tianxin_analysis.data.public import (
    ANNUAL_PANEL_TABLES,
    PUBLIC_PANELS_PATH,
    PUBLIC_SERIES_PATH,
    build_public_series,
    load_annual_panels,
    load_public_series,
    write_annual_panels,
    write_public_series,
    yearbook_panel,
)
from tianxin_analysis.errors import InputFileError, SchemaError
from tianxin_analysis.io import PROVINCES


def _edition(path, years: list[int], national: list[float], hunan: list[float]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (
        ["1-8 各地区研究与试验发展(R&D)经费投入强度"],
        ["The R&D Expenditure Input Intensity by Region"],
        ["单位:%"],
        ["地 区", "Region", *[str(y) for y in years]],
        ["全 国", "National Total", *national],
        ["湖 南", "Hunan", *hunan],
    ):
        ws.append(row)
    wb.save(path)


@pytest.fixture
def yearbook(tmp_path):
    table = tmp_path / "rd-intensity-by-region"
    table.mkdir()
    _edition(table / "2019.xlsx", [2018, 2019], [2.14, 2.23], [1.81, 1.98])
    _edition(table / "2020.xlsx", [2019, 2020], [2.24, 2.40], [1.98, 2.15])
    _edition(table / "2020-html.xlsx", [2019, 2020], [2.25, 2.41], [1.99, 2.16])
    return tmp_path


def test_panel_keeps_latest_edition(yearbook):
    panel = yearbook_panel(yearbook, "rd-intensity-by-region")
    assert list(panel.columns[:8]) == [
        "region",
        "region_en",
        "is_aggregate",
        "year",
        "indicator",
        "indicator_en",
        "unit",
        "value",
    ]
    assert str(panel["edition"].dtype) == "int64"
    national = panel[panel["region"] == "全国"].set_index("year")
    assert national["value"].to_dict() == {2018: 2.14, 2019: 2.24, 2020: 2.40}
    assert national["edition"].to_dict() == {2018: 2019, 2019: 2020, 2020: 2020}
    assert set(panel["variant"]) == {""}
    assert panel["region"].iloc[0] == "全国"  # aggregates first
    assert panel["is_aggregate"].tolist() == [True] * 3 + [False] * 3


def test_panel_all_editions_shows_revisions(yearbook):
    panel = yearbook_panel(yearbook, "rd-intensity-by-region", all_editions=True)
    rev = panel[(panel["region"] == "全国") & (panel["year"] == 2019)]
    assert rev[["edition", "value"]].values.tolist() == [[2019, 2.23], [2020, 2.24]]


def test_panel_variants_lose_to_the_editions_own_file(yearbook):
    panel = yearbook_panel(yearbook, "rd-intensity-by-region", include_variants=True)
    assert set(panel["variant"]) == {""}
    every = yearbook_panel(
        yearbook, "rd-intensity-by-region", include_variants=True, all_editions=True
    )
    assert set(every["variant"]) == {"", "html"}
    assert len(every) == 12


def test_panel_errors(yearbook, tmp_path):
    with pytest.raises(InputFileError, match="rd-intensity-by-region"):
        yearbook_panel(yearbook, "no-such-table")
    (yearbook / "rd-intensity-by-region" / "copy of 2020.xlsx").write_bytes(b"x")
    with pytest.raises(SchemaError, match="文件名"):
        yearbook_panel(yearbook, "rd-intensity-by-region")


def test_committed_series_loads_with_types():
    df = load_public_series()
    assert str(df["year"].dtype) == "int64" and str(df["value"].dtype) == "float64"
    assert set(df["series"]) == {
        "rd_intensity",
        "tech_market_outflow_value",
        "tech_market_outflow_contracts",
        "hitech_revenue",
        "hitech_enterprises",
    }
    assert set(df["region"]) == {"全国", "湖南"}
    assert df["source"].str.contains("中国科技统计年鉴").all()
    assert not df.duplicated(["series", "region", "year"]).any()
    rd = df[(df["series"] == "rd_intensity") & (df["region"] == "全国")].set_index("year")
    assert rd.loc[2022, "value"] == 2.54
    assert rd.loc[2022, "table_id"] == "1-8"


def test_load_public_series_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="找不到公开数据序列文件"):
        load_public_series(tmp_path / "none.csv")


@needs_real_data
def test_real_panel_covers_provinces_and_years():
    panel = yearbook_panel(REAL_YEARBOOK, "rd-intensity-by-region")
    assert set(panel["region"]) == {zh for zh, _ in PROVINCES} | {"全国"}
    assert sorted(panel["year"].unique()) == list(range(2011, 2023))
    assert not panel.duplicated(["region", "indicator", "year"]).any()
    hunan = panel[panel["region"] == "湖南"].set_index("year")["value"]
    assert hunan[2022] == 2.41 and hunan[2011] == 1.19
    every = yearbook_panel(REAL_YEARBOOK, "rd-intensity-by-region", all_editions=True)
    rev = every[(every["region"] == "全国") & (every["year"] == 2019)]
    assert dict(zip(rev["edition"], rev["value"], strict=True)) == {
        2019: 2.23,
        2020: 2.24,
        2021: 2.24,
        2022: 2.24,
    }


@needs_real_data
def test_committed_csv_matches_a_fresh_build(tmp_path):
    fresh = build_public_series(REAL_YEARBOOK)
    out = write_public_series(REAL_YEARBOOK, tmp_path / "series.csv")
    pd.testing.assert_frame_equal(load_public_series(out), fresh, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(
        load_public_series(PUBLIC_SERIES_PATH), fresh, check_exact=False, rtol=1e-9
    )
    hitech = fresh[(fresh["series"] == "hitech_revenue") & (fresh["region"] == "湖南")]
    assert hitech.set_index("year")["value"].to_dict()[2022] == 5671.0
    assert set(hitech["indicator"]) == {"主营业务收入", "营业收入"}


def test_committed_panels_load_without_real_data():
    panels = load_annual_panels()
    assert set(panels) == set(ANNUAL_PANEL_TABLES)
    for table, frame in panels.items():
        assert list(frame.columns) == ["series", "year", "value"], table
        assert frame["series"].nunique() == 32, table  # 31 provinces + 全国
        assert not frame.duplicated(["series", "year"]).any(), table
    rd = panels["rd-intensity-by-region"].set_index(["series", "year"])["value"]
    assert rd[("全国", 2022)] == 2.54 and rd[("湖南", 2018)] == 1.81


@needs_real_data
def test_committed_panels_match_a_fresh_build(tmp_path):
    out = write_annual_panels(REAL_YEARBOOK, tmp_path / "panels.csv")
    fresh = load_annual_panels(out)
    committed = load_annual_panels(PUBLIC_PANELS_PATH)
    for table in fresh:
        pd.testing.assert_frame_equal(committed[table], fresh[table], check_exact=False, rtol=1e-9)
