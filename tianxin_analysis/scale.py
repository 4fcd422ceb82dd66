"""Forecasts for many regions at once: one region's frame in, one row per target out.

The per-region forecast is embarrassingly parallel, so the unit of work is a function with the
shape distributed engines want (``docs/scale.md``)::

    forecast_region_frame(pdf, *, year, as_of_month, targets=DEFAULT_TARGETS) -> pd.DataFrame

``pdf`` is one region's **long** frame, columns

* ``measure`` (str) — which series the row belongs to (see :data:`DEFAULT_TARGETS`);
* ``year`` (int), ``month`` (int, 1..12) — monthly measures hold the month's **flow** (not
  cumulative; a month reported together with the next, e.g. "1-2月", is NaN or absent); annual
  measures hold one row per year with ``month`` = 12 (the year-end value or the year's ratio);
* ``value`` (float) — in the measure's unit (contracts 项, values 亿元, counts 家, ratios %);
* ``target`` (float, optional) — the region's target for that measure (the same on every row of
  the measure; NaN or absent = no target, so ``p_meet`` is missing);
* ``region`` (str, optional) — carried through to the output.

The output has one row per target with scalar columns only (:data:`OUTPUT_COLUMNS`): what
Spark's ``groupBy().applyInPandas``, Dask's ``groupby().apply`` and :func:`forecast_regions`
(the local, process-pool version with a progress bar) need. Draws are not kept, so memory stays
bounded however many regions stream through.

Models are the forecast layer's public functions: ``ytd`` = ``forecast.ytd.year_end_from_ytd``
on the monthly flows; ``ytd_growth`` = the same on a flow whose target is a growth rate (% on
last year's total: point, interval and p_meet are exact monotone transforms of the year-end
total's); ``growth`` = ``forecast.models.growth_full_year`` on cumulative value added
(``measure`` rows, 亿元) and cumulative growth (``growth_measure`` rows, %), months 2..12 as the
statistical report gives them; ``annual`` = ``forecast.annual.annual`` on the yearly series up to ``year - 1``.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ._workers import process_pool
from .errors import InputFileError, TianxinError
from .forecast import models
from .forecast.annual import annual
from .forecast.models import growth_full_year
from .forecast.result import ForecastResult
from .forecast.ytd import year_end_from_ytd
from .paths import TARGETS_DIR
from .target_types import Ref, UnknownTargetTypeError, resolve, source_of
from .targets import Plan, Target, load_targets

__all__ = [
    "DEFAULT_TARGETS",
    "ENGINES",
    "LONG_COLUMNS",
    "MODELS",
    "OUTPUT_COLUMNS",
    "REGIONS_PER_BLOCK",
    "SPARK_SCHEMA",
    "EngineUnavailableError",
    "RegionContext",
    "RegionTarget",
    "annual_region",
    "forecast_all_regions",
    "forecast_region_frame",
    "forecast_regions",
    "growth_region",
    "output_meta",
    "region_blocks",
    "region_frames",
    "region_function",
    "region_row",
    "spark_session",
    "synthetic_region_frames",
    "ytd_growth_region",
    "ytd_region",
]

# Region models by the short name a target type (``target_types.Source.region_model``) or a
# ``RegionTarget`` may give; any other model is a ``"module:function"`` name or the function
# itself, so a new target type brings its region model without an edit here.
MODELS: Mapping[str, str] = MappingProxyType({
    "ytd": f"{__name__}:ytd_region",
    "ytd_growth": f"{__name__}:ytd_growth_region",
    "growth": f"{__name__}:growth_region",
    "annual": f"{__name__}:annual_region",
})  # fmt: skip
# A region model: ``model(rows, context) -> dict`` (see :class:`RegionContext`).
RegionModel = Callable[[pd.DataFrame, "RegionContext"], dict]


@functools.cache
def _model_function(model: Ref) -> RegionModel:
    try:
        return resolve(MODELS.get(model, model) if isinstance(model, str) else model)
    except UnknownTargetTypeError:
        raise ValueError(
            f"model must be one of {tuple(MODELS)} or a 'module:function' name, got {model!r}"
        ) from None


@dataclass(frozen=True)
class RegionTarget:
    """One target forecast for every region: ``id`` (output), ``measure`` (input rows),
    ``model`` (a name of :data:`MODELS`, a ``"module:function"`` name or a region model
    itself, see :class:`RegionContext`), ``comparator`` (">=", "<=", "~=") and ``tolerance``.
    The ``growth`` model also reads the cumulative growth rows of ``growth_measure`` (a model
    lists the fields it needs in its ``requires`` attribute)."""

    id: str
    measure: str
    model: Ref
    comparator: str = ">="
    tolerance: float = 0.0
    growth_measure: str | None = None

    def __post_init__(self) -> None:
        for name in getattr(self.function, "requires", ()):
            if not getattr(self, name):
                raise ValueError(f"the {self.label} model needs {name} ({self.id})")

    @property
    def function(self) -> RegionModel:
        """The region model ``model`` names (``ValueError`` when it names none)."""
        return _model_function(self.model)

    @property
    def label(self) -> str:
        """The output's ``model``: the function's name without ``_region`` (``ytd``)."""
        return self.function.__name__.removesuffix("_region")

    @classmethod
    def for_target(
        cls, target: Target, measure: str, growth_measure: str | None = None
    ) -> RegionTarget:
        """A plan target forecast for every region: the model is the one its target type
        names for its ``data_kind``; ``measure`` (and ``growth_measure``) name the region
        frame's rows. ``ValueError`` when the type has no region model."""
        model = source_of(target).region_model
        if model is None:
            raise ValueError(
                f"目标类型 {target.kind} / {target.data_kind} 没有区域模型 "
                f"(target type has no region model) ({target.id})"
            )
        return cls(target.id, measure, model, target.comparator, target.tolerance, growth_measure)


@dataclass(frozen=True)
class RegionContext:
    """What a region model gets beside its measure's rows (``rows``: the region frame's rows
    of ``spec.measure``, never empty): the :class:`RegionTarget` ``spec``, the forecast
    ``year`` and ``as_of_month``, the region's ``target`` for the measure (None: none) and
    ``measures``, every measure's rows of the region by name (``growth`` reads
    ``spec.growth_measure``'s). A model returns :func:`region_row`'s dict, which it may
    adjust; the caller adds the region, target id, model, year, as-of month and target."""

    spec: RegionTarget
    year: int
    as_of_month: int
    target: float | None
    measures: Mapping[str, pd.DataFrame]


# Output columns and their dtypes (Spark schema and Dask meta are derived from this).
_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("region", "str", "string"),
    ("target_id", "str", "string"),
    ("model", "str", "string"),
    ("year", "int64", "long"),
    ("as_of_month", "int64", "long"),
    ("target", "float64", "double"),
    ("actual_to_date", "float64", "double"),
    ("point", "float64", "double"),
    ("lower", "float64", "double"),
    ("upper", "float64", "double"),
    ("lower95", "float64", "double"),
    ("upper95", "float64", "double"),
    ("p_meet", "float64", "double"),
    ("status", "str", "string"),
    ("baseline_point", "float64", "double"),
    ("n_obs", "int64", "long"),
    ("method", "str", "string"),
)
OUTPUT_COLUMNS: tuple[str, ...] = tuple(c[0] for c in _COLUMNS)
# ``schema=`` argument of Spark's applyInPandas.
SPARK_SCHEMA = ", ".join(f"{name} {spark}" for name, _, spark in _COLUMNS)
_REQUIRED_INPUT = ("measure", "year", "month", "value")


def output_meta() -> pd.DataFrame:
    """An empty frame with the output columns and dtypes (Dask's ``meta=``)."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype, _ in _COLUMNS})


def _opt(x: float | None) -> float:
    return np.nan if x is None else float(x)


def region_row(result: ForecastResult | None, n_obs: int = 0) -> dict[str, object]:
    """The forecast columns of one output row from a model's ``result`` and the number of
    observations it used; ``None`` (no data) gives status "unknown" and method "no data"."""
    row: dict[str, object] = dict.fromkeys(OUTPUT_COLUMNS, np.nan)
    if result is None:
        row.update(status="unknown", method="no data", n_obs=0)
        return row
    row.update(
        point=result.point, lower=result.lower, upper=result.upper, lower95=result.lower95,
        upper95=result.upper95, p_meet=_opt(result.p_meet), status=result.status().code,
        baseline_point=_opt(result.baseline_point), actual_to_date=_opt(result.actual_to_date),
        method=result.method, n_obs=n_obs,
    )  # fmt: skip
    return row


def _monthly_series(rows: pd.DataFrame, year: int, as_of_month: int) -> pd.Series:
    """Monthly PeriodIndex series of flows up to the as-of month of ``year``."""
    y = rows["year"].to_numpy(dtype=np.int64)
    m = rows["month"].to_numpy(dtype=np.int64)
    keep = (y < year) | ((y == year) & (m <= as_of_month))
    idx = pd.PeriodIndex.from_fields(year=y[keep], month=m[keep], freq="M")
    return pd.Series(rows["value"].to_numpy(dtype=float)[keep], index=idx).sort_index()


def _target_of(rows: pd.DataFrame) -> float | None:
    if "target" not in rows.columns:
        return None
    t = rows["target"].to_numpy(dtype=float)
    t = t[~np.isnan(t)]
    return float(t[0]) if len(t) else None


def _value_added(rows: pd.DataFrame, growth_rows: pd.DataFrame) -> pd.DataFrame:
    """Cumulative value added and cumulative growth side by side (the processed table's
    shape), by year and month: an outer merge, skipped when both have the same months in
    order (as the processed table and the generator give them; the frame is the same)."""
    y, m = rows["year"].to_numpy(dtype=np.int64), rows["month"].to_numpy(dtype=np.int64)
    gy, gm = growth_rows["year"].to_numpy(np.int64), growth_rows["month"].to_numpy(np.int64)
    key = y * 100 + m
    if np.array_equal(y, gy) and np.array_equal(m, gm) and (np.diff(key) > 0).all():
        return pd.DataFrame({"year": y, "month": m, "va_cum_yi": rows["value"].to_numpy(float),
                             "growth_cum_pct": growth_rows["value"].to_numpy(float)})  # fmt: skip
    return (
        rows[["year", "month", "value"]].rename(columns={"value": "va_cum_yi"})
        .merge(growth_rows[["year", "month", "value"]].rename(columns={"value": "growth_cum_pct"}),
               on=["year", "month"], how="outer")
    )  # fmt: skip


def growth_region(rows: pd.DataFrame, ctx: RegionContext) -> dict[str, object]:
    """``forecast.growth_full_year`` on cumulative value added (``rows``) and cumulative
    growth (``spec.growth_measure``'s rows), months 2..12 as the statistical report gives."""
    growth_rows = ctx.measures.get(ctx.spec.growth_measure)
    if growth_rows is None:
        return region_row(None)
    va = _value_added(rows, growth_rows)
    year, as_of_month = ctx.year, ctx.as_of_month
    va = va[va["year"] <= year]
    if not ((va["year"] < year) | (va["month"] <= as_of_month)).any():
        return region_row(None)
    try:
        res = growth_full_year(va, year, pd.Period(year=year, month=as_of_month, freq="M"),
                               ctx.target, comparator=ctx.spec.comparator,
                               tolerance=ctx.spec.tolerance)  # fmt: skip
    except ValueError:  # no growth data before the as-of month
        return region_row(None)
    return region_row(res, int(va["growth_cum_pct"].notna().sum()))


growth_region.requires = ("growth_measure",)


def annual_region(rows: pd.DataFrame, ctx: RegionContext) -> dict[str, object]:
    """``forecast.annual.annual`` on the yearly series up to ``year - 1``."""
    y = rows["year"].to_numpy(dtype=np.int64)
    v = rows["value"].to_numpy(dtype=float)
    keep = (y < ctx.year) & ~np.isnan(v)
    if not keep.any():
        return region_row(None)
    # one value per year (the last row of a year wins)
    yearly = pd.Series(v[keep], index=y[keep])
    yearly = yearly[~yearly.index.duplicated(keep="last")].sort_index()
    res = annual(yearly, horizon=ctx.year - int(yearly.index.max()), target=ctx.target,
                 comparator=ctx.spec.comparator, tolerance=ctx.spec.tolerance)  # fmt: skip
    return region_row(res, len(yearly))


def ytd_region(rows: pd.DataFrame, ctx: RegionContext) -> dict[str, object]:
    """``forecast.ytd.year_end_from_ytd`` on the monthly flows up to the as-of month."""
    monthly = _monthly_series(rows, ctx.year, ctx.as_of_month)
    if monthly.dropna().empty:
        return region_row(None)
    res = year_end_from_ytd(monthly, ctx.year, ctx.as_of_month, ctx.target,
                            comparator=ctx.spec.comparator, tolerance=ctx.spec.tolerance)  # fmt: skip
    return region_row(res, int(monthly.notna().sum()))


def ytd_growth_region(rows: pd.DataFrame, ctx: RegionContext) -> dict[str, object]:
    """A flow whose target is a growth rate (% on last year's total): the rate is a monotone
    function of the year-end total, so its quantiles and p_meet follow exactly from
    ``year_end_from_ytd``'s forecast of the total."""
    year, as_of_month, spec, target = ctx.year, ctx.as_of_month, ctx.spec, ctx.target
    monthly = _monthly_series(rows, year, as_of_month)
    if monthly.dropna().empty:
        return region_row(None)
    last = monthly[monthly.index.year == year - 1]
    # Last year's total needs its December (a growth rate on a partial year is meaningless).
    complete = len(last) > 0 and last.index[-1].month == 12 and np.isfinite(last.iloc[-1])
    last_total = float(last.sum()) if complete else np.nan
    if not np.isfinite(last_total) or last_total <= 0:
        return region_row(None)
    total_target = None if target is None else last_total * (1 + target / 100)
    res = year_end_from_ytd(monthly, year, as_of_month, total_target,
                            comparator=spec.comparator,
                            tolerance=spec.tolerance / 100 * last_total)  # fmt: skip
    row = region_row(res, int(monthly.notna().sum()))
    for col in ("point", "lower", "upper", "lower95", "upper95", "baseline_point"):
        row[col] = (row[col] / last_total - 1) * 100
    if res.actual_to_date is not None:
        # Growth of the year to date on the same months of last year (the cumulative growth
        # a monthly statistical report shows).
        m = int(res.details.get("months_elapsed", as_of_month))
        same = last[last.index.month <= m].sum()
        row["actual_to_date"] = (res.actual_to_date / same - 1) * 100 if same > 0 else np.nan
    row["method"] = f"growth of {res.method}"
    return row


# The plan's targets that a county-level region's monthly and yearly series can carry.
DEFAULT_TARGETS: tuple[RegionTarget, ...] = (
    RegionTarget("tech_contracts_count", "contracts", "ytd"),
    RegionTarget("tech_contracts_value", "contract_value_yi", "ytd"),
    RegionTarget("tech_smes", "sme_registrations", "ytd"),
    RegionTarget(
        "hitech_va_growth", "hitech_va_cum_yi", "growth", growth_measure="hitech_va_growth_cum_pct"
    ),  # fmt: skip
    RegionTarget("hitech_enterprises", "hitech_enterprises", "annual"),
    RegionTarget("rd_intensity", "rd_intensity_pct", "annual", "~=", 0.05),
)


def _group_key(pdf: pd.DataFrame) -> str | None:
    """The group key that pandas' (and so Dask's) ``groupby().apply`` sets as a group's
    ``name`` (under pandas 3 the key column is not in the group), else None."""
    # vars(): a column called "name" would shadow the attribute
    key = vars(pdf).get("name")
    if isinstance(key, tuple):  # groupby(["region"]) gives a 1-tuple
        key = key[0] if len(key) == 1 else None
    return None if key is None else str(key)


def _region_runs(keys: pd.Series) -> tuple[np.ndarray | None, list[str], np.ndarray]:
    """Where each region's rows are: (the stable order that brings them together, None when
    they already are; the regions, sorted; the bounds of region ``i``'s rows in that order,
    ``bounds[i]:bounds[i + 1]``). Rows of one region keep their input order, as in
    ``groupby("region", sort=True)``."""
    codes, uniques = pd.factorize(keys, sort=True, use_na_sentinel=False)
    order = None
    if len(codes) > 1 and (np.diff(codes) < 0).any():
        order = np.argsort(codes, kind="stable")
        codes = codes[order]
    starts = np.flatnonzero(np.diff(codes, prepend=-1))
    return order, [str(u) for u in uniques], np.append(starts, len(codes))


def _region_groups(pdf: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """The regions of a long frame with their rows (without the region): by its ``region``
    column or index (a partition of ``set_index("region")``), each region's rows whole, in
    any order; else one region, the group key of a ``groupby("region").apply`` (or None)."""
    if "region" in pdf.columns:
        keys, rows = pdf["region"], pdf.drop(columns="region")
    elif pdf.index.name == "region":
        keys, rows = pdf.index.to_series(), pdf.reset_index(drop=True)
    else:
        return [(_group_key(pdf), pdf)]
    order, regions, bounds = _region_runs(keys)
    if order is not None:
        rows = rows.iloc[order]
    if len(regions) == 1:
        return [(regions[0], rows)]
    return [(r, rows.iloc[a:b]) for r, a, b in zip(regions, bounds[:-1], bounds[1:], strict=True)]


def _region_rows(
    pdf: pd.DataFrame, region: str | None, year: int, as_of_month: int,
    targets: Sequence[RegionTarget],
) -> list[dict[str, object]]:  # fmt: skip
    """One output row (a dict of :data:`OUTPUT_COLUMNS`) per target of one region's frame."""
    missing = [c for c in _REQUIRED_INPUT if c not in pdf.columns]
    if missing:
        raise ValueError(
            f"区域数据缺少列 (region frame lacks columns) {missing}; expected {_REQUIRED_INPUT}"
        )
    year, as_of_month = int(year), int(as_of_month)
    if not 1 <= as_of_month <= 12:
        raise ValueError(f"as_of_month must be 1..12, got {as_of_month}")
    by_measure = dict(tuple(pdf.groupby("measure", sort=False))) if len(pdf) else {}
    rows = []
    for spec in targets:
        measure_rows = by_measure.get(spec.measure)
        target = None if measure_rows is None else _target_of(measure_rows)
        if measure_rows is None:
            row = region_row(None)
        else:
            ctx = RegionContext(spec, year, as_of_month, target, by_measure)
            row = spec.function(measure_rows, ctx)
        row.update(region=region, target_id=spec.id, model=spec.label, year=year,
                   as_of_month=as_of_month, target=_opt(target))  # fmt: skip
        rows.append(row)
    return rows


def _output_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.Series([r[name] for r in rows], dtype=dtype) for name, dtype, _ in _COLUMNS}
    )


def forecast_region_frame(
    pdf: pd.DataFrame,
    *,
    year: int,
    as_of_month: int,
    targets: Sequence[RegionTarget] = DEFAULT_TARGETS,
) -> pd.DataFrame:
    """One region's long frame (module docstring) -> one row per target, :data:`OUTPUT_COLUMNS`;
    several regions' frame -> one row per target per region, regions sorted.

    A target whose measure has no rows gives a row with status "unknown" and method "no
    data". ``region`` comes from the frame's ``region`` column or index (each value one
    region, its rows anywhere in the frame; an empty frame gives no rows) or, without
    either, from the group key of a ``groupby("region").apply`` (missing when there is
    none). ``pdf`` is not modified. Bound by :func:`region_function`, this is the function
    Spark's ``applyInPandas`` and Dask's ``groupby().apply`` take for one region each, and
    Dask's ``map_partitions`` for a partition of whole regions (one call and one output
    frame per partition, not per region: see ``docs/scale.md``).
    """
    return _run_chunk(_region_groups(pdf), year, as_of_month, targets)


def _run_chunk(
    chunk: list[tuple[str | None, pd.DataFrame]], year: int, as_of_month: int,
    targets: Sequence[RegionTarget],
) -> pd.DataFrame:  # fmt: skip
    # One frame per chunk, not one per region: building a small frame costs about as much
    # as an annual model's fit.
    return _output_frame(
        [row for region, pdf in chunk
         for row in _region_rows(pdf, region, year, as_of_month, targets)]
    )  # fmt: skip


def _chunks(
    frames: Iterable[tuple[str, pd.DataFrame]], size: int
) -> Iterator[list[tuple[str, pd.DataFrame]]]:
    it = iter(frames)
    while chunk := list(islice(it, size)):
        yield chunk


def _in_order(
    func: Callable[..., pd.DataFrame], tasks: Iterable[tuple[tuple, int]], workers: int,
    bar: tqdm,
) -> Iterator[pd.DataFrame]:  # fmt: skip
    """``func(*args)`` for each ``(args, n_regions)`` of ``tasks`` (consumed lazily), yielded
    in input order: here when ``workers`` is 1, else on a process pool with at most
    ``2 * workers`` tasks in flight. ``bar`` moves by each task's regions."""
    if workers == 1:
        for args, n in tasks:
            out = func(*args)
            bar.update(n)
            yield out
        return
    with process_pool(workers) as pool:
        pending: deque[tuple[Future[pd.DataFrame], int]] = deque()
        for args, n in tasks:
            pending.append((pool.submit(func, *args), n))
            while len(pending) >= 2 * workers:
                fut, done = pending.popleft()
                out = fut.result()
                bar.update(done)
                yield out
        while pending:
            fut, done = pending.popleft()
            out = fut.result()
            bar.update(done)
            yield out


def forecast_regions(
    frames: Iterable[tuple[str, pd.DataFrame]],
    *,
    year: int,
    as_of_month: int,
    targets: Sequence[RegionTarget] = DEFAULT_TARGETS,
    workers: int = 2,
    chunk_size: int = 25,
    progress: bool = True,
    total: int | None = None,
) -> Iterator[pd.DataFrame]:
    """Forecast every region of ``frames`` ((region name, long frame) pairs, consumed lazily)
    and yield one frame of results per chunk of ``chunk_size`` regions, in input order.

    ``workers`` > 1 runs chunks in a process pool ("spawn" start method, safe next to
    pyarrow's threads); at most ``2 * workers`` chunks are in flight, so neither the inputs
    nor the results pile up in memory. ``progress`` shows a tqdm bar (``total`` regions if
    known). Results are identical whatever ``workers`` is.
    """
    if workers < 1 or chunk_size < 1:
        raise ValueError(f"workers and chunk_size must be >= 1, got {workers}, {chunk_size}")
    tasks = (((chunk, year, as_of_month, targets), len(chunk))
             for chunk in _chunks(frames, chunk_size))  # fmt: skip
    with tqdm(total=total, unit="region", desc="区域预测 regions", disable=not progress) as bar:
        yield from _in_order(_run_chunk, tasks, workers, bar)


# ----------------------------------------------------------------------------- engines

ENGINES = ("local", "dask", "spark")
# Regions per task on every engine (forecast_regions' default chunk): at ~40 ms of CPU a
# region, a task takes about a second, long enough to hide the engine's per-task cost and
# short enough that the last tasks leave no worker idle for long.
REGIONS_PER_BLOCK = 25
SCALE_EXTRA = "pip install 'tianxin-analysis[scale]'"
# Each worker runs one region at a time: BLAS threads would only compete with the other
# workers for the same cores (set for Spark's Python workers; the local pool and Dask's
# processes inherit them from the environment).
_ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


_PANDAS3_WARNING = "PySpark does not yet fully support pandas"


class EngineUnavailableError(TianxinError):
    """The engine asked for is not installed (the ``[scale]`` extra) or cannot start."""


def _require(module: str, engine: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise EngineUnavailableError(
            f"未安装 {engine} 引擎，请运行 {SCALE_EXTRA}，或使用 --engine local "
            f"(the {engine} engine is not installed: run {SCALE_EXTRA}, or use --engine local)"
        ) from None


def region_function(
    *, year: int, as_of_month: int, targets: Sequence[RegionTarget] = DEFAULT_TARGETS
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """:func:`forecast_region_frame` with its keywords bound, as the plain one-argument
    function Spark's ``applyInPandas`` and Dask's ``groupby().apply`` take (Spark reads a
    function's type hints and warns about a ``functools.partial``)."""
    year, as_of_month, targets = int(year), int(as_of_month), tuple(targets)

    def forecast(pdf: pd.DataFrame) -> pd.DataFrame:
        return forecast_region_frame(pdf, year=year, as_of_month=as_of_month, targets=targets)

    return forecast


def _block_edges(long: pd.DataFrame, regions_per_block: int) -> tuple[pd.DataFrame, np.ndarray]:
    """``long`` with each region's rows together (regions sorted, a region's rows in input
    order) and the row positions where its blocks of ``regions_per_block`` regions start
    (with the end)."""
    if regions_per_block < 1:
        raise ValueError(f"regions_per_block must be >= 1, got {regions_per_block}")
    order, _, bounds = _region_runs(long["region"])
    ordered = long if order is None else long.iloc[order]
    return ordered, np.append(bounds[:-1:regions_per_block], bounds[-1])


def region_blocks(long: pd.DataFrame, regions_per_block: int = REGIONS_PER_BLOCK) -> pd.DataFrame:
    """``long`` (a ``region`` column) with each region's rows together, regions sorted, and a
    ``block`` column (int64, from 0): the regions in runs of ``regions_per_block``. A block
    is one task on every engine: Spark's ``groupBy("block").applyInPandas(region_function(
    ...))`` hands each block's regions to one call (``docs/scale.md``), which costs a tenth
    of a group per region in CPU; the extra column is ignored by the forecast."""
    ordered, edges = _block_edges(long, regions_per_block)
    block = np.repeat(np.arange(len(edges) - 1, dtype=np.int64), np.diff(edges))
    return ordered.assign(block=block)


def _sorted_output(out: pd.DataFrame, targets: Sequence[RegionTarget]) -> pd.DataFrame:
    """Output rows by region, then in ``targets``' order, with :func:`output_meta`'s dtypes:
    the same frame whichever engine made it."""
    order = {t.id: i for i, t in enumerate(targets)}
    out = out.reset_index(drop=True)[list(OUTPUT_COLUMNS)].astype(output_meta().dtypes.to_dict())
    rank = out["target_id"].map(order).to_numpy()
    keys = np.lexsort((rank, out["region"].to_numpy(dtype=object)))
    return out.iloc[keys].reset_index(drop=True)


def spark_session(workers: int = 2):
    """A local Spark session (``local[workers]``) whose Python workers run this interpreter
    (``PYSPARK_PYTHON``: without it they start whatever ``python3`` is on the path, which
    may lack the packages), with Arrow transfers and one BLAS thread per worker. An active
    session (a cluster's) is returned as it is."""
    _require("pyspark", "Spark")
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(f"local[{int(workers)}]")
        .appName("tianxin-regions")
        .config("spark.pyspark.python", os.environ["PYSPARK_PYTHON"])
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", str(4 * int(workers)))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", "false")
    )
    for name, value in _ONE_THREAD.items():
        builder = builder.config(f"spark.executorEnv.{name}", value)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", _PANDAS3_WARNING, FutureWarning
            )  # see _forecast_spark
            spark = builder.getOrCreate()
    except Exception as exc:  # no Java, or the JVM would not start (py4j raises its own)
        raise EngineUnavailableError(
            "Spark 无法启动：需要 Java 17 或更高版本（如 Debian 的 openjdk-17-jre-headless）"
            f" (Spark could not start: it needs Java 17+): {str(exc).splitlines()[0][:200]}"
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _spark_progress(spark, bar: tqdm, group: str, done: threading.Event) -> None:
    """Move ``bar`` (tasks) with the tasks Spark has finished for job group ``group``."""
    tracker = spark.sparkContext.statusTracker()
    while not done.wait(0.5):
        total = finished = 0
        for job in tracker.getJobIdsForGroup(group):
            info = tracker.getJobInfo(job)
            for stage in info.stageIds if info else ():
                st = tracker.getStageInfo(stage)
                if st:
                    total += st.numTasks
                    finished += st.numCompletedTasks
        if total:
            bar.total = total
            bar.n = finished
            bar.refresh()


def _forecast_local(long, fn, *, workers, progress) -> pd.DataFrame:
    """``fn`` on each block of regions on the process pool of :func:`forecast_regions`: a
    worker receives a block as one slice of ``long`` and splits it by region itself."""
    if not len(long):
        return output_meta()
    ordered, edges = _block_edges(long, REGIONS_PER_BLOCK)
    _, regions, bounds = _region_runs(ordered["region"])
    starts = np.searchsorted(bounds, edges)  # region numbers where the blocks start
    tasks = (((ordered.iloc[a:b],), int(n)) for a, b, n
             in zip(edges[:-1], edges[1:], np.diff(starts), strict=True))  # fmt: skip
    with tqdm(total=len(regions), unit="region", desc="区域预测 regions",
              disable=not progress) as bar:  # fmt: skip
        # no pool to start for a single block
        return pd.concat(_in_order(fn, tasks, max(1, min(workers, len(edges) - 1)), bar),
                         ignore_index=True)  # fmt: skip


def _forecast_spark(long, fn, *, workers, progress, spark=None) -> pd.DataFrame:
    spark = spark if spark is not None else spark_session(workers)
    group = f"tianxin-regions-{os.getpid()}-{threading.get_ident()}"
    spark.sparkContext.setJobGroup(group, "tianxin regions")
    bar = tqdm(unit="task", desc="区域预测 regions (Spark)", disable=not progress)
    done = threading.Event()
    watcher = threading.Thread(target=_spark_progress, args=(spark, bar, group, done), daemon=True)
    watcher.start()
    try:
        with warnings.catch_warnings():
            # PySpark 4.x warns on every pandas conversion that it does not fully support
            # pandas >= 3; this path is tested to give the local pool's results bit for bit.
            warnings.filterwarnings("ignore", _PANDAS3_WARNING, FutureWarning)
            # PySpark's toPandas passes pandas 3.1's deprecated copy= to Arrow's conversion
            warnings.filterwarnings("ignore", "The copy keyword is deprecated", Warning)
            # One group per block of regions, not per region: a group costs Spark and its
            # Python worker an Arrow batch each way, a pandas frame and a call.
            blocks = region_blocks(long, REGIONS_PER_BLOCK)
            sdf = spark.createDataFrame(blocks.astype({"region": object, "measure": object}))
            return sdf.groupBy("block").applyInPandas(fn, schema=SPARK_SCHEMA).toPandas()
    finally:
        done.set()
        watcher.join()
        bar.close()


def _forecast_dask(long, fn, *, workers, progress) -> pd.DataFrame:
    dd = _require("dask.dataframe", "Dask")
    from dask.callbacks import Callback

    # Indexed by region with known divisions, each partition holds whole regions: one call
    # of fn per partition (it splits by the index), no shuffle, partitions the size of the
    # local pool's blocks.
    ordered, edges = _block_edges(long, REGIONS_PER_BLOCK)
    ddf = dd.from_pandas(ordered.set_index("region"), npartitions=max(len(edges) - 1, 1),
                         sort=True)  # fmt: skip
    result = ddf.map_partitions(fn, meta=output_meta())

    class _Bar(Callback):
        def _start(self, dsk):
            self.bar = tqdm(total=len(dsk), unit="task", desc="区域预测 regions (Dask)",
                            disable=not progress)  # fmt: skip

        def _posttask(self, key, result, dsk, state, worker_id):
            self.bar.update(1)

        def _finish(self, dsk, state, errored):
            self.bar.close()

    with _Bar():
        # chunksize=1: Dask's process scheduler otherwise hands out ready tasks six at a
        # time, which gave one of two workers 6 of 8 partitions (the other idled 40%).
        return result.compute(scheduler="processes", num_workers=workers, chunksize=1)


def forecast_all_regions(
    long: pd.DataFrame,
    *,
    year: int,
    as_of_month: int,
    engine: str = "local",
    workers: int = 2,
    targets: Sequence[RegionTarget] = DEFAULT_TARGETS,
    progress: bool = True,
    spark=None,
) -> pd.DataFrame:
    """:func:`forecast_region_frame` for every region of the long frame ``long`` (a
    ``region`` column, as :func:`region_frames` makes it) on ``engine``: "local" (the
    process pool of :func:`forecast_regions`), "dask" (processes) or "spark" (``spark`` or a
    ``local[workers]`` session). Rows by region, then in ``targets``' order, dtypes of
    :func:`output_meta`: the same frame, bit for bit, on every engine (tested).

    Raises :class:`EngineUnavailableError` when ``engine`` is not installed.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if "region" not in long.columns:
        raise ValueError("区域数据缺少 region 列 (the long frame lacks a region column)")
    fn = region_function(year=year, as_of_month=as_of_month, targets=targets)
    if engine == "local":
        out = _forecast_local(long, functools.partial(forecast_region_frame, year=year,
                              as_of_month=as_of_month, targets=tuple(targets)),
                              workers=workers, progress=progress)  # fmt: skip
    elif engine == "dask":
        out = _forecast_dask(long, fn, workers=workers, progress=progress)
    else:
        out = _forecast_spark(long, fn, workers=workers, progress=progress, spark=spark)
    return _sorted_output(out, targets)


# ------------------------------------------------------------------ processed tables -> long frame

# The long frame's columns and dtypes (the module docstring's input shape).
LONG_COLUMNS: dict[str, str] = {
    "region": "str", "measure": "str", "year": "int64", "month": "int64", "value": "float64",
    "target": "float64",
}  # fmt: skip
# (kind, data_kind, measure) of a plan's target -> the long frame's measure; "" = any measure.
_PLAN_MEASURES = {
    ("stock", "hitech_certificates", ""): "hitech_enterprises",
    ("stock", "tech_sme_registrations", ""): "sme_registrations",
    ("flow", "tech_contracts", "contracts"): "contracts",
    ("flow", "tech_contracts", "value_yi"): "contract_value_yi",
    ("growth_rate", "hitech_value_added", ""): "hitech_va_cum_yi",
    ("ratio", "rd_expenditure", ""): "rd_intensity_pct",
}


def _rows(measure: str, year, month, value) -> pd.DataFrame:
    return pd.DataFrame({"measure": measure, "year": np.asarray(year, dtype=np.int64),
                         "month": np.asarray(month, dtype=np.int64),
                         "value": np.asarray(value, dtype=float)})  # fmt: skip


def _monthly_rows(measure: str, monthly: pd.Series) -> pd.DataFrame:
    return _rows(measure, monthly.index.year, monthly.index.month, monthly.to_numpy())


def _hitech_year_end_counts(certs: pd.DataFrame) -> pd.DataFrame:
    """Enterprises holding a certificate of batch Y, Y-1 or Y-2 (valid three years) and not
    revoked or moved out, at the end of each year Y whose three batches are all in the list."""
    removed = set(certs.loc[certs["status"].astype(str).isin(models.REMOVED_STATUSES), "uscc"])
    by_year = {int(y): set(g["uscc"]) - removed for y, g in certs.groupby("year")}
    years = [y for y in sorted(by_year) if y - 2 >= min(by_year)]
    counts = [
        len(by_year[y] | by_year.get(y - 1, set()) | by_year.get(y - 2, set())) for y in years
    ]
    return _rows("hitech_enterprises", years, [12] * len(years), counts)


def _region_measures(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """One region's processed tables (kind -> frame) as long-frame rows without targets, with
    the forecast layer's own monthly series, so the district's numbers go in unchanged."""
    parts = []
    if (tc := tables.get("tech_contracts")) is not None and len(tc):
        last = pd.Period(year=int(tc["year"].max()), month=12, freq="M")
        parts.append(_monthly_rows("contracts", models.contracts_monthly(tc, "contracts", last)))
        parts.append(_monthly_rows("contract_value_yi",
                                   models.contracts_monthly(tc, "value_yi", last)))  # fmt: skip
    if (regs := tables.get("tech_sme_registrations")) is not None and len(regs):
        last = pd.Period(pd.to_datetime(regs["registration_date"]).max(), freq="M")
        parts.append(_monthly_rows("sme_registrations",
                                   models.sme_registrations_monthly(regs, last)))  # fmt: skip
    if (va := tables.get("hitech_value_added")) is not None and len(va):
        parts.append(_rows("hitech_va_cum_yi", va["year"], va["month"], va["va_cum_yi"]))
        parts.append(_rows("hitech_va_growth_cum_pct", va["year"], va["month"],
                           va["growth_cum_pct"]))  # fmt: skip
    if (certs := tables.get("hitech_certificates")) is not None and len(certs):
        parts.append(_hitech_year_end_counts(certs))
    rd, gdp = tables.get("rd_expenditure"), tables.get("district_gdp")
    if rd is not None and gdp is not None and len(rd) and len(gdp):
        ratio = models.rd_intensity_series(rd, gdp, int(rd["year"].max()) + 1)["intensity_pct"]
        parts.append(_rows("rd_intensity_pct", ratio.index, [12] * len(ratio), ratio))
    return parts


def _plan_targets(plan: Plan) -> dict[str, float]:
    """Long-frame measure -> the plan's target value, for the targets of the plan year itself
    (a ratio target of an earlier year, published with a lag, is not this year's)."""
    out = {}
    for t in plan.targets:
        key = (t.kind, t.data_kind, t.measure if t.data_kind == "tech_contracts" else "")
        if key in _PLAN_MEASURES and t.reference_year == plan.year:
            out[_PLAN_MEASURES[key]] = float(t.value)
    return out


def _latest_plan() -> Plan | None:
    years = sorted(int(p.stem) for p in TARGETS_DIR.glob("*.yaml") if p.stem.isdigit())
    return load_targets(years[-1]) if years else None


def _processed_tables(
    processed_dir: str | os.PathLike[str] | Mapping[str, pd.DataFrame],
) -> dict[str, pd.DataFrame]:
    """Kind -> processed table, from a folder or a mapping; ``InputFileError`` when none."""
    from .data import KINDS, load_processed

    if isinstance(processed_dir, Mapping):
        tables = {k: processed_dir[k] for k in KINDS if k in processed_dir}
    else:
        folder = Path(processed_dir)
        tables = {k: load_processed(k, folder) for k in KINDS if (folder / k).is_dir()}
    if not tables:
        raise InputFileError("找不到清洗后的数据，请先运行 tianxin clean",
                             "no processed tables; run `tianxin clean` first",
                             file=str(processed_dir))  # fmt: skip
    return tables


def _tables_by_region(
    tables: Mapping[str, pd.DataFrame], district: str | None
) -> dict[str, dict[str, pd.DataFrame]]:
    """Region -> kind -> that region's rows: by the ``region`` column, or all of a table
    without one for ``district`` (``InputFileError`` when there is no district code)."""
    by_region: dict[str, dict[str, pd.DataFrame]] = {}
    for kind, table in tables.items():
        if "region" in table.columns:
            for region, rows in table.groupby("region", sort=True):
                by_region.setdefault(str(region), {})[kind] = rows
        elif district is None:
            raise InputFileError(
                f"数据表 {kind} 没有 region 列，也没有计划文件给出 plan.district_code",
                f"table {kind} has no region column and no plan gives plan.district_code",
                expected="data/raw/targets/<年份>.yaml 中的 plan.district_code",
            )  # fmt: skip
        else:
            by_region.setdefault(district, {})[kind] = table
    return by_region


def region_frames(
    processed_dir: str | os.PathLike[str] | Mapping[str, pd.DataFrame],
    *,
    plan: Plan | int | str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Every measure of every region of the processed tables as one long frame (the module
    docstring's shape, columns :data:`LONG_COLUMNS`, sorted by region, measure, year, month).

    A table with a ``region`` column gives one region per value; a table without one (today's
    single-district data) belongs to the plan's ``district_code``. ``plan`` (a
    :class:`~tianxin_analysis.targets.Plan`, a plan year or a targets file; default the newest
    ``data/raw/targets/<year>.yaml``) also gives the ``target`` of each measure whose target
    is for the plan year (the same value for every region); without a plan, targets are NaN.
    Measures: monthly flows as the forecast layer builds them (``contracts``,
    ``contract_value_yi``, ``sme_registrations``), value added and its cumulative growth,
    the year-end count of valid high-tech certificates and R&D intensity (annual, month 12).
    Tables that are absent are skipped; ``processed_dir`` may also be a mapping kind -> table.
    Raises ``InputFileError`` when there is no table at all.
    """
    if plan is None:
        plan = _latest_plan()
    elif not isinstance(plan, Plan):
        plan = load_targets(plan)
    district = plan.district_code if plan is not None and plan.district_code else None
    by_region = _tables_by_region(_processed_tables(processed_dir), district)
    frames = [
        pd.concat(parts, ignore_index=True).assign(region=region)
        for region in sorted(by_region)
        if (parts := _region_measures(by_region[region]))
    ]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in LONG_COLUMNS.items()})
    long = pd.concat(frames, ignore_index=True)
    long["target"] = (
        long["measure"].map(_plan_targets(plan) if plan is not None else {}).astype(float)
    )
    return (
        long[list(LONG_COLUMNS)]
        .astype(LONG_COLUMNS)
        .sort_values(["region", "measure", "year", "month"], ignore_index=True, kind="stable")
    )


# ----------------------------------------------------------------------------- synthetic regions

# Base profile of a Tianxin-sized district in 2019 (the synthetic sample's levels) and the
# shares of a year's flow by month. Regions scale it by a lognormal size and their own trend.
_BASE_2019 = {
    "contracts": 3540.0,  # 项
    "contract_value_yi": 101.2,  # 亿元
    "sme_registrations": 268.0,  # 家 registered in the year
    "hitech_va_yi": 402.0,  # 亿元
}
_MONTH_SHARE = {
    "contracts": np.array([4, 3.5, 7, 7, 7.5, 10, 7, 7, 8.5, 7, 9, 22.5]),
    "contract_value_yi": np.array([3.5, 3, 6.5, 6.5, 7, 10, 6.5, 6.5, 8.5, 6.5, 9, 26.5]),
    "sme_registrations": np.array([2, 3, 10, 14, 16, 15, 10, 8, 7, 6, 5, 4], dtype=float),
    "hitech_va_yi": np.array([6.5, 7, 8.2, 8.0, 8.3, 8.6, 8.0, 8.1, 8.4, 8.3, 8.5, 12.1]),
}
_INTEGER_MEASURES = frozenset({"contracts", "sme_registrations"})
_BASE_HITECH_2019 = 400.0  # 家 at year end
_BASE_RD_2019 = 2.45  # % of GDP


def _value_added_parts(
    flows: np.ndarray, yy: np.ndarray, mm: np.ndarray, trend: float, target_pct: float
) -> list[pd.DataFrame]:
    """Value added as the statistical report shows it (the processed table's shape): the
    cumulative value through each month from "1-2月" on, and the cumulative growth (%) on the
    same months of last year (the first year's predecessor is taken one trend step back)."""
    cum = np.nancumsum(flows, axis=1)[:, 1:]  # from "1-2月" on: never empty
    prev = np.vstack([cum[:1] / (1 + trend), cum[:-1]])
    growth = (cum / prev - 1) * 100
    keep = mm >= 2
    return [
        pd.DataFrame({"measure": "hitech_va_cum_yi", "year": yy[keep], "month": mm[keep],
                      "value": np.round(cum.ravel(), 2), "target": target_pct}),
        pd.DataFrame({"measure": "hitech_va_growth_cum_pct", "year": yy[keep], "month": mm[keep],
                      "value": np.round(growth.ravel(), 1), "target": np.nan}),
    ]  # fmt: skip


def synthetic_region_frames(
    n_regions: int,
    *,
    seed: int = 2024,
    first_year: int = 2019,
    last_year: int = 2024,
) -> Iterator[tuple[str, pd.DataFrame]]:
    """``n_regions`` synthetic county-level regions as (name, long frame) pairs, generated
    lazily (one region at a time, so memory does not grow with ``n_regions``).

    Each region scales the base profile by a lognormal size, grows at its own trend with
    year-to-year noise, spreads each year over the months with noisy seasonal shares and
    reports January together with February ("1-2月", January NaN) in about a third of its
    years. Targets are last year's level times the region's trend plus noise, so some
    regions are on track and some are not. Region ``i`` depends on (``seed``, ``i``) only.
    Monthly measures carry every month through ``last_year``'s December; annual measures stop
    at ``last_year - 1`` (published with a lag). Made-up numbers, for benchmarks and tests.
    """
    years = np.arange(first_year, last_year + 1)
    n_years = len(years)
    yy = np.repeat(years, 12)
    mm = np.tile(np.arange(1, 13), n_years)
    for i in range(n_regions):
        rng = np.random.default_rng([seed, i])
        size = float(np.exp(rng.normal(-1.0, 0.9)))
        trend = rng.normal(0.07, 0.04)
        parts = []
        combined = rng.random(n_years) < 1 / 3
        for measure, base in _BASE_2019.items():
            growth = np.cumprod(1 + trend + rng.normal(0, 0.04, n_years)) / (1 + trend)
            totals = base * size * growth
            share = _MONTH_SHARE[measure] * rng.normal(1, 0.08, (n_years, 12))
            flows = totals[:, None] * share / share.sum(axis=1, keepdims=True)
            if measure in _INTEGER_MEASURES:
                flows = np.maximum(np.round(flows), 0.0)
            # "1-2月": January's flow is reported inside February's.
            jan_feb = flows[:, 0] + flows[:, 1]
            flows[:, 1] = np.where(combined, jan_feb, flows[:, 1])
            flows[:, 0] = np.where(combined, np.nan, flows[:, 0])
            ambition = 1 + trend + rng.normal(0, 0.05)
            if measure == "hitech_va_yi":
                parts += _value_added_parts(flows, yy, mm, trend, round((ambition - 1) * 100, 1))
                continue
            last_total = float(np.nansum(flows[-2]))
            digits = 0 if measure in _INTEGER_MEASURES else 2
            target = float(np.round(last_total * ambition, digits))
            parts.append(pd.DataFrame({"measure": measure, "year": yy, "month": mm,
                                       "value": flows.ravel(), "target": target}))  # fmt: skip
        ay = years[:-1]
        hitech = np.round(
            _BASE_HITECH_2019 * size * np.cumprod(1 + trend + rng.normal(0, 0.03, len(ay)))
        )
        rd = (
            _BASE_RD_2019
            * np.exp(np.cumsum(rng.normal(0.03, 0.04, len(ay))))
            * rng.lognormal(0, 0.3)
        )
        parts.append(pd.DataFrame({"measure": "hitech_enterprises", "year": ay, "month": 12,
                                   "value": hitech, "target": float(np.round(hitech[-1] * 1.08))}))  # fmt: skip
        parts.append(pd.DataFrame({"measure": "rd_intensity_pct", "year": ay, "month": 12,
                                   "value": np.round(rd, 2), "target": round(float(rd[-1]) + 0.1, 1)}))  # fmt: skip
        frame = pd.concat(parts, ignore_index=True)
        yield f"region_{i:05d}", frame.astype({"year": "int64", "month": "int64"})
