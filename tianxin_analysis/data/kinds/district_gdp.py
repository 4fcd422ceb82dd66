"""地区生产总值 (district GDP): one row per year."""

from __future__ import annotations

import pandas as pd

from ..declaration import Field, Schema, SheetContext, int64
from ..rules import InRange

# A district's GDP is tens to a few thousand 亿元 (天心区 ~1,500; the largest districts in
# China below 20,000); 14,124,000 is a value in 万元. Documented in data/README.md.
GDP_YI_RANGE = (10.0, 20_000.0)  # 亿元 per year


def _derive_gdp(df: pd.DataFrame, ctx: SheetContext) -> pd.DataFrame:
    """Year and GDP (亿元) of each row."""
    return pd.DataFrame(
        {"year": int64(df["year"]), "gdp_yi": df["gdp_yi"].astype("float64")}, index=df.index
    )


KIND = Schema(
    kind="district_gdp",
    fields=(
        Field("year", ("年份", "年度", "统计年度"), "year"),
        Field(
            "gdp_yi",
            ("地区生产总值", "GDP", "生产总值", "地区生产总值(GDP)"),
            "amount",
            unit="yi",
            checks=(InRange(*GDP_YI_RANGE),),
        ),
    ),  # fmt: skip
    key=("year",),
    columns=("year", "gdp_yi"),
    derive=_derive_gdp,
    dtypes={"year": "int64"},
)
