"""Shared helpers: build a ``ForecastResult`` from a predictive distribution.

Two shapes of distribution occur: a location-scale Student-t on the log (or level) scale,
whose quantiles and exceedance probabilities are exact (``from_t``), and a sample of draws
from a simulation or an exact discrete distribution (``from_draws`` / ``from_pmf``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from .result import QUANTILE_LEVELS, ForecastResult

DEFAULT_SEED = 20240301
DEFAULT_DRAWS = 2000
_LEVELS = np.asarray(QUANTILE_LEVELS)


def rng(seed: int | None = None) -> np.random.Generator:
    """A numpy generator seeded with ``seed`` or the package's fixed default seed."""
    return np.random.default_rng(DEFAULT_SEED if seed is None else seed)


def threshold(target: float | None, comparator: str, tolerance: float) -> float | None:
    """The value a forecast must reach to meet ``target`` (less ``tolerance`` for ``~=``); None
    without a target."""
    if target is None:
        return None
    if comparator not in (">=", "<=", "~="):
        raise ValueError(f"comparator must be '>=', '<=' or '~=', got {comparator!r}")
    return float(target) - float(tolerance) if comparator == "~=" else float(target)


def _pack(
    q: np.ndarray,
    p_meet: float | None,
    method: str,
    *,
    target: float | None,
    comparator: str,
    baseline_point: float | None,
    actual_to_date: float | None,
    draws: np.ndarray | None,
    details: dict[str, Any],
) -> ForecastResult:
    """A ``ForecastResult`` from predictive quantiles ``q`` (one per ``QUANTILE_LEVELS``) and the
    rest."""
    qd = dict(zip(QUANTILE_LEVELS, (float(v) for v in q), strict=True))
    return ForecastResult(
        point=qd[0.5],
        lower=qd[0.1],
        upper=qd[0.9],
        lower95=qd[0.025],
        upper95=qd[0.975],
        p_meet=None if p_meet is None else float(min(max(p_meet, 0.0), 1.0)),
        method=method,
        baseline_point=None if baseline_point is None else float(baseline_point),
        target=None if target is None else float(target),
        comparator=comparator,
        actual_to_date=None if actual_to_date is None else float(actual_to_date),
        quantiles=tuple(qd.items()),
        draws=draws,
        details=details,
    )


def from_t(
    loc: float,
    scale: float,
    df: float,
    *,
    log: bool,
    method: str,
    target: float | None = None,
    comparator: str = ">=",
    tolerance: float = 0.0,
    floor: float | None = None,
    baseline_point: float | None = None,
    actual_to_date: float | None = None,
    seed: int | None = None,
    n_draws: int = DEFAULT_DRAWS,
    details: dict[str, Any] | None = None,
) -> ForecastResult:
    """Predictive X = g(loc + scale * T_df), g = exp when ``log`` else identity, X >= ``floor``.

    Quantiles and p_meet are exact (a monotone transform of a t variable); ``draws`` is a
    seeded sample for charts.
    """
    scale = max(float(scale), 1e-12)
    df = float(df) if np.isfinite(df) else 1e6

    def to_x(z: np.ndarray) -> np.ndarray:
        x = np.exp(z) if log else z
        return np.maximum(x, floor) if floor is not None else x

    details = {**(details or {}), "predictive": {"family": "log-t" if log else "t", "loc": float(loc),
               "scale": scale, "df": df, "floor": floor}}  # fmt: skip
    q = to_x(loc + scale * stats.t.ppf(_LEVELS, df))
    # Chart draws: the t sample is clipped at its 0.1% / 99.9% quantiles so that a heavy tail
    # (few past years) cannot overflow exp(); quantiles and p_meet above are exact.
    lim = float(stats.t.ppf(0.999, df))
    draws = to_x(loc + scale * np.clip(rng(seed).standard_t(df, size=n_draws), -lim, lim))
    thr = threshold(target, comparator, tolerance)
    p_meet = None
    if thr is not None:
        if floor is not None and thr <= floor:
            p_above = 1.0
        elif log and thr <= 0:
            p_above = 1.0
        else:
            z = (np.log(thr) if log else thr) - loc
            p_above = float(stats.t.sf(z / scale, df))
        p_meet = 1.0 - p_above if comparator == "<=" else p_above
        if comparator == "<=" and floor is not None and thr < floor:
            p_meet = 0.0
    return _pack(q, p_meet, method, target=target, comparator=comparator,
                 baseline_point=baseline_point, actual_to_date=actual_to_date,
                 draws=draws, details=details)  # fmt: skip


def prob_at_least(result: ForecastResult, x: float) -> float:
    """P(X >= x) under ``result``'s predictive distribution: exact for t / log-t results,
    the draws' frequency otherwise."""
    pred = result.details.get("predictive")
    if pred is not None:
        floor = pred["floor"]
        if floor is not None and x <= floor:
            return 1.0
        if pred["family"] == "log-t":
            if x <= 0:
                return 1.0
            x = float(np.log(x))
        return float(stats.t.sf((x - pred["loc"]) / pred["scale"], pred["df"]))
    if result.draws is None or not len(result.draws):
        raise ValueError("result carries neither a parametric predictive nor draws")
    return float(np.mean(result.draws >= x))


def from_draws(
    draws: np.ndarray,
    *,
    method: str,
    target: float | None = None,
    comparator: str = ">=",
    tolerance: float = 0.0,
    baseline_point: float | None = None,
    actual_to_date: float | None = None,
    details: dict[str, Any] | None = None,
) -> ForecastResult:
    """Result from a simulation sample (kept as ``draws``); p_meet is the sample frequency."""
    draws = np.asarray(draws, dtype=float)
    q = np.quantile(draws, _LEVELS)
    thr = threshold(target, comparator, tolerance)
    p_meet = None
    if thr is not None:
        p_meet = (
            float(np.mean(draws <= thr)) if comparator == "<=" else float(np.mean(draws >= thr))
        )
    return _pack(q, p_meet, method, target=target, comparator=comparator,
                 baseline_point=baseline_point, actual_to_date=actual_to_date,
                 draws=draws, details=details or {})  # fmt: skip


def from_pmf(
    support: np.ndarray,
    pmf: np.ndarray,
    *,
    method: str,
    target: float | None = None,
    comparator: str = ">=",
    tolerance: float = 0.0,
    baseline_point: float | None = None,
    actual_to_date: float | None = None,
    seed: int | None = None,
    n_draws: int = DEFAULT_DRAWS,
    details: dict[str, Any] | None = None,
) -> ForecastResult:
    """Result from an exact discrete distribution: quantiles are the lower quantiles of the
    pmf, p_meet sums the pmf; ``draws`` is a seeded sample for charts."""
    support = np.asarray(support, dtype=float)
    pmf = np.clip(np.asarray(pmf, dtype=float), 0.0, None)
    pmf = pmf / pmf.sum()
    cdf = np.cumsum(pmf)
    idx = np.minimum(np.searchsorted(cdf, _LEVELS - 1e-12), len(support) - 1)
    q = support[idx]
    thr = threshold(target, comparator, tolerance)
    p_meet = None
    if thr is not None:
        mask = support <= thr if comparator == "<=" else support >= thr
        p_meet = float(pmf[mask].sum())
    draws = rng(seed).choice(support, size=n_draws, p=pmf)
    details = {**(details or {}), "pmf": (support, pmf)}
    return _pack(q, p_meet, method, target=target, comparator=comparator,
                 baseline_point=baseline_point, actual_to_date=actual_to_date,
                 draws=draws, details=details)  # fmt: skip


def known(
    value: float,
    *,
    method: str,
    target: float | None = None,
    comparator: str = ">=",
    tolerance: float = 0.0,
    details: dict[str, Any] | None = None,
) -> ForecastResult:
    """A value already reported (a full-year growth, a published ratio): no uncertainty left,
    so the target is met or not with certainty (p_meet 1 or 0). ``details["complete"]`` is
    True."""
    return from_pmf(np.array([float(value)]), np.ones(1), method=method, target=target,
                    comparator=comparator, tolerance=tolerance, baseline_point=value,
                    actual_to_date=value, n_draws=1,
                    details={**(details or {}), "complete": True})  # fmt: skip
