"""Unit tests of the forecasting models on constructed data with known answers."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from tianxin_analysis.forecast import annual, poisson_binomial_pmf, year_end_from_ytd
from tianxin_analysis.forecast.models import growth_full_year, pipeline_count, rd_intensity

PROFILE = np.array([3, 4, 6, 7, 7, 9, 8, 8, 9, 10, 12, 17], dtype=float)


def _fixed_profile(years=range(2019, 2025), growth=1.1, as_of=(2024, 9)) -> pd.Series:
    vals, idx = [], []
    for k, y in enumerate(years):
        for m in range(1, 13):
            if (y, m) > as_of:
                break
            vals.append(100 * growth**k * PROFILE[m - 1])
            idx.append(pd.Period(year=y, month=m, freq="M"))
    return pd.Series(vals, index=pd.PeriodIndex(idx))


def test_exact_seasonal_profile_recovers_total():
    s = _fixed_profile()
    truth = 100 * 1.1**5 * PROFILE.sum()
    share_only = year_end_from_ytd(s, 2024, 9, state_space=False)
    assert share_only.point == pytest.approx(truth, rel=1e-9)  # the share model is exact here
    r = year_end_from_ytd(s, 2024, 9)  # combined with the ETS component (issue 16)
    assert r.point == pytest.approx(truth, rel=0.005) and r.details["ets"] is not None
    assert r.baseline_point == pytest.approx(r.actual_to_date * 12 / 9)
    assert r.lower <= truth <= r.upper


def test_combined_jan_feb_equals_separate():
    s = _fixed_profile()
    jan = s.index.month == 1
    combined = s.copy()
    feb = s.index.month == 2
    combined[feb] = s[feb].to_numpy() + s[jan].to_numpy()
    combined[jan] = np.nan
    a, b = year_end_from_ytd(s, 2024, 9), year_end_from_ytd(combined, 2024, 9)
    assert a.point == pytest.approx(b.point) and a.actual_to_date == pytest.approx(b.actual_to_date)
    dropped = combined.dropna()  # January absent from the index altogether
    assert year_end_from_ytd(dropped, 2024, 9).point == pytest.approx(a.point)
    assert year_end_from_ytd(combined, 2024, 2).actual_to_date == pytest.approx(
        s[s.index.year == 2024][:2].sum()
    )


def test_p_meet_monotone_in_target_and_run_rate():
    rng = np.random.default_rng(3)
    s = _fixed_profile() * np.exp(rng.normal(0, 0.1, len(_fixed_profile())))
    mid = year_end_from_ytd(s, 2024, 6).point
    ps = [
        year_end_from_ytd(s, 2024, 6, target=t).p_meet
        for t in np.linspace(0.7 * mid, 1.3 * mid, 15)
    ]
    assert all(a >= b for a, b in itertools.pairwise(ps)) and ps[0] > ps[-1]
    r = year_end_from_ytd(s, 2024, 6, target=1.2 * mid)
    assert r.details["required_run_rate"] > 0 and r.details["sdg_ratio"] is not None
    assert year_end_from_ytd(s, 2024, 6, target=1.0).p_meet == 1.0  # already reached


def test_ytd_deterministic():
    """Same inputs, same draws (nbval depends on it); the call's speed is the benchmark's
    `ytd_call_ms_median`, not a timed unit test."""
    s = _fixed_profile() * 1.0
    a, b = year_end_from_ytd(s, 2024, 9, target=1500), year_end_from_ytd(s, 2024, 9, target=1500)
    np.testing.assert_array_equal(a.draws, b.draws)
    assert len(a.draws) <= 5000


def test_ytd_rejects_non_monthly_index():
    with pytest.raises(TypeError, match="PeriodIndex"):
        year_end_from_ytd(pd.Series([1.0, 2.0]), 2024, 2)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 10])
def test_annual_degrades_gracefully(n):
    s = pd.Series(2.0 * 1.05 ** np.arange(n), index=range(2024 - n, 2024))
    r = annual(s, target=2.0 * 1.05**n)
    assert r.lower < r.point < r.upper and r.lower95 < r.lower and 0 <= r.p_meet <= 1
    assert r.baseline_point == pytest.approx(s.iloc[-1])
    if n >= 4:  # a clean 5% trend is followed (its damped part slightly less than fully)
        assert s.iloc[-1] * 1.04 < r.point <= 2.0 * 1.05**n + 1e-9


def test_annual_intervals_narrow_with_more_points():
    rng = np.random.default_rng(0)
    base = 100 * np.exp(np.cumsum(rng.normal(0.05, 0.05, 12)))
    w3 = (
        annual(pd.Series(base[:3], index=range(3))).upper
        - annual(pd.Series(base[:3], index=range(3))).lower
    )
    w12 = annual(pd.Series(base, index=range(12)))
    assert (w12.upper - w12.lower) / w12.point < w3 / base[2]


def test_annual_level_scale_and_gaps():
    r = annual(pd.Series([-1.0, 0.5, 1.0, 2.0], index=[2020, 2021, 2022, 2023]))
    assert r.details["scale"] == "level"
    g = annual(pd.Series([1.0, 2.0, 4.0, 8.0], index=[2018, 2019, 2021, 2022]))  # 2020 filled
    assert g.details["n_years"] == 5


def test_poisson_binomial_matches_enumeration():
    p = np.array([0.1, 0.5, 0.8, 0.33, 0.9])
    brute = np.zeros(len(p) + 1)
    for outcome in itertools.product([0, 1], repeat=len(p)):
        o = np.array(outcome)
        brute[o.sum()] += np.prod(np.where(o, p, 1 - p))
    np.testing.assert_allclose(poisson_binomial_pmf(p), brute, atol=1e-12)


def _pipes(stages, recognized=None):
    return pd.DataFrame({
        "pipeline": "innovation_platforms", "candidate": [f"c{i}" for i in range(len(stages))],
        "category": "市级", "stage": stages, "expected_date": pd.Timestamp("2024-11-01"),
        "recognized_date": recognized if recognized is not None else [pd.NaT] * len(stages), "year": 2024,
    })  # fmt: skip


def test_pipeline_count_exact():
    stages = ["已认定", "已认定", "评审中", "申报中", "未通过"]
    rec = [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-11-01"), pd.NaT, pd.NaT, pd.NaT]
    r = pipeline_count(_pipes(stages, rec), "innovation_platforms", 2024, "2024-09", target=3,
                       stage_probabilities={"评审中": 0.5, "申报中": 0.5})  # fmt: skip
    # achieved 1 (the November recognition is after as-of -> pending at 评审中); 3 pending at 0.5
    assert r.actual_to_date == 1
    assert r.p_meet == pytest.approx(0.5)  # P(at least 2 of 3 fair coins)
    r2 = pipeline_count(_pipes(stages, rec), "innovation_platforms", 2024, "2024-12", target=3,
                        stage_probabilities={"评审中": 0.5, "申报中": 0.5})  # fmt: skip
    assert r2.actual_to_date == 2


def test_growth_from_cumulative():
    rows = [{"year": y, "month": m, "va_cum_yi": 10.0 * m, "growth_cum_pct": 10.0}
            for y in range(2019, 2025) for m in range(2, 13) if not (y == 2024 and m > 6)]  # fmt: skip
    r = growth_full_year(pd.DataFrame(rows), 2024, "2024-06", target=9.0)
    assert r.point == pytest.approx(10.0, abs=0.01) and r.p_meet > 0.8
    assert r.details["weight_ytd"] == pytest.approx(0.5)


def test_rd_intensity_complete_and_trend():
    rd = pd.DataFrame([{"unit_name": "u", "uscc": f"D{i}", "unit_type": "企业", "year": y,
                        "rd_expenditure_wan": 700.0} for y in range(2019, 2024) for i in range(40)])  # fmt: skip
    gdp = pd.DataFrame({"year": range(2019, 2024), "gdp_yi": 100.0})
    r = rd_intensity(rd, gdp, 2023, "2024-09", target=2.8, comparator="~=", tolerance=0.05)
    assert r.point == pytest.approx(2.8) and r.p_meet > 0.5 and r.upper - r.lower < 0.1
    partial = rd[(rd["year"] < 2023) | (rd["uscc"] < "D2")]  # 2023 barely reported
    t = rd_intensity(partial, gdp, 2023, "2024-09", target=2.8, comparator="~=", tolerance=0.05)
    assert t.details["complete"] is False and t.upper - t.lower > r.upper - r.lower
