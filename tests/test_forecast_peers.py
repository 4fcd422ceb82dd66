"""Annual series of the district forecast among peers (issue 16): R&D intensity against the
provinces, first-time high-tech certifications against enterprise counts, a user peers file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tianxin_analysis.data.public import load_peers
from tianxin_analysis.errors import SchemaError
from tianxin_analysis.forecast.models import rd_intensity
from tianxin_analysis.forecast.panel import annual_with_peers, district_peers


def _rd(years=range(2017, 2024), last_units=2):
    rd = pd.DataFrame([{"unit_name": "u", "uscc": f"D{i}", "unit_type": "企业", "year": y,
                        "rd_expenditure_wan": 600.0 + 20 * (y - 2017)}
                       for y in years for i in range(40)])  # fmt: skip
    partial = rd[(rd["year"] < 2023) | (rd["uscc"] < f"D{last_units}")]
    gdp = pd.DataFrame({"year": list(years), "gdp_yi": 100.0})
    return partial, gdp


def test_rd_intensity_trend_borrows_from_the_provinces_by_default():
    rd, gdp = _rd()
    panel = rd_intensity(rd, gdp, 2023, "2024-09", target=2.8)
    lone = rd_intensity(rd, gdp, 2023, "2024-09", target=2.8, peers=None)
    assert panel.method == "ratio trend: panel EB drift (log)" and panel.details["peers"] >= 31
    assert lone.method == "ratio trend: annual robust (log)"
    assert 0 <= panel.details["weight_own"] <= 1 and panel.point != lone.point
    assert panel.lower < panel.point < panel.upper


def test_user_peers_file_is_read_and_checked(tmp_path):
    path = tmp_path / "peers.csv"
    path.write_text("indicator,series,year,value\nrd_intensity,雨花区,2021,2.9\n"
                    "rd_intensity,雨花区,2022,3.0\nhitech_enterprises,雨花区,2022,600\n"
                    "rd_intensity,岳麓区,2022,\n", encoding="utf-8")  # fmt: skip
    got = load_peers("rd_intensity", path)
    assert list(got["series"]) == ["雨花区", "雨花区"] and list(got["value"]) == [2.9, 3.0]
    assert load_peers("rd_intensity", tmp_path / "absent.csv").empty
    path.write_text(
        "indicator,series,year,value\nrd_intensity,雨花区,二〇二二,3.0\n", encoding="utf-8"
    )
    with pytest.raises(SchemaError, match="row=2"):
        load_peers("rd_intensity", path)
    path.write_text("indicator,region,year,value\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="缺少列"):
        load_peers("rd_intensity", path)


def test_public_peers_of_each_indicator():
    rd = district_peers("rd_intensity")
    assert {"全国", "湖南", "北京"} <= set(rd["series"])
    hi = district_peers("hitech_enterprises")
    assert set(hi["series"]) == {"全国", "湖南"} and hi["value"].gt(0).all()
    assert district_peers("no_such_indicator").empty


def test_annual_with_peers_falls_back_to_annual_without_peers():
    s = pd.Series([10.0, 11.0, 12.5, 13.0], index=range(2020, 2024))
    assert annual_with_peers(s, None).method == "annual robust (log)"
    peers = pd.DataFrame({"series": np.repeat(["a", "b", "c"], 6), "year": np.tile(range(2018, 2024), 3),
                          "value": np.tile(100 * 1.02 ** np.arange(6), 3)})  # fmt: skip
    r = annual_with_peers(s, peers, target=14.0)
    assert r.method == "panel EB drift (log)" and r.details["forecast_year"] == 2024
    assert 13.0 < r.point < 13.0 * np.exp(np.log(1.3) / 3)  # between no growth and its own drift
