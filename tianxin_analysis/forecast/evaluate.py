"""``evaluate_targets``: every target of a plan judged with the data known at an as-of month."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputFileError, TianxinError
from ..target_types import UnknownTargetTypeError, resolve, source_of
from ..targets import Plan, Target
from .evaluation import TABLE_COLUMNS, Evaluation
from .result import (
    AT_RISK_THRESHOLD,
    ON_TRACK_THRESHOLD,
    ForecastResult,
    InsufficientDataError,
    status_from_p,
)
from .target_models import ModelContext, ModelOutput


class UnsupportedTargetError(TianxinError):
    """A target whose kind / data_kind / measure no registered target type handles."""


def _require_cleaned(processed: str | os.PathLike[str]) -> None:
    """The advice to run ``tianxin clean`` only when nothing was ever cleaned into ``processed``."""
    from ..data import KINDS

    folder = Path(processed)
    if not (folder / "lineage.json").is_file() and not any((folder / k).is_dir() for k in KINDS):
        raise InputFileError(
            "找不到清洗后的数据，请先运行 tianxin clean",
            "no processed data in this folder; run `tianxin clean` first",
            file=str(folder),
        )


def _tables_for(t: Target) -> tuple[str, ...]:
    """The processed tables ``t``'s model reads (its target type's declaration)."""
    try:
        source = source_of(t)
    except UnknownTargetTypeError as exc:
        raise UnsupportedTargetError(
            f"目标 {t.id} 无对应模型 (no model for target {t.id}): {exc}"
        ) from None
    if t.measure not in source.measures:
        raise UnsupportedTargetError(
            f"目标 {t.id} 的 measure 无效 (unknown measure) {t.measure!r}; "
            f"应为 expected: {' / '.join(source.measures)}"
        )
    return source.tables


class _Loader:
    """Processed tables by kind, read once. A table the latest clean could not produce from its
    files (``unavailable``) or that is absent raises ``InsufficientDataError`` for the targets
    that need it, with the reason; with ``use_last_good`` a table kept from an earlier clean is
    used and its targets carry a note. A table of many regions (a ``region`` column, from
    ``data/raw/<code>/<kind>/``) gives the plan's district only, never the regions summed."""

    def __init__(self, processed: str | os.PathLike[str] | Mapping[str, pd.DataFrame],
                 unavailable: Mapping[str, str], use_last_good: bool,
                 district: str = ""):  # fmt: skip
        self.processed = processed
        self.district = district
        self.unavailable = dict(unavailable)
        self.use_last_good = use_last_good
        self.cache: dict[str, pd.DataFrame] = {}
        self.notes: list[str] = []

    def __call__(self, kind: str) -> pd.DataFrame:
        reason = self.unavailable.get(kind)
        if reason and not self.use_last_good:
            raise InsufficientDataError(
                f"{reason}；如需沿用上次成功清洗的数据表，请加 --use-last-good"
            )
        if kind not in self.cache:
            if isinstance(self.processed, Mapping):
                if kind not in self.processed:
                    from ..data.coverage import KIND_NAMES_ZH

                    raise InsufficientDataError(f"缺少{KIND_NAMES_ZH.get(kind, kind)}数据表")
                table = self.processed[kind]
            else:
                from ..data import load_processed

                try:
                    table = load_processed(kind, self.processed)
                except InputFileError as exc:
                    from ..data.coverage import KIND_NAMES_ZH

                    name = KIND_NAMES_ZH.get(kind, kind)
                    if (Path(self.processed) / kind).exists():  # there, but unreadable
                        raise InsufficientDataError(f"{name}数据表无法读取：{exc}") from None
                    why = f"：{reason}" if reason else ""
                    raise InsufficientDataError(
                        f"清洗后的数据中没有{name}数据表（{Path(self.processed) / kind}）{why}"
                    ) from None
            self.cache[kind] = self._district_rows(kind, table)  # raises again on each call
        if reason:
            self.notes.append(f"沿用此前一次成功清洗的数据表（{reason}）")
        return self.cache[kind]

    def _district_rows(self, kind: str, table: pd.DataFrame) -> pd.DataFrame:
        """The plan's district of a many-region table, without the region column."""
        if "region" not in table.columns:
            return table
        from ..data.coverage import KIND_NAMES_ZH

        regions = sorted(table["region"].astype(str).unique())
        if self.district not in regions:
            shown = "、".join(regions[:5]) + ("等" if len(regions) > 5 else "")
            raise InsufficientDataError(
                f"{KIND_NAMES_ZH.get(kind, kind)}数据表按地区存放（{len(regions)} 个地区：{shown}），"
                f"其中没有计划所属地区 {self.district or '（计划未写 district_code）'} 的数据；"
                "各地区的数据不能相加代替本区，请用 tianxin regions 分地区测算"
            )
        rows = table["region"].astype(str) == self.district
        return table.loc[rows].drop(columns="region").reset_index(drop=True)


def _evaluate_one(t: Target, load: _Loader, ctx: ModelContext) -> ModelOutput:
    """The model ``t``'s target type names for its ``data_kind``."""
    return resolve(source_of(t).model)(t, load, ctx)


def _row(
    t: Target,
    r: ForecastResult,
    as_of: pd.Period,
    year: int,
    on_track: float,
    at_risk: float,
    extra_notes: Sequence[str] = (),
) -> dict:
    from ..labels import STATUS

    st = status_from_p(r.p_meet, on_track, at_risk)
    code = st.code
    p_meet = np.nan if r.p_meet is None else r.p_meet
    accumulates = source_of(t).accumulates
    reached = r.actual_to_date is not None and accumulates and t.is_met(r.actual_to_date)
    known = bool(r.details.get("complete")) and t.is_met(r.point)
    # 已完成 only where it is certain, and then p_meet says so too (1, never 0.64).
    if (reached or known) and p_meet >= 1.0 - 1e-9:
        code, p_meet = "met", 1.0
    months = as_of.month if as_of.year == year else 12
    schedule = np.nan
    if accumulates and r.actual_to_date is not None and t.value > 0:
        schedule = (r.actual_to_date / t.value) / (months / 12)
    rr = r.details.get("required_run_rate")
    notes = [*r.details.get("notes", ()), *extra_notes]
    return {
        "target_id": t.id, "name_zh": t.name_zh, "name_en": t.name_en, "kind": t.kind,
        "comparator": t.comparator, "target": t.value, "unit": t.unit,
        "actual_to_date": np.nan if r.actual_to_date is None else r.actual_to_date,
        "point": r.point, "lower": r.lower, "upper": r.upper, "lower95": r.lower95,
        "upper95": r.upper95, "p_meet": p_meet,
        "status": code, "status_zh": STATUS[code][0], "status_en": STATUS[code][1],
        "baseline_point": np.nan if r.baseline_point is None else r.baseline_point,
        "schedule_share": schedule, "required_run_rate": np.nan if rr is None else rr,
        "method": r.method, "data_through": str(r.details.get("data_through", "")),
        "history_years": int(r.details.get("history_years", 0)), "data_note": _sentence(notes),
    }  # fmt: skip


def _insufficient_row(t: Target, err: InsufficientDataError) -> dict:
    from ..labels import STATUS

    code = "insufficient_data"
    row = {c: np.nan for c in TABLE_COLUMNS}
    row.update({
        "target_id": t.id, "name_zh": t.name_zh, "name_en": t.name_en, "kind": t.kind,
        "comparator": t.comparator, "target": t.value, "unit": t.unit,
        "status": code, "status_zh": STATUS[code][0], "status_en": STATUS[code][1],
        "method": "insufficient data", "data_through": err.data_through,
        "history_years": err.history_years, "data_note": _sentence([err.reason]),
    })  # fmt: skip
    return row


def _sentence(notes: Sequence[str]) -> str:
    """Notes joined into one plain-Chinese sentence ("" when there are none)."""
    kept = list(dict.fromkeys(n.strip().rstrip("。；") for n in notes if n and n.strip()))
    return "；".join(kept) + "。" if kept else ""


def evaluate_targets(
    plan: Plan,
    processed: str | os.PathLike[str] | Mapping[str, pd.DataFrame],
    as_of: str | pd.Period,
    *,
    thresholds: tuple[float, float] = (ON_TRACK_THRESHOLD, AT_RISK_THRESHOLD),
    stage_probabilities: str | os.PathLike[str] | Mapping | None = None,
    synthetic: bool | None = None,
    seed: int | None = None,
    unavailable: Mapping[str, str] | None = None,
    use_last_good: bool = False,
) -> Evaluation:
    """Evaluate every target of ``plan`` with data up to the end of month ``as_of``.

    ``processed``: the processed-data folder (tables read with ``data.load_processed``) or a
    mapping kind -> frame with the data-contract columns. ``thresholds`` = (on track, at risk)
    probabilities. ``stage_probabilities`` overrides the pipelines' default success
    probabilities (dict, YAML or CSV). ``synthetic`` defaults to ``data.is_synthetic`` for a
    folder and True for frames (the caller should say). Raises ``UnsupportedTargetError`` for a
    target no model handles (checked for all targets before any work).

    ``unavailable``: processed-table kind -> plain-Chinese reason it cannot be trusted (its
    latest clean failed); None reads them from the folder's ``lineage.json``
    (``data.coverage.unavailable_kinds``). Every target that needs such a table, or a table
    that is absent, gets status ``insufficient_data`` (数据不足) with the reason as its
    ``data_note``; the other targets are evaluated as usual. ``use_last_good``: use the table
    an earlier clean left instead, with a note saying so.
    """
    as_of = pd.Period(as_of, freq="M")
    on_track, at_risk = thresholds
    status_from_p(0.5, on_track, at_risk)  # validates the thresholds
    for t in plan.targets:
        _tables_for(t)
    if unavailable is None:
        unavailable = {}
        if not isinstance(processed, Mapping):
            from ..data import coverage

            _require_cleaned(processed)
            unavailable = coverage.unavailable_kinds(processed)
    revised: dict[str, list[str]] = {}
    if not isinstance(processed, Mapping):
        from ..data import coverage

        revised = coverage.revision_notes(processed, plan.year)
    load = _Loader(processed, unavailable, use_last_good, plan.district_code)
    ctx = ModelContext(plan.year, as_of, seed, stage_probabilities)
    results, watch, paths, candidates, rows = {}, {}, {}, {}, []
    for t in plan.targets:
        load.notes = [n for kind in _tables_for(t) for n in revised.get(kind, ())]
        try:
            out = _evaluate_one(t, load, ctx)
        except InsufficientDataError as err:
            rows.append(_insufficient_row(t, err))
            continue
        results[t.id] = out.result
        for into, found in ((watch, out.watch_list), (paths, out.path),
                            (candidates, out.candidates)):  # fmt: skip
            if found is not None:
                into[t.id] = found
        rows.append(_row(t, out.result, as_of, plan.year, on_track, at_risk, load.notes))
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table["history_years"] = table["history_years"].astype("int64")
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
