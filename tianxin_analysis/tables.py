"""Analysis tables the notebooks and briefings show beside the forecasts.

Pure functions of processed tables (``data.load_processed``) and forecast outputs; they
return tidy frames with English column names (notebooks relabel with ``labels``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .data.public import load_public_series
from .labels import COMPARATOR, SUMMARY_COLUMNS

if TYPE_CHECKING:
    from .forecast.evaluation import Evaluation


def watch_list_by(watch_list: pd.DataFrame, by: str | Sequence[str]) -> pd.DataFrame:
    """Count a watch list by one or two columns (e.g. ``park``, ``tech_field``).

    One column: ``by``, ``enterprises``, ``share`` (0..1), largest first. Two columns: a
    cross-table with the first as rows, the second as columns and a ``合计`` total column.
    """
    cols = [by] if isinstance(by, str) else list(by)
    if len(cols) == 1:
        out = watch_list.groupby(cols[0]).size().rename("enterprises").reset_index()
        out["share"] = out["enterprises"] / max(len(watch_list), 1)
        return out.sort_values(["enterprises", cols[0]], ascending=[False, True]).reset_index(
            drop=True
        )
    if len(cols) != 2:
        raise ValueError("by takes one or two column names")
    table = pd.crosstab(watch_list[cols[0]], watch_list[cols[1]])
    table["合计"] = table.sum(axis=1)
    return table.sort_values("合计", ascending=False)


def rd_by_unit_type(rd: pd.DataFrame, gdp: pd.DataFrame) -> pd.DataFrame:
    """R&D expenditure (亿元) by year and reporting-unit type, with GDP and intensity (%).

    Columns: ``year``, one column per unit type (亿元), ``rd_total_yi``, ``gdp_yi``,
    ``intensity_pct`` = rd_total_yi / gdp_yi x 100.
    """
    wide = (
        rd.groupby(["year", "unit_type"])["rd_expenditure_wan"]
        .sum()
        .div(1e4)
        .unstack(fill_value=0.0)
    )
    wide.columns = [str(c) for c in wide.columns]
    wide["rd_total_yi"] = wide.sum(axis=1)
    out = wide.join(gdp.set_index("year")["gdp_yi"], how="inner")
    out["intensity_pct"] = out["rd_total_yi"] / out["gdp_yi"] * 100
    return out.reset_index()


def top_rd_contributors(rd: pd.DataFrame, year: int, n: int = 10) -> pd.DataFrame:
    """The ``n`` reporting units with the largest R&D expenditure in ``year``.

    Columns: ``rank``, ``unit_name``, ``unit_type``, ``rd_expenditure_wan`` (万元),
    ``share`` of the year's total (0..1), ``cumulative_share``.
    """
    y = rd[rd["year"] == year]
    total = y["rd_expenditure_wan"].sum()
    top = y.nlargest(n, "rd_expenditure_wan", keep="first")[
        ["unit_name", "unit_type", "rd_expenditure_wan"]
    ].reset_index(drop=True)
    top["share"] = top["rd_expenditure_wan"] / total if total else float("nan")
    top["cumulative_share"] = top["share"].cumsum()
    top.insert(0, "rank", range(1, len(top) + 1))
    return top


def public_context(series: str, regions: Sequence[str] = ("全国", "湖南")) -> pd.DataFrame:
    """A real yearbook series (``data/raw/public/yearbook_series.csv``) as year x region.

    ``series`` is one of ``rd_intensity``, ``tech_market_outflow_value``,
    ``tech_market_outflow_contracts``, ``hitech_revenue``. ``frame.attrs`` carries the unit
    and the sources (table, edition) for a footer.
    """
    s = load_public_series()
    s = s[(s["series"] == series) & s["region"].isin(list(regions))]
    if s.empty:
        raise ValueError(f"no public series {series!r} for {list(regions)}")
    wide = s.pivot_table(index="year", columns="region", values="value", aggfunc="first")
    wide = wide[[r for r in regions if r in wide.columns]]
    wide.attrs["unit"] = str(s["unit"].iloc[0])
    wide.attrs["name_zh"] = str(s["series_zh"].iloc[0])
    wide.attrs["sources"] = sorted(s["source"].unique().tolist())
    return wide


def pipeline_stages(pipelines: pd.DataFrame, pipeline: str) -> pd.DataFrame:
    """Candidates of one pipeline counted by stage (in the order of the pipeline's life)."""
    order = ["已认定", "评审中", "申报中", "储备", "未通过"]
    p = pipelines[pipelines["pipeline"] == pipeline]
    counts = p.groupby("stage").size().reindex(order).dropna().astype(int)
    return counts.rename("candidates").rename_axis("stage").reset_index()


# ---- display formatting (notebooks) ---------------------------------------------------------
# Tables as an analyst reads them: thousands separators, shares as %, units beside the
# numbers, "—" for a missing value. They return text frames for display only; compute with
# the numeric frames above.

_MISSING = "—"


def _number_text(x: object, digits: int | None, unit: str, percent: bool) -> str:
    if x is None or x is pd.NA or (isinstance(x, float | np.floating) and not np.isfinite(x)):
        return _MISSING
    if isinstance(x, bool | np.bool_):
        return "是" if x else "否"
    v = float(x)
    if percent:
        return f"{v * 100:,.{1 if digits is None else digits}f}%"
    text = f"{v:,.{2 if digits is None else digits}f}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def _column_digits(values: pd.Series) -> int:
    """Decimals a column needs (0, 1 or 2), the same for every row: 520 / 2.8 -> 1."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    v = v[np.isfinite(v)]
    for d in (0, 1):
        if np.allclose(np.round(v, d), np.round(v, 2), rtol=0, atol=1e-9):
            return d
    return 2


# Integer columns that are labels, not quantities: no thousands separator (2,024).
_PLAIN_COLUMNS = ("year", "rank", "month", "source_row")


def format_table(
    frame: pd.DataFrame,
    *,
    percent: Sequence[str] = (),
    unit: str = "",
    units: Mapping[str, str] | None = None,
    digits: int | Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """``frame`` as display text: every numeric column with thousands separators.

    ``percent``: columns holding shares (0..1) shown as ``12.3%``; ``unit``: the unit of
    every numeric column, ``units``: column -> unit where they differ (``"万元"``; ``"%"`` for
    values already in percent); ``digits``: decimals for every column or column -> decimals
    (default: as many as the column needs, at most two, the same in every row). Year, rank, month
    and row-number columns are written plainly; text columns are kept; missing values read
    ``—``; booleans 是/否. Index and column labels are unchanged.
    """
    units = dict(units or {})
    per_column = digits if isinstance(digits, Mapping) else {}
    out = {}
    for c in frame.columns:
        s = frame[c]
        if str(c) in _PLAIN_COLUMNS or str(c).endswith("_year"):
            out[c] = [_MISSING if pd.isna(v) else str(v) for v in s.tolist()]
        elif pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            d = per_column.get(c) if isinstance(digits, Mapping) else digits
            if d is None and c not in percent and not pd.api.types.is_bool_dtype(s):
                d = _column_digits(s)
            u = units.get(c, unit)
            out[c] = [_number_text(v, d, u, c in percent) for v in s.tolist()]
        else:
            out[c] = s.astype(object).where(s.notna(), _MISSING).tolist()
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def status_display(
    evaluation: Evaluation,
    target_ids: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The evaluation table as display text with Chinese headers, one row per target.

    Values are written in each target's unit (``4,531 项``, ``148.4 亿元``, ``2.81%``) as the
    briefing writes them; probabilities and 序时进度完成率 as %, the required run rate as
    ``1.35 倍``. ``target_ids`` chooses and orders the rows (default: all); ``columns`` the
    ``Evaluation.table`` columns to show (default: the analyst's columns, no English or codes).
    """
    from .charts import format_probability, format_value

    table = evaluation.table.set_index("target_id", drop=False)
    if target_ids is not None:
        table = table.loc[list(target_ids)]
    cols = list(columns) if columns is not None else list(_STATUS_DISPLAY_COLUMNS)
    valued = {"target", "actual_to_date", "point", "lower", "upper", "lower95", "upper95",
              "baseline_point"}  # fmt: skip
    rows = []
    for r in table.to_dict("records"):
        row = {}
        for c in cols:
            v = r[c]
            if c in valued:
                row[c] = format_value(v, r["unit"])
            elif c in ("p_meet", "schedule_share"):
                row[c] = format_probability(v)
            elif c == "required_run_rate":
                row[c] = _MISSING if pd.isna(v) else f"{v:.2f} 倍"
            elif c == "comparator":
                row[c] = COMPARATOR.get(v, v)
            else:
                row[c] = v
        rows.append(row)
    out = pd.DataFrame(rows, columns=cols, index=pd.Index(table["name_zh"].tolist(), name="指标"))
    return out.rename(columns={c: SUMMARY_COLUMNS[c][0] for c in cols if c in SUMMARY_COLUMNS})


_STATUS_DISPLAY_COLUMNS = ("comparator", "target", "actual_to_date", "point", "lower", "upper",
                           "p_meet", "status_zh", "baseline_point", "schedule_share",
                           "required_run_rate")  # fmt: skip
