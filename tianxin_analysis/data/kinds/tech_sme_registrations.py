"""科技型中小企业 registrations: one row per enterprise and evaluation year."""

from __future__ import annotations

import pandas as pd

from ..declaration import Field, Schema, SheetContext, int64, missing_year, reject
from ..rules import NotFuture
from ._headers import ENTERPRISE_NAME_HEADERS, USCC_HEADERS


def _derive_smes(df: pd.DataFrame, ctx: SheetContext) -> pd.DataFrame:
    """Registration rows: the year from the year column, else the registration date, else
    the sheet; a date in another year than the row's is ``out_of_range``."""
    date = df["registration_date"] if "registration_date" in df.columns else pd.Series(
        pd.NaT, index=df.index, dtype="datetime64[ns]"
    )  # fmt: skip
    year = df["year"].astype("Int64") if "year" in df.columns else pd.Series(
        pd.NA, index=df.index, dtype="Int64"
    )  # fmt: skip
    year = year.fillna(date.dt.year.astype("Int64"))
    if ctx.context_year is not None:
        year = year.fillna(ctx.context_year)
    batch = (
        df["batch"] if "batch" in df.columns else pd.Series(pd.NA, index=df.index, dtype="Int64")
    )
    reg_no = df["registration_no"] if "registration_no" in df.columns else pd.Series(
        pd.NA, index=df.index, dtype="str"
    )  # fmt: skip
    out = pd.DataFrame(
        {
            "registration_no": reg_no.astype("str"),
            "enterprise_name": df["enterprise_name"],
            "uscc": df["uscc"],
            "registration_date": date,
            "year": int64(year),
            "batch": batch.astype("Int64"),
        },
        index=df.index,
        copy=False,  # copy-on-write guards shared columns; a copy would only cost time
    )
    out = missing_year(out, year)
    # A registration dated in another year than the one it is filed under is a typo.
    off = year.notna() & date.notna() & (date.dt.year.astype("Int64") != year)
    return reject(out, off, "out_of_range", "registration_date", date.astype("str"))


KIND = Schema(
    kind="tech_sme_registrations",
    fields=(
        Field(
            "registration_no", ("入库登记编号", "登记编号", "入库编号", "评价编号"), required=False
        ),
        Field("enterprise_name", ENTERPRISE_NAME_HEADERS, "name"),
        Field("uscc", USCC_HEADERS, "uscc"),
        Field(
            "registration_date",
            ("入库日期", "入库时间", "登记日期", "评价入库日期", "入库登记日期"),
            "date",
            required=False,
            checks=(NotFuture(),),
        ),
        Field("batch", ("批次", "入库批次", "评价批次"), "batch", required=False),
        Field("year", ("年度", "评价年度", "入库年度", "年份"), "year", required=False),
    ),  # fmt: skip
    key=("uscc", "year"),
    columns=("registration_no", "enterprise_name", "uscc", "registration_date", "year", "batch"),
    derive=_derive_smes,
    entity_name="enterprise_name",
    identifier="uscc",
    dtypes={"year": "int64", "batch": "Int64"},
)
