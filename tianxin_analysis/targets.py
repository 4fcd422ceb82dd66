"""The work plan's quantitative targets as data: ``data/raw/targets/<year>.yaml``.

A plan for another year is a new file, not new code. ``load_targets`` validates the file and
raises :class:`TargetsFileError` naming the file, the target and the field on any problem.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from .errors import TargetsFileError
from .io import read_yaml_document
from .paths import TARGETS_DIR
from .target_types import kinds, target_type

COMPARATORS = (">=", "<=", "~=")
# A target's period: a year, or a date in it (year-end stock)
_PERIOD = re.compile(r"(\d{4})(?:-(\d{2})-(\d{2}))?")
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
    # ratio targets: months after the reference year's end by which its statistics are
    # published (None: forecast.models.DEFAULT_RD_PUBLICATION_LAG_MONTHS)
    publication_lag_months: int | None = None

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
    doc = read_yaml_document(
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
    year = plan["year"]
    if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2199:
        raise TargetsFileError(
            "plan.year 不是年份", "plan.year is not a year", file=name, column="plan.year",
            found=year, expected="四位年份 (a four-digit year, e.g. 2024)",
        )  # fmt: skip
    targets = tuple(_parse_target(raw, i, name, year) for i, raw in enumerate(doc["targets"], 1))
    if path.stem.isdigit() and int(path.stem) != year:
        raise TargetsFileError(
            "plan.year 与文件名的年份不一致", "plan.year differs from the year in the file name",
            file=name, column="plan.year", found=year,
            expected=f"{path.stem} (文件 {path.name} 是 {path.stem} 年的计划 the plan of {path.stem})",
        )  # fmt: skip
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


def _parse_target(raw: object, index: int, file: str, plan_year: int) -> Target:
    """The :class:`Target` of entry ``index`` (1-based) of a targets file, each field checked
    in turn (the first problem raised as :class:`TargetsFileError` naming the entry)."""
    entry = _Entry(_mapping(raw, index, file), index, file)
    entry.check_required()
    entry.check_choices()
    numbers = entry.numbers()
    entry.check_source()
    _check_period(entry.raw["period"], entry.tid, index, file, plan_year)
    entry.check_tolerance(numbers["tolerance"])
    target = entry.target(numbers, entry.publication_lag())
    entry.check_type(target)
    return target


def _mapping(raw: object, index: int, file: str) -> dict[str, object]:
    """``raw`` when it is a mapping (a targets-file entry); else the error naming the entry."""
    if not isinstance(raw, dict):
        raise TargetsFileError(
            "目标条目不是映射", "target entry is not a mapping", file=file, row=index,
            found=raw, expected="键值对 (key: value pairs)",
        )  # fmt: skip
    return raw


@dataclass(frozen=True)
class _Entry:
    """One entry of a targets file being parsed: its raw mapping and where it stands."""

    raw: Mapping[str, object]
    index: int
    file: str

    @property
    def tid(self) -> object:
        """The entry's id, or ``targets[<index>]`` when it has none (for messages)."""
        return self.raw.get("id", f"targets[{self.index}]")

    def error(self, zh: str, en: str, column: str, **facts: object) -> TargetsFileError:
        """The error about ``column`` of this entry (``found`` / ``expected`` in ``facts``)."""
        return TargetsFileError(zh, en, file=self.file, row=self.index, column=column, **facts)

    def check_required(self) -> None:
        """Every field of ``_REQUIRED`` is present and not empty."""
        tid = self.tid
        for field in _REQUIRED:
            if self.raw.get(field) in (None, ""):
                raise self.error(f"目标 {tid} 缺少字段", f"target {tid} lacks a field", field,
                                 expected=f"字段 {field} (field {field})")  # fmt: skip

    def check_choices(self) -> None:
        """The comparator is one of ``COMPARATORS`` and the kind a registered target type."""
        tid, raw = self.tid, self.raw
        if raw["comparator"] not in COMPARATORS:
            raise self.error(
                f"目标 {tid} 的比较符无效", f"target {tid} has an invalid comparator", "comparator",
                found=raw["comparator"], expected=" / ".join(COMPARATORS),
            )  # fmt: skip
        if raw["kind"] not in kinds():
            raise self.error(
                f"目标 {tid} 的类型 kind 未登记", f"target {tid} has an unregistered kind", "kind",
                found=raw["kind"],
                expected="已登记的目标类型之一 one of the registered kinds: "
                + " / ".join(f"{k}（{target_type(k).label[0]} {target_type(k).label[1]}）" for k in kinds()),
            )  # fmt: skip

    def numbers(self) -> dict[str, float]:
        """``value`` (positive) and ``tolerance`` (default 0, not negative) as floats."""
        tid, numbers = self.tid, {}
        for field in ("value", "tolerance"):
            v = self.raw.get(field, 0.0)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise self.error(
                    f"目标 {tid} 的数值无效", f"target {tid} has a non-numeric {field}", field,
                    found=v, expected="有限数值 (a finite number)",
                )  # fmt: skip
            numbers[field] = float(v)
        if numbers["value"] <= 0 or numbers["tolerance"] < 0:
            field = "value" if numbers["value"] <= 0 else "tolerance"
            raise self.error(
                f"目标 {tid} 的数值应为正数", f"target {tid} has a {field} that is not positive",
                field, found=self.raw.get(field), expected="正数 (a positive number)",
            )  # fmt: skip
        return numbers

    def check_source(self) -> None:
        """The type measures the target from its ``data_kind`` by its ``measure``: a mistyped
        measure or a kind measured from the wrong table is refused when the file is read, not
        mid-forecast."""
        tid, raw = self.tid, self.raw
        problem = target_type(str(raw["kind"])).source_problem(raw["data_kind"], raw["measure"])
        if problem is not None:
            column, expected = problem
            raise self.error(
                f"目标 {tid} 的 {column} 无效", f"target {tid} has an unknown {column}", column,
                found=raw[column], expected=expected,
            )  # fmt: skip

    def check_tolerance(self, tolerance: float) -> None:
        """A ``~=`` target ("about") has a positive tolerance."""
        tid = self.tid
        if self.raw["comparator"] == "~=" and tolerance <= 0:
            raise self.error(
                f"目标 {tid} 为“左右”但未给容差", f"target {tid} is '~=' without a tolerance",
                "tolerance", found=self.raw.get("tolerance"), expected="正数容差 (a positive tolerance)",
            )  # fmt: skip

    def publication_lag(self) -> int | None:
        """``publication_lag_months``: absent, or whole months 0-36."""
        lag = self.raw.get("publication_lag_months")
        if lag is not None and (
            isinstance(lag, bool) or not isinstance(lag, int) or not 0 <= lag <= 36
        ):
            tid = self.tid
            raise self.error(
                f"目标 {tid} 的发布滞后月数无效", f"target {tid} has an invalid publication_lag_months",
                "publication_lag_months", found=lag, expected="0-36 的整数月数 (whole months, 0-36)",
            )  # fmt: skip
        return lag

    def target(self, numbers: Mapping[str, float], lag: int | None) -> Target:
        """The checked entry as a :class:`Target`."""
        raw = self.raw
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
            publication_lag_months=lag,
        )

    def check_type(self, target: Target) -> None:
        """The target type's own check of the parsed target (``TargetType.check``)."""
        check = target_type(target.kind).check
        problem = check(target) if check is not None else None
        if problem is not None:
            zh, en, column, expected = problem
            tid = self.tid
            raise self.error(f"目标 {tid}：{zh}", f"target {tid}: {en}", column,
                             found=self.raw.get(column), expected=expected)  # fmt: skip


def _check_period(period: object, tid: str, index: int, file: str, plan_year: int) -> None:
    """A period is ``YYYY`` or a valid ``YYYY-MM-DD`` within the two years up to the plan's
    (a ratio published with a lag refers to an earlier year)."""
    m = _PERIOD.fullmatch(str(period).strip())
    valid = m is not None
    if m and m.group(2):
        try:
            dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            valid = False
    if not valid or not plan_year - 2 <= int(m.group(1)) <= plan_year:
        raise TargetsFileError(
            f"目标 {tid} 的期间无效", f"target {tid} has an invalid period", file=file,
            row=index, column="period", found=period,
            expected=f"{plan_year} 或 {plan_year}-12-31 (或前两年，滞后公布的比率) "
            f"({plan_year}, {plan_year}-12-31, or up to two years earlier)",
        )  # fmt: skip


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
    doc = read_yaml_document(path, TargetsFileError, ("情景目标文件", "scenario targets file"),
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
        if value is None or (value < 0 and not target_type(t.kind).signed):
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


def check_as_of(plan: Plan, as_of: str | pd.Period) -> pd.Period:
    """The as-of month of an evaluation of ``plan``, refused (with a message, not a
    traceback deep in a model) when it lies before the plan's year: data up to 1999-01
    says nothing about the 2024 targets."""
    month = pd.Period(as_of, "M")
    if month.year < plan.year:
        raise TargetsFileError(
            "数据截至月份早于计划年度", "as-of month lies before the plan year",
            file=plan.source_file, column="--as-of", found=str(month),
            expected=f"{plan.year}-01 或之后 (or later); 其他年度的计划请用 --year (another "
            "plan year: pass --year)",
        )  # fmt: skip
    return month
