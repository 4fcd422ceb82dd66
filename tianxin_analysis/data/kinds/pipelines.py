"""Pipelines of candidates (platforms, buildings, vice presidents, talents): one row per candidate and plan year; the sheet name says which pipeline."""

from __future__ import annotations

import pandas as pd

from ...errors import SchemaError
from ..declaration import Field, Schema, SheetContext, int64, missing_year, year_from
from ..rules import NotFuture

STAGES = ("储备", "申报中", "评审中", "已认定", "未通过")
PIPELINES = {
    "innovation_platforms": ("科创平台", "科技创新平台", "创新平台", "研发平台"),
    "innovation_buildings": ("创新创业楼宇", "楼宇", "双创楼宇"),
    "tech_vice_presidents": ("科技副总",),
    "district_talents": ("区级科技创新人才", "科技创新人才", "科技人才", "人才"),
}


def pipeline_of_sheet(sheet: str, file: str) -> str:
    """Which pipeline a sheet holds, from its name (longest matching word wins)."""
    hits = [(len(w), p) for p, words in PIPELINES.items() for w in words if w in sheet]
    if not hits:
        raise SchemaError(
            "无法识别台账类型",
            "cannot tell which pipeline this sheet holds",
            file=file,
            sheet=sheet or None,
            found=sheet,
            expected="工作表名含 sheet name containing one of: "
            + "、".join(w for words in PIPELINES.values() for w in words),
        )
    return max(hits)[1]


def _derive_pipelines(df: pd.DataFrame, ctx: SheetContext) -> pd.DataFrame:
    """Candidate rows with their pipeline (from the sheet name); a recognition date only
    for recognised candidates."""
    names = {sh: pipeline_of_sheet(sh, "") for sh in ctx.sheet.unique()}
    pipeline = ctx.sheet.map(names).astype("str")
    year = year_from(df, ctx, "year")
    nat = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    recognized = df["recognized_date"] if "recognized_date" in df.columns else nat
    out = pd.DataFrame(
        {
            "pipeline": pipeline,
            "candidate": df["candidate"],
            "category": df["category"] if "category" in df.columns else pd.Series(
                pd.NA, index=df.index, dtype="str"),
            "stage": df["stage"],
            "expected_date": df["expected_date"] if "expected_date" in df.columns else nat,
            "recognized_date": recognized.where(df["stage"] == "已认定"),
            "year": int64(year),
            # the unit in charge (an office, not a person: 联系人 / 联系电话 are never read)
            "responsible_unit": df["responsible_unit"] if "responsible_unit" in df.columns
            else pd.Series(pd.NA, index=df.index, dtype="str"),
        },
        index=df.index,
        copy=False,  # copy-on-write guards shared columns; a copy would only cost time
    )  # fmt: skip
    return missing_year(out, year)


KIND = Schema(
    kind="pipelines",
    fields=(
        Field(
            "candidate",
            ("项目名称", "平台名称", "楼宇名称", "姓名", "候选人", "人才姓名", "名称", "候选对象"),
        ),
        Field("category", ("类别", "类型", "平台类别", "人才类别", "级别"), required=False),
        Field(
            "stage",
            ("推进阶段", "阶段", "状态", "进展", "当前阶段"),
            "category",
            categories=STAGES,
            aliases={
                "已通过": "已认定",
                "认定": "已认定",
                "已选派": "已认定",
                "入选": "已认定",
                "已入选": "已认定",
                "申报": "申报中",
                "已申报": "申报中",
                "评审": "评审中",
                "谋划": "储备",
                "待申报": "储备",
                "未认定": "未通过",
                "不通过": "未通过",
            },
        ),
        Field(
            "expected_date",
            ("预计认定时间", "预计完成时间", "预计时间", "计划认定时间"),
            "date",
            required=False,
        ),
        Field(
            "recognized_date",
            ("认定时间", "认定日期", "实际认定时间", "选派时间", "入选时间"),
            "date",
            required=False,
            checks=(NotFuture(),),
        ),
        Field("year", ("计划年度", "年度"), "year", required=False),
        Field("responsible_unit", ("责任单位", "牵头单位", "负责单位", "承办单位"), required=False),
    ),  # fmt: skip
    key=("pipeline", "candidate", "year"),
    columns=(
        "pipeline",
        "candidate",
        "category",
        "stage",
        "expected_date",
        "recognized_date",
        "year",
        "responsible_unit",
    ),  # fmt: skip
    derive=_derive_pipelines,
    validate_sheet=pipeline_of_sheet,
    dtypes={"year": "int64"},
)
