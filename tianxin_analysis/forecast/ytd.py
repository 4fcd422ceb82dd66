"""Year-end totals of monthly flows from year-to-date data: ``year_end_from_ytd``.

Two components, averaged on the log scale of the year total:

- "seasonal share": in past years the months 1..m delivered a share of the year's total; the
  log of total / YTD, r = log(T / YTD_m), is estimated by its mean over past years, with a
  predictive spread from those years' variability, shrunk toward a default spread (the typical
  spread on the tuning series) and widened with Student-t quantiles. Early in the year it is
  combined (precision weighted) with a trend forecast of the annual totals (``annual``).
- "ETS": statsmodels' ETS(A,Ad,A) — damped additive trend, additive monthly seasonality — on
  the log monthly values of the last years and the months of this year, with the trend and
  seasonal smoothing fixed and the level smoothing and damping chosen by likelihood over a
  small grid; the rest of the year is simulated and added to the YTD.

The weight on the ETS component and a factor on the combined spread depend on the as-of month
and were chosen on the tuning half of the real monthly series only (``backtest.tune_ytd``);
intervals are therefore calibrated out of sample. See docs/methods.md for the reporting-half
figures.

"1-2月" reported together: a month that is blank (NaN or absent) while a later month of the
same year is reported is taken as included in that later month. Cumulative sums through a
month after the blank are then exact; a past year whose cumulative sum through the as-of
month is not known (the as-of month itself blank) is left out of the share estimate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _dist
from .annual import annual
from .result import ForecastResult

# Default spread (log scale) of the year-end / YTD ratio by as-of month when past years are too
# few to tell, and its weight in past-year equivalents: the median over the tuning series of the
# spread of their past years' log(total / YTD) (tianxin_analysis.backtest.tune_ytd).
PRIOR_SD_BY_MONTH = dict(zip(range(1, 13), (0.0506, 0.0381, 0.0343, 0.0333, 0.0268, 0.0205, 0.018, 0.0155, 0.014, 0.0115, 0.0081, 0.0), strict=True))  # fmt: skip
PRIOR_WEIGHT = 1.0
# Spread (log scale, Student-t with 2 df) of year-end / 序时进度 when no past year shows the
# seasonal pattern, scaled by the share of the year still to come. Flows that concentrate at
# year end (technology contracts deliver 40% of the year in Q4) put the September share 20-30%
# below time elapsed: 0.5 x 4/12 = 0.17 gives an 80% interval of about x0.73-1.37 there.
NO_HISTORY_LOG_SD = 0.5
# Use the annual-trend forecast only while the YTD share is weak evidence (the backtest found
# no gain from blending it in from March on).
TREND_BLEND_MAX_MONTH = 2
# State-space component: statsmodels ETS(A,Ad,A) on log monthly values (damped trend, monthly
# seasonality) over at most ETS_MAX_YEARS years; needs ETS_MIN_MONTHS observed months.
ETS_MAX_YEARS = 6
ETS_MIN_MONTHS = 36
ETS_DRAWS = 400
# Its smoothing parameters (level, trend, seasonal, damping) are fixed, not fitted per series:
# the medians of the maximum-likelihood fits on the tuning series (backtest.tune_ets_params).
# Three to six years cannot pin four parameters down; on the tuning years the fixed values
# were as accurate as refitting (mean |log error| 0.036 / 0.021 / 0.010 at months 3 / 6 / 9
# against 0.043 / 0.022 / 0.009) and a forecast costs a third of the time.
ETS_PARAMS = (0.5044, 0.01399, 5.265e-05, 0.98)
ETS_PARAM_NAMES = ("smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend")
# The level smoothing and the damping are then chosen per series by the likelihood over this
# small grid (the trend and seasonal smoothing stay fixed): on the tuning half the pooled
# values lost to a full maximum-likelihood refit at months 6 and 9 (MAPE 1.02x / 1.08x the
# refitted ETS), the grid gained (0.98x / 0.92x with the component's weight at 0.8), at 24
# likelihood evaluations (~5 ms) instead of a refit (40-250 ms).
ETS_LEVEL_GRID = (0.1, 0.2, 0.35, 0.5, 0.65, 0.8)
ETS_DAMPING_GRID = (0.85, 0.9, 0.95, 0.98)
# Weight of the ETS component in the log-scale combination, and the factor on the combined
# spread, by as-of month; chosen on the tuning half of the real monthly series only
# (tianxin_analysis.backtest.tune_ytd; reporting-half figures in docs/methods.md).
ETS_WEIGHT_BY_MONTH = dict(zip(range(1, 13), (0.2, 0.1, 0.2, 0.5, 0.5, 0.9, 1.0, 0.8, 0.8, 1.0, 0.8, 0.0), strict=True))  # fmt: skip
# Location shift of the whole predictive distribution (in its own spreads) by as-of month: a
# recalibration of p_meet that keeps point, interval and probability one distribution. Chosen
# on the tuning half (backtest.p_meet_shift_cv): the shift that minimises the Brier score, kept
# only where leaving each series out it lowered the held-out Brier score and kept the
# held-out MAPE below the damped ETS's. Month 3 qualified (Brier 0.1013 -> 0.1009, worst
# reliability bin of >= 30 cases 0.26 -> 0.07, MAPE 0.80 -> 0.82 x ETS); month 6 would have
# cost MAPE above ETS's (0.98 -> 1.04 x) and month 9 lost Brier. Other months were not measured.
LOCATION_SHIFT_BY_MONTH = {3: 0.3}
SPREAD_SCALE_BY_MONTH = dict(zip(range(1, 13), (0.771, 0.925, 0.824, 0.899, 0.851, 1.001, 1.001, 0.987, 0.932, 1.099, 0.797, 1.0), strict=True))  # fmt: skip


def monthly_matrix(monthly: pd.Series) -> pd.DataFrame:
    """Year x month (1..12) frame of a monthly-PeriodIndex Series; absent months are NaN."""
    if not isinstance(monthly.index, pd.PeriodIndex) or monthly.index.freqstr not in ("M", "ME"):
        raise TypeError(
            "monthly 应为按月 PeriodIndex 的序列 (monthly must be a Series with a monthly PeriodIndex); "
            f"found index {type(monthly.index).__name__}"
        )
    if monthly.index.has_duplicates:
        dup = monthly.index[monthly.index.duplicated()][0]
        raise ValueError(f"月份重复 (duplicate month) {dup}")
    # Filled with numpy rather than DataFrame.pivot: this runs once per forecast and the
    # pivot was half of a year_end_from_ytd call (2,900-region benchmark).
    years, inverse = np.unique(monthly.index.year.to_numpy(), return_inverse=True)
    grid = np.full((len(years), 12), np.nan)
    grid[inverse, monthly.index.month.to_numpy() - 1] = monthly.to_numpy(dtype=float)
    return pd.DataFrame(grid, index=pd.Index(years, name="year"),
                        columns=pd.Index(range(1, 13), name="month"))  # fmt: skip


def _cum_known(row: np.ndarray, m: int) -> float:
    """Cumulative total through month m, NaN when month m itself is blank (combined later)."""
    if m < 1 or np.isnan(row[m - 1]):
        return np.nan
    return float(np.nansum(row[:m]))


def year_end_from_ytd(
    monthly: pd.Series,
    year: int,
    as_of_month: int,
    target: float | None = None,
    *,
    comparator: str = ">=",
    tolerance: float = 0.0,
    seed: int | None = None,
    state_space: bool = True,
    ets_weight: float | None = None,
    spread_scale: float | None = None,
    prior_sd: float | None = None,
    location_shift: float | None = None,
) -> ForecastResult:
    """Forecast the calendar-year total of ``year`` from monthly flows reported through
    ``as_of_month``.

    Two components on the log scale of the total: the seasonal share (past years' log of
    total / YTD) and, with ``state_space`` and at least three years of positive months, a
    statsmodels damped-trend seasonal ETS of the log monthly values whose simulated
    rest-of-year paths give the total. They are averaged with weight ``ets_weight`` on the ETS
    (default ``ETS_WEIGHT_BY_MONTH``) and the spread multiplied by ``spread_scale`` (default
    ``SPREAD_SCALE_BY_MONTH``), both chosen out of sample on the tuning series, and shifted by
    ``location_shift`` spreads (default ``LOCATION_SHIFT_BY_MONTH``, a p_meet recalibration
    chosen on the tuning series); ``prior_sd``
    overrides the share component's default spread (``PRIOR_SD_BY_MONTH``, for tuning).

    ``monthly``: monthly flow values (not cumulative), monthly PeriodIndex, past years and
    months 1..as_of_month of ``year`` (later months are ignored). Returns a ForecastResult
    with ``actual_to_date`` = YTD, ``baseline_point`` = 序时进度 (YTD x 12 / m) and, in
    ``details``, ``required_run_rate`` (target minus YTD over what the remaining months
    delivered on average in past years), ``schedule_share`` and ``sdg_ratio`` (YTD growth on the
    same months of last year over the growth the target requires on last year's total).
    """
    if not 1 <= int(as_of_month) <= 12:
        raise ValueError(f"as_of_month must be 1..12, got {as_of_month}")
    mat = monthly_matrix(monthly)
    mat = mat[mat.index <= year]
    m, ytd = _year_to_date(mat, year, int(as_of_month))
    past = _past_years(mat, year, m)
    prior = PRIOR_SD_BY_MONTH[max(m, 1)] if prior_sd is None else float(prior_sd)
    components, method_parts = _share_components(ytd, m, year, past, prior)
    loc, var, df = _precision_weighted(components)
    share = {"loc": loc, "sd": float(np.sqrt(var)), "df": df}
    ets = _ets_total(mat, year, m, ytd, seed) if state_space and m < 12 else None
    if ets is not None:
        we = ETS_WEIGHT_BY_MONTH[max(m, 1)] if ets_weight is None else float(ets_weight)
        loc, var = (1 - we) * loc + we * ets["loc"], (1 - we) * var + we * ets["sd"] ** 2
        method_parts.append("ETS")
    if m < 12:
        k = SPREAD_SCALE_BY_MONTH[max(m, 1)] if spread_scale is None else float(spread_scale)
        var *= k**2
        a = LOCATION_SHIFT_BY_MONTH.get(m, 0.0) if location_shift is None else location_shift
        loc += float(a) * float(np.sqrt(var))
    details = _details(past, ytd, m, year, target)
    details.update({"components": [{"loc": c[0], "sd": float(np.sqrt(c[1])), "df": c[2]} for c in components],
                    "share": share, "ets": ets})  # fmt: skip
    return _dist.from_t(
        loc, np.sqrt(var), df, log=True, method=" + ".join(method_parts) + " (log-t)",
        target=target, comparator=comparator, tolerance=tolerance, floor=ytd,
        baseline_point=ytd * 12 / m if m else None, actual_to_date=ytd, seed=seed,
        details=details,
    )  # fmt: skip


def _year_to_date(mat: pd.DataFrame, year: int, as_of_month: int) -> tuple[int, float]:
    """(m, YTD): the last month of ``year`` actually reported on or before ``as_of_month``
    (0 when none) and the total of the months through it."""
    cur = mat.loc[year].to_numpy() if year in mat.index else np.full(12, np.nan)
    reported = np.flatnonzero(~np.isnan(cur[:as_of_month]))
    m = int(reported[-1] + 1) if len(reported) else 0
    return m, float(np.nansum(cur[:m])) if m else 0.0


@dataclass(frozen=True)
class _PastYears:
    """The complete past years (December reported, positive total) of a year x month grid:
    ``years``, ``grid`` (year x 12), ``totals``, ``cum_m`` (cumulative sum through month m,
    NaN when month m itself is blank or m is 0), ``ok`` (cum_m usable) and ``ratios``
    (log(total / cum_m) of the usable years)."""

    years: np.ndarray
    grid: np.ndarray
    totals: np.ndarray
    cum_m: np.ndarray
    ok: np.ndarray
    ratios: np.ndarray

    def totals_series(self) -> pd.Series:
        return pd.Series(self.totals, index=self.years, dtype=float)


def _past_years(mat: pd.DataFrame, year: int, m: int) -> _PastYears:
    grid = mat.to_numpy()
    years = mat.index.to_numpy()
    keep = (years < year) & ~np.isnan(grid[:, 11])
    totals = np.nansum(grid[keep], axis=1)
    pos = totals > 0
    grid, years, totals = grid[keep][pos], years[keep][pos], totals[pos]
    cum_m = np.array([_cum_known(r, m) for r in grid]) if m else np.full(len(grid), np.nan)
    ok = np.isfinite(cum_m) & (cum_m > 0)
    return _PastYears(years, grid, totals, cum_m, ok, np.log(totals[ok] / cum_m[ok]))


def _share_components(ytd: float, m: int, year: int, past: _PastYears,
                      prior_sd: float) -> tuple[list[tuple[float, float, float]], list[str]]:  # fmt: skip
    """The seasonal-share side as (loc, var, df) components of log(total) with their names:
    the complete year; the seasonal share; the trend of annual totals (early in the year or
    when no share is usable); or, with nothing to go on, 序时进度 with a wide spread."""
    components: list[tuple[float, float, float]] = []
    parts: list[str] = []
    if m == 12:
        components.append((np.log(ytd) if ytd > 0 else 0.0, 1e-12, 1e6))
        parts.append("complete year")
    elif len(past.ratios) and ytd > 0:
        components.append(_seasonal_share(ytd, past.ratios, prior_sd))
        parts.append("seasonal share")
    if m < 12 and len(past.totals) and (m <= TREND_BLEND_MAX_MONTH or not components):
        totals = past.totals_series()
        pred = annual(totals, horizon=year - int(totals.index[-1])).details["predictive"]
        components.append((pred["loc"], pred["scale"] ** 2, pred["df"]))
        parts.append("annual trend")
    if not components:
        # Nothing to go on but the months reported: 序时进度, with a spread as wide as the
        # seasonal share of months 1..m can plausibly be (NO_HISTORY_LOG_SD, see there).
        loc = np.log(max(ytd * 12 / m, 1e-9)) if m else 0.0
        components.append((loc, (NO_HISTORY_LOG_SD * (12 - max(m, 1) + 1) / 12) ** 2, 2.0))
        parts.append("time-elapsed only")
    return components, parts


def _seasonal_share(ytd: float, ratios: np.ndarray, prior_sd: float) -> tuple[float, float, float]:
    """log(total) = log(YTD) + mean past log(total / YTD); its variance from the past years
    shrunk toward ``prior_sd`` (PRIOR_WEIGHT years' worth), predictive (x (1 + 1/n))."""
    n = len(ratios)
    mean_r = float(ratios.mean())
    ss = float(((ratios - mean_r) ** 2).sum())
    var_r = (ss + PRIOR_WEIGHT * prior_sd**2) / (n - 1 + PRIOR_WEIGHT)
    return np.log(ytd) + mean_r, var_r * (1 + 1 / n), n - 1 + PRIOR_WEIGHT


def _precision_weighted(components: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Inverse-variance average of (loc, var, df) components; df the smallest."""
    w = np.array([1 / c[1] for c in components])
    loc = float(np.sum(w * np.array([c[0] for c in components])) / w.sum())
    return loc, float(1 / w.sum()), float(min(c[2] for c in components))


def _spread_combined(v: np.ndarray) -> np.ndarray:
    """Monthly values with a blank run before a reported month ("1-2月" together) spread
    evenly over the run and that month; trailing blanks stay blank."""
    out = v.copy()
    run = []
    for i, x in enumerate(v):
        if np.isnan(x):
            run.append(i)
            continue
        if run:
            out[run + [i]] = x / (len(run) + 1)
            run = []
    return out


def _no_hessian_ets():
    """ETSModel whose results skip the numerical Hessian of the parameter covariance.

    statsmodels' ``ETSResults.__init__`` always evaluates it (about half of a fixed-parameter
    fit and simulation); nothing here reads the covariance — ``simulate`` uses the states,
    parameters and residual scale only — so forecasts are identical (``tests``: equal draws)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel, ETSResults, ETSResultsWrapper

    class _Results(ETSResults):
        @property
        def cov_params_approx(self):  # not computed: NaN, as for fully fixed parameters
            return np.full((self.k_params, self.k_params), np.nan)

    class _Model(ETSModel):
        @property
        def _res_classes(self):
            return {"fit": (_Results, ETSResultsWrapper)}

    return _Model


_ETS_CLASS = None


def ets_model(log_values: np.ndarray, *, covariance: bool = False):
    """statsmodels ETS(A,Ad,A) with monthly seasonality for log monthly values (heuristic
    initial states). ``covariance=False`` (the default) returns the same model whose results
    leave out the parameter covariance (never used here: the Hessian cost half a forecast)."""
    global _ETS_CLASS
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    if covariance:
        cls = ETSModel
    else:
        if _ETS_CLASS is None:
            _ETS_CLASS = _no_hessian_ets()
        cls = _ETS_CLASS
    return cls(log_values, error="add", trend="add", damped_trend=True, seasonal="add",
               seasonal_periods=12, initialization_method="heuristic")  # fmt: skip


def ets_history(mat: pd.DataFrame, year: int, m: int) -> np.ndarray | None:
    """Monthly values the ETS component is fitted on: the consecutive past years before
    ``year`` (at most ETS_MAX_YEARS) and months 1..m of ``year``, combined months spread; None
    when shorter than ETS_MIN_MONTHS, blank or not positive."""
    years: list[int] = []
    while year - 1 - len(years) in mat.index and len(years) < ETS_MAX_YEARS:
        years.insert(0, year - 1 - len(years))
    if not years:
        return None
    rows = [mat.loc[y].to_numpy() for y in years]
    cur = mat.loc[year].to_numpy()[:m] if (m and year in mat.index) else np.array([])
    v = _spread_combined(np.concatenate([*rows, cur]))
    if len(v) < ETS_MIN_MONTHS or np.isnan(v).any() or (v <= 0).any():
        return None
    return v


def _ets_total(mat: pd.DataFrame, year: int, m: int, ytd: float, seed: int | None) -> dict | None:
    """The year total from statsmodels ETS(A,Ad,A) with ETS_PARAMS on log monthly values
    (``ets_history``); the rest of the year simulated (ETS_DRAWS seeded paths). Returns ``loc`` and ``sd`` of log(total), the median and the
    80% / 95% bounds, or None when the history is too short, not positive or the fit fails."""
    v = ets_history(mat, year, m)
    if v is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = ets_model(np.log(v))
            params = ets_grid_params(model)
            # Parameters as "fixed", not as the point of a likelihood: no optimisation.
            with model.fix_params(dict(zip(ETS_PARAM_NAMES, params, strict=True))):
                res = model.fit(disp=False)
            sim = np.asarray(res.simulate(12 - m, repetitions=ETS_DRAWS, anchor="end",
                                          rng=_dist.rng(seed)))  # fmt: skip
        except (ValueError, np.linalg.LinAlgError):
            return None
    sim = sim.reshape(12 - m, -1)
    totals = ytd + np.exp(sim).sum(axis=0)
    lt = np.log(totals)
    if not np.isfinite(lt).all():
        return None
    q = np.quantile(totals, [0.5, 0.1, 0.9, 0.025, 0.975])
    return {"loc": float(lt.mean()), "sd": float(max(lt.std(ddof=1), 1e-6)), "point": float(q[0]),
            "lower": float(q[1]), "upper": float(q[2]), "lower95": float(q[3]), "upper95": float(q[4]),
            "smoothing_level": float(params[0]), "damping_trend": float(params[3])}  # fmt: skip


def ets_grid_params(model) -> tuple[float, ...]:
    """ETS_PARAMS with the level smoothing and the damping replaced by the pair of
    ETS_LEVEL_GRID x ETS_DAMPING_GRID with the highest log-likelihood of ``model`` (the first
    on ties, so the choice is deterministic)."""
    base = np.asarray(ETS_PARAMS, dtype=float)
    best, best_ll = tuple(base), -np.inf
    for level in ETS_LEVEL_GRID:
        for damping in ETS_DAMPING_GRID:
            cand = np.array([level, min(base[1], level), min(base[2], 1 - level), damping])
            ll = float(model.loglike(cand))
            if ll > best_ll:
                best, best_ll = tuple(float(x) for x in cand), ll
    return best


def _details(past: _PastYears, ytd: float, m: int, year: int, target: float | None) -> dict:
    """The cross-checks beside the forecast (``required_run_rate``, ``schedule_share``,
    ``sdg_ratio``, past shares) and the share model's inputs (``months_elapsed``,
    ``n_years``, ``log_ratio_mean``/``log_ratio_sd``)."""
    out: dict[str, object] = {"required_run_rate": None, "schedule_share": None, "sdg_ratio": None,
                              "past_remaining_mean": None}  # fmt: skip
    ok = past.ok
    if m and ok.any():
        remaining = past.totals[ok] - past.cum_m[ok]
        out["past_remaining_mean"] = float(remaining.mean())
        out["past_share_mean"] = float(np.mean(past.cum_m[ok] / past.totals[ok]))
        if target is not None and remaining.mean() > 0:
            out["required_run_rate"] = float(max(target - ytd, 0.0) / remaining.mean())
    if target is not None and target > 0 and m:
        out["schedule_share"] = float((ytd / target) / (m / 12))
        out["sdg_ratio"] = _sdg_ratio(past, ytd, m, year, target)
    n = len(past.ratios)
    out.update({"months_elapsed": m, "n_years": n,
                "log_ratio_mean": float(past.ratios.mean()) if n else None,
                "log_ratio_sd": float(past.ratios.std(ddof=1)) if n > 1 else None})  # fmt: skip
    return out


def _sdg_ratio(past: _PastYears, ytd: float, m: int, year: int, target: float) -> float | None:
    """Eurostat-style ratio: YTD growth on the same months of last year over the growth of the
    annual total the target requires on last year's total (None when not defined)."""
    last = np.flatnonzero(past.years == year - 1)
    if not len(last) or m >= 12:
        return None
    last_cum = past.cum_m[last[0]]
    required = target / past.totals[last[0]] - 1
    if np.isfinite(last_cum) and last_cum > 0 and required > 0:
        return float((ytd / last_cum - 1) / required)
    return None
