"""技术合同 registrations: one row per month (contracts and value, with cumulative checks)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..declaration import Field, Schema, SheetContext, int64, missing_year, year_from
from ..rules import InRange, declare

# Plausibility range (inclusive; ``out_of_range`` outside) of a month's contract value, a
# unit easily mistyped. A district registers hundreds to hundreds of thousands of 万元 of
# technology contracts a month (the sample: 34,000-392,000); 1.52 there is a month typed in
# 亿元, 1.5e8 one typed in 元 (a cumulative column in the wrong unit fails
# cumulative_mismatch). Documented in data/README.md.
VALUE_WAN_RANGE = (100.0, 2_000_000.0)  # 万元 per month (1-2月 combined included)

declare(
    "cumulative_mismatch",
    zh="本月数与累计数不一致",
    en="monthly value disagrees with the cumulative column",
    fix=("核对本月数与累计数", "reconcile the monthly and cumulative columns"),
)


def _derive_contracts(df: pd.DataFrame, ctx: SheetContext) -> pd.DataFrame:
    """Year, month, months covered (2 for 1-2月) and the month's figures; the cumulative
    columns are kept for the cross-row check, not output."""
    year = year_from(df, ctx, "year", "period_year")
    out = pd.DataFrame(
        {
            "year": int64(year),
            "month": int64(df["period_end"]),
            "months_covered": int64(df["period_end"] - df["period_start"] + 1),
            "contracts": df["contracts"].astype("float64"),
            "value_wan": df["value_wan"].astype("float64"),
            "contracts_cum": df.get("contracts_cum", pd.Series(np.nan, index=df.index)),
            "value_cum_wan": df.get("value_cum_wan", pd.Series(np.nan, index=df.index)),
        },
        index=df.index,
        copy=False,  # copy-on-write guards shared columns; a copy would only cost time
    )
    return missing_year(out, year)


def _check_cumulative(df: pd.DataFrame) -> pd.DataFrame:
    """Rows whose monthly value disagrees with the cumulative columns.

    A row is flagged when its cumulative differs both from the running sum of the monthly
    values and from the previous cumulative plus this month: that localises the one bad
    row, whether the wrong number is the monthly or the cumulative one.

    ``df`` holds the rows that passed every other rule, so a month may be missing (absent
    from the sheet or already quarantined). Both comparisons need the months before a row:
    after a gap the checks restart from the first row past the gap (running sum anchored on
    its cumulative), which cannot itself be checked. Without that, the correct month after a
    quarantined one would fail both comparisons and be quarantined too.
    """
    d = df.sort_values(["year", "month"], kind="stable")
    first_of_year = d["year"].ne(d["year"].shift(1))
    starts = d["month"] - d["months_covered"]  # last month before this period (0: January)
    contiguous = ~first_of_year & starts.eq(d["month"].shift(1))
    from_january = first_of_year & starts.eq(0)
    segment = (~contiguous).cumsum()
    anchored = from_january.groupby(segment).transform("first")  # segment starts in January
    checkable = contiguous | from_january
    flagged = []
    for cum_col, col, tol_rel in (
        ("contracts_cum", "contracts", 0.0),
        ("value_cum_wan", "value_wan", 1e-3),
    ):
        has = d[cum_col].notna()
        if not has.any():
            continue
        g = d.groupby(segment, sort=False)
        # Running sum from January, or from the cumulative of the first row after a gap.
        base = g[cum_col].transform("first").where(~anchored, 0.0)
        base_month = g[col].transform("first").where(~anchored, 0.0)
        running = g[col].cumsum() + base - base_month
        prev_cum = g[cum_col].shift(1).fillna(0.0)
        tol = np.maximum(0.5 if tol_rel == 0 else 1.0, tol_rel * d[cum_col].abs())
        bad_running = (d[cum_col] - running).abs() > tol
        bad_step = (d[cum_col] - prev_cum - d[col]).abs() > tol
        hit = has & checkable & bad_running & bad_step
        if hit.any():
            flagged.append(
                pd.DataFrame(
                    {
                        "_rule": "cumulative_mismatch",
                        "_column": cum_col,
                        "_value": d.loc[hit, cum_col].map(lambda v: f"{v:g}"),
                    },
                    index=d.index[hit],
                )  # fmt: skip
            )
    if not flagged:
        return pd.DataFrame(columns=["_rule", "_column", "_value"])
    out = pd.concat(flagged)
    return out[~out.index.duplicated(keep="first")]


KIND = Schema(
    kind="tech_contracts",
    fields=(
        Field("period", ("月份", "时期", "统计月份", "期间", "统计期间"), "period"),
        Field(
            "contracts",
            (
                "本月/合同数",
                "本月合同数",
                "合同数",
                "合同项数",
                "登记合同数",
                "项数",
                "本月/合同项数",
                "本月/项数",
                "本月/登记合同数",
                "技术合同登记数",  # the registry's own word; over 本月 | 累计 in its monthly report
                "技术合同数",
            ),
            "number",
            checks=(InRange(0),),
        ),
        Field(
            "value_wan",
            (
                "本月/成交额",
                "本月成交额",
                "成交额",
                "合同金额",
                "合同成交额",
                "技术合同成交额",
                "本月/合同成交额",
                "本月/合同金额",
                "本月/技术合同成交额",
            ),
            "amount",
            unit="wan",
            checks=(InRange(*VALUE_WAN_RANGE),),
        ),
        Field(
            "contracts_cum",
            (
                "累计/合同数",
                "累计合同数",
                "累计/合同项数",
                "累计/项数",
                "累计/登记合同数",
                "累计/技术合同登记数",
                "累计/技术合同数",
            ),  # fmt: skip
            "number",
            required=False,
            checks=(InRange(0),),
        ),
        Field(
            "value_cum_wan",
            (
                "累计/成交额",
                "累计成交额",
                "累计/合同成交额",
                "累计/合同金额",
                "累计/技术合同成交额",
            ),
            "amount",
            required=False,
            unit="wan",
        ),
        Field("year", ("年份", "年度"), "year", required=False),
    ),  # fmt: skip
    key=("year", "month"),
    month="month",
    columns=("year", "month", "months_covered", "contracts", "value_wan"),
    derive=_derive_contracts,
    sheet_checks=_check_cumulative,
    dtypes={"year": "int64", "month": "int64", "months_covered": "int64"},
)
