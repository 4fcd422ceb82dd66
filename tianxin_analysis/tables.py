"""Analysis tables the notebooks and briefings show beside the forecasts.

Pure functions of processed tables (``data.load_processed``) and forecast outputs; they
return tidy frames with English column names (notebooks relabel with ``labels``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .data.public import load_public_series


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
