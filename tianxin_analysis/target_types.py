"""Target types: what a targets file's ``kind`` means, declared once per type.

A target type is one :class:`TargetType` passed to :func:`register_target_type`. It says, for
each kind of processed data a target of the type can be measured from (the file's
``data_kind``), which tables and measures it reads and which model forecasts it; which chart
draws it; its zh/en labels; and any check of its own on a targets-file entry. ``targets``
validates a file against the registry, ``forecast.evaluate`` runs the model, ``charts`` draws
the chart and ``scale`` names the region model: none of them branches on a kind's name.

Adding a type is one registration (see the built-in types at the end of this module, and
docs/data-contract.md). Models and charts live in layers above this one, so a declaration
names them as ``"module:function"`` (resolved with :func:`pkgutil.resolve_name` by the layer
that calls them); a type declared in a notebook or a test may pass the function itself.

* a **model** is ``model(target, load, context) -> forecast.target_models.ModelOutput``:
  ``load(table)`` returns a processed table, ``context`` carries the plan year, as-of month,
  seed and stage probabilities (:class:`tianxin_analysis.forecast.target_models.ModelContext`);
* a **chart** is ``chart(evaluation, target_id, *, size) -> Figure``; its file stem is the
  function's name without ``_chart`` (``fan_chart`` -> ``fan_<id>_<size>.png``);
* a **delivery** is ``delivery(evaluation, target_id) -> str``: the plain-Chinese sentence on
  what the rest of the year must deliver (``narrative.delivery_sentence`` calls the source's,
  else the type's).
"""

from __future__ import annotations

import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .data.kinds import PIPELINES
from .errors import TianxinError
from .labels import CHART_TEXT, DELIVERY_VERB, TARGET_KIND, VALUE_AXIS

if TYPE_CHECKING:
    from .targets import Target

# A model or chart: the function itself, or its ``"module:function"`` name.
Ref = str | Callable[..., Any]
# A check of one target: None when it is fine, else (zh, en, column, expected).
Problem = tuple[str, str, str, str]

FAN_CHART = "tianxin_analysis.charts:fan_chart"
_NARRATIVE = "tianxin_analysis.narrative"
RUN_RATE_DELIVERY = f"{_NARRATIVE}:run_rate_delivery"
SCHEDULES = ("from_zero", "from_last_year")


class UnknownTargetTypeError(TianxinError):
    """A target whose ``kind`` (or ``kind`` / ``data_kind`` pair) no registered type handles."""


@dataclass(frozen=True)
class Source:
    """How a target type is measured from one kind of processed data (``data_kind``).

    ``tables``: the processed tables the model reads. ``measures``: the values the targets
    file's ``measure`` may take. ``model``: the forecast (module docstring). ``accumulates``:
    progress adds up through the year towards the target (a year-to-date count), so reaching
    the target early means 已完成 and 序时进度 applies. ``region_model``: the model that
    forecasts the same quantity from one region's series (None: none), a name of
    ``scale.MODELS`` or a region model as ``"module:function"`` (``scale.RegionContext``).
    ``baseline_label`` / ``actual_label``: zh/en names of the baseline and of the actual so
    far on charts. ``delivery``: this source's sentence on the rest of the year, in place of
    the type's (None: the type's). ``delivery_verb``: zh/en of what a month delivers in it.
    """

    tables: tuple[str, ...]
    measures: tuple[str, ...]
    model: Ref
    accumulates: bool = False
    region_model: Ref | None = None
    baseline_label: tuple[str, str] = CHART_TEXT["naive"]
    actual_label: tuple[str, str] = CHART_TEXT["actual"]
    delivery: Ref | None = None
    delivery_verb: tuple[str, str] = DELIVERY_VERB["complete"]


@dataclass(frozen=True)
class TargetType:
    """One kind of target (the targets file's ``kind``).

    ``label``: zh/en name. ``sources``: ``data_kind`` -> :class:`Source`. ``chart``: the
    chart of one target (module docstring). ``axis_label`` / ``year_end_axis_label``: zh/en
    name of the value axis on a monthly path and on a year-end strip. ``schedule``: the
    序时进度 line on a path chart — ``"from_zero"`` (a flow: from nothing on 1 January, the
    month axis starts at 0), ``"from_last_year"`` (a stock: from last December's level) or
    None. ``signed``: values may be negative (a what-if growth rate below zero).
    ``check``: extra validation of a parsed target, returning None or a
    :data:`Problem` the targets file reports with its file and row. ``delivery``: the
    sentence on what the rest of the year must deliver (module docstring).
    """

    kind: str
    label: tuple[str, str]
    sources: Mapping[str, Source]
    chart: Ref = FAN_CHART
    axis_label: tuple[str, str] = VALUE_AXIS["cumulative"]
    year_end_axis_label: tuple[str, str] = VALUE_AXIS["year_end"]
    schedule: str | None = None
    signed: bool = False
    check: Callable[[Target], Problem | None] | None = field(default=None, compare=False)
    delivery: Ref = RUN_RATE_DELIVERY

    def __post_init__(self) -> None:
        if not self.kind or not self.sources:
            raise ValueError(f"a target type needs a kind and at least one source: {self!r}")
        if self.schedule is not None and self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES} or None, got {self.schedule!r}")
        deliveries = [s.delivery for s in self.sources.values() if s.delivery is not None]
        for ref in (self.chart, self.delivery, *deliveries, *(s.model for s in self.sources.values())):
            if not callable(ref) and ":" not in str(ref):
                raise ValueError(f"{ref!r} is neither a function nor a 'module:function' name")

    def source_problem(self, data_kind: object, measure: object) -> tuple[str, str] | None:
        """None when a target of this type can be measured from ``data_kind`` by ``measure``;
        else the targets-file column at fault (``"data_kind"`` or ``"measure"``) and what it
        should be."""
        source = self.sources.get(data_kind) if isinstance(data_kind, str) else None
        if source is None:
            return "data_kind", " / ".join(f"{self.kind}: {d}" for d in self.sources)
        if measure not in source.measures:
            return "measure", " / ".join(source.measures)
        return None


_REGISTRY: dict[str, TargetType] = {}
# Read-only view of the registered types, by kind, in registration order.
TARGET_TYPES: Mapping[str, TargetType] = MappingProxyType(_REGISTRY)


def register_target_type(target_type: TargetType, *, replace: bool = False) -> TargetType:
    """Add ``target_type`` to the registry (``replace``: over a type of the same kind)."""
    if target_type.kind in _REGISTRY and not replace:
        raise ValueError(f"target type {target_type.kind!r} is already registered")
    _REGISTRY[target_type.kind] = target_type
    return target_type


def unregister_target_type(kind: str) -> None:
    """Remove a registered type (a notebook's or a test's own; built-ins stay put normally)."""
    _REGISTRY.pop(kind, None)


def kinds() -> tuple[str, ...]:
    """The registered kinds, in registration order."""
    return tuple(_REGISTRY)


def target_type(kind: str) -> TargetType:
    """The type registered for ``kind``; :class:`UnknownTargetTypeError` listing the known ones."""
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise UnknownTargetTypeError(
            f"未登记的目标类型 {kind!r}，已登记 registered: {' / '.join(kinds())} "
            f"(unknown target kind {kind!r})"
        ) from None


def source_of(target: Target) -> Source:
    """The :class:`Source` of ``target`` (its ``kind`` and ``data_kind``)."""
    tt = target_type(target.kind)
    try:
        return tt.sources[target.data_kind]
    except KeyError:
        raise UnknownTargetTypeError(
            f"目标 {target.id} 的类型 {target.kind} 不能由 {target.data_kind!r} 测算，"
            f"可用 data_kind: {' / '.join(tt.sources)} "
            f"(target type {target.kind} is not measured from {target.data_kind!r})"
        ) from None


def resolve(ref: Ref) -> Callable[..., Any]:
    """The function ``ref`` names (``"module:function"``), or ``ref`` itself if callable;
    :class:`UnknownTargetTypeError` when the name leads nowhere."""
    if callable(ref):
        return ref
    try:
        return pkgutil.resolve_name(ref)
    except (ImportError, AttributeError, ValueError) as exc:
        raise UnknownTargetTypeError(
            f"目标类型登记的函数 {ref!r} 找不到 (the function a target type names cannot be "
            f"found): {exc}"
        ) from None


# ---- built-in types ----------------------------------------------------------------------------

_MODELS = "tianxin_analysis.forecast.target_models"


def _whole_number(target: Target) -> Problem | None:
    """A count of candidates is a whole number (8 名, not 7.5)."""
    if float(target.value).is_integer():
        return None
    return ("计数目标应为整数", "a count target is a whole number", "value", "整数 (whole number)")


register_target_type(TargetType(
    kind="stock",
    label=TARGET_KIND["stock"],
    sources={
        "hitech_certificates": Source(
            ("hitech_certificates",), ("valid_enterprises",), f"{_MODELS}:hitech_certificates",
            region_model="annual", baseline_label=CHART_TEXT["baseline_stock"],
            actual_label=CHART_TEXT["actual_stock"], delivery=f"{_NARRATIVE}:certificate_delivery"),
        "tech_sme_registrations": Source(
            ("tech_sme_registrations",), ("registered_enterprises",),
            f"{_MODELS}:sme_registrations", accumulates=True, region_model="ytd",
            baseline_label=CHART_TEXT["baseline"], delivery_verb=DELIVERY_VERB["newly_registered"]),
    },
    schedule="from_last_year",
))  # fmt: skip
register_target_type(TargetType(
    kind="flow",
    label=TARGET_KIND["flow"],
    sources={
        "tech_contracts": Source(
            ("tech_contracts",), ("contracts", "value_yi", "value_wan"),
            f"{_MODELS}:tech_contracts", accumulates=True, region_model="ytd",
            baseline_label=CHART_TEXT["baseline"], delivery_verb=DELIVERY_VERB["register"]),
    },
    schedule="from_zero",
))  # fmt: skip
register_target_type(TargetType(
    kind="growth_rate",
    label=TARGET_KIND["growth_rate"],
    sources={
        "hitech_value_added": Source(
            ("hitech_value_added",), ("growth_cum_pct",), f"{_MODELS}:value_added_growth",
            region_model="growth", baseline_label=CHART_TEXT["baseline_growth"]),
    },
    axis_label=VALUE_AXIS["growth"],
    year_end_axis_label=VALUE_AXIS["growth"],
    signed=True,
    delivery=f"{_NARRATIVE}:growth_delivery",
))  # fmt: skip
register_target_type(TargetType(
    kind="ratio",
    label=TARGET_KIND["ratio"],
    sources={
        "rd_expenditure": Source(
            ("rd_expenditure", "district_gdp"), ("rd_intensity_pct",), f"{_MODELS}:rd_intensity",
            region_model="annual"),
    },
    axis_label=VALUE_AXIS["ratio"],
    year_end_axis_label=VALUE_AXIS["ratio"],
    delivery=f"{_NARRATIVE}:reference_year_delivery",
))  # fmt: skip
register_target_type(TargetType(
    kind="pipeline_count",
    label=TARGET_KIND["pipeline_count"],
    sources={
        "pipelines": Source(("pipelines",), tuple(PIPELINES), f"{_MODELS}:pipeline",
                            accumulates=True),
    },
    chart="tianxin_analysis.charts:pipeline_chart",
    check=_whole_number,
    delivery=f"{_NARRATIVE}:pipeline_delivery",
))  # fmt: skip
