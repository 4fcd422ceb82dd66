"""Backtest machinery on small synthetic sets, and on the real yearbook panels when present."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REAL_YEARBOOK, needs_real_data

from tianxin_analysis import backtest as bt


def test_ytd_backtest_beats_time_elapsed_on_december_peaked_series():
    series = bt.synthetic_monthly_series(n_series=6, n_years=7, seed=11)
    res = bt.backtest_ytd(series)
    assert set(res["as_of_month"]) == {3, 6, 9} and res["p_meet"].between(0, 1).all()
    s = bt.summarize_ytd(res)
    assert (s["mape_ratio"] < 0.65).all()
    assert (s["brier_ratio"] < 0.6).all()
    assert s["coverage80"].between(0.5, 1.0).all()


def test_packaged_series_are_real_monthly_flows():
    series = bt.packaged_monthly_series()
    air = series["AirPassengers"]
    assert air.index.freqstr.startswith("M") and air.iloc[0] == 112 and len(air) == 144


def test_annual_backtest_shapes_and_mase():
    panel = pd.DataFrame({"series": ["a"] * 6 + ["b"] * 6, "year": list(range(2015, 2021)) * 2,
                          "value": [1.0 * 1.1**k for k in range(6)] + [5.0 + (k % 2) for k in range(6)]})  # fmt: skip
    s = bt.summarize_annual(bt.backtest_annual(panel))
    assert set(s.index) == {"annual", "naive", "drift", "theta", "panel"}
    assert (s["n"] == 4).all() and s["mase"].gt(0).all()
    # a clean 10% trend: the trend methods beat naive
    a = bt.summarize_annual(bt.backtest_annual(panel[panel["series"] == "a"], theta=False))
    assert a.loc["annual", "mase"] < a.loc["naive", "mase"]


@needs_real_data
def test_real_yearbook_annual_panel_backtest():
    panels = bt.yearbook_annual_panels(REAL_YEARBOOK, tables=["rd-intensity-by-region"])
    rd = panels["rd-intensity-by-region"]
    assert rd["series"].nunique() == 32
    small = rd[rd["series"].isin(rd["series"].unique()[:6])]
    s = bt.summarize_annual(bt.backtest_annual(small, theta=False))
    assert s.loc["annual", "mase_ratio"] < 1.1


def test_annual_tables_summary_and_goal_report():
    panel = pd.DataFrame({"series": ["a"] * 7 + ["b"] * 7, "year": list(range(2014, 2021)) * 2,
                          "value": [1.0 * 1.1**k for k in range(7)] + [5.0 + (k % 3) for k in range(7)]})  # fmt: skip
    res = bt.annual_backtests({"t1": panel[panel["series"] == "a"], "t2": panel}, theta=False)
    s = bt.summarize_annual_tables(res)
    assert set(s.index.get_level_values("table")) == {"t1", "t2", "pooled"}
    assert (
        s.loc[("pooled", "annual"), "n"]
        == s.loc[("t1", "annual"), "n"] + s.loc[("t2", "annual"), "n"]
    )
    ann = bt.annual_headlines(res).set_index(["scope", "figure"])
    v, lo, hi = ann.loc[("pooled", "annual MASE / drift"), ["value", "low", "high"]]
    d = res[res["method"].isin(["annual", "drift"])].assign(
        e=lambda x: (x["actual"] - x["point"]).abs() / x["scale"]
    )
    assert v == pytest.approx(
        d.loc[d["method"] == "annual", "e"].sum() / d.loc[d["method"] == "drift", "e"].sum()
    )
    assert lo <= v <= hi
    # the goal report judges the values given (constructed figures)
    ytd = pd.DataFrame(
        [("month 3", "MAPE / 序时进度", 0.3, 0.2, 0.4), ("month 9", "MAPE / 序时进度", 0.6, 0.5, 0.7),
         ("month 9", "80% coverage", 0.9, 0.85, 0.95), ("month 9", "95% coverage", 0.95, 0.9, 0.99),
         ("month 9", "Brier / 序时进度 call", 0.5, 0.4, 0.6), ("month 9", "MAPE / damped ETS", 0.99, 0.9, 1.1)],
        columns=["scope", "figure", "value", "low", "high"],
    )  # fmt: skip
    annual = pd.DataFrame(
        [("pooled", "panel MASE / best baseline (drift)", 0.94, 0.90, 1.01),
         ("t1", "panel 80% coverage", 0.8, 0.7, 0.9)],
        columns=["scope", "figure", "value", "low", "high"],
    )  # fmt: skip
    report = bt.goal_report(annual, ytd).set_index("figure")
    assert bool(report.loc["YTD MAPE / 序时进度, month 3", "met"]) is True
    assert bool(report.loc["YTD MAPE / 序时进度, month 9", "met"]) is False  # 0.6 > 0.5
    assert bool(report.loc["YTD 80% coverage, month 9", "met"]) is False  # 0.9 > 0.85
    assert bool(report.loc["YTD 95% coverage, month 9", "met"]) is True
    assert bool(report.loc["Brier / 序时进度 call, month 9", "met"]) is False
    assert bool(report.loc["YTD MAPE / damped ETS, month 9", "met"]) is True
    assert bool(report.loc["annual_panel 80% coverage, t1", "met"]) is True
    # 0.94 <= 0.95 but the band reaches past 1.0: not met
    assert (
        bool(report.loc["annual_panel MASE / best of naive, drift, Theta (pooled)", "met"]) is False
    )


def test_ytd_headlines_bands_and_reliability():
    res = bt.backtest_ytd(
        bt.synthetic_monthly_series(n_series=6, n_years=7, seed=11), as_of_months=(6,)
    )
    h = bt.ytd_headlines(res).set_index("figure")
    assert h.loc["MAPE / 序时进度", "value"] == pytest.approx(
        bt.summarize_ytd(res).loc[6, "mape_ratio"]
    )
    assert (h["low"] <= h["value"]).all() and (h["value"] <= h["high"]).all()
    rel = bt.reliability(res)
    assert rel["n"].sum() == len(res)


def test_cached_frame_builds_once(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return pd.DataFrame({"a": [1.0, 2.0]})

    first = bt.cached_frame("t", build, params={"k": 1}, folder=tmp_path)
    second = bt.cached_frame("t", build, params={"k": 1}, folder=tmp_path)
    assert first.equals(second) and len(calls) == 1
    bt.cached_frame("t", build, params={"k": 2}, folder=tmp_path)
    assert len(calls) == 2


# ---- issue 16: the split, the scores, the bootstrap ------------------------------------------


def test_committed_split_is_the_hash_rule_applied_to_every_real_series():
    committed = bt.load_backtest_split()
    assert committed.equals(bt.backtest_split())  # nobody moved a series by hand
    assert set(committed["set"]) == {"tuning", "reporting"}
    # both sets hold a fair share of every table and of the monthly series
    shares = committed.groupby(["kind", "table"])["set"].apply(lambda s: (s == "tuning").mean())
    assert shares.between(0.3, 0.7).all()
    assert bt.split_set("a10") == "tuning" and bt.split_set("wineind") == "reporting"


def test_interval_score_penalises_misses_by_two_over_alpha():
    from tianxin_analysis.scores import interval_score

    s = interval_score([5.0, 12.0, 0.0], [1.0, 1.0, 1.0], [9.0, 9.0, 9.0], alpha=0.2)
    assert list(s) == [8.0, 8.0 + 10 * 3, 8.0 + 10 * 1]


def test_reliability_table_bins_and_flags_only_well_filled_bins():
    import numpy as np

    from tianxin_analysis.scores import reliability_table

    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 4000)
    calibrated = reliability_table(p, rng.uniform(0, 1, 4000) < p)
    assert calibrated["n"].sum() == 4000 and calibrated["within"].all()
    over = reliability_table(p, rng.uniform(0, 1, 4000) < p / 2)
    assert not over.loc["0.9-1.0", "within"]
    few = reliability_table([0.05] * 10 + [0.95] * 40, [False] * 10 + [True] * 40)
    assert few.loc["0.0-0.1", "within"] is pd.NA and few.loc["0.9-1.0", "within"]


def test_block_bootstrap_band_covers_the_estimate_and_widens_with_shared_block_shocks():
    import numpy as np

    from tianxin_analysis.scores import block_bootstrap

    rng = np.random.default_rng(1)
    n = 400
    block = np.repeat(np.arange(20), 20)
    shock = rng.gamma(1, 1, 20)[block]  # one shock year moves every forecast of its block
    frame = pd.DataFrame({"block": block, "row": np.arange(n), "a": rng.gamma(2, 1, n) * shock,
                          "b": rng.gamma(2, 1, n) * 2})  # fmt: skip
    est, lo, hi = block_bootstrap(frame, "a", "b", blocks=["block"])
    assert lo < est < hi
    _, lo_row, hi_row = block_bootstrap(frame, "a", "b", blocks=["row"])
    assert hi - lo > 1.5 * (hi_row - lo_row)  # rows resampled alone would flatter
    assert block_bootstrap(frame, "a", "b", blocks=["block"]) == (est, lo, hi)  # deterministic


# ---- issue 16: the year-to-date model with its ETS component ---------------------------------


def test_ets_component_enters_with_three_years_and_is_deterministic():
    from tianxin_analysis.forecast import year_end_from_ytd
    from tianxin_analysis.forecast.ytd import ETS_WEIGHT_BY_MONTH

    s = bt.packaged_monthly_series()["a10"]
    hist = s[(s.index.year >= 1999) & (s.index.year <= 2004)]
    r = year_end_from_ytd(hist, 2004, 9, target=float(hist.sum()))
    assert "ETS" in r.method and r.details["ets"]["lower"] < r.details["ets"]["upper"]
    again = year_end_from_ytd(hist, 2004, 9, target=float(hist.sum()))
    assert (r.point, r.p_meet) == (again.point, again.p_meet)
    w = ETS_WEIGHT_BY_MONTH[9]
    share, ets = r.details["share"]["loc"], r.details["ets"]["loc"]
    assert np.log(r.point) == pytest.approx((1 - w) * share + w * ets, abs=1e-9)
    off = year_end_from_ytd(hist, 2004, 9, state_space=False)
    assert off.details["ets"] is None and "ETS" not in off.method
    short = year_end_from_ytd(hist[hist.index.year >= 2002], 2004, 9)  # two past years
    assert short.details["ets"] is None


def test_combined_months_are_spread_for_the_state_space_model():
    from tianxin_analysis.forecast.ytd import _spread_combined

    v = np.array([np.nan, 10.0, 3.0, np.nan, np.nan, 9.0, np.nan])
    assert np.allclose(_spread_combined(v)[:6], [5, 5, 3, 3, 3, 3]) and np.isnan(
        _spread_combined(v)[6]
    )


def test_tune_ytd_chooses_from_the_grid_and_calibrates_coverage():
    series = bt.synthetic_monthly_series(n_series=4, n_years=7, seed=5)
    t = bt.tune_ytd(series, months=(6,))
    assert set(t.columns) >= {"prior_sd", "ets_weight", "spread_scale", "mape", "n"}
    assert t.loc[6, "ets_weight"] in bt.YTD_WEIGHT_GRID and t.loc[6, "spread_scale"] > 0
    res = bt.backtest_ytd(series, as_of_months=(6,), uplifts=(0.0,), prior_sd=t.loc[6, "prior_sd"],
                          ets_weight=t.loc[6, "ets_weight"], spread_scale=t.loc[6, "spread_scale"])  # fmt: skip
    assert bt.summarize_ytd(res).loc[6, "coverage80"] == pytest.approx(0.8, abs=0.08)


def test_reporting_half_of_the_real_monthly_series_against_both_baselines():
    split = bt.load_backtest_split()
    real = bt.packaged_monthly_series()
    rep = {k: v for k, v in real.items() if ("", k) in bt.series_in(split, "monthly", "reporting")}
    s = bt.summarize_ytd(bt.backtest_ytd(rep, max_years=4))
    assert (s["mape_ratio"] < 0.5).all() and (s["brier_ratio"] < 0.4).all()
    assert (s["mape_ratio_ets"] < 1.1).all()
    # 31 forecasts a month here: only under-coverage is checked (the full figures: docs/methods.md)
    assert (s["coverage80"] >= 0.7).all() and (s["coverage95"] >= 0.85).all()


def test_fixed_ets_parameters_are_the_tuning_medians():
    # ETS_PARAMS must be what tune_ets_params gives on the tuning half (no hand edits).
    from tianxin_analysis.forecast.ytd import ETS_PARAMS

    split = bt.load_backtest_split()
    tuning = {k: v for k, v in bt.packaged_monthly_series().items()
              if ("", k) in bt.series_in(split, "monthly", "tuning")}  # fmt: skip
    assert np.allclose(bt.tune_ets_params(tuning), ETS_PARAMS, rtol=1e-3)


def test_ets_component_without_the_hessian_gives_the_same_draws():
    # The YTD model's ETS skips statsmodels' numerical Hessian (half of a forecast's time);
    # the simulated rest-of-year must not change.
    from tianxin_analysis.forecast.ytd import ETS_PARAM_NAMES, ETS_PARAMS, ets_model

    s = bt.packaged_monthly_series()["a10"]
    lv = np.log(s[(s.index.year >= 1999) & (s.index.year <= 2004)].to_numpy()[:-3])
    draws = []
    for covariance in (True, False):
        model = ets_model(lv, covariance=covariance)
        with model.fix_params(dict(zip(ETS_PARAM_NAMES, ETS_PARAMS, strict=True))):
            res = model.fit(disp=False)
        draws.append(np.asarray(res.simulate(3, repetitions=50, anchor="end",
                                             rng=np.random.default_rng(0))))  # fmt: skip
    assert np.array_equal(draws[0], draws[1])
    assert np.isnan(ets_model(lv).fit(disp=False).cov_params_approx).all()


def test_methods_doc_tables_are_written_between_their_markers(tmp_path):
    from tianxin_analysis.errors import InputFileError

    goals = pd.DataFrame({"figure": ["a | b", "c"], "value": [0.5, 1.2], "low": [0.4, np.nan],
                          "high": [0.6, np.nan], "goal": ["<= 0.6", "<= 1.0"], "met": [True, False]})  # fmt: skip
    head = pd.DataFrame({"scope": ["pooled"], "figure": ["panel MASE / drift"], "value": [0.9],
                         "low": [0.8], "high": [1.0], "n": [10]})  # fmt: skip
    tables = {"goals": goals, "annual": head, "ytd": head.assign(scope="month 3"),
              "goals_holdout": goals, "annual_holdout": head}  # fmt: skip
    md = bt.goals_markdown(goals)
    assert (
        "| a \\| b | 0.500 [0.400, 0.600] | <= 0.6 | yes |" in md
        and "| c | 1.200 | <= 1.0 | **no** |" in md
    )
    doc = tmp_path / "methods.md"
    body = "".join(f"x\n{a}\nold\n{b}\n" for a, b in bt.DOC_MARKERS.values())
    doc.write_text(body + "tail\n", encoding="utf-8")
    bt.write_methods_tables(tables, doc)
    text = doc.read_text(encoding="utf-8")
    assert "\nold\n" not in text and "0.900 [0.800, 1.000]" in text and text.endswith("tail\n")
    bt.write_methods_tables(tables, doc)  # idempotent
    assert doc.read_text(encoding="utf-8") == text
    doc.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="goals"):
        bt.write_methods_tables(tables, doc)


def test_methods_doc_carries_the_generated_table_markers():
    from tianxin_analysis.paths import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "methods.md").read_text(encoding="utf-8")
    for start, end in bt.DOC_MARKERS.values():
        assert text.index(start) < text.index(end)


def test_ets_level_and_damping_are_the_grid_pair_of_highest_likelihood():
    from tianxin_analysis.forecast import year_end_from_ytd
    from tianxin_analysis.forecast.ytd import (
        ETS_DAMPING_GRID,
        ETS_LEVEL_GRID,
        ETS_PARAMS,
        ets_grid_params,
        ets_history,
        ets_model,
        monthly_matrix,  # fmt: skip
    )

    s = bt.packaged_monthly_series()["a10"]
    hist = s[(s.index.year >= 1999) & (s.index.year <= 2004)]
    model = ets_model(np.log(ets_history(monthly_matrix(hist), 2004, 9)))
    chosen = ets_grid_params(model)
    lls = {(a, p): model.loglike(np.array([a, ETS_PARAMS[1], ETS_PARAMS[2], p]))
           for a in ETS_LEVEL_GRID for p in ETS_DAMPING_GRID}  # fmt: skip
    assert (chosen[0], chosen[3]) == max(lls, key=lls.get)
    assert chosen[1:3] == ETS_PARAMS[1:3]
    ets = year_end_from_ytd(hist, 2004, 9).details["ets"]
    assert (ets["smoothing_level"], ets["damping_trend"]) == (chosen[0], chosen[3])


def test_ytd_weight_and_spread_defaults_are_the_tuning_half_choice():
    # ETS_WEIGHT_BY_MONTH, SPREAD_SCALE_BY_MONTH and PRIOR_SD_BY_MONTH must be what tune_ytd
    # gives on the tuning half alone (no hand edits, no reporting series).
    from tianxin_analysis.forecast.ytd import (
        ETS_WEIGHT_BY_MONTH,
        PRIOR_SD_BY_MONTH,
        SPREAD_SCALE_BY_MONTH,  # fmt: skip
    )

    split = bt.load_backtest_split()
    tuning = {k: v for k, v in bt.packaged_monthly_series().items()
              if ("", k) in bt.series_in(split, "monthly", "tuning")}  # fmt: skip
    t = bt.tune_ytd(tuning, months=(3, 6))
    for m in (3, 6):
        assert t.loc[m, "ets_weight"] == ETS_WEIGHT_BY_MONTH[m]
        assert t.loc[m, "spread_scale"] == pytest.approx(SPREAD_SCALE_BY_MONTH[m], abs=1e-3)
        assert t.loc[m, "prior_sd"] == pytest.approx(PRIOR_SD_BY_MONTH[m], abs=1e-4)


def test_p_meet_shift_cv_finds_a_real_bias_and_scores_it_held_out():
    series = bt.synthetic_monthly_series(n_series=6, n_years=7, seed=3)
    res = bt.backtest_ytd(series, as_of_months=(6,), ets_baseline=False)
    assert res["ets_point"].isna().all()  # no maximum-likelihood baseline when tuning
    pred = bt.ytd_predictive(res)
    assert np.allclose(np.exp(pred["loc"]), res["point"], rtol=1e-9)
    honest = bt.p_meet_shift_cv(res)
    # every actual 6% higher than the model expects: the shift is positive and helps held out
    biased = res.assign(actual=res["actual"] * 1.06)
    biased = biased.assign(met=biased["actual"] >= biased["target"])
    cv = bt.p_meet_shift_cv(biased)
    assert cv.loc[6, "shift_all"] > 0.2 and cv.loc[6, "brier_cv"] < cv.loc[6, "brier"]
    assert abs(honest.loc[6, "shift_all"]) < cv.loc[6, "shift_all"]


# ---- issue 16, third pass: a fresh hold-out of yearbook tables never scored before ----------


def test_fresh_holdout_is_committed_and_shares_no_table_with_the_split():
    panels, vintages, listing = bt.holdout_panels()
    split = bt.load_backtest_split()
    assert set(listing["set"]) == {"holdout"}
    assert not set(listing["table"]) & set(split["table"])  # never tuned nor reported on
    assert set(panels) == set(bt.HOLDOUT_PANEL_TABLES) == set(listing["table"])
    named = {(t, s) for t, p in panels.items() for s in p["series"].astype(str).unique()}
    assert named == set(zip(listing["table"], listing["series"], strict=True))
    assert set(vintages) <= set(panels)


@needs_real_data
def test_committed_holdout_is_what_the_yearbook_gives(tmp_path):
    bt.write_holdout(REAL_YEARBOOK, tmp_path)
    for name in (bt.HOLDOUT_PATH, bt.HOLDOUT_PANELS_PATH, bt.HOLDOUT_VINTAGES_PATH):
        fresh = pd.read_csv(tmp_path / name.name)
        committed = pd.read_csv(name)
        pd.testing.assert_frame_equal(fresh, committed)


def test_goal_report_of_a_set_without_monthly_series_has_only_annual_goals():
    head = pd.DataFrame({"scope": ["t", "t", "t", "pooled", "pooled"],
                         "figure": ["panel 80% coverage", "panel 95% coverage",
                                    "panel MASE / best baseline (drift)",
                                    "panel MASE / best baseline (drift)", "annual MASE / drift"],
                         "value": [0.8, 0.93, 0.9, 0.9, 0.99], "low": 0.0, "high": [1.0] * 4 + [1.1],
                         "n": 10})  # fmt: skip
    g = bt.goal_report(head, None)
    assert not g["figure"].str.startswith("YTD").any() and len(g) == 5
    assert g.set_index("figure")["met"].to_dict() == {
        "annual_panel 80% coverage, t": True, "annual_panel 95% coverage, t": True,
        "annual_panel MASE / best of naive, drift, Theta (pooled)": False,
        "annual_panel MASE / best baseline, t": False, "annual MASE / drift (pooled)": True}


def test_real_data_folder_can_be_named_by_an_environment_variable(tmp_path):
    # A git worktree's parent holds no shared/ folder: TIANXIN_REAL_DATA names the folder.
    import os
    import subprocess
    import sys

    code = "from tianxin_analysis.paths import SHARED_REAL_DATA as p; print(p)"
    env = {**os.environ, "TIANXIN_REAL_DATA": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == str(tmp_path)
    env.pop("TIANXIN_REAL_DATA")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip().endswith("shared/real-data")


def test_panel_residuals_are_studentised_errors_of_the_panel_model():
    # Series whose yearly changes differ 20x in spread give studentised errors much closer in
    # scale: each is divided by its own predictive spread (the variance is pooled with the
    # group's by a prior worth PRIOR_DF changes, so the calm series keep some of the group's).
    rng = np.random.default_rng(5)
    years = np.arange(2010, 2024)
    rows = []
    for i, sd in enumerate(np.repeat([0.01, 0.2], 15)):
        z = np.cumsum(rng.normal(0.05, sd, len(years)))
        rows.append(pd.DataFrame({"series": f"s{i}", "year": years, "value": np.exp(z)}))
    u = bt.panel_residuals({"t": pd.concat(rows, ignore_index=True)})
    assert set(u.columns) == {"table", "series", "origin", "u"} and len(u) > 100
    calm = u["series"].isin([f"s{i}" for i in range(15)])
    ratio = u.loc[~calm, "u"].abs().median() / u.loc[calm, "u"].abs().median()
    assert 0.5 < ratio < 8.0


def test_location_shift_defaults_are_the_tuning_half_choice():
    # LOCATION_SHIFT_BY_MONTH is p_meet_shift_cv's choice on the tuning series alone: the
    # Brier-best shift where, leaving each series out, it lowered the Brier score and kept the
    # MAPE at or below the damped ETS's; 0 elsewhere.
    from tianxin_analysis.forecast.ytd import LOCATION_SHIFT_BY_MONTH

    split = bt.load_backtest_split()
    tuning = {k: s for k, s in bt.packaged_monthly_series().items()
              if ("", k) in bt.series_in(split, "monthly", "tuning")}  # fmt: skip
    res = bt.backtest_ytd(tuning, as_of_months=(3, 6, 9))
    cv = bt.p_meet_shift_cv(res)
    assert {m: a for m, a in cv["chosen"].items() if a} == LOCATION_SHIFT_BY_MONTH
    assert (cv.loc[cv["chosen"] != 0, "brier_cv"] < cv.loc[cv["chosen"] != 0, "brier"]).all()
    pred = bt.ytd_predictive(res)
    floor = np.log(res["ytd"])
    assert np.allclose(np.exp(np.maximum(pred["loc"], floor)), res["point"], rtol=1e-9)


def test_a_location_shift_moves_point_interval_and_p_meet_together():
    from tianxin_analysis.forecast import year_end_from_ytd

    s = bt.synthetic_monthly_series(n_series=1)["synthetic-00"]
    s = s[s.index <= pd.Period("2022-03", freq="M")]
    target = float(s[s.index.year == 2021].sum())
    base = year_end_from_ytd(s, 2022, 3, target=target, location_shift=0.0)
    up = year_end_from_ytd(s, 2022, 3, target=target, location_shift=0.3)
    sd = base.details["predictive"]["scale"]
    assert up.details["predictive"]["loc"] == pytest.approx(
        base.details["predictive"]["loc"] + 0.3 * sd
    )
    assert up.point > base.point and up.lower > base.lower and up.p_meet > base.p_meet
    default = year_end_from_ytd(s, 2022, 3, target=target)
    assert default.point == up.point  # month 3's tuned shift is 0.3
