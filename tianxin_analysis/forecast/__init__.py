"""Forecasts of every kind of target. Public API: ``ForecastResult``, ``year_end_from_ytd``,
``annual``, ``status_from_p`` (see the model modules for the others)."""

from .result import QUANTILE_LEVELS, ForecastResult, Status, status_from_p

__all__ = ["QUANTILE_LEVELS", "ForecastResult", "Status", "status_from_p"]
