"""``evaluate_targets``: every target of a plan judged with the data known at an as-of month."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import TianxinError
from ..targets import Plan, Target
from . import models
from .evaluation import TABLE_COLUMNS, Evaluation
from .result import AT_RISK_THRESHOLD, ON_TRACK_THRESHOLD, ForecastResult, status_from_p


class UnsupportedTargetError(TianxinError):
    """A target whose kind / data_kind / measure no model handles."""


# (kind, data_kind) -> the processed tables the model needs.
_TABLES = {
    ("stock", "hitech_certificates"): ("hitech_certificates",),
    ("stock", "tech_sme_registrations"): ("tech_sme_registrations",),
    ("flow", "tech_contracts"): ("tech_contracts",),
    ("growth_rate", "hitech_value_added"): ("hitech_value_added",),
    ("ratio", "rd_expenditure"): ("rd_expenditure", "district_gdp"),
    ("pipeline_count", "pipelines"): ("pipelines",),
}


def _tables_for(t: Target) -> tuple[str, ...]:
    key = (t.kind, t.data_kind)
    if key not in _TABLES:
        known = ", ".join(f"{k}/{d}" for k, d in _TABLES)
        raise UnsupportedTargetError(
            f"目标 {t.id} 的类型无对应模型 (no model for target {t.id}): kind={t.kind!r}, "
            f"data_kind={t.data_kind!r}; 支持 supported: {known}"
        )
    return _TABLES[key]


class _Loader:
    def __init__(self, processed: str | os.PathLike[str] | Mapping[str, pd.DataFrame]):
        self.processed = processed
        self.cache: dict[str, pd.DataFrame] = {}

    def __call__(self, kind: str) -> pd.DataFrame:
        if kind not in self.cache:
            if isinstance(self.processed, Mapping):
                if kind not in self.processed:
                    raise UnsupportedTargetError(
                        f"缺少清洗后的数据表 {kind} (processed table {kind} missing); "
                        f"有 available: {sorted(self.processed)}"
                    )
                self.cache[kind] = self.processed[kind]
            else:
                from ..data import load_processed

                self.cache[kind] = load_processed(kind, self.processed)
        return self.cache[kind]


def _evaluate_one(t: Target, load: _Loader, year: int, as_of: pd.Period, seed: int | None,
                  stage_probabilities) -> tuple[ForecastResult, pd.DataFrame | None, pd.DataFrame | None]:  # fmt: skip
    kw = {"comparator": t.comparator, "tolerance": t.tolerance, "seed": seed}
    if t.kind == "stock" and t.data_kind == "hitech_certificates":
        certs = load("hitech_certificates")
        return (models.hitech_year_end(certs, year, as_of, t.value, **kw),
                models.hitech_watch_list(certs, year, as_of), None)  # fmt: skip
    if t.kind == "stock" and t.data_kind == "tech_sme_registrations":
        regs = load("tech_sme_registrations")
        r = models.sme_year_end(regs, year, as_of, t.value, **kw)
        path = models.cumulative_path(models.sme_registrations_monthly(regs, as_of), year)
        return r, models.sme_watch_list(regs, year, as_of), path
    if t.kind == "flow" and t.data_kind == "tech_contracts":
        tc = load("tech_contracts")
        if t.measure not in ("contracts", "value_yi", "value_wan"):
            raise UnsupportedTargetError(
                f"目标 {t.id} 的 measure 无效 (unknown measure) {t.measure!r}; 应为 contracts / value_yi"
            )
        r = models.contracts_year_end(tc, t.measure, year, as_of, t.value, **kw)
        path = models.cumulative_path(models.contracts_monthly(tc, t.measure, as_of), year)
        return r, None, path
    if t.kind == "growth_rate":
        va = load("hitech_value_added")
        return (models.growth_full_year(va, year, as_of, t.value, **kw), None,
                models.growth_path(va, year, as_of))  # fmt: skip
    if t.kind == "ratio":
        r = models.rd_intensity(
            load("rd_expenditure"), load("district_gdp"), t.reference_year, as_of, t.value, **kw
        )
        return r, None, None
    if t.kind == "pipeline_count":
        r = models.pipeline_count(load("pipelines"), t.measure, year, as_of, t.value,
                                  stage_probabilities=stage_probabilities, **kw)  # fmt: skip
        return r, None, None
    raise UnsupportedTargetError(f"no model for target {t.id}")  # unreachable: _tables_for checks


def _row(
    t: Target, r: ForecastResult, as_of: pd.Period, year: int, on_track: float, at_risk: float
) -> dict:
    st = status_from_p(r.p_meet, on_track, at_risk)
    code = st.code
    accumulates = t.kind in ("flow", "pipeline_count") or t.data_kind == "tech_sme_registrations"
    done = r.actual_to_date is not None and accumulates and t.is_met(r.actual_to_date)
    if t.kind == "ratio" and r.details.get("complete") and t.is_met(r.point):
        done = True
    if done:
        code = "met"
    months = as_of.month if as_of.year == year else 12
    schedule = np.nan
    if accumulates and r.actual_to_date is not None and t.value > 0:
        schedule = (r.actual_to_date / t.value) / (months / 12)
    from ..labels import STATUS

    rr = r.details.get("required_run_rate")
    return {
        "target_id": t.id, "name_zh": t.name_zh, "name_en": t.name_en, "kind": t.kind,
        "comparator": t.comparator, "target": t.value, "unit": t.unit,
        "actual_to_date": np.nan if r.actual_to_date is None else r.actual_to_date,
        "point": r.point, "lower": r.lower, "upper": r.upper, "lower95": r.lower95,
        "upper95": r.upper95, "p_meet": np.nan if r.p_meet is None else r.p_meet,
        "status": code, "status_zh": STATUS[code][0], "status_en": STATUS[code][1],
        "baseline_point": np.nan if r.baseline_point is None else r.baseline_point,
        "schedule_share": schedule, "required_run_rate": np.nan if rr is None else rr,
        "method": r.method,
    }  # fmt: skip


def evaluate_targets(
    plan: Plan,
    processed: str | os.PathLike[str] | Mapping[str, pd.DataFrame],
    as_of: str | pd.Period,
    *,
    thresholds: tuple[float, float] = (ON_TRACK_THRESHOLD, AT_RISK_THRESHOLD),
    stage_probabilities: str | os.PathLike[str] | Mapping | None = None,
    synthetic: bool | None = None,
    seed: int | None = None,
) -> Evaluation:
    """Evaluate every target of ``plan`` with data up to the end of month ``as_of``.

    ``processed``: the processed-data folder (tables read with ``data.load_processed``) or a
    mapping kind -> frame with the data-contract columns. ``thresholds`` = (on track, at risk)
    probabilities. ``stage_probabilities`` overrides the pipelines' default success
    probabilities (dict, YAML or CSV). ``synthetic`` defaults to ``data.is_synthetic`` for a
    folder and True for frames (the caller should say). Raises ``UnsupportedTargetError`` for a
    target no model handles (checked for all targets before any work).
    """
    as_of = pd.Period(as_of, freq="M")
    on_track, at_risk = thresholds
    status_from_p(0.5, on_track, at_risk)  # validates the thresholds
    for t in plan.targets:
        _tables_for(t)
    load = _Loader(processed)
    results, watch, paths, candidates, rows = {}, {}, {}, {}, []
    for t in plan.targets:
        r, wl, path = _evaluate_one(t, load, plan.year, as_of, seed, stage_probabilities)
        results[t.id] = r
        if wl is not None:
            watch[t.id] = wl
        if path is not None:
            paths[t.id] = path
        if t.kind == "pipeline_count":
            candidates[t.id] = models.pipeline_candidates(
                load("pipelines"), t.measure, plan.year, as_of, stage_probabilities
            )
        rows.append(_row(t, r, as_of, plan.year, on_track, at_risk))
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    if synthetic is None:
        if isinstance(processed, Mapping):
            synthetic = True
        else:
            from ..data import is_synthetic

            synthetic = bool(is_synthetic(processed))
    # The synthetic label is added by every chart and export from ``synthetic``; the source
    # names where the data came from.
    source = "天心区科技主管部门业务系统导出 (district S&T bureau system exports)"
    if synthetic:
        source = "样本生成器 tianxin sample-data (generated sample)"
    return Evaluation(plan=plan, as_of=as_of, table=table, results=results, watch_lists=watch,
                      paths=paths, synthetic=synthetic, data_source=source,
                      candidates=candidates)  # fmt: skip
