"""One pipeline per raw kind: its schema (header synonyms, types, ranges, keys) and the steps
that turn parsed columns into the processed table of ``docs/data-contract.md``.

Each ``_derive_*`` is a pure ``(frame, SheetContext) -> frame`` step used through
``schema.derive``; rows a kind-specific rule rejects carry ``_rule``/``_column``/``_value``.
To accept another spelling of a header in a real export without a code change, add it to
``data/raw/header_synonyms.yaml`` (read by ``data.synonyms``; merged with the synonyms here).
"""

from __future__ import annotations

import bisect

import numpy as np
import pandas as pd

from .. import _arrowtext
from ..errors import SchemaError
from .rules import InRange, NotFuture, declare
from .schema import Field, Schema, SheetContext

declare(
    "cumulative_mismatch",
    zh="本月数与累计数不一致",
    en="monthly value disagrees with the cumulative column",
    fix=("核对本月数与累计数", "reconcile the monthly and cumulative columns"),
)
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

TECH_FIELDS = (
    "电子信息", "生物与新医药", "航空航天", "新材料",
    "高技术服务", "新能源与节能", "资源与环境", "先进制造与自动化",
)  # fmt: skip
CERT_STATUSES = ("有效", "已过期", "已撤销", "已迁出")
UNIT_TYPES = ("企业", "高校", "科研院所", "其他")
STAGES = ("储备", "申报中", "评审中", "已认定", "未通过")
PIPELINES = {
    "innovation_platforms": ("科创平台", "科技创新平台", "创新平台", "研发平台"),
    "innovation_buildings": ("创新创业楼宇", "楼宇", "双创楼宇"),
    "tech_vice_presidents": ("科技副总",),
    "district_talents": ("区级科技创新人才", "科技创新人才", "科技人才", "人才"),
}

# Plausibility ranges (inclusive; ``out_of_range`` outside) of amounts whose unit is easily
# mistyped. A district registers hundreds to hundreds of thousands of 万元 of technology
# contracts a month (the sample: 34,000-392,000); 1.52 there is a month typed in 亿元, 1.5e8
# one typed in 元 (a cumulative column in the wrong unit fails cumulative_mismatch). A district's GDP is tens to
# a few thousand 亿元 (天心区 ~1,500; the largest districts in China below 20,000); 14,124,000
# is a value in 万元. Documented in data/README.md.
VALUE_WAN_RANGE = (100.0, 2_000_000.0)  # 万元 per month (1-2月 combined included)
GDP_YI_RANGE = (10.0, 20_000.0)  # 亿元 per year

_NAME = ("企业名称", "企业全称", "单位名称", "纳税人名称", "企业(单位)名称")
_USCC = ("统一社会信用代码", "信用代码", "社会信用代码", "统一代码", "纳税人识别号")


def _reject(frame: pd.DataFrame, mask: pd.Series, rule: str, column: str, value: pd.Series):
    """Mark rows of ``frame`` (where ``mask``) as rejected by a kind-specific rule."""
    if "_rule" not in frame.columns:
        frame = frame.assign(_rule=None, _column=None, _value=None).astype(
            {"_rule": object, "_column": object, "_value": object}
        )
    hit = mask.fillna(False).astype(bool) & frame["_rule"].isna()
    if not hit.any():
        return frame
    rule_s = frame["_rule"].where(~hit, rule)
    col_s = frame["_column"].where(~hit, column)
    val_s = frame["_value"].where(~hit, value.astype(object))
    return frame.assign(_rule=rule_s, _column=col_s, _value=val_s)


def _year_from(frame: pd.DataFrame, ctx: SheetContext, *candidates: str) -> pd.Series:
    year = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    for c in candidates:
        if c in frame.columns:
            year = year.fillna(frame[c].astype("Int64"))
    if ctx.context_year is not None:
        year = year.fillna(ctx.context_year)
    return year


def _int64(s: pd.Series) -> pd.Series:
    return s.astype("Int64").fillna(-1).astype("int64")


# ----------------------------------------------------------------------------- certificates


_SPACE = _arrowtext.byte_table(b" ")


def _without_spaces(s: pd.Series) -> pd.Series:
    # A byte scan answers "any space at all?" for 10^6 certificate numbers in milliseconds;
    # the replace (a new array of every value) runs only when one is there.
    if _arrowtext.is_arrow_text(s) and not _arrowtext.any_byte_in(s, _SPACE):
        return s
    return s.str.replace(" ", "", regex=False)


def _derive_certificates(df: pd.DataFrame, ctx: SheetContext) -> pd.DataFrame:
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
            "year": _int64(year),
            "expiry_year": _int64(year + 3),
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


HITECH_CERTIFICATES = Schema(
    kind="hitech_certificates",
    fields=(
        Field("enterprise_name", _NAME, "name"),
        Field("uscc", _USCC, "uscc"),
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
)


# ----------------------------------------------------------------------------- tech SMEs


def _derive_smes(df: pd.DataFrame, ctx: SheetContext) -> pd.DataFrame:
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
            "year": _int64(year),
            "batch": batch.astype("Int64"),
        },
        index=df.index,
        copy=False,  # copy-on-write guards shared columns; a copy would only cost time
    )
    empty = pd.Series("", index=df.index, dtype=object)
    out = _reject(out, year.isna(), "missing_required", "year", empty)
    # A registration dated in another year than the one it is filed under is a typo.
    off = year.notna() & date.notna() & (date.dt.year.astype("Int64") != year)
    return _reject(out, off, "out_of_range", "registration_date", date.astype("str"))


TECH_SME_REGISTRATIONS = Schema(
    kind="tech_sme_registrations",
    fields=(
        Field(
            "registration_no", ("入库登记编号", "登记编号", "入库编号", "评价编号"), required=False
        ),
        Field("enterprise_name", _NAME, "name"),
        Field("uscc", _USCC, "uscc"),
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
)


# ----------------------------------------------------------------------------- contracts


def _derive_contracts(df: pd.DataFrame, ctx: SheetContext) -> pd.DataFrame:
    year = _year_from(df, ctx, "year", "period_year")
    out = pd.DataFrame(
        {
            "year": _int64(year),
            "month": _int64(df["period_end"]),
            "months_covered": _int64(df["period_end"] - df["period_start"] + 1),
            "contracts": df["contracts"].astype("float64"),
            "value_wan": df["value_wan"].astype("float64"),
            "contracts_cum": df.get("contracts_cum", pd.Series(np.nan, index=df.index)),
            "value_cum_wan": df.get("value_cum_wan", pd.Series(np.nan, index=df.index)),
        },
        index=df.index,
        copy=False,  # copy-on-write guards shared columns; a copy would only cost time
    )
    empty = pd.Series("", index=df.index, dtype=object)
    return _reject(out, year.isna(), "missing_required", "year", empty)


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


TECH_CONTRACTS = Schema(
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
    columns=("year", "month", "months_covered", "contracts", "value_wan"),
    derive=_derive_contracts,
    sheet_checks=_check_cumulative,
)


# ----------------------------------------------------------------------------- value added


def _derive_value_added(df: pd.DataFrame, ctx: SheetContext) -> pd.DataFrame:
    year = _year_from(df, ctx, "year", "period_year")
    out = pd.DataFrame(
        {
            "year": _int64(year),
            "month": _int64(df["period_end"]),
            "va_cum_yi": df["va_cum_yi"].astype("float64"),
            "growth_cum_pct": df["growth_cum_pct"].astype("float64"),
        },
        index=df.index,
        copy=False,  # copy-on-write guards shared columns; a copy would only cost time
    )
    empty = pd.Series("", index=df.index, dtype=object)
    out = _reject(out, year.isna(), "missing_required", "year", empty)
    # Cumulative figures run from January: "3-5月" is not a cumulative period.
    not_cum = df["period_start"].notna() & (df["period_start"] != 1)
    return _reject(out, not_cum, "invalid_period", "period", df["period_end"].astype("str"))


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


HITECH_VALUE_ADDED = Schema(
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
    columns=("year", "month", "va_cum_yi", "growth_cum_pct"),
    derive=_derive_value_added,
    sheet_checks=_check_value_added,
)


# ----------------------------------------------------------------------------- R&D and GDP


def _derive_rd(df: pd.DataFrame, ctx: SheetContext) -> pd.DataFrame:
    year = _year_from(df, ctx, "year")
    out = pd.DataFrame(
        {
            "unit_name": df["unit_name"],
            "uscc": df["uscc"],
            "unit_type": df["unit_type"],
            "year": _int64(year),
            "rd_expenditure_wan": df["rd_expenditure_wan"].astype("float64"),
        },
        index=df.index,
        copy=False,  # copy-on-write guards shared columns; a copy would only cost time
    )
    empty = pd.Series("", index=df.index, dtype=object)
    return _reject(out, year.isna(), "missing_required", "year", empty)


RD_EXPENDITURE = Schema(
    kind="rd_expenditure",
    fields=(
        Field("unit_name", ("单位名称", "单位详细名称", "企业名称", "填报单位"), "name"),
        Field("uscc", _USCC, "uscc"),
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
)


def _derive_gdp(df: pd.DataFrame, ctx: SheetContext) -> pd.DataFrame:
    return pd.DataFrame(
        {"year": _int64(df["year"]), "gdp_yi": df["gdp_yi"].astype("float64")}, index=df.index
    )


DISTRICT_GDP = Schema(
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
)


# ----------------------------------------------------------------------------- pipelines


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
    names = {sh: pipeline_of_sheet(sh, "") for sh in ctx.sheet.unique()}
    pipeline = ctx.sheet.map(names).astype("str")
    year = _year_from(df, ctx, "year")
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
            "year": _int64(year),
            # the unit in charge (an office, not a person: 联系人 / 联系电话 are never read)
            "responsible_unit": df["responsible_unit"] if "responsible_unit" in df.columns
            else pd.Series(pd.NA, index=df.index, dtype="str"),
        },
        index=df.index,
        copy=False,  # copy-on-write guards shared columns; a copy would only cost time
    )  # fmt: skip
    empty = pd.Series("", index=df.index, dtype=object)
    return _reject(out, year.isna(), "missing_required", "year", empty)


PIPELINE_SCHEMA = Schema(
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
)


SCHEMAS: dict[str, Schema] = {
    s.kind: s
    for s in (
        HITECH_CERTIFICATES, TECH_SME_REGISTRATIONS, TECH_CONTRACTS, HITECH_VALUE_ADDED,
        RD_EXPENDITURE, DISTRICT_GDP, PIPELINE_SCHEMA,
    )
}  # fmt: skip
KINDS: tuple[str, ...] = tuple(SCHEMAS)
