"""高新技术企业 certificates: one row per certificate (enterprise, code, issue date, field)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..declaration import Field, Schema, SheetContext, int64
from ..rules import NotFuture
from ._headers import ENTERPRISE_NAME_HEADERS, USCC_HEADERS

TECH_FIELDS = (
    "电子信息", "生物与新医药", "航空航天", "新材料",
    "高技术服务", "新能源与节能", "资源与环境", "先进制造与自动化",
)  # fmt: skip
CERT_STATUSES = ("有效", "已过期", "已撤销", "已迁出")


def _without_spaces(s: pd.Series) -> pd.Series:
    """Certificate numbers without the spaces some exports put in them."""
    # The replace (a new array of every value) runs only when a space is there at all.
    if not s.str.contains(" ", regex=False).any():
        return s
    return s.str.replace(" ", "", regex=False)


def _derive_certificates(df: pd.DataFrame, ctx: SheetContext) -> pd.DataFrame:
    """Certificate rows: year and expiry year (issue year + 3), status (implied from the
    expiry when the export has no status column)."""
    year = df["issue_date"].dt.year.astype("Int64")
    status = (
        df["status"] if "status" in df.columns else pd.Series(None, index=df.index, dtype=object)
    )
    # Without a status column: valid while the certificate has not expired.
    this_year = pd.Timestamp.today().year
    miss = status.isna().to_numpy()
    if miss.any():  # the implied status only where it is used (no 10^6-row text array)
        alive = (year[miss] + 3 > this_year).fillna(False).astype(bool)
        status = status.fillna(pd.Series(np.where(alive, "有效", "已过期"), index=alive.index))
    out = pd.DataFrame(
        {
            "enterprise_name": df["enterprise_name"],
            "uscc": df["uscc"],
            "certificate_no": _without_spaces(df["certificate_no"]),
            "issue_date": df["issue_date"],
            "year": int64(year),
            "expiry_year": int64(year + 3),
            "tech_field": df["tech_field"],
            "park": df["park"]
            if "park" in df.columns
            else pd.Series(pd.NA, index=df.index, dtype="str"),
            "status": status.astype("str"),
        },
        index=df.index,
        copy=False,  # copy-on-write guards shared columns; a copy would only cost time
    )
    return out


KIND = Schema(
    kind="hitech_certificates",
    fields=(
        Field("enterprise_name", ENTERPRISE_NAME_HEADERS, "name"),
        Field("uscc", USCC_HEADERS, "uscc"),
        Field("certificate_no", ("证书编号", "证书号", "高企证书编号", "高新技术企业证书编号")),
        Field(
            "issue_date",
            ("发证日期", "发证时间", "认定日期", "认定时间", "颁证日期"),
            "date",
            checks=(NotFuture(),),
        ),
        Field(
            "tech_field",
            ("技术领域", "高新技术领域", "所属技术领域", "所属高新技术领域"),
            "category",
            categories=TECH_FIELDS,
            aliases={
                "生物与新医药技术": "生物与新医药",
                "航空航天技术": "航空航天",
                "新材料技术": "新材料",
                "高新技术服务业": "高技术服务",
                "新能源及节能技术": "新能源与节能",
                "资源与环境技术": "资源与环境",
                "高新技术改造传统产业": "先进制造与自动化",
            },
        ),
        Field("park", ("所属园区", "所在园区", "园区"), required=False),
        Field(
            "status",
            ("状态", "证书状态", "认定状态"),
            "category",
            required=False,
            categories=CERT_STATUSES,
            aliases={
                "正常": "有效",
                "在有效期内": "有效",
                "过期": "已过期",
                "失效": "已过期",
                "撤销": "已撤销",
                "取消": "已撤销",
                "迁出": "已迁出",
            },
        ),
    ),  # fmt: skip
    key=("uscc", "year"),
    columns=(
        "enterprise_name",
        "uscc",
        "certificate_no",
        "issue_date",
        "year",
        "expiry_year",
        "tech_field",
        "park",
        "status",
    ),  # fmt: skip
    derive=_derive_certificates,
    entity_name="enterprise_name",
    identifier="uscc",
    dtypes={"year": "int64", "expiry_year": "int64"},
)
