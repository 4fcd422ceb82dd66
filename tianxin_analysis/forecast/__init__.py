"""Forecasts of every kind of target. Public API: ``ForecastResult``, ``year_end_from_ytd``,
``annual``, ``status_from_p`` (see the model modules for the others)."""

from ._dist import prob_at_least
from .annual import annual, sdg_ratio
from .result import QUANTILE_LEVELS, ForecastResult, Status, status_from_p
from .ytd import year_end_from_ytd

__all__ = [
    "QUANTILE_LEVELS",
    "ForecastResult",
    "Status",
    "annual",
    "prob_at_least",
    "sdg_ratio",
    "status_from_p",
    "year_end_from_ytd",
]
