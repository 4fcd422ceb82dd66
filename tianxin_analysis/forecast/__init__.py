"""Forecasts of every kind of target. Public API: ``ForecastResult``, ``year_end_from_ytd``,
``annual``, ``annual_panel``, ``status_from_p``, ``evaluate_targets`` and one model per kind of target
(``models``); see docs/methods.md."""

from ._dist import prob_at_least
from .annual import annual, sdg_ratio
from .evaluate import UnsupportedTargetError, evaluate_targets
from .evaluation import TABLE_COLUMNS, Evaluation
from .models import (
    DEFAULT_STAGE_PROBABILITIES,
    contracts_year_end,
    growth_full_year,
    hitech_watch_list,
    hitech_year_end,
    pipeline_count,
    poisson_binomial_pmf,
    rd_intensity,
    sme_watch_list,
    sme_year_end,
)
from .panel import annual_panel
from .result import QUANTILE_LEVELS, ForecastResult, Status, status_from_p
from .ytd import year_end_from_ytd

__all__ = [
    "DEFAULT_STAGE_PROBABILITIES",
    "QUANTILE_LEVELS",
    "TABLE_COLUMNS",
    "Evaluation",
    "ForecastResult",
    "Status",
    "UnsupportedTargetError",
    "annual",
    "annual_panel",
    "contracts_year_end",
    "evaluate_targets",
    "growth_full_year",
    "hitech_watch_list",
    "hitech_year_end",
    "pipeline_count",
    "poisson_binomial_pmf",
    "prob_at_least",
    "rd_intensity",
    "sdg_ratio",
    "sme_watch_list",
    "sme_year_end",
    "status_from_p",
    "year_end_from_ytd",
]
