"""研发经费 (R&D expenditure): one row per reporting unit and year."""

from __future__ import annotations

import pandas as pd

from ..declaration import Field, Schema, SheetContext, int64, missing_year, year_from
from ._headers import USCC_HEADERS

UNIT_TYPES = ("企业", "高校", "科研院所", "其他")


def _derive_rd(df: pd.DataFrame, ctx: SheetContext) -> pd.DataFrame:
    """Unit, code, type, year and R&D expenditure (万元) of each row."""
    year = year_from(df, ctx, "year")
    out = pd.DataFrame(
        {
            "unit_name": df["unit_name"],
            "uscc": df["uscc"],
            "unit_type": df["unit_type"],
            "year": int64(year),
            "rd_expenditure_wan": df["rd_expenditure_wan"].astype("float64"),
        },
        index=df.index,
        copy=False,  # copy-on-write guards shared columns; a copy would only cost time
    )
    return missing_year(out, year)


KIND = Schema(
    kind="rd_expenditure",
    fields=(
        Field("unit_name", ("单位名称", "单位详细名称", "企业名称", "填报单位"), "name"),
        Field("uscc", USCC_HEADERS, "uscc"),
        Field(
            "unit_type",
            ("单位类型", "单位类别", "执行部门", "类型"),
            "category",
            categories=UNIT_TYPES,
            aliases={
                "高等学校": "高校",
                "高等院校": "高校",
                "大学": "高校",
                "研究机构": "科研院所",
                "科研机构": "科研院所",
                "研究与开发机构": "科研院所",
                "工业企业": "企业",
                "规上企业": "企业",
            },
        ),
        Field("year", ("统计年度", "年度", "年份"), "year", required=False),
        Field(
            "rd_expenditure_wan",
            (
                "研发经费内部支出",
                "R&D经费支出",
                "R&D经费内部支出",
                "研发经费支出",
                "研发经费",
                "研发投入",
            ),
            "amount",
            unit="wan",
        ),
    ),  # fmt: skip
    key=("uscc", "year"),
    columns=("unit_name", "uscc", "unit_type", "year", "rd_expenditure_wan"),
    derive=_derive_rd,
    entity_name="unit_name",
    identifier="uscc",
    dtypes={"year": "int64"},
)
