"""``Evaluation``: every target of a plan judged as of one month — the table a briefing shows.

Produced by ``forecast.evaluate_targets``; consumed by charts, report, notebooks and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .._fs import atomic_path, neutralize_formulas
from ..formatting import display_width, format_probability, format_target, format_value
from ..labels import SCENARIO_LABEL, SUMMARY_COLUMNS, VALUE_LABEL
from ..targets import Plan, TargetChange
from .result import ForecastResult

# Columns of Evaluation.table, in order (labels.SUMMARY_COLUMNS holds their zh/en labels).
TABLE_COLUMNS = (
    "target_id", "name_zh", "name_en", "kind", "comparator", "target", "unit",
    "actual_to_date", "point", "lower", "upper", "lower95", "upper95", "p_meet",
    "status", "status_zh", "status_en", "baseline_point", "schedule_share",
    "required_run_rate", "method", "data_through", "history_years", "data_note",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Every target of ``plan`` evaluated with data up to the end of month ``as_of``.

    table : one row per target in plan order, columns ``TABLE_COLUMNS``. ``schedule_share``
        is the customary 序时进度 ratio (actual_to_date / target) / (months elapsed / 12) for
        flows and stocks that accumulate during the year; NaN where it does not apply.
        ``required_run_rate`` is what the remaining months must deliver relative to what the
        same months delivered in past years (NaN where it does not apply).
        Coverage of every answer: ``data_through`` (``YYYY-MM``, the last period of data the
        answer used; for pipelines the ledger's date; "" when unknown), ``history_years``
        (complete past years the model used) and ``data_note`` (one plain-Chinese sentence,
        "" when there is nothing to say). Status ``insufficient_data`` (数据不足) has NaN
        numbers and p_meet, its reason in ``data_note``, and no entry in ``results``.
    results : target id -> ForecastResult.
    watch_lists : target id -> frame (certificates expiring and not yet renewed; last year's
        SME registrants not yet registered again).
    paths : target id -> monthly cumulative path for charts, columns ``year``, ``month``,
        ``cumulative`` (in the target's unit), with the plan year and past years.
    candidates : target id -> the named candidates of a pipeline target
        (``models.pipeline_candidates``: candidate, category, stage, expected_date,
        recognized_date, responsible_unit, achieved, pending, probability).
    synthetic : True when any input came from the synthetic sample (charts must say so).
    data_source : footer text naming the data source.
    """

    plan: Plan
    as_of: pd.Period
    table: pd.DataFrame
    results: dict[str, ForecastResult]
    watch_lists: dict[str, pd.DataFrame] = field(default_factory=dict)
    paths: dict[str, pd.DataFrame] = field(default_factory=dict)
    synthetic: bool = True
    data_source: str = "天心区科技主管部门业务系统导出"
    candidates: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def as_of_label(self) -> str:
        """``'2024年9月'``"""
        return f"{self.as_of.year}年{self.as_of.month}月"

    @property
    def scenario(self) -> tuple[TargetChange, ...]:
        """The targets a what-if changed (empty for the plan as issued)."""
        return self.plan.scenario

    @property
    def is_scenario(self) -> bool:
        """True when targets differ from the plan file (outputs are marked 情景测算)."""
        return bool(self.plan.scenario)

    def scenario_text(self) -> str:
        """``情景测算 · scenario：技术合同登记数 目标 4,500 → 4,800 项`` ("" for the plan as issued)."""
        if not self.is_scenario:
            return ""
        changes = "；".join(
            f"{c.name_zh} 目标 {c.planned:,.10g} → {c.value:,.10g}{'' if c.unit == '%' else ' '}{c.unit}"
            for c in self.scenario
        )
        return f"{SCENARIO_LABEL}：{changes}（未修改计划文件 plan file unchanged）"

    def labelled_table(self, language: str = "zh") -> pd.DataFrame:
        """``table`` with column headers from labels.SUMMARY_COLUMNS (zh or en)."""
        idx = 0 if language == "zh" else 1
        cols = [c for c in self.table.columns if c in SUMMARY_COLUMNS]
        return self.table[cols].rename(columns={c: SUMMARY_COLUMNS[c][idx] for c in cols})

    def is_published(self, target_id: str) -> bool:
        """True when the target's number is a published actual (a ratio of a completed year)."""
        t = self.plan[target_id]
        return t.kind == "ratio" and bool(self.results[target_id].details.get("complete"))

    def value_label(self, target_id: str) -> str:
        """What the target's number is: ``年末预测``, ``全年预测``, ``2023年（已公布）``."""
        t = self.plan[target_id]
        if t.kind == "ratio":
            key = "published" if self.is_published(target_id) else "estimated"
            return VALUE_LABEL[key][0].format(year=t.reference_year)
        if t.kind == "growth_rate":
            return VALUE_LABEL["full_year"][0]
        return VALUE_LABEL["year_end"][0]

    def summary_text(self) -> str:
        """The terminal's summary: one line per target, every number written by
        ``formatting`` as the status table writes it (``510 家``, ``11.5%``, ``145.6 亿元``)."""
        lines = [f"{self.plan.district_zh} {self.plan.year} 年目标评估，数据截至 {self.as_of_label}"
                 + ("（模拟数据 synthetic sample）" if self.synthetic else "")]  # fmt: skip
        if self.is_scenario:
            lines.append(f"  {self.scenario_text()}")
        for row in self.table.itertuples(index=False):
            unit = row.unit
            pad = " " * max(1, 26 - round(display_width(row.name_zh)))  # CJK is two columns
            goal = f"  {row.name_zh}{pad}目标 {format_target(row.comparator, row.target, unit)}  "
            if pd.isna(row.point) or row.target_id not in self.results:
                lines.append(f"{goal}{row.status_zh}")
                continue
            value = f"{self.value_label(row.target_id)} {format_value(row.point, unit)}"
            if self.is_published(row.target_id):
                lines.append(f"{goal}{value}  {row.status_zh}")
                continue
            band = f"{format_value(row.lower, unit, with_unit=False)}–{format_value(row.upper, unit)}"
            lines.append(f"{goal}{value}（80%: {band}）  "
                         f"完成概率 {format_probability(row.p_meet)}  {row.status_zh}")  # fmt: skip
        return "\n".join(lines)

    def warnings(self) -> list[str]:
        """One line per target with a 数据提示 (data note), for the terminal."""
        return [f"数据提示 data note: {row.name_zh}（{row.status_zh}）：{row.data_note}"
                for row in self.table.itertuples(index=False) if row.data_note]  # fmt: skip

    def write(self, reports_dir: str | Path) -> Path:
        """Write ``forecast_summary.csv`` (UTF-8 with BOM for Excel, formula text neutralised)."""
        target = Path(reports_dir) / "forecast_summary.csv"
        with atomic_path(target) as tmp:
            neutralize_formulas(self.labelled_table("zh")).to_csv(
                tmp, index=False, encoding="utf-8-sig"
            )
        return target
