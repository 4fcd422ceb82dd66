"""Scores of forecast distributions and their uncertainty, for the backtests.

Pure functions on the backtest frames of ``tianxin_analysis.backtest``:

- ``interval_score``: the Gneiting-Raftery interval score of a central (1 - alpha) interval
  (width plus 2/alpha times the miss), a proper score of the two quantiles.
- ``reliability_table``: predicted probabilities in bins against observed frequencies.
- ``block_bootstrap``: a ratio of two sums (MASE ratio, MAPE ratio, Brier ratio, ...) with a
  percentile band from resampling whole blocks (for example table x origin), so that the
  forecasts of one block — correlated through a shared shock year — move together.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

BOOTSTRAP_DRAWS = 2000
BOOTSTRAP_SEED = 20240416
BAND = 0.90


def interval_score(actual, lower, upper, alpha: float) -> np.ndarray:
    """Interval score of the central ``1 - alpha`` interval [lower, upper] (lower is better):
    (upper - lower) + 2/alpha (lower - y)+ + 2/alpha (y - upper)+. Arrays of equal length."""
    y = np.asarray(actual, dtype=float)
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    return (
        (hi - lo) + 2.0 / alpha * np.clip(lo - y, 0, None) + 2.0 / alpha * np.clip(y - hi, 0, None)
    )


def reliability_table(p: Sequence[float], outcome: Sequence[bool], *, bins: int = 10,
                      min_count: int = 30, tolerance: float = 0.1) -> pd.DataFrame:  # fmt: skip
    """Predicted probability ``p`` in ``bins`` equal bins against the observed frequency of
    ``outcome``. One row per bin: ``bin`` ("0.0-0.1"), ``n``, ``predicted`` (mean p),
    ``observed`` (share of outcomes), ``gap`` (observed - predicted) and ``within`` (|gap| <=
    ``tolerance``; NA where the bin holds fewer than ``min_count`` cases)."""
    p = np.asarray(p, dtype=float)
    y = np.asarray(outcome, dtype=float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    edges = np.linspace(0, 1, bins + 1)
    frame = pd.DataFrame({"i": idx, "p": p, "y": y})
    g = frame.groupby("i").agg(n=("p", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    g = g.reindex(range(bins))
    g["n"] = g["n"].fillna(0).astype(int)
    g["gap"] = g["observed"] - g["predicted"]
    within = (g["gap"].abs() <= tolerance).astype("boolean")
    g["within"] = within.where(g["n"] >= min_count, pd.NA)
    g.index = pd.Index([f"{edges[i]:.1f}-{edges[i + 1]:.1f}" for i in range(bins)], name="bin")
    return g


def block_bootstrap(frame: pd.DataFrame, numerator: str, denominator: str | None, *,
                    blocks: Sequence[str], draws: int = BOOTSTRAP_DRAWS,
                    seed: int = BOOTSTRAP_SEED, band: float = BAND) -> tuple[float, float, float]:  # fmt: skip
    """sum(numerator) / sum(denominator) over ``frame`` (or the mean of ``numerator`` when
    ``denominator`` is None) with a ``band`` percentile interval from a bootstrap that
    resamples whole ``blocks`` (columns identifying a block) with replacement. Returns
    (estimate, low, high)."""
    codes = frame.groupby(list(blocks), sort=True, dropna=False).ngroup().to_numpy()
    num = np.bincount(codes, weights=frame[numerator].to_numpy(dtype=float))
    den = (np.bincount(codes, weights=frame[denominator].to_numpy(dtype=float))
           if denominator is not None else np.bincount(codes).astype(float))  # fmt: skip
    est = float(num.sum() / den.sum())
    k = len(num)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, k, size=(draws, k))  # k blocks drawn with replacement, per draw
    with np.errstate(divide="ignore", invalid="ignore"):  # a draw may pick only zero blocks
        ratios = num[idx].sum(axis=1) / den[idx].sum(axis=1)
    lo, hi = np.nanquantile(ratios, [(1 - band) / 2, 1 - (1 - band) / 2])
    return est, float(lo), float(hi)


def ratio_with_band(frame: pd.DataFrame, numerator: str, denominator: str | None,
                    blocks: Sequence[str], **kwargs) -> pd.Series:  # fmt: skip
    """``block_bootstrap`` as a Series (``value``, ``low``, ``high``) for tables."""
    est, lo, hi = block_bootstrap(frame, numerator, denominator, blocks=blocks, **kwargs)
    return pd.Series({"value": est, "low": lo, "high": hi})
