"""The model of each built-in target type, in the shape ``evaluate_targets`` calls.

A target type (``tianxin_analysis.target_types``) names its model per ``data_kind``; the model
is ``model(target, load, context) -> ModelOutput``. ``load(table)`` returns a processed table
(raising ``InsufficientDataError`` with the reason when the table is missing or untrusted), so
a model reads only what it needs. The statistics live in ``forecast.models``; these functions
only pick the tables and measures and collect what the briefing shows beside the result.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from . import models
from .result import ForecastResult

if TYPE_CHECKING:
    from ..targets import Target

# A processed table by name (the data kind of data/processed/<kind>/).
Loader = Callable[[str], pd.DataFrame]


@dataclass(frozen=True)
class ModelContext:
    """What every model is evaluated with: plan ``year``, ``as_of`` month, ``seed`` and the
    pipelines' ``stage_probabilities`` override (None: the defaults)."""

    year: int
    as_of: pd.Period
    seed: int | None = None
    stage_probabilities: str | os.PathLike[str] | Mapping | None = None

    def judged(self, t: Target) -> dict:
        """The keywords every model takes: how ``t`` is judged, and the seed."""
        return {"comparator": t.comparator, "tolerance": t.tolerance, "seed": self.seed}


@dataclass(frozen=True, eq=False)
class ModelOutput:
    """A model's answer: the ``result``, and what the briefing shows beside it — a
    ``watch_list`` (frame of enterprises to follow), the monthly cumulative ``path`` of past
    years and this one (columns year, month, cumulative) and named pipeline ``candidates``."""

    result: ForecastResult
    watch_list: pd.DataFrame | None = None
    path: pd.DataFrame | None = None
    candidates: pd.DataFrame | None = None


def hitech_certificates(t: Target, load: Loader, ctx: ModelContext) -> ModelOutput:
    """Valid high-tech certificates at year end, with the certificates expiring this year."""
    certs = load("hitech_certificates")
    r = models.hitech_year_end(certs, ctx.year, ctx.as_of, t.value, **ctx.judged(t))
    return ModelOutput(r, watch_list=models.hitech_watch_list(certs, ctx.year, ctx.as_of))


def sme_registrations(t: Target, load: Loader, ctx: ModelContext) -> ModelOutput:
    """Tech-based SMEs registered in the year, with those not yet re-registered."""
    regs = load("tech_sme_registrations")
    r = models.sme_year_end(regs, ctx.year, ctx.as_of, t.value, **ctx.judged(t))
    path = models.cumulative_path(models.sme_registrations_monthly(regs, ctx.as_of), ctx.year)
    return ModelOutput(r, watch_list=models.sme_watch_list(regs, ctx.year, ctx.as_of), path=path)


def tech_contracts(t: Target, load: Loader, ctx: ModelContext) -> ModelOutput:
    """Technology contracts (count or value) registered in the year."""
    tc = load("tech_contracts")
    r = models.contracts_year_end(tc, t.measure, ctx.year, ctx.as_of, t.value, **ctx.judged(t))
    path = models.cumulative_path(models.contracts_monthly(tc, t.measure, ctx.as_of), ctx.year)
    return ModelOutput(r, path=path)


def value_added_growth(t: Target, load: Loader, ctx: ModelContext) -> ModelOutput:
    """Full-year cumulative growth of high-tech value added."""
    va = load("hitech_value_added")
    r = models.growth_full_year(va, ctx.year, ctx.as_of, t.value, **ctx.judged(t))
    return ModelOutput(r, path=models.growth_path(va, ctx.year, ctx.as_of))


def rd_intensity(t: Target, load: Loader, ctx: ModelContext) -> ModelOutput:
    """R&D intensity of the target's reference year, as published (or estimated) by the as-of
    month."""
    r = models.rd_intensity(load("rd_expenditure"), load("district_gdp"), t.reference_year,
                            ctx.as_of, t.value, publication_lag_months=t.publication_lag_months,
                            **ctx.judged(t))  # fmt: skip
    return ModelOutput(r)


def pipeline(t: Target, load: Loader, ctx: ModelContext) -> ModelOutput:
    """Candidates recognised this year from a pipeline, with the named pending candidates."""
    p = load("pipelines")
    r = models.pipeline_count(p, t.measure, ctx.year, ctx.as_of, t.value,
                              stage_probabilities=ctx.stage_probabilities, **ctx.judged(t))  # fmt: skip
    candidates = models.pipeline_candidates(p, t.measure, ctx.year, ctx.as_of,
                                            ctx.stage_probabilities)  # fmt: skip
    return ModelOutput(r, candidates=candidates)
