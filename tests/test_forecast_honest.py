"""Model answers that must be certain where the data is, uncertain where it is not (issue 15,
item 6), and the coverage every result carries."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tianxin_analysis.forecast import annual, evaluate_targets, prob_at_least
from tianxin_analysis.forecast.models import growth_full_year, hitech_year_end, rd_intensity
from tianxin_analysis.targets import Plan, Target


def _plan(*targets: Target, year: int = 2024) -> Plan:
    return Plan(year=year, district_zh="天心区", district_en="Tianxin", district_code="430103",
                document="", title="t", issued="", targets=targets, source_file="t.yaml")  # fmt: skip


def _target(tid: str, kind: str, data_kind: str, measure: str, value: float, period: str = "2024",
            comparator: str = ">=", tolerance: float = 0.0, **kw) -> Target:  # fmt: skip
    return Target(id=tid, name_zh=tid, name_en=tid, comparator=comparator, value=value, unit="%",
                  unit_en="%", period=period, kind=kind, data_kind=data_kind, measure=measure,
                  clause="", tolerance=tolerance, **kw)  # fmt: skip


def _va(full_year: dict[int, float], current: dict[int, float] | None = None) -> pd.DataFrame:
    rows = [{"year": y, "month": m, "va_cum_yi": 10.0 * m, "growth_cum_pct": g}
            for y, g in full_year.items() for m in range(2, 13)]  # fmt: skip
    rows += [{"year": 2024, "month": m, "va_cum_yi": 11.0 * m, "growth_cum_pct": g}
             for m, g in (current or {}).items()]  # fmt: skip
    return pd.DataFrame(rows)


GROWTH = _target("g", "growth_rate", "hitech_value_added", "growth_cum_pct", 11.0)


@pytest.mark.parametrize(
    ("december", "status", "p"), [(11.0, "met", 1.0), (10.9, "off_track", 0.0)]
)
def test_reported_full_year_growth_is_met_or_not_with_certainty(december, status, p):
    va = _va({y: 10.0 for y in range(2019, 2024)}, {m: 11.5 for m in range(2, 12)} | {12: december})
    r = growth_full_year(va, 2024, "2025-01", target=11.0)
    assert r.p_meet == p and r.lower == r.upper == december
    row = evaluate_targets(_plan(GROWTH), {"hitech_value_added": va}, "2025-01").table.iloc[0]
    assert (row.status, row.p_meet, row.data_through) == (status, p, "2024-12")


def test_growth_before_first_month_forecasts_in_points_with_the_target():
    # Full-year growth near zero: relative (log) changes of 0.2 -> 0.8 are 300%; in points they
    # are small. The target must be passed so that p_meet and a status exist.
    va = _va({2019: 0.5, 2020: 1.0, 2021: 0.2, 2022: 0.8, 2023: 0.6})
    r = growth_full_year(va, 2024, "2024-01", target=1.0)
    assert r.p_meet is not None and 0.05 < r.p_meet < 0.6
    assert r.details["predictive"]["family"] == "t"  # level scale, percentage points
    assert r.upper - r.lower < 8.0 and r.lower < 0.6 < r.upper
    assert any("往年全年增速趋势" in n for n in r.details["notes"])
    row = evaluate_targets(_plan(GROWTH), {"hitech_value_added": va}, "2024-01").table.iloc[0]
    assert (
        row.status != "unknown" and row.history_years == 5 and "往年全年增速趋势" in row.data_note
    )


def _certificates(new_by_year: dict[int, int], renew: float = 0.7, seed: int = 3) -> pd.DataFrame:
    """Batches issued in October, November and December (a third each); each batch = renewals
    of the batch three years before (share ``renew``) + first-time certifications."""
    rng = np.random.default_rng(seed)
    rows, cohorts, n = [], {}, 0
    for y, new in sorted(new_by_year.items()):
        renewed = [u for u in cohorts.get(y - 3, []) if rng.random() < renew]
        members = renewed + [f"U{(n := n + 1):06d}" for _ in range(new)]
        cohorts[y] = members
        for i, u in enumerate(members):
            rows.append({"enterprise_name": u, "uscc": u, "certificate_no": f"{y}{i}", "year": y,
                         "issue_date": pd.Timestamp(y, 10 + i % 3, 15), "expiry_year": y + 3,
                         "park": "p", "tech_field": "t", "status": "有效"})  # fmt: skip
    return pd.DataFrame(rows)


def _valid_at_year_end(certs: pd.DataFrame, year: int) -> int:
    return int(certs.loc[certs["year"].between(year - 2, year), "uscc"].nunique())


def test_hitech_new_certifications_scale_with_the_batches_still_to_come():
    # A strong year: 2024 certifies 40% more first-timers than the trend says.
    certs = _certificates({2017: 300, 2018: 320, 2019: 340, 2020: 360, 2021: 380, 2022: 400,
                           2023: 420, 2024: 600})  # fmt: skip
    truth = _valid_at_year_end(certs, 2024)
    sep = hitech_year_end(certs, 2024, "2024-09", target=truth)
    nov = hitech_year_end(certs, 2024, "2024-11", target=truth)
    # Two thirds of the year's batches are issued by November: what remains is a third of the
    # year's new certifications (not "forecast minus issued", which a strong year drives to 0),
    # and its spread shrinks with it.
    assert nov.lower95 <= truth <= nov.upper95
    assert nov.upper - nov.lower < 0.6 * (sep.upper - sep.lower)
    q = nov.details["batch_share_issued_by_month"]
    assert q == pytest.approx(2 / 3, abs=0.02)
    assert nov.details["expected_new_remaining"] == pytest.approx((1 - q) * 440, rel=0.25)


def _rd(years, units: int = 40, amount: float = 700.0) -> pd.DataFrame:
    return pd.DataFrame([{"unit_name": "u", "uscc": f"D{i}", "unit_type": "企业", "year": y,
                          "rd_expenditure_wan": amount} for y in years for i in range(units)])  # fmt: skip


RATIO = _target("rd", "ratio", "rd_expenditure", "rd_intensity_pct", 2.8, period="2023",
                comparator="~=", tolerance=0.05)  # fmt: skip


def test_rd_reference_year_counts_only_once_published():
    rd = _rd(range(2019, 2024), amount=690.0)  # 2.76% every year: just above 2.75
    gdp = pd.DataFrame({"year": range(2019, 2024), "gdp_yi": 100.0})
    early = rd_intensity(rd, gdp, 2023, "2024-08", target=2.8, comparator="~=", tolerance=0.05)
    assert early.details["complete"] is False and "于2024-09发布" in early.details["notes"][0]
    late = rd_intensity(rd, gdp, 2023, "2024-09", target=2.8, comparator="~=", tolerance=0.05)
    assert late.details["complete"] is True and late.p_meet == 1.0
    lag3 = rd_intensity(rd, gdp, 2023, "2024-03", target=2.8, comparator="~=", tolerance=0.05,
                        publication_lag_months=3)  # fmt: skip
    assert lag3.details["complete"] is True
    # the lag declared in the targets file decides
    plan = _plan(replace(RATIO, publication_lag_months=12))
    row = evaluate_targets(plan, {"rd_expenditure": rd, "district_gdp": gdp}, "2024-09").table.iloc[
        0
    ]
    assert row.status != "met" and "于2024-12发布" in row.data_note


def test_status_and_p_meet_never_contradict():
    rd = _rd(range(2019, 2024), amount=690.0)
    gdp = pd.DataFrame({"year": range(2019, 2024), "gdp_yi": 100.0})
    row = evaluate_targets(_plan(RATIO), {"rd_expenditure": rd, "district_gdp": gdp},
                           "2024-10").table.iloc[0]  # fmt: skip
    assert (row.status, row.p_meet) == ("met", 1.0)  # was 已完成 beside p_meet 0.64


def test_quantiles_come_from_the_distribution_not_the_chart_draws():
    r = annual(pd.Series([100.0, 110.0], index=[2022, 2023]), target=100)
    for level in (0.0005, 0.1, 0.5, 0.9, 0.9995):
        q = r.quantile(level)
        assert 1 - prob_at_least(r, q) == pytest.approx(level, abs=1e-9)
    # the chart draws are clipped at the 0.1% / 99.9% quantiles; the distribution is not
    assert r.quantile(0.9995) > r.draws.max()


def test_the_notebooks_status_tables_carry_the_coverage_columns():
    va = _va({y: 10.0 for y in range(2019, 2024)}, {m: 11.5 for m in range(2, 10)})
    ev = evaluate_targets(_plan(GROWTH), {"hitech_value_added": va}, "2024-09")
    shown = ev.labelled_table()  # what notebooks 01 and 03-08 display
    assert {"数据截至", "历史年数", "数据提示"} <= set(shown.columns)
    assert shown.loc[0, "数据截至"] == "2024-09" and shown.loc[0, "历史年数"] == 5
