"""Year-end totals of monthly flows from year-to-date data: ``year_end_from_ytd``.

Model ("seasonal share, log-t"): in past years the months 1..m delivered a share of the year's
total; the log of total / YTD, r = log(T / YTD_m), is estimated by its mean over past years,
with a predictive spread from those years' variability, shrunk toward a default spread that
shrinks as the year advances (a few past years cannot show how variable the share is) and
widened with Student-t quantiles. Early in the year the estimate is combined (precision
weighted, on the log scale) with a trend forecast of the annual totals (``annual``), which
carries more information than two or three months of data.

"1-2月" reported together: a month that is blank (NaN or absent) while a later month of the
same year is reported is taken as included in that later month. Cumulative sums through a
month after the blank are then exact; a past year whose cumulative sum through the as-of
month is not known (the as-of month itself blank) is left out of the share estimate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _dist
from .annual import annual
from .result import ForecastResult

# Default spread (log scale) of the year-end / YTD ratio by as-of month when past years are too
# few to tell, and its weight in past-year equivalents. Calibrated on the backtest
# (tianxin_analysis.backtest) so that 80% intervals cover about 80%.
PRIOR_SD_BY_MONTH = dict(zip(range(1, 13), (0.084, 0.068, 0.054, 0.044, 0.036, 0.03, 0.026, 0.02, 0.016, 0.012, 0.008, 0.0), strict=True))  # fmt: skip
PRIOR_WEIGHT = 1.0
# Spread (log scale, Student-t with 2 df) of year-end / 序时进度 when no past year shows the
# seasonal pattern, scaled by the share of the year still to come. Flows that concentrate at
# year end (technology contracts deliver 40% of the year in Q4) put the September share 20-30%
# below time elapsed: 0.5 x 4/12 = 0.17 gives an 80% interval of about x0.73-1.37 there.
NO_HISTORY_LOG_SD = 0.5
# Use the annual-trend forecast only while the YTD share is weak evidence (the backtest found
# no gain from blending it in from March on).
TREND_BLEND_MAX_MONTH = 2


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
) -> ForecastResult:
    """Forecast the calendar-year total of ``year`` from monthly flows reported through
    ``as_of_month``.

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
    cur = mat.loc[year].to_numpy() if year in mat.index else np.full(12, np.nan)
    cur = np.where(np.arange(1, 13) <= as_of_month, cur, np.nan)
    reported = np.flatnonzero(~np.isnan(cur))
    m = int(reported[-1] + 1) if len(reported) else 0  # last month actually reported
    ytd = float(np.nansum(cur[:m])) if m else 0.0

    past = mat[mat.index < year]
    past = past[past[12].notna()]
    totals = pd.Series(np.nansum(past.to_numpy(), axis=1), index=past.index, dtype=float)
    totals = totals[totals > 0]
    past = past.loc[totals.index]
    cum_m = np.array([_cum_known(r, m) for r in past.to_numpy()]) if m else np.array([])
    ok = np.isfinite(cum_m) & (cum_m > 0) if m else np.zeros(len(past), bool)
    ratios = np.log(totals.to_numpy()[ok] / cum_m[ok]) if m else np.array([])
    n = len(ratios)

    prior_sd = PRIOR_SD_BY_MONTH[max(m, 1)]
    components: list[tuple[float, float, float]] = []  # (loc, var, df) on log scale
    method_parts = []
    if m == 12:
        loc, var, df = np.log(ytd) if ytd > 0 else 0.0, 1e-12, 1e6
        components.append((loc, var, df))
        method_parts.append("complete year")
    elif n >= 1 and ytd > 0:
        mean_r = float(ratios.mean())
        ss = float(((ratios - mean_r) ** 2).sum())
        var_r = (ss + PRIOR_WEIGHT * prior_sd**2) / (n - 1 + PRIOR_WEIGHT)
        components.append((np.log(ytd) + mean_r, var_r * (1 + 1 / n), n - 1 + PRIOR_WEIGHT))
        method_parts.append("seasonal share")
    if m < 12 and len(totals) >= 1 and (m <= TREND_BLEND_MAX_MONTH or not components):
        tr = annual(totals, horizon=year - int(totals.index[-1]))
        pred = tr.details["predictive"]
        components.append((pred["loc"], pred["scale"] ** 2, pred["df"]))
        method_parts.append("annual trend")

    baseline = ytd * 12 / m if m else None
    if not components:
        # Nothing to go on but the months reported: 序时进度, with a spread as wide as the
        # seasonal share of months 1..m can plausibly be (NO_HISTORY_LOG_SD, see there).
        loc = np.log(max(ytd * 12 / m, 1e-9)) if m else 0.0
        components.append((loc, (NO_HISTORY_LOG_SD * (12 - max(m, 1) + 1) / 12) ** 2, 2.0))
        method_parts.append("time-elapsed only")
    w = np.array([1 / c[1] for c in components])
    loc = float(np.sum(w * np.array([c[0] for c in components])) / w.sum())
    var = float(1 / w.sum())
    df = float(min(c[2] for c in components))

    details = _details(past, totals, ok, cum_m, ytd, m, year, target, ratios)
    details.update({"months_elapsed": m, "n_years": n, "log_ratio_mean": float(ratios.mean()) if n else None,
                    "log_ratio_sd": float(ratios.std(ddof=1)) if n > 1 else None,
                    "components": [{"loc": c[0], "sd": float(np.sqrt(c[1])), "df": c[2]} for c in components]})  # fmt: skip
    return _dist.from_t(
        loc, np.sqrt(var), df, log=True, method=" + ".join(method_parts) + " (log-t)",
        target=target, comparator=comparator, tolerance=tolerance, floor=ytd,
        baseline_point=baseline, actual_to_date=ytd, seed=seed, details=details,
    )  # fmt: skip


def _details(past: pd.DataFrame, totals: pd.Series, ok: np.ndarray, cum_m: np.ndarray,
             ytd: float, m: int, year: int, target: float | None, ratios: np.ndarray) -> dict:  # fmt: skip
    out: dict[str, object] = {"required_run_rate": None, "schedule_share": None, "sdg_ratio": None,
                              "past_remaining_mean": None}  # fmt: skip
    if m and ok.any():
        remaining = totals.to_numpy()[ok] - cum_m[ok]
        out["past_remaining_mean"] = float(remaining.mean())
        out["past_share_mean"] = float(np.mean(cum_m[ok] / totals.to_numpy()[ok]))
        if target is not None and remaining.mean() > 0:
            out["required_run_rate"] = float(max(target - ytd, 0.0) / remaining.mean())
    if target is not None and target > 0 and m:
        out["schedule_share"] = float((ytd / target) / (m / 12))
        last = year - 1
        if last in totals.index and m < 12:
            row = past.loc[last].to_numpy()
            last_cum = _cum_known(row, m)
            required = target / totals.loc[last] - 1
            if np.isfinite(last_cum) and last_cum > 0 and required > 0:
                out["sdg_ratio"] = float((ytd / last_cum - 1) / required)
    return out
