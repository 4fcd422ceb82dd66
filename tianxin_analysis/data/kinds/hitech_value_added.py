"""高新技术产业增加值: one row per month of the year's cumulative value added and growth."""

from __future__ import annotations

import bisect

import numpy as np
import pandas as pd

from ..declaration import Field, Schema, SheetContext, int64, missing_year, reject, year_from
from ..rules import InRange, declare

declare(
    "cumulative_falls",
    zh="累计值在年内回落（与本年其他月份的累计数不一致）",
    en="cumulative value falls within the year (disagrees with the year's other months)",
    fix=(
        "核对该月及上月的累计数（是否录入错误或口径调整）",
        "check this and the previous month's cumulative figures (typo or revised scope?)",
    ),
)
declare(
    "growth_fraction",
    zh="增速列为百分比，但数值像小数（0.121 应为 12.1%）",
    en="growth column is in percent but the value looks like a fraction (0.121 for 12.1%)",
    fix=(
        "按百分数填写增速（12.1 或 12.1%），或将单元格设为百分比格式",
        "enter growth in percent (12.1 or 12.1%), or format the cells as percent",
    ),
)


def _derive_value_added(df: pd.DataFrame, ctx: SheetContext) -> pd.DataFrame:
    """Year, month and the cumulative figures; a period not starting in January is
    ``invalid_period``, a row without a year ``missing_required``."""
    year = year_from(df, ctx, "year", "period_year")
    out = pd.DataFrame(
        {
            "year": int64(year),
            "month": int64(df["period_end"]),
            "va_cum_yi": df["va_cum_yi"].astype("float64"),
            "growth_cum_pct": df["growth_cum_pct"].astype("float64"),
        },
        index=df.index,
        copy=False,  # copy-on-write guards shared columns; a copy would only cost time
    )
    out = missing_year(out, year)
    # Cumulative figures run from January: "3-5月" is not a cumulative period.
    not_cum = df["period_start"].notna() & (df["period_start"] != 1)
    return reject(out, not_cum, "invalid_period", "period", df["period_end"].astype("str"))


def _rising_part(values: list[float]) -> set[int]:
    """Positions of a longest non-decreasing subsequence of ``values`` (patience sorting)."""
    tails: list[float] = []  # smallest last value of a rising run of each length
    tail_at: list[int] = []
    back: list[int] = []
    for i, v in enumerate(values):
        k = bisect.bisect_right(tails, v)
        if k == len(tails):
            tails.append(v)
            tail_at.append(i)
        else:
            tails[k], tail_at[k] = v, i
        back.append(tail_at[k - 1] if k else -1)
    keep, i = set(), tail_at[-1] if tail_at else -1
    while i >= 0:
        keep.add(i)
        i = back[i]
    return keep


def _check_cumulative_rises(df: pd.DataFrame) -> pd.DataFrame:
    """Rows that make a year's cumulative value added fall (343 -> 300 -> 447 亿元).

    A cumulative figure from January cannot fall within a year. The months kept are a
    longest rising run of the year's series; the others are flagged: one mistyped month
    (200 -> 300 among 160, 240) is flagged alone, not the correct months after it. A
    monthly series has a dozen rows a year, so a plain loop is the clearest way.
    """
    d = df.sort_values(["year", "month"], kind="stable")
    value = d["va_cum_yi"].astype("float64")
    hit = np.zeros(len(d), dtype=bool)
    for positions in d.groupby("year", sort=False).indices.values():
        present = [p for p in positions if pd.notna(value.iloc[p])]
        rising = _rising_part([float(value.iloc[p]) for p in present])
        hit[[p for j, p in enumerate(present) if j not in rising]] = True
    return pd.DataFrame(
        {"_rule": "cumulative_falls", "_column": "va_cum_yi",
         "_value": value[hit].map(lambda v: f"{v:g}")},
        index=d.index[hit],
    )  # fmt: skip


def _check_growth_fraction(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of a year whose percent growth figures are all fractions of one.

    Growth typed as 0.121 for 12.1% (a percent cell exported without its format, or a
    fraction pasted into a % column) would be read as 0.121% and pass the -50..100 range.
    A year where every one of at least three growth figures lies within (-1, 1), not all
    zero, is refused row by row with the reason and the fix; a year mixing 0.8 with 12.1
    is read as written.
    """
    growth = df["growth_cum_pct"].astype("float64")
    present = growth.notna()
    small = (growth.abs() < 1) | ~present
    by_year = pd.DataFrame({"n": present, "small": small, "nonzero": present & (growth != 0)})
    per_year = by_year.groupby(df["year"].to_numpy(), sort=False).agg(
        {"n": "sum", "small": "all", "nonzero": "any"}
    )
    fraction = per_year.index[(per_year["n"] >= 3) & per_year["small"] & per_year["nonzero"]]
    hit = present.to_numpy() & df["year"].isin(fraction).to_numpy()
    return pd.DataFrame(
        {"_rule": "growth_fraction", "_column": "growth_cum_pct",
         "_value": growth[hit].map(lambda v: f"{v:g}")},
        index=df.index[hit],
    )  # fmt: skip


def _check_value_added(df: pd.DataFrame) -> pd.DataFrame:
    """The value-added sheet checks: growth typed as fractions, then cumulative falls."""
    flagged = pd.concat([_check_growth_fraction(df), _check_cumulative_rises(df)])
    return flagged[~flagged.index.duplicated(keep="first")]


KIND = Schema(
    kind="hitech_value_added",
    fields=(
        Field("period", ("时期", "月份", "统计时期", "期间", "累计期间"), "period"),
        Field(
            "va_cum_yi",
            ("累计增加值", "高新技术产业增加值", "增加值", "累计值", "本年累计"),
            "amount",
            unit="yi",
        ),
        Field(
            "growth_cum_pct",
            ("累计增长", "累计增速", "增速", "同比增长", "比上年同期增长", "累计增长率"),
            "number",
            checks=(InRange(-50, 100),),
        ),
        Field("year", ("年份", "年度"), "year", required=False),
    ),  # fmt: skip
    key=("year", "month"),
    month="month",
    columns=("year", "month", "va_cum_yi", "growth_cum_pct"),
    derive=_derive_value_added,
    sheet_checks=_check_value_added,
    dtypes={"year": "int64", "month": "int64"},
)
