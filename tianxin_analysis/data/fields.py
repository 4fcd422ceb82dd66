"""One column of a raw kind parsed by its field's type: typed values, the rows that fail the
type's own checks and the field's declared checks (in precedence order), the missing cells,
and (for the first column) total rows. Plain pandas, one pass over the cells; the fast engine
calls it on a column's distinct values instead of its rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import clean
from ..identifiers import validate_uscc
from .declaration import Field
from .rules import RuleContext

TOTAL_ROW = re.compile(r"^(?:合计|总计|小计|全年合计|累计合计)$")


def cell_text(value: object) -> str:
    """A cell as the text a quarantine row shows: "" for blank, 3 for 3.0."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class FieldResult:
    """Everything the rules and the parser need from one column, computed once."""

    # (rule, mask) in precedence order (missing_required comes before all of them); the
    # fast engine keeps masks over a column's distinct cells, and a declared check that is
    # not element-wise as (rule, None) until it is evaluated over the rows
    checks: list[tuple[str, object]]
    missing: object  # clean.is_missing_marker of the cells
    total: object | None  # total-row mask (only for the first field)
    # output column -> typed values (the fast engine: values still to be spread over rows)
    parsed: dict[str, object]


@dataclass(frozen=True)
class ValidatedCodes:
    """Credit codes already validated in bulk: ``validate_uscc`` of the column and the
    missing cells (the fast engine's shortcut for Arrow text)."""

    uscc: pd.DataFrame
    missing: pd.Series


def parse_year(s: pd.Series) -> pd.Series:
    """``2024``, ``2024年``, ``2024年度``, ``2024.0`` -> 2024 (Int64; anything else missing)."""
    t = clean.normalize_text(s).str.replace(r"(?:\.0+)?(?:年度?)?$", "", regex=True)
    ok = t.str.fullmatch("[0-9]{4}").fillna(False).astype(bool)
    return pd.to_numeric(t.where(ok), errors="coerce").astype("Int64")


def parse_batch(s: pd.Series) -> pd.Series:
    """``第3批``, ``3批次``, ``3`` -> 3 (Int64; anything else missing)."""
    t = clean.normalize_text(s).str.replace(r"(?:\.0+)$", "", regex=True)
    m = t.str.extract("^第?([0-9]{1,3})(?:批次?)?$", expand=False)
    return pd.to_numeric(m, errors="coerce").astype("Int64")


def parse_category(s: pd.Series, f: Field) -> pd.Series:
    """The field's category of each cell (aliases applied; unknown values missing)."""
    t = clean.normalize_text(s).str.replace(" ", "", regex=False)
    t = t.replace(dict(f.aliases)) if f.aliases else t
    return t.where(t.isin(list(f.categories)))


def parse_field(
    s: pd.Series,
    f: Field,
    unit: pd.Series | None,
    today: pd.Timestamp,
    first: bool,
    elementwise_only: bool = False,
    known: ValidatedCodes | None = None,
) -> FieldResult:
    """Rules and typed values of one column ``s`` of field ``f``. ``unit``: per cell, the
    unit written in an amount column's header. ``first``: the first column of the sheet,
    where a 合计 row says so. ``elementwise_only``: the declared checks whose rule is not
    element-wise are left as ``(rule, None)`` for the caller to evaluate over the rows
    (``s`` holds a column's distinct values, not its rows)."""
    checks: list[tuple[str, object]] = []
    parsed: dict[str, object] = {}
    if known is not None:
        text, missing = None, known.missing
    else:
        text = clean.normalize_text(s)
        missing = text.isna() | clean.is_marker_text(text)
    total = None
    if first and f.type in ("period", "text", "category"):
        t = text.str.replace(" ", "", regex=False)
        total = t.str.match(TOTAL_ROW.pattern).fillna(False).astype(bool)
    if f.type == "uscc":
        v = validate_uscc(s) if known is None else known.uscc
        err = v["error"].astype(object)
        for code in ("length", "charset", "admin_code", "check_digit"):
            checks.append((f"uscc_{code}", (err == code).fillna(False)))
        parsed[f.name] = v["uscc"]
    elif f.type in ("amount", "number", "integer"):
        if f.type == "amount":
            p = clean.parse_amount(s, unit=unit, to=f.unit or "wan")
        else:
            p = clean.parse_number(s)
        checks.append(("invalid_number", p.invalid))
        vals = p.values
        if f.type == "integer":
            checks.append(("invalid_number", vals.notna() & (vals % 1 != 0)))
        parsed[f.name] = vals
    elif f.type == "date":
        p = clean.parse_date(s)
        checks.append(("invalid_date", p.invalid))
        parsed[f.name] = p.values
    elif f.type == "year":
        y = parse_year(s)
        checks.append(("invalid_number", y.isna() & ~missing))
        parsed[f.name] = y
    elif f.type == "batch":
        b = parse_batch(s)
        checks.append(("invalid_number", b.isna() & ~missing))
        parsed[f.name] = b
    elif f.type == "period":
        p = clean.parse_month_period(s)
        checks.append(("invalid_period", p.invalid))
        parsed[f"{f.name}_start"] = p.values["start_month"]
        parsed[f"{f.name}_end"] = p.values["end_month"]
        parsed[f"{f.name}_year"] = p.values["year"]
    elif f.type == "category":
        c = parse_category(s, f)
        checks.append(("unknown_category", c.isna() & ~missing))
        parsed[f.name] = c
    elif f.type == "name":
        parsed[f.name] = clean._enterprise_name_of_text(text).where(~missing)
    elif f.required:
        # rows missing a required value never reach the output: no need to blank them here
        parsed[f.name] = text
    else:
        parsed[f.name] = text.where(~missing)
    ctx = RuleContext(today)
    for check in f.all_checks:
        if elementwise_only and not check.elementwise:
            checks.append((check.rule, None))  # evaluated over the rows by the caller
        else:
            checks.append((check.rule, check.mask(parsed[f.name], ctx)))
    return FieldResult(checks, missing, total, parsed)


