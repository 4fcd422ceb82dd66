"""Plain-Chinese words for leaders, computed from an evaluation.

Charts, the status table, the workbook and the Word document take a target's headline number,
the label of that number and the sentence on what the rest of the year must deliver from
here, so they cannot disagree. Method names (English) stay in the appendix and the notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .forecast.evaluation import Evaluation
from .forecast.result import AT_RISK_THRESHOLD, ON_TRACK_THRESHOLD
from .formatting import format_points, format_probability, format_target, format_value
from .labels import (
    CANDIDATE_COLUMNS,
    CHART_TEXT,
    PIPELINE_TALLY,
    STATUS,
    SUMMARY_COLUMNS,
)
from .target_types import resolve, source_of, target_type


def _row(evaluation: Evaluation, target_id: str) -> pd.Series:
    rows = evaluation.table.loc[evaluation.table["target_id"] == target_id]
    if rows.empty:
        raise KeyError(f"target {target_id!r} is not in the evaluation (评估表中没有该目标)")
    return rows.iloc[0]


def headline_point(evaluation: Evaluation, target_id: str) -> float:
    """The one number shown for a target everywhere: the status table's ``point``."""
    return float(_row(evaluation, target_id)["point"])


def is_published(evaluation: Evaluation, target_id: str) -> bool:
    """True when the headline number is a published actual (a ratio of a completed year)."""
    return evaluation.is_published(target_id)


def value_label(evaluation: Evaluation, target_id: str) -> str:
    """What the headline number is: ``年末预测``, ``全年预测``, ``2023年（已公布）``."""
    return evaluation.value_label(target_id)


def months_elapsed(evaluation: Evaluation, target_id: str | None = None) -> int:
    """Months of the plan year observed (the model's count where it reports one)."""
    if target_id is not None:
        m = evaluation.results[target_id].details.get("months_elapsed")
        if m is not None:
            return int(m)
    as_of, year = evaluation.as_of, evaluation.plan.year
    return as_of.month if as_of.year == year else (12 if as_of.year > year else 0)


@dataclass(frozen=True)
class PipelineTally:
    """A pipeline target in whole units: recognised + expected + gap = target (when short)."""

    achieved: int
    expected: int
    gap: int
    target: float
    p_meet: float
    pending: int
    unit: str


def pipeline_tally(evaluation: Evaluation, target_id: str) -> PipelineTally:
    """已认定 / 预计可认定 (expected successes of pending candidates, rounded) / 缺口."""
    t = evaluation.plan[target_id]
    res = evaluation.results[target_id]
    achieved = int(round(float(res.details.get("achieved", res.actual_to_date or 0))))
    expected = int(round(float(res.details.get("expected_successes", 0.0))))
    gap = int(max(np.ceil(t.threshold - achieved - expected), 0))
    p = float(res.p_meet) if res.p_meet is not None else float("nan")
    return PipelineTally(achieved, expected, gap, t.value, p,
                         int(res.details.get("pending", 0)), t.unit)  # fmt: skip


def tally_text(evaluation: Evaluation, target_id: str) -> str:
    """``目标 10 家：已认定 7 家 · 预计可认定 6 家 · 缺口 0 家 · 完成概率 99%``"""
    t = evaluation.plan[target_id]
    tally = pipeline_tally(evaluation, target_id)
    parts = [f"{PIPELINE_TALLY[k][0]} {format_value(getattr(tally, k), t.unit)}"
             for k in ("achieved", "expected", "gap")]  # fmt: skip
    parts.append(f"{PIPELINE_TALLY['probability'][0]} {format_probability(tally.p_meet)}")
    return f"目标 {t.value:g} {t.unit}：" + " · ".join(parts)


def delivery_sentence(evaluation: Evaluation, target_id: str) -> str:
    """One sentence on what the rest of the year must deliver, in the target's unit and against
    the same months of past years where the data allow, e.g.
    ``剩余3个月需月均完成 584 项（共 1,753 项），为往年同期月均的 1.15 倍。``

    The words are the target type's (``target_types``: the source's ``delivery``, else the
    type's), so a new type brings its own sentence without a change here."""
    t = evaluation.plan[target_id]
    words = source_of(t).delivery or target_type(t.kind).delivery
    return resolve(words)(evaluation, target_id)


def _full_year_text(evaluation: Evaluation, target_id: str) -> str | None:
    """``全年数据已齐：…`` once no month of the plan year is left, else None."""
    if 12 - months_elapsed(evaluation, target_id) > 0:
        return None
    t = evaluation.plan[target_id]
    return f"全年数据已齐：{format_value(headline_point(evaluation, target_id), t.unit)}（{_target_words(t)}）。"


def _settled_text(evaluation: Evaluation, target_id: str) -> str | None:
    """The sentence of a year-to-date target with nothing left to work out (the year is over,
    the actual is missing, or the target is reached), else None."""
    full_year = _full_year_text(evaluation, target_id)
    if full_year is not None:
        return full_year
    t, actual = evaluation.plan[target_id], evaluation.results[target_id].actual_to_date
    if actual is None or not np.isfinite(actual):
        return "年内完成数据不足，无法推算剩余月份所需进度。"
    if t.threshold - float(actual) <= 0:
        return f"年内已完成 {format_value(actual, t.unit)}，已达到目标（{_target_words(t)}）。"
    return None


def run_rate_delivery(evaluation: Evaluation, target_id: str) -> str:
    """A year-to-date count or value: the monthly rate still needed against the same months of
    past years (``剩余3个月需月均登记 584 项（共 1,753 项），为往年同期月均的 1.15 倍。``); the
    verb is the source's ``delivery_verb``."""
    settled = _settled_text(evaluation, target_id)
    if settled is not None:
        return settled
    t, res = evaluation.plan[target_id], evaluation.results[target_id]
    rest = 12 - months_elapsed(evaluation, target_id)
    need = t.threshold - float(res.actual_to_date)
    verb = source_of(t).delivery_verb[0]
    text = f"剩余{rest}个月需月均{verb} {format_value(need / rest, t.unit)}（共 {format_value(need, t.unit)}）"
    past = res.details.get("past_remaining_mean")
    if past is not None and np.isfinite(past) and past > 0:
        text += f"，为往年同期月均的 {need / float(past):.2f} 倍"
    else:
        text += "；往年同期数据不足，无法比较"
    return text + "。"


def certificate_delivery(evaluation: Evaluation, target_id: str) -> str:
    """Valid certificates at year end: what must still be added, the certificates expiring this
    year and how many the past renewal rate would keep, and the expected new ones."""
    settled = _settled_text(evaluation, target_id)
    if settled is not None:
        return settled
    t, d = evaluation.plan[target_id], evaluation.results[target_id].details
    need = t.threshold - float(evaluation.results[target_id].actual_to_date)
    expiring = int(d.get("expiring_not_renewed", 0))
    rate = float(d.get("renewal_rate_mean", float("nan")))
    new = float(d.get("expected_new_remaining", float("nan")))
    text = f"年末前还需新增或重新认定 {format_value(need, t.unit)}"
    if expiring and np.isfinite(rate):
        text += (f"；今年到期尚未重新认定 {format_value(expiring, t.unit)}，按往年重新认定率 "
                 f"{format_probability(rate)} 约可续 {format_value(expiring * rate, t.unit)}")  # fmt: skip
    if np.isfinite(new):
        text += f"，另预计新认定约 {format_value(new, t.unit)}"
    return text + "。"


def growth_delivery(evaluation: Evaluation, target_id: str) -> str:
    """A cumulative growth rate: the growth the remaining months need, and how the same months
    of past years compared with their first months (percentage points)."""
    full_year = _full_year_text(evaluation, target_id)
    if full_year is not None:
        return full_year
    t, res = evaluation.plan[target_id], evaluation.results[target_id]
    m = months_elapsed(evaluation, target_id)
    rest = 12 - m
    need = res.details.get("required_rest_of_year_growth_pct")
    so_far = format_value(res.actual_to_date, t.unit)
    if need is None:
        return f"1–{m}月累计增长 {so_far}；往年同期数据不足，无法推算剩余月份所需增速。"
    text = f"剩余{rest}个月需同比增长 {format_value(need, t.unit)}，全年方可达到目标（1–{m}月累计增长 {so_far}）"
    dev = res.details.get("mean_rest_minus_ytd_pp")
    if dev is not None and np.isfinite(dev):
        text += f"；往年后{rest}个月比前{m}个月平均{'高' if dev >= 0 else '低'} {format_points(dev, signed=False)}"
    return text + "。"


def reference_year_delivery(evaluation: Evaluation, target_id: str) -> str:
    """A ratio of a reference year: the published value against the target, or the estimate
    and its probability while the year's data are incomplete."""
    t = evaluation.plan[target_id]
    point = headline_point(evaluation, target_id)
    if is_published(evaluation, target_id):
        verdict = "已达到" if t.is_met(point) else "未达到"
        return (f"{t.reference_year}年数据已公布：{format_value(point, t.unit)}，"
                f"{verdict}目标（{_target_words(t)}）。")  # fmt: skip
    return (f"{t.reference_year}年数据尚未齐全，按往年走势推算约 {format_value(point, t.unit)}，"
            f"达到目标（{_target_words(t)}）的概率为 {format_probability(evaluation.results[target_id].p_meet)}。")  # fmt: skip


def pipeline_delivery(evaluation: Evaluation, target_id: str) -> str:
    """A pipeline count: recognised so far, still needed, and whether the pending candidates
    are expected to make up the difference (``pipeline_tally``)."""
    t = evaluation.plan[target_id]
    tally = pipeline_tally(evaluation, target_id)
    if tally.achieved >= t.threshold:
        return f"已认定 {format_value(tally.achieved, t.unit)}，已达到目标（{_target_words(t)}）。"
    need = int(np.ceil(t.threshold - tally.achieved))
    text = (f"已认定 {format_value(tally.achieved, t.unit)}，还需 {format_value(need, t.unit)}；"
            f"在推进的 {tally.pending} 个候选预计可认定约 {format_value(tally.expected, t.unit)}")  # fmt: skip
    if tally.gap > 0:
        return text + f"，缺口约 {format_value(tally.gap, t.unit)}。"
    return text + "，可以补足。"


def _target_words(t) -> str:
    text = f"目标 {format_target(t.comparator, t.value, t.unit)}"
    if t.comparator == "~=" and t.tolerance > 0:
        text += f"，不低于 {format_value(t.threshold, t.unit)} 即达标"
    return text


def candidates_labelled(evaluation: Evaluation, target_id: str) -> pd.DataFrame:
    """A pipeline's named candidates with Chinese headers: name, category, stage, expected and
    recognition dates (``YYYY-MM-DD`` text), responsible unit, probability (``80%``).
    Sorted by stage and expected date; candidates expected after the plan year say so."""
    c = evaluation.candidates.get(target_id)
    if c is None:
        return pd.DataFrame(columns=[v[0] for v in CANDIDATE_COLUMNS.values()])
    out = pd.DataFrame(index=c.index)
    for col in CANDIDATE_COLUMNS:
        s = c[col] if col in c.columns else pd.Series(pd.NA, index=c.index)
        if col.endswith("_date"):
            out[col] = pd.to_datetime(s).dt.strftime("%Y-%m-%d").fillna("—")
        elif col == "probability":
            out[col] = [format_probability(p) for p in s]
        else:
            out[col] = s.astype(object).where(s.notna(), "—").map(str)
    return out.rename(columns={k: v[0] for k, v in CANDIDATE_COLUMNS.items()}).reset_index(
        drop=True
    )


# ---- the status table and notes every document shows ---------------------------------------

# Columns of the evaluation table a leader's status table leaves out: codes, English, the
# interval ends (shown as one "80%预测区间" cell), the method (appendix). Any other column with a
# label in labels.SUMMARY_COLUMNS is shown, so a new column appears without a change here.
INTERNAL_COLUMNS = ("target_id", "name_en", "kind", "comparator", "unit", "lower", "upper",
                    "lower95", "upper95", "status", "status_en", "method", "required_run_rate",
                    "data_note")  # fmt: skip
LEADER_ORDER = ("name_zh", "target", "actual_to_date", "point", "interval80", "p_meet",
                "status_zh", "schedule_share", "baseline_point")  # fmt: skip


def leader_columns(evaluation: Evaluation) -> list[str]:
    """Columns of the leaders' status table: ``LEADER_ORDER``, then other labelled columns."""
    extra = [c for c in evaluation.table.columns
             if c in SUMMARY_COLUMNS and c not in INTERNAL_COLUMNS and c not in LEADER_ORDER]  # fmt: skip
    return [*LEADER_ORDER, *extra]


def _cell_text(value: object) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return "—"
    if isinstance(value, float | np.floating):
        return format_value(value) if np.isfinite(value) else "—"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def status_display_table(evaluation: Evaluation) -> tuple[list[str], list[list[str]], list[str]]:
    """The leaders' status table as text: Chinese headers, rows, status codes (for colours).

    Every number goes through ``formatting.format_value``; the forecast cell names what it is
    when it is not a year-end forecast (``2.81%（2023年（已公布））``)."""
    cols = leader_columns(evaluation)
    headers = [CHART_TEXT["band80"][0] if c == "interval80" else SUMMARY_COLUMNS[c][0] for c in cols]
    rows = []
    for r in evaluation.table.to_dict("records"):
        unit, tid = r["unit"], r["target_id"]
        cells = []
        for c in cols:
            if c == "target":
                text = format_target(r["comparator"], r["target"], unit)
            elif c in ("actual_to_date", "point", "baseline_point"):
                text = format_value(r[c], unit)
                if c == "point" and tid in evaluation.results:
                    label = value_label(evaluation, tid)
                    if label != SUMMARY_COLUMNS["point"][0]:  # 2.81%（2023年已公布）
                        text += f"（{label.replace('（', '').replace('）', '')}）"
            elif c == "interval80":
                text = f"{format_value(r['lower'], unit, with_unit=False)}–{format_value(r['upper'], unit)}"
            elif c == "p_meet" and tid in evaluation.results and is_published(evaluation, tid):
                text = "已公布"
            elif c in ("p_meet", "schedule_share"):
                text = format_probability(r[c])
            else:
                text = _cell_text(r[c])
            cells.append(text)
        rows.append(cells)
    return headers, rows, [str(s) for s in evaluation.table["status"]]


def status_notes(evaluation: Evaluation) -> list[str]:
    """Per row of the status table, the 数据提示 shown under it ("" when there is none)."""
    label = SUMMARY_COLUMNS["data_note"][0]
    notes = evaluation.table["data_note"]
    return [f"{label}：{n}" if isinstance(n, str) and n else "" for n in notes]


def delivery_lines(evaluation: Evaluation) -> list[tuple[str, str]]:
    """(target name, sentence) for every target of the plan that was evaluated."""
    return [(t.name_zh, delivery_sentence(evaluation, t.id))
            for t in evaluation.plan.targets if t.id in evaluation.results]  # fmt: skip


def method_notes(evaluation: Evaluation) -> list[str]:
    """The appendix: how statuses, intervals and 序时进度 are made, and each target's method
    (its English name as the notebooks use it)."""
    st = {k: v[0] for k, v in STATUS.items()}
    notes = [
        f"状态判定 (status)：完成概率 ≥ {ON_TRACK_THRESHOLD:.0%} 为“{st['on_track']}”，"
        f"{AT_RISK_THRESHOLD:.0%}–{ON_TRACK_THRESHOLD:.0%} 为“{st['at_risk']}”，"
        f"低于 {AT_RISK_THRESHOLD:.0%} 为“{st['off_track']}”；年内已达到目标的记为“{st['met']}”。",
        "完成概率与预测区间来自各指标模型的预测分布 (predictive distribution)；扇形图的 50%/80%/95% "
        "色带是年末值的预测区间，从最近一个观测月线性展开到 12 月，仅为示意。",
        "序时进度 (time-elapsed baseline)：年内累计值 × 12 ÷ 已过月数，是惯用的对照，不考虑季节性"
        "（技术合同等指标年底集中登记，序时进度往往低估全年）。序时进度完成率 = 完成目标的比例 ÷ 时间过去的比例。",
        "“为往年同期的 Y 倍”：剩余月份需完成量 ÷ 往年同一段月份的平均完成量。储备项目的“预计可认定”"
        "为各候选按所处阶段的认定概率之和（四舍五入到整数）。",
    ]
    for row in evaluation.table.itertuples(index=False):
        notes.append(f"{row.name_zh} ({row.name_en})：{row.method}")
    return notes


# A 高新技术企业 certificate is valid for three years from its issue date.
CERTIFICATE_YEARS = 3


def watch_list_by_urgency(frame: pd.DataFrame) -> pd.DataFrame:
    """A watch list with the most urgent rows first, real dates and numbers kept.

    Certificates: ``expiry_date`` (issue date + three years) added, earliest expiry first.
    Registrations: earliest registration last year first (they are the longest overdue).
    Other lists keep their order."""
    out = frame.copy()
    if "issue_date" in out.columns:
        issued = pd.to_datetime(out["issue_date"])
        out.insert(out.columns.get_loc("issue_date") + 1, "expiry_date",
                   issued + pd.DateOffset(years=CERTIFICATE_YEARS))  # fmt: skip
        keys = ["expiry_date"] + [c for c in ("park", "enterprise_name") if c in out.columns]
    elif "registration_date" in out.columns:
        keys = ["registration_date"] + [c for c in ("enterprise_name",) if c in out.columns]
    else:
        return out.reset_index(drop=True)
    return out.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True)


__all__ = [
    "PipelineTally",
    "candidates_labelled",
    "certificate_delivery",
    "delivery_lines",
    "delivery_sentence",
    "growth_delivery",
    "leader_columns",
    "method_notes",
    "status_display_table",
    "status_notes",
    "tally_text",
    "headline_point",
    "is_published",
    "months_elapsed",
    "pipeline_delivery",
    "pipeline_tally",
    "reference_year_delivery",
    "run_rate_delivery",
    "value_label",
    "watch_list_by_urgency",
]
