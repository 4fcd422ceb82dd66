"""Quarantine rules as a registry: each rule is registered once, with its reason and its fix.

A rule is a pure function of a column's typed values that returns a boolean mask (True: the
row fails), registered with ``@rule``::

    @rule("future_date", zh="日期晚于数据截止日", en="date is after the data's as-of date",
          fix=("核对日期录入", "check the date entry"))
    def future_date(values: pd.Series, ctx: RuleContext) -> pd.Series:
        return values > ctx.today

A field lists the checks that apply to it, in precedence order (the first failing one is the
row's reason): ``Field(..., checks=(InRange(100, 2e6), NotFuture()))``. ``elementwise=True``
(the default) promises that a value's verdict depends on that value alone, so the fast engine
may evaluate the rule once per distinct value; a rule that looks at the whole column (a
median, a rank) says ``elementwise=False`` and is evaluated over the rows.

Reasons the engines raise themselves (a cell that does not parse, a duplicate, a row that is
a footnote) are registered with :func:`declare` and have no mask function. The quarantine
table's ``reason_zh``/``reason_en`` and notebook 02's fix column are read from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

QUARANTINE_COLUMNS = (
    "kind", "source_file", "source_sheet", "source_row", "column", "value",
    "rule", "reason_zh", "reason_en",
)  # fmt: skip

# What an analyst is told when a rule has no fix text of its own.
DEFAULT_FIX = ("请核对源数据", "check the source data")


@dataclass(frozen=True)
class RuleContext:
    """What a rule may know besides the values: the run's as-of date."""

    today: pd.Timestamp


@dataclass(frozen=True)
class Rule:
    """One registered quarantine rule: its code, reason, fix and (if any) mask function."""

    code: str
    zh: str
    en: str
    fix: tuple[str, str] = DEFAULT_FIX
    elementwise: bool = True
    # (typed values, context, **params) -> bool mask; None for reasons an engine raises
    func: Callable[..., pd.Series] | None = None


_RULES: dict[str, Rule] = {}
RULES: Mapping[str, Rule] = MappingProxyType(_RULES)


def _register(r: Rule) -> Rule:
    """Add ``r`` to the registry; the same code twice must mean the same rule."""
    known = _RULES.get(r.code)
    if known is not None and known != r:
        raise ValueError(f"quarantine rule {r.code!r} is already registered differently")
    _RULES[r.code] = r
    return r


def rule(
    code: str, *, zh: str, en: str, fix: tuple[str, str] = DEFAULT_FIX, elementwise: bool = True
) -> Callable[[Callable[..., pd.Series]], Callable[..., pd.Series]]:
    """Register the decorated ``func(values, ctx, **params) -> bool mask`` as rule ``code``."""

    def register(func: Callable[..., pd.Series]) -> Callable[..., pd.Series]:
        """Register ``func`` and hand it back unchanged."""
        _register(Rule(code, zh, en, tuple(fix), elementwise, func))
        return func

    return register


def declare(code: str, *, zh: str, en: str, fix: tuple[str, str] = DEFAULT_FIX) -> Rule:
    """Register a reason an engine or a kind's cross-row check raises itself (no mask)."""
    return _register(Rule(code, zh, en, tuple(fix), elementwise=False))


def unregister(code: str) -> None:
    """Forget rule ``code`` (tests that register a toy rule clean up with this)."""
    _RULES.pop(code, None)


@dataclass(frozen=True)
class Check:
    """A registered rule applied to one field, with its parameters (``InRange(lo, hi)``)."""

    rule: str
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def elementwise(self) -> bool:
        """Whether the rule may be evaluated once per distinct value."""
        return RULES[self.rule].elementwise

    def mask(self, values: pd.Series, ctx: RuleContext) -> pd.Series:
        """Rows of ``values`` that fail the rule, as a numpy-bool Series on their index
        (missing values never fail: a missing required value is ``missing_required``)."""
        func = RULES[self.rule].func
        if func is None:
            raise ValueError(f"rule {self.rule!r} has no mask function; it cannot be a check")
        hit = pd.Series(func(values, ctx, **self.params), index=values.index)
        return hit.fillna(False).astype(bool) & values.notna().to_numpy()


def reasons() -> dict[str, tuple[str, str]]:
    """Every quarantine rule the pipelines can raise: code -> (zh, en) reason."""
    return {c: (r.zh, r.en) for c, r in RULES.items()}


def source_fix() -> dict[str, tuple[str, str]]:
    """What an analyst should ask the source system to fix, per rule: code -> (zh, en)."""
    return {c: r.fix for c, r in RULES.items()}


def reason(code: str) -> tuple[str, str]:
    """The (zh, en) reason of rule ``code``; KeyError for a rule nobody registered."""
    if code not in RULES:
        raise KeyError(f"quarantine rule without a reason text: {code!r}")
    r = RULES[code]
    return r.zh, r.en


# ----------------------------------------------------------------------------- checks


@rule(
    "out_of_range",
    zh="数值超出合理范围",
    en="value outside the plausible range",
    fix=("核对单位（万元/亿元）与数量级", "check the unit (万元/亿元) and magnitude"),
)
def out_of_range(
    values: pd.Series, ctx: RuleContext, lo: float | None = None, hi: float | None = None
) -> pd.Series:
    """Values outside ``[lo, hi]`` (inclusive; None: unbounded on that side)."""
    return ~values.between(-np.inf if lo is None else lo, np.inf if hi is None else hi)


@rule(
    "negative_amount",
    zh="金额为负数",
    en="amount is negative",
    fix=("核对负数金额", "check the negative amount"),
)
def negative_amount(values: pd.Series, ctx: RuleContext) -> pd.Series:
    """Amounts below zero."""
    return values < 0


@rule(
    "future_date",
    zh="日期晚于数据截止日",
    en="date is after the data's as-of date",
    fix=("核对日期录入", "check the date entry"),
)
def future_date(values: pd.Series, ctx: RuleContext) -> pd.Series:
    """Dates after the run's as-of date."""
    return values > ctx.today


def InRange(lo: float | None = None, hi: float | None = None) -> Check:
    """Check: the value lies in ``[lo, hi]`` (rule ``out_of_range``)."""
    return Check("out_of_range", {"lo": lo, "hi": hi})


def NotNegative() -> Check:
    """Check: the amount is not negative (rule ``negative_amount``)."""
    return Check("negative_amount")


def NotFuture() -> Check:
    """Check: the date is not after the run's as-of date (rule ``future_date``)."""
    return Check("future_date")


# ----------------------------------------------------------------------------- engine reasons

_USCC_FIX = ("请登记系统核对统一社会信用代码", "ask the registry to correct the credit code")
for _code, _zh, _en, _fix in (
    ("missing_required", "必填项为空", "required value is missing",
     ("补录必填项", "fill in the required field")),
    ("invalid_number", "数值无法识别", "not a number",
     ("数值列只填数字", "numbers only in numeric columns")),
    ("invalid_date", "日期无法识别", "not a date",
     ("日期统一为 YYYY-MM-DD", "write dates as YYYY-MM-DD")),
    ("invalid_month", "月份无法识别或不在1-12月", "not a month 1-12",
     ("月份填写 1-12", "months 1 to 12")),
    ("invalid_period", "统计期间无法识别", "reporting period not recognised",
     ("统计期间写作“1-2月”或“3月”", "write periods as '1-2月' or '3月'")),
    ("uscc_missing", "统一社会信用代码为空", "USCC is missing",
     ("请补录统一社会信用代码", "ask the registry to fill in the credit code")),
    ("uscc_length", "统一社会信用代码不是18位", "USCC is not 18 characters", _USCC_FIX),
    ("uscc_charset", "统一社会信用代码含非法字符", "USCC has characters outside its alphabet",
     _USCC_FIX),
    ("uscc_check_digit", "统一社会信用代码校验位错误", "USCC check digit is wrong", _USCC_FIX),
    ("uscc_admin_code", "统一社会信用代码行政区划码无效",
     "USCC administrative division code is invalid",
     ("请核对企业注册地", "check the enterprise's place of registration")),
    ("duplicate_conflict", "同一统一社会信用代码对应不同企业名称",
     "one USCC with different enterprise names",
     ("核对同一代码下的不同企业名称", "reconcile different names under one code")),
    ("unknown_category", "类别不在允许的取值中", "category not in the allowed values",
     ("使用规定的类别名称", "use the prescribed category names")),
    ("footnote_row", "表注或落款行，非数据行", "footnote or signature row, not data",
     ("无需处理：表注、落款行不是数据", "nothing: notes and signatures are not data")),
    ("formula_cell", "单元格为公式文本，未取得数值", "cell holds formula text, not a value",
     ("导出为数值而非公式", "export values, not formulas")),
    ("duplicate_row", "与前一行完全重复", "exact duplicate of an earlier row",
     ("导出时去除重复记录", "export without duplicate rows")),
    ("duplicate_key", "同一主键对应不同记录", "another row has the same key with different values",
     ("核对同一企业同年的多条记录", "reconcile several records of one enterprise-year")),
    ("total_row", "合计行，非数据行", "total row, not data",
     ("无需处理：合计行由程序重新计算", "nothing: totals are recomputed")),
    ("name_several_uscc", "同一企业名称对应多个信用代码（一家企业重复计数，或两家企业同名）",
     "one enterprise name under several credit codes (counted twice, or two namesakes)",
     ("向市场监管部门核实该名称的信用代码，只保留正确的一个",
      "check the name's credit code with the market regulator; keep the right one")),
):  # fmt: skip
    declare(_code, zh=_zh, en=_en, fix=_fix)
