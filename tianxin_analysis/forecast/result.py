"""``ForecastResult``: the numbers a briefing needs about one forecast, and nothing that draws.

Modelled on statsmodels results objects: a frozen value that answers questions
(``to_frame()``, ``quantile()``, ``status()``) and does not print or plot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import TianxinError
from ..labels import STATUS

# Quantile levels every result carries (fan charts draw bands between symmetric pairs).
QUANTILE_LEVELS = (0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975)

ON_TRACK_THRESHOLD = 0.8
AT_RISK_THRESHOLD = 0.5


class InsufficientDataError(TianxinError, ValueError):
    """The data cannot support an honest answer (status 数据不足). A ValueError too, as the
    models raised before for "no data".

    ``reason`` is one plain-Chinese sentence an analyst reads beside the target (数据提示);
    ``data_through`` (``YYYY-MM`` or "") and ``history_years`` say what data there was.
    """

    def __init__(self, reason: str, *, data_through: str = "", history_years: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.data_through = data_through
        self.history_years = int(history_years)


@dataclass(frozen=True)
class Status:
    """A target's status with its labels. ``code`` is one of labels.STATUS's keys."""

    code: str

    @property
    def zh(self) -> str:
        """The status label in Chinese."""
        return STATUS[self.code][0]

    @property
    def en(self) -> str:
        """The status label in English."""
        return STATUS[self.code][1]


def status_from_p(
    p_meet: float | None,
    on_track: float = ON_TRACK_THRESHOLD,
    at_risk: float = AT_RISK_THRESHOLD,
) -> Status:
    """on track when ``p_meet >= on_track``, at risk when ``>= at_risk``, else off track."""
    if not 0.0 <= at_risk <= on_track <= 1.0:
        raise ValueError(
            f"thresholds must satisfy 0 <= at_risk <= on_track <= 1, got {at_risk}, {on_track}"
        )
    if p_meet is None or not np.isfinite(p_meet):
        return Status("unknown")
    if p_meet >= on_track:
        return Status("on_track")
    if p_meet >= at_risk:
        return Status("at_risk")
    return Status("off_track")


@dataclass(frozen=True, eq=False)
class ForecastResult:
    """A forecast of one quantity (a year-end value, a total, a rate).

    Attributes
    ----------
    point : the central forecast (median of the predictive distribution where one exists).
    lower, upper : 80% prediction interval.
    lower95, upper95 : 95% prediction interval.
    p_meet : probability of meeting ``target`` (None without a target).
    method : short name of the model, e.g. ``"seasonal-share lognormal"``.
    baseline_point : the customary comparison: 序时进度 (YTD x 12 / m) for year-to-date
        forecasts, the naive forecast (last value) for annual series; None where none applies.
    target : the target value it was judged against, if any.
    comparator : ``">="``, ``"<="`` or ``"~="`` (``~=`` judged as >= target - tolerance).
    actual_to_date : the observed part (YTD total, count so far), if any.
    quantiles : predictive quantiles at ``QUANTILE_LEVELS`` (tuple of (level, value)).
    draws : optional sample from the predictive distribution (for charts), not compared.
    details : model-specific extras (required run rate, watch-list size, parameters).
    """

    point: float
    lower: float
    upper: float
    lower95: float
    upper95: float
    p_meet: float | None
    method: str
    baseline_point: float | None = None
    target: float | None = None
    comparator: str = ">="
    actual_to_date: float | None = None
    quantiles: tuple[tuple[float, float], ...] = ()
    draws: np.ndarray | None = field(default=None, repr=False)
    details: dict[str, Any] = field(default_factory=dict, repr=False)

    def status(
        self, on_track: float = ON_TRACK_THRESHOLD, at_risk: float = AT_RISK_THRESHOLD
    ) -> Status:
        """The delivery status from ``p_meet`` (on track / at risk / off track; unknown without
        it)."""
        return status_from_p(self.p_meet, on_track, at_risk)

    def quantile(self, level: float) -> float:
        """Predictive quantile at ``level`` (0 < level < 1), from the stored distribution.

        Exact for a t / log-t predictive (``details["predictive"]``) and for an exact discrete
        distribution (``details["pmf"]``); the draws only for a result that is a simulation
        sample (chart draws of a parametric result are clipped and are not its quantiles).
        """
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be in (0, 1), got {level}")
        pred = self.details.get("predictive")
        if pred is not None:
            z = pred["loc"] + pred["scale"] * float(stats.t.ppf(level, pred["df"]))
            x = float(np.exp(z)) if pred["family"] == "log-t" else z
            return max(x, pred["floor"]) if pred["floor"] is not None else x
        pmf = self.details.get("pmf")
        if pmf is not None:
            support, probs = pmf
            cdf = np.cumsum(probs)
            i = min(int(np.searchsorted(cdf, level - 1e-12)), len(support) - 1)
            return float(support[i])
        if self.draws is not None and len(self.draws):
            return float(np.quantile(self.draws, level))
        if not self.quantiles:
            raise ValueError("this result carries neither a distribution, draws nor quantiles")
        levels, values = zip(*self.quantiles, strict=True)
        return float(np.interp(level, levels, values))

    def to_frame(self) -> pd.DataFrame:
        """One row: the scalar fields plus status labels (draws and quantiles left out)."""
        st = self.status()
        row = {
            "point": self.point,
            "lower": self.lower,
            "upper": self.upper,
            "lower95": self.lower95,
            "upper95": self.upper95,
            "p_meet": self.p_meet,
            "status": st.code,
            "status_zh": st.zh,
            "status_en": st.en,
            "method": self.method,
            "baseline_point": self.baseline_point,
            "target": self.target,
            "comparator": self.comparator,
            "actual_to_date": self.actual_to_date,
        }
        return pd.DataFrame([row])
