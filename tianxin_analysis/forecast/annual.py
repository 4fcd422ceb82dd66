"""Forecasts of short annual series (R&D intensity, yearly totals): ``annual``.

District series are short (often 4–8 years) and trend. The default method ("robust") is a
random walk with a robustly estimated drift: the last value plus the Huber M-estimate of the
mean yearly change (statsmodels ``RLM`` on a constant, Huber's c = 1.345, MAD scale), on the
log scale where the series is positive. One odd year (a definition change, a one-off contract)
moves the ordinary drift by its full size / (n - 1); the Huber estimate down-weights it. In the
rolling-origin backtest on the yearbook panels (``tianxin_analysis.backtest``) it beats drift by
about 2.5% — smoothing the level (SES, Theta, local-level models) or extrapolating the latest
changes did worse than drift there. With 2–3 points it uses half the trend ("half-trend").
Interior gaps of up to two years are filled by log-linear interpolation; before a longer gap
the series is dropped. Prediction intervals come from the method's own one-step-ahead errors
inside the series, shrunk toward a default spread (so that 1–3 points still get honest, wide
intervals) and widened with Student-t quantiles.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from statsmodels.robust.norms import HuberT
from statsmodels.robust.robust_linear_model import RLM

from . import _dist
from .result import ForecastResult

METHODS = ("auto", "naive", "drift", "robust", "damped", "combination", "half-trend")
MAX_GAP_FILLED = 2
ERRORS_FROM = 3
# Default spread of one-year log changes when a series has too few points to tell (about
# +-20%); calibrated on the yearbook panels so that 80% intervals cover about 80%.
PRIOR_LOG_SD = 0.08
PRIOR_WEIGHT = 1.0
DAMPING = 0.8
_TREND_WINDOW = 3
# Huber's tuning constant: 95% efficiency at the normal (Huber 1981), the statsmodels default.
HUBER_C = 1.345


def robust_drift(changes: np.ndarray) -> float:
    """Huber M-estimate of the mean of ``changes`` (MAD scale, c = ``HUBER_C``).

    With fewer than three changes, or when more than half of them are equal (MAD zero, e.g.
    an interpolated gap), the median — Huber's estimate in the limit of a zero scale."""
    d = np.asarray(changes, dtype=float)
    median = float(np.median(d))
    if len(d) < 3 or not np.median(np.abs(d - median)) > 0:
        return median
    with warnings.catch_warnings():
        # IRLS may stop at its iteration limit on a near-degenerate sample; the estimate
        # then lies between the median and the mean, which is all that is needed here.
        warnings.simplefilter("ignore")
        fit = RLM(d, np.ones(len(d)), M=HuberT(t=HUBER_C)).fit()
    mu = float(fit.params[0])
    return mu if np.isfinite(mu) else median


def _point(z: np.ndarray, h: int, method: str) -> float:
    """h-step point forecast of the (log) series ``z`` by ``method``."""
    n = len(z)
    if n == 1 or method == "naive":
        return float(z[-1])
    drift = (z[-1] - z[0]) / (n - 1)
    if method == "drift":
        return float(z[-1] + h * drift)
    if method == "robust":
        return float(z[-1] + h * robust_drift(np.diff(z)))
    diffs = np.diff(z)[-_TREND_WINDOW:]
    damp_sum = sum(DAMPING**i for i in range(1, h + 1))
    damped = float(z[-1] + diffs.mean() * damp_sum)
    if method == "damped":
        return damped
    median = float(z[-1] + h * np.median(np.diff(z)))
    if method == "combination":
        return float(np.mean([z[-1] + h * drift, damped, median]))
    if method == "half-trend":
        return float(np.mean([z[-1], np.mean([z[-1] + h * drift, damped, median])]))
    raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")


def _resolve(method: str, n: int) -> str:
    if method != "auto":
        return method
    # One or two changes are too noisy to extrapolate in full: with 2-3 points, half the trend.
    if n == 1:
        return "naive"
    return "half-trend" if n <= 3 else "robust"


def one_step_errors(z: np.ndarray, method: str, start: int = 2) -> np.ndarray:
    """In-sample one-step-ahead errors of ``method`` from origin ``start`` on."""
    return np.array([z[t] - _point(z[:t], 1, _resolve(method, t)) for t in range(start, len(z))])


def annual(
    series: pd.Series,
    horizon: int = 1,
    target: float | None = None,
    *,
    comparator: str = ">=",
    tolerance: float = 0.0,
    method: str = "auto",
    prior_log_sd: float = PRIOR_LOG_SD,
    level_prior_sd: float | None = None,
    seed: int | None = None,
) -> ForecastResult:
    """Forecast an annual series ``horizon`` years past its last year.

    ``series`` is indexed by integer year (NaN years are dropped). Positive series are
    modelled on the log scale (relative changes); others on the level scale with the
    prior spread scaled by the series' level. Works from one point (naive forecast with the
    default spread); ``method`` = "naive", "drift", "robust" (Huber-estimated drift), "damped",
    "combination" (mean of drift, median-change and damped-trend forecasts), "half-trend" or
    "auto" (naive from one point, half-trend from 2–3, robust from 4).
    ``baseline_point`` is the naive forecast; ``details`` also holds the drift forecast and the
    Eurostat-style ratio of actual to required growth when a target is given.
    ``level_prior_sd``: model on the level scale with this prior spread in the series' own
    units (growth rates in percentage points, which cross zero and are not relative).
    """
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    s = _regular(series)
    years = s.index.to_numpy()
    values = s.to_numpy()
    n = len(values)
    log = bool(np.all(values > 0)) and level_prior_sd is None
    z = np.log(values) if log else values
    unit_scale = 1.0 if log else max(float(np.mean(np.abs(values))), 1e-9)
    if level_prior_sd is not None:
        prior_log_sd, unit_scale = float(level_prior_sd), 1.0
    chosen = _resolve(method, n)
    loc = _point(z, horizon, chosen)

    errors = one_step_errors(z, method, start=ERRORS_FROM) if n > ERRORS_FROM else np.array([])
    prior_var = (prior_log_sd * unit_scale) ** 2
    var1 = (np.sum(errors**2) + PRIOR_WEIGHT * prior_var) / (len(errors) + PRIOR_WEIGHT)
    # Horizon growth of the spread: random-walk accumulation plus trend-estimate error.
    var_h = var1 * (horizon + (horizon**2 / n if chosen != "naive" else 0.0))
    df = len(errors) + PRIOR_WEIGHT

    inv = np.exp if log else (lambda x: x)
    naive = float(values[-1])
    drift = float(inv(_point(z, horizon, "drift")))
    details: dict[str, object] = {
        "n_years": n,
        "first_year": int(years[0]),
        "last_year": int(years[-1]),
        "forecast_year": int(years[-1]) + horizon,
        "scale": "log" if log else "level",
        "naive": naive,
        "drift": drift,
        "one_step_rmse": float(np.sqrt(np.mean(errors**2))) if len(errors) else None,
        "sdg_ratio": sdg_ratio(s, target, horizon) if target is not None else None,
    }
    return _dist.from_t(
        loc, float(np.sqrt(var_h)), df, log=log,
        method=f"annual {chosen} ({'log' if log else 'level'})",
        target=target, comparator=comparator, tolerance=tolerance,
        baseline_point=naive, seed=seed, details=details,
    )  # fmt: skip


def _regular(series: pd.Series) -> pd.Series:
    """Consecutive-year series: short interior gaps interpolated (log-linearly when positive),
    years before a longer gap dropped."""
    s = pd.Series(series, dtype=float).dropna()
    if s.empty:
        raise ValueError("annual() needs at least one observed year (序列为空)")
    s.index = s.index.astype(int)
    s = s.sort_index()
    if s.index.has_duplicates:
        raise ValueError(f"annual(): duplicate years {sorted(set(s.index[s.index.duplicated()]))}")
    gaps = np.diff(s.index.to_numpy()) - 1
    long_gap = np.flatnonzero(gaps > MAX_GAP_FILLED)
    if len(long_gap):
        s = s.iloc[long_gap[-1] + 1 :]
    full = s.reindex(range(int(s.index[0]), int(s.index[-1]) + 1))
    if full.isna().any():
        if (s > 0).all():
            full = np.exp(np.log(full).interpolate())
        else:
            full = full.interpolate()
    return full


def sdg_ratio(
    series: pd.Series, target: float | None, horizon: int, window: int = 5
) -> float | None:
    """Eurostat SDG-style progress ratio: actual compound annual growth over the last
    ``window`` years divided by the growth needed each year to reach ``target`` in ``horizon``
    years. >= 0.95 counts as on course, 0.6–0.95 moderate, 0–0.6 insufficient, < 0 moving away.
    None when undefined (non-positive values, fewer than two points, target already reached).
    """
    s = pd.Series(series, dtype=float).dropna().sort_index()
    if target is None or len(s) < 2 or (s <= 0).any() or target <= 0:
        return None
    past = s.iloc[-(window + 1) :]
    span = past.index[-1] - past.index[0]
    actual = (past.iloc[-1] / past.iloc[0]) ** (1.0 / span) - 1.0
    required = (target / s.iloc[-1]) ** (1.0 / horizon) - 1.0
    if required <= 0:
        return None
    return float(actual / required)
