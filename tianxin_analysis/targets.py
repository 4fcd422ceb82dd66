"""The work plan's quantitative targets as data: ``data/raw/targets/<year>.yaml``.

A plan for another year is a new file, not new code. ``load_targets`` validates the file and
raises :class:`TargetsFileError` naming the file, the target and the field on any problem.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from ._fs import read_yaml
from .errors import TargetsFileError
from .paths import TARGETS_DIR

COMPARATORS = (">=", "<=", "~=")
KINDS = ("stock", "flow", "growth_rate", "ratio", "pipeline_count")
_REQUIRED = (
    "id", "name_zh", "name_en", "comparator", "value", "unit", "unit_en",
    "period", "kind", "data_kind", "measure", "clause",
)  # fmt: skip


@dataclass(frozen=True)
class Target:
    """One quantitative target of the plan. ``value`` is in ``unit``."""

    id: str
    name_zh: str
    name_en: str
    comparator: str
    value: float
    unit: str
    unit_en: str
    period: str
    kind: str
    data_kind: str
    measure: str
    clause: str
    tolerance: float = 0.0

    @property
    def reference_year(self) -> int:
        """Calendar year the target is measured in (``"2024-12-31"`` -> 2024)."""
        return int(str(self.period)[:4])

    @property
    def threshold(self) -> float:
        """The value a forecast must reach (``~=`` counts as met from value - tolerance)."""
        if self.comparator == "~=":
            return self.value - self.tolerance
        return self.value

    def is_met(self, x: float) -> bool:
        if self.comparator == "<=":
            return x <= self.value
        return x >= self.threshold


@dataclass(frozen=True)
class TargetChange:
    """One target value replaced for a what-if evaluation (情景测算); ``value`` in ``unit``."""

    id: str
    name_zh: str
    unit: str
    planned: float
    value: float


@dataclass(frozen=True)
class Plan:
    """A plan year's metadata and its targets, in file order.

    ``scenario`` is empty for the plan as issued; :func:`with_target_values` fills it with
    the targets a what-if changed (情景测算), so every output can say so.
    """

    year: int
    district_zh: str
    district_en: str
    district_code: str
    document: str
    title: str
    issued: str
    targets: tuple[Target, ...]
    source_file: str
    scenario: tuple[TargetChange, ...] = ()

    def __getitem__(self, target_id: str) -> Target:
        for t in self.targets:
            if t.id == target_id:
                return t
        raise KeyError(target_id)

    def to_frame(self) -> pd.DataFrame:
        """One row per target, columns as the fields of :class:`Target`."""
        return pd.DataFrame([asdict(t) for t in self.targets])


def targets_path(year: int, targets_dir: str | os.PathLike[str] = TARGETS_DIR) -> Path:
    return Path(targets_dir) / f"{year}.yaml"


def load_targets(source: int | str | os.PathLike[str]) -> Plan:
    """Load and validate a targets file. ``source`` is a plan year or a path."""
    path = targets_path(source) if isinstance(source, int) else Path(source)
    name = str(path)
    doc = read_yaml(
        path, TargetsFileError, ("目标文件", "targets file"), "data/raw/targets/<年份>.yaml"
    )
    if not isinstance(doc, dict) or not isinstance(doc.get("targets"), list):
        raise TargetsFileError(
            "目标文件缺少 targets 列表", "targets file has no 'targets' list", file=name,
            expected="顶层键 plan 与 targets (top-level keys 'plan' and 'targets')",
        )  # fmt: skip
    plan = doc.get("plan") or {}
    if not isinstance(plan, dict) or "year" not in plan:
        raise TargetsFileError(
            "目标文件缺少 plan.year", "targets file has no plan.year", file=name,
            expected="plan: {year: 2024, ...}",
        )  # fmt: skip
    targets = tuple(_parse_target(raw, i, name) for i, raw in enumerate(doc["targets"], 1))
    seen: set[str] = set()
    for t in targets:
        if t.id in seen:
            raise TargetsFileError(
                "目标代码重复", "duplicate target id", file=name, column="id", found=t.id,
                expected="每个 id 只出现一次 (each id once)",
            )  # fmt: skip
        seen.add(t.id)
    return Plan(
        year=int(plan["year"]),
        district_zh=str(plan.get("district_zh", "")),
        district_en=str(plan.get("district_en", "")),
        district_code=str(plan.get("district_code", "")),
        document=str(plan.get("document", "")),
        title=str(plan.get("title", "")),
        issued=str(plan.get("issued", "")),
        targets=targets,
        source_file=path.name,
    )


def _parse_target(raw: object, index: int, file: str) -> Target:
    where = f"targets[{index}]"
    if not isinstance(raw, dict):
        raise TargetsFileError(
            "目标条目不是映射", "target entry is not a mapping", file=file, row=index,
            found=raw, expected="键值对 (key: value pairs)",
        )  # fmt: skip
    tid = raw.get("id", where)
    for field in _REQUIRED:
        if raw.get(field) in (None, ""):
            raise TargetsFileError(
                f"目标 {tid} 缺少字段", f"target {tid} lacks a field", file=file, row=index,
                column=field, expected=f"字段 {field} (field {field})",
            )  # fmt: skip
    if raw["comparator"] not in COMPARATORS:
        raise TargetsFileError(
            f"目标 {tid} 的比较符无效", f"target {tid} has an invalid comparator", file=file,
            row=index, column="comparator", found=raw["comparator"], expected=" / ".join(COMPARATORS),
        )  # fmt: skip
    if raw["kind"] not in KINDS:
        raise TargetsFileError(
            f"目标 {tid} 的类型无效", f"target {tid} has an invalid kind", file=file, row=index,
            column="kind", found=raw["kind"], expected=" / ".join(KINDS),
        )  # fmt: skip
    numbers = {}
    for field in ("value", "tolerance"):
        v = raw.get(field, 0.0)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise TargetsFileError(
                f"目标 {tid} 的数值无效", f"target {tid} has a non-numeric {field}", file=file,
                row=index, column=field, found=v, expected="有限数值 (a finite number)",
            )  # fmt: skip
        numbers[field] = float(v)
    if raw["comparator"] == "~=" and numbers["tolerance"] <= 0:
        raise TargetsFileError(
            f"目标 {tid} 为“左右”但未给容差", f"target {tid} is '~=' without a tolerance",
            file=file, row=index, column="tolerance", found=raw.get("tolerance"),
            expected="正数容差 (a positive tolerance)",
        )  # fmt: skip
    return Target(
        id=str(raw["id"]),
        name_zh=str(raw["name_zh"]),
        name_en=str(raw["name_en"]),
        comparator=str(raw["comparator"]),
        value=numbers["value"],
        unit=str(raw["unit"]),
        unit_en=str(raw["unit_en"]),
        period=str(raw["period"]),
        kind=str(raw["kind"]),
        data_kind=str(raw["data_kind"]),
        measure=str(raw["measure"]),
        clause=str(raw["clause"]),
        tolerance=numbers["tolerance"],
    )


# ---- what-if (情景测算): other target values without editing the plan file -----------------


def _number(value: object) -> float | None:
    """A finite float from a YAML number or a command-line text (``"4800"``, ``"4,800"``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "").replace("，", ""))
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def parse_target_value(text: str) -> tuple[str, float]:
    """``"tech_contracts_count=4800"`` -> ``("tech_contracts_count", 4800.0)``.

    Raises :class:`TargetsFileError` when there is no ``=`` or the value is not a number;
    whether the id exists is checked by :func:`with_target_values` against the plan.
    """
    tid, sep, raw = text.partition("=")
    value = _number(raw)
    if not sep or not tid.strip() or value is None:
        raise TargetsFileError(
            "情景目标应写成 目标代码=数值", "a scenario target is written id=value",
            found=text, expected="例如 e.g. tech_contracts_count=4800",
        )  # fmt: skip
    return tid.strip(), value


def load_target_values(path: str | os.PathLike[str]) -> dict[str, float]:
    """A what-if file: a YAML mapping ``target id: value`` (values in the target's unit).

    Raises :class:`TargetsFileError` naming the file for a missing file, invalid YAML, a
    document that is not a mapping, or a value that is not a finite number.
    """
    name = str(path)
    doc = read_yaml(path, TargetsFileError, ("情景目标文件", "scenario targets file"),
                    "YAML 映射 目标代码: 数值 (a YAML mapping id: value)")  # fmt: skip
    if not isinstance(doc, dict) or not doc:
        raise TargetsFileError(
            "情景目标文件应为非空映射", "scenario targets file must be a non-empty mapping",
            file=name, found=doc, expected="tech_contracts_count: 4800",
        )  # fmt: skip
    values: dict[str, float] = {}
    for tid, raw in doc.items():
        value = _number(raw)
        if value is None:
            raise TargetsFileError(
                f"目标 {tid} 的情景值不是有限数值", f"scenario value of {tid} is not a finite number",
                file=name, column=str(tid), found=raw, expected="有限数值 (a finite number)",
            )  # fmt: skip
        values[str(tid)] = value
    return values


def with_target_values(
    plan: Plan, values: Mapping[str, float], *, source: str | None = None
) -> Plan:
    """``plan`` with some target values replaced, marked as a scenario (``plan.scenario``).

    Ids must be targets of the plan; values must be finite, and not negative except for
    growth-rate targets. Raises :class:`TargetsFileError` naming ``source`` (the what-if
    file; None for the command line) and listing the plan's ids. An empty ``values`` returns ``plan`` unchanged (not a scenario).
    """
    if not values:
        return plan
    ids = [t.id for t in plan.targets]
    changes: dict[str, TargetChange] = {c.id: c for c in plan.scenario}
    targets = list(plan.targets)
    for tid, raw in values.items():
        if tid not in ids:
            raise TargetsFileError(
                "情景目标代码不在计划中", "scenario target id is not in the plan", file=source,
                column=str(tid), found=tid, expected=f"计划 {plan.year} 的目标代码之一 one of: {', '.join(ids)}",
            )  # fmt: skip
        i = ids.index(tid)
        t = targets[i]
        value = _number(raw)
        if value is None or (value < 0 and t.kind != "growth_rate"):
            raise TargetsFileError(
                f"目标 {tid} 的情景值无效", f"scenario value of {tid} is invalid", file=source,
                column=tid, found=raw,
                expected="有限数值，增速以外不为负 (a finite number, not negative except growth rates)",
            )  # fmt: skip
        planned = changes[tid].planned if tid in changes else t.value
        changes[tid] = TargetChange(tid, t.name_zh, t.unit, planned, value)
        targets[i] = replace(t, value=value)
    ordered = tuple(changes[t] for t in ids if t in changes)
    return replace(plan, targets=tuple(targets), scenario=ordered)
