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


@dataclass(frozen=True)
class Cells:
    """One column as a type parser sees it: the raw cells, their normalised text (None when
    the credit codes were validated in bulk), the missing cells, the header's unit."""

    raw: pd.Series
    text: pd.Series | None
    missing: pd.Series
    unit: pd.Series | None = None
    known: ValidatedCodes | None = None


Parsed = tuple[list[tuple[str, object]], dict[str, object]]  # (type checks, typed columns)


def _uscc(c: Cells, f: Field) -> Parsed:
    """Credit codes: the four ways a code can be invalid, and the code as written."""
    v = validate_uscc(c.raw) if c.known is None else c.known.uscc
    err = v["error"].astype(object)
    codes = ("length", "charset", "admin_code", "check_digit")
    return [(f"uscc_{code}", (err == code).fillna(False)) for code in codes], {f.name: v["uscc"]}


def _numeric(c: Cells, f: Field) -> Parsed:
    """Amounts (in the field's unit, the header's unit applied), numbers, integers."""
    if f.type == "amount":
        p = clean.parse_amount(c.raw, unit=c.unit, to=f.unit or "wan")
    else:
        p = clean.parse_number(c.raw)
    checks = [("invalid_number", p.invalid)]
    if f.type == "integer":
        checks.append(("invalid_number", p.values.notna() & (p.values % 1 != 0)))
    return checks, {f.name: p.values}


def _date(c: Cells, f: Field) -> Parsed:
    """Dates in any of the exports' spellings (Excel serials included)."""
    p = clean.parse_date(c.raw)
    return [("invalid_date", p.invalid)], {f.name: p.values}


def _year(c: Cells, f: Field) -> Parsed:
    """A year column (``2024年度`` -> 2024)."""
    y = parse_year(c.raw)
    return [("invalid_number", y.isna() & ~c.missing)], {f.name: y}


def _batch(c: Cells, f: Field) -> Parsed:
    """A batch column (``第3批`` -> 3)."""
    b = parse_batch(c.raw)
    return [("invalid_number", b.isna() & ~c.missing)], {f.name: b}


def _period(c: Cells, f: Field) -> Parsed:
    """A month period (``1-2月``): its first and last month and its year, if written."""
    p = clean.parse_month_period(c.raw)
    parsed = {f"{f.name}_start": p.values["start_month"], f"{f.name}_end": p.values["end_month"],
              f"{f.name}_year": p.values["year"]}  # fmt: skip
    return [("invalid_period", p.invalid)], parsed


def _category(c: Cells, f: Field) -> Parsed:
    """One of the field's categories (aliases mapped)."""
    values = parse_category(c.raw, f)
    return [("unknown_category", values.isna() & ~c.missing)], {f.name: values}


def _name(c: Cells, f: Field) -> Parsed:
    """An enterprise or unit name in its display form."""
    return [], {f.name: clean._enterprise_name_of_text(c.text).where(~c.missing)}


def _text(c: Cells, f: Field) -> Parsed:
    """Text as written (normalised white space)."""
    # rows missing a required value never reach the output: no need to blank them there
    return [], {f.name: c.text if f.required else c.text.where(~c.missing)}


# Field type -> parser (cells -> type checks in precedence order, typed columns). A type not
# listed is text.
TYPE_PARSERS = {
    "uscc": _uscc, "amount": _numeric, "number": _numeric, "integer": _numeric, "date": _date,
    "year": _year, "batch": _batch, "period": _period, "category": _category, "name": _name,
    "text": _text,
}  # fmt: skip
# Types whose first column says 合计 on a total row.
TOTAL_TYPES = ("period", "text", "category")


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
    if known is not None:
        cells = Cells(s, None, known.missing, unit, known)
    else:
        text = clean.normalize_text(s)
        cells = Cells(s, text, text.isna() | clean.is_marker_text(text), unit)
    total = None
    if first and f.type in TOTAL_TYPES:
        t = cells.text.str.replace(" ", "", regex=False)
        total = t.str.match(TOTAL_ROW.pattern).fillna(False).astype(bool)
    checks, parsed = TYPE_PARSERS.get(f.type, _text)(cells, f)
    ctx = RuleContext(today)
    for check in f.all_checks:
        if elementwise_only and not check.elementwise:
            checks.append((check.rule, None))  # evaluated over the rows by the caller
        else:
            checks.append((check.rule, check.mask(parsed[f.name], ctx)))
    return FieldResult(checks, cells.missing, total, parsed)
