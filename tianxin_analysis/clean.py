"""Pure, vectorised normalisers: text, numbers, amounts, dates, month periods, names, headers.

Two levels:

* **Series level** — ``normalize_text``, ``parse_number``, ``parse_amount``, ``parse_date``,
  ``parse_month_period``, ``normalize_enterprise_name``, ``enterprise_name_key``,
  ``normalize_region_name``, ``is_missing_marker``, ``is_footnote_text``, ``is_formula_text``.
  Parsers return a :class:`Parsed` with ``.values`` and ``.invalid``: *invalid* means text was
  present but could not be parsed; a missing marker ("", "—", "无", "N/A" ...) is *missing*,
  not invalid, and gives NaN / NaT / <NA>.
* **DataFrame level** — ``.pipe`` steps that take a frame and return a new one (never mutate):
  ``normalize_text_columns``, ``parse_number_columns``, ``parse_date_columns``,
  ``normalize_amount_unit``, ``normalize_enterprise_names``,
  ``flag_footnote_rows``, ``flag_formula_cells`` (the USCC step ``flag_invalid_uscc`` is in
  :mod:`tianxin_analysis.identifiers`, which builds on this module; this module imports no
  identifiers code). A parsing step writes the parsed values and
  a boolean ``<column>_invalid`` column so that the pipeline can quarantine those rows with
  the text as found (keep the raw frame, or pass ``out=`` to write beside the raw column).

Everything runs through pandas ``.str`` methods (pyarrow compute under pandas 3's default
``str`` dtype) and numpy; there is no per-row Python loop on the hot paths. Object columns
holding Python numbers / datetimes (what openpyxl returns) are split by type once.

Regular expressions here are written to behave the same under Python ``re`` and RE2 (the
engine pyarrow-backed strings use): no ``\\s``/``\\d`` shorthand whose meaning differs
between the two, explicit character classes instead.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tianxin_analysis import _arrowtext
from tianxin_analysis.errors import SchemaError

__all__ = [
    "AMOUNT_UNITS",
    "MISSING_MARKERS",
    "Parsed",
    "enterprise_name_key",
    "flag_footnote_rows",
    "flag_formula_cells",
    "is_footnote_text",
    "is_formula_text",
    "is_marker_text",
    "is_missing_marker",
    "map_headers",
    "mask_personal_data",
    "normalize_amount_unit",
    "normalize_enterprise_name",
    "normalize_enterprise_names",
    "normalize_header",
    "normalize_region_name",
    "normalize_text",
    "normalize_text_columns",
    "strip_control_characters",
    "parse_amount",
    "parse_date",
    "parse_date_columns",
    "parse_month_period",
    "parse_number",
    "parse_number_columns",
    "unit_factor",
]

# Every character Python's str.isspace() accepts, written out so that RE2 (pyarrow) and
# Python re agree (RE2's \s is ASCII only).
_WS_CHARS = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WS = f"[{_WS_CHARS}]"
_WS_LEAD = _arrowtext.lead_byte_table(_WS)  # first UTF-8 bytes of those characters
_DIGIT = "[0-9]"
# CJK ideographs (URO + ext. A + compatibility) and the full-width brackets of names.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

# Text that means "no value" in the exports we receive. Compared after normalize_text and
# ASCII upper-casing, so "n/a", "N/A" and "Ｎ／Ａ" are one marker.
MISSING_MARKERS: frozenset[str] = frozenset(
    {
        "",
        "-",
        "--",
        "---",
        "—",
        "——",
        "–",
        "−",
        "/",
        "//",
        "\\",
        "…",
        "...",
        "……",
        "·",
        "*",
        "无",
        "空",
        "暂无",
        "不详",
        "未知",
        "未填",
        "未填报",
        "NA",
        "N/A",
        "N.A.",
        "NAN",
        "NULL",
        "NONE",
        "NIL",
        "#N/A",
        "NAT",
        "<NA>",
    }
)


@dataclass(frozen=True)
class Parsed:
    """Result of a Series-level parser.

    ``values``: parsed values on the input's index (Series, or DataFrame for month periods).
    ``invalid``: bool Series, True where text was present but not parseable. Missing markers
    are not invalid; their value is missing.
    """

    values: Any
    invalid: pd.Series

    @property
    def missing(self) -> pd.Series:
        """True where the value is missing and the input was not invalid text."""
        vals = self.values
        na = vals.isna().all(axis=1) if isinstance(vals, pd.DataFrame) else vals.isna()
        return na & ~self.invalid


# --------------------------------------------------------------------------------------
# text


def as_series(s: Any) -> pd.Series:
    """``s`` as a Series: a Series as is, an Index or iterable as an object Series on a
    0..n-1 index, a scalar as a one-element object Series."""
    if isinstance(s, pd.Series):
        return s
    if isinstance(s, pd.Index):
        return pd.Series(s, index=range(len(s)))
    if isinstance(s, str) or not isinstance(s, Iterable):
        return pd.Series([s], dtype=object)
    return pd.Series(list(s), dtype=object)


def as_text(s: pd.Series) -> pd.Series:
    """The Series as pandas ``str`` dtype; non-strings rendered with ``str``; NA kept."""
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.na_value is np.nan:
        return s
    # floats render with repr, which round-trips exactly ("2016.0", "1234.5")
    return s.astype("str")


def _extract(t: pd.Series, pattern: str, numeric: bool = False) -> pd.DataFrame:
    """Named groups of ``pattern`` as ``str`` columns (missing where unmatched or empty);
    ``numeric=True`` for groups that are digits only gives float64 columns.

    ``Series.str.extract`` falls back to a per-row Python loop for pyarrow strings; RE2's
    ``extract_regex`` is one vectorised call, so use it when the text is pyarrow-backed.
    """
    names = list(re.compile(pattern).groupindex)
    if isinstance(t.array, pd.arrays.ArrowStringArray):
        arr = pa.array(t.array)
        if len(arr) == 0:
            return pd.DataFrame({n: pd.Series([], dtype="str") for n in names}, index=t.index)
        res = pc.extract_regex(arr, pattern)
        matched = pc.is_valid(res)
        cols = {}
        for i, n in enumerate(names):
            f = pc.struct_field(res, [i])
            keep = pc.and_(matched, pc.not_equal(f, ""))
            f = pc.if_else(keep, f, pa.scalar(None, f.type))
            if numeric:
                values = pc.cast(f, pa.float64()).to_numpy(zero_copy_only=False)
                cols[n] = pd.Series(values, index=t.index, dtype="float64")
            else:
                cols[n] = pd.Series(pd.array(f, dtype="str"), index=t.index)
        return pd.DataFrame(cols, index=t.index)
    out = t.astype("str").str.extract(pattern, expand=True)
    out.columns = names
    out = out.where(out != "")
    if numeric:
        out = out.apply(pd.to_numeric, errors="coerce").astype("float64")
    return out


def _squash_ws(t: pd.Series) -> pd.Series:
    """White-space runs collapsed to one space and the edges stripped (``str`` Series in and
    out)."""
    # Most cells hold no white space: find those that do (one cheap scan), rewrite only them.
    if _arrowtext.is_arrow_text(t) and not _arrowtext.any_byte_in(t, _WS_LEAD):
        return t  # no byte of the column can start a white-space character
    has = t.str.contains(_WS, regex=True).fillna(False).astype(bool)
    if not has.any():
        return t
    sub = t[has].str.replace(f"{_WS}+", " ", regex=True)
    return t.mask(has, sub.str.replace("^ | $", "", regex=True))


def normalize_text(s: Any) -> pd.Series:
    """NFKC, strip, collapse inner whitespace runs (incl. U+3000 and newlines) to one space.

    Full-width digits, letters and brackets become half-width; control characters (NUL,
    backspace, escape, C1 controls) are removed, and a cell that held nothing else becomes
    missing (so a required field quarantines it). Missing stays missing. Returns a ``str``
    Series on the input's index.
    """
    t = as_text(as_series(s))
    if isinstance(t.array, pd.arrays.ArrowStringArray):
        t = _nfkc_arrow(t)
    else:
        # NFKC leaves ASCII unchanged; pandas runs it per value in Python, so skip ASCII text
        nonascii = ~t.str.isascii().fillna(True).astype(bool)
        if nonascii.any():
            t = t.mask(nonascii, t[nonascii].str.normalize("NFKC"))
    return _squash_ws(strip_control_characters(t))


# Control characters that are not white space (those are collapsed by _squash_ws): C0 but
# \t\n\v\f\r and \x1c-\x1f, DEL, C1 but NEL. Invisible in a cell, fatal in an XLSX (openpyxl
# IllegalCharacterError) and able to rewrite a terminal line when printed.
_CONTROL = "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]"
_CONTROL_LEAD = _arrowtext.lead_byte_table(_CONTROL)


def strip_control_characters(s: Any) -> pd.Series:
    """``s`` as text without control characters; a cell left empty becomes missing.

    One byte scan finds whether any cell can hold one (most columns: none), then only the
    cells that do are rewritten.
    """
    t = as_text(as_series(s))
    if _arrowtext.is_arrow_text(t) and not _arrowtext.any_byte_in(t, _CONTROL_LEAD):
        return t
    has = t.str.contains(_CONTROL, regex=True).fillna(False).astype(bool)
    if not has.any():
        return t
    sub = t[has].str.replace(_CONTROL, "", regex=True)
    return t.mask(has, sub.where(sub.str.strip().str.len() > 0))


# Personal data inside a cell (a footer "填表人：张三 电话：138…", a remark). Python regular
# expressions (look-arounds), run only on the few cells a cheap RE2 test picks out.
# The hint is each pattern below without look-arounds (RE2 has none): a boundary character
# or the text's edge stands in for them, so every cell a pattern matches is picked, while
# the credit codes and certificate numbers that fill a quarantine (seven digits in a row,
# but no phone or ID-card shape at a boundary) are no longer sent through Python's re.
_PERSONAL_HINT = (
    r"(?:^|[^0-9])(?:\+?86[- ]?)?1[3-9][0-9][- ]?[0-9]{4}[- ]?[0-9]{4}(?:[^0-9]|$)"
    r"|(?:^|[^0-9])\(?0[0-9]{2,3}\)?[- ]?[2-9][0-9]{6,7}(?:[^0-9]|$)"
    r"|(?:^|[^0-9A-Za-z])[1-8][0-9]{16}[0-9Xx](?:[^0-9A-Za-z]|$)"
    r"|@|联系人|填表人|填报人|负责人|经办人"
)
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?1[3-9][0-9][- ]?[0-9]{4}[- ]?[0-9]{4}(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])(?:\(?0[0-9]{2,3}\)?[- ]?)[2-9][0-9]{6,7}(?![0-9])")
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])[1-8][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_NAME_AFTER_ROLE = re.compile(
    r"((?:联系人|填表人|填报人|负责人|经办人)(?:姓名)?\s*[:：]?\s*)([\u3400-\u9fff·]{2,5}|[A-Za-z][A-Za-z .]{1,30})"
)
MASKS = {"phone": "[电话已隐去]", "id": "[证件号已隐去]", "email": "[邮箱已隐去]",
         "name": "[姓名已隐去]"}  # fmt: skip


def _mask_id(m: re.Match[str]) -> str:
    """The masked text of an 18-character match that is an ID-card number and not a credit code."""
    # 18 characters in an ID card's shape: masked when its check digit is an ID card's
    # (GB 11643) and not a credit code's (an all-digit code of an institution has the shape)
    from stdnum.cn import ric, uscc

    text = m.group()
    return MASKS["id"] if ric.is_valid(text) and not uscc.is_valid(text) else text


def _mask_text(text: str) -> str:
    """One cell's text with ID numbers, e-mail addresses, phone numbers and names after a role
    masked."""
    text = _ID_CARD.sub(_mask_id, text)
    text = _EMAIL.sub(MASKS["email"], text)
    text = _MOBILE.sub(MASKS["phone"], text)
    text = _LANDLINE.sub(MASKS["phone"], text)
    return _NAME_AFTER_ROLE.sub(lambda m: m.group(1) + MASKS["name"], text)


def mask_personal_data(s: Any) -> pd.Series:
    """``s`` with phone numbers, ID-card numbers, e-mail addresses and the names written
    after 联系人/填表人/填报人/负责人/经办人 replaced by a marker (``MASKS``).

    The row keeps its place: only the personal values inside the text are replaced. Cells
    without a phone or ID-card shape, an "@" or one of those words are not looked at further.
    """
    t = as_text(as_series(s))
    hint = t.str.contains(_PERSONAL_HINT, regex=True).fillna(False).astype(bool)
    if not hint.any():
        return t
    masked = [_mask_text(v) for v in t[hint].tolist()]
    return t.mask(hint, pd.Series(masked, index=t.index[hint.to_numpy()], dtype=t.dtype))


# Text made only of ASCII and CJK unified ideographs (URO and extension A) is NFKC-normal in
# every Unicode version: none of these decomposes, and none composes with a neighbour.
_NFKC_STABLE = "^[\\x{0}-\\x{7f}\\x{3400}-\\x{4dbf}\\x{4e00}-\\x{9fff}]*$"


def _nfkc_arrow(t: pd.Series) -> pd.Series:
    """NFKC of a pyarrow-backed ``str`` Series, by Python's ``unicodedata`` (the Unicode
    version every other normaliser here uses), run only on values outside the stable set:
    in a registry most names are plain CJK and every code is ASCII."""
    if _arrowtext.all_ascii(t):  # codes, numbers, dates: nothing to look at value by value
        return t
    arr = pa.array(t.array)
    unstable = pc.invert(pc.match_substring_regex(arr, _NFKC_STABLE))
    if not pc.any(unstable).as_py():
        return t
    if isinstance(arr, pa.ChunkedArray):  # replace_with_mask takes one array
        arr, unstable = arr.combine_chunks(), unstable.combine_chunks()
    mask = pc.fill_null(unstable, False)
    values = pc.filter(arr, mask).to_pylist()
    normed = pa.array([unicodedata.normalize("NFKC", v) for v in values], arr.type)
    out = pc.replace_with_mask(arr, mask, normed)
    return pd.Series(pd.array(out, dtype=t.dtype), index=t.index, name=t.name)


_MARKER_KEYS: frozenset[str] | None = None


def _marker_keys() -> frozenset[str]:
    """The missing markers as ``normalize_text`` leaves them, upper-cased (computed once)."""
    # the markers as normalize_text leaves them ("……" -> "......"), upper-cased
    global _MARKER_KEYS
    if _MARKER_KEYS is None:
        keys = normalize_text(pd.Series(sorted(MISSING_MARKERS), dtype=object)).str.upper()
        _MARKER_KEYS = frozenset(keys.fillna(""))
    return _MARKER_KEYS


def is_marker_text(t: pd.Series) -> pd.Series:
    """True where already-normalised text (see :func:`normalize_text`) is a missing marker."""
    keys = _marker_keys()
    if len(t) > 10_000:  # only short cells can be markers: upper-case just those
        longest = max(map(len, keys))
        if _arrowtext.is_arrow_text(t):
            # bytes from the offsets (a character is 1-4 bytes, exactly 1 in ASCII text): a
            # superset of the cells of at most ``longest`` characters, without counting
            # characters value by value
            limit = longest if _arrowtext.all_ascii(t) else 4 * longest
            short = (_arrowtext.byte_lengths(t) <= limit) & t.notna().to_numpy(bool)
        else:
            short = (t.str.len() <= longest).fillna(False).to_numpy(dtype=bool)
        out = np.zeros(len(t), dtype=bool)
        if short.any():
            out[short] = t[short].str.upper().isin(keys).to_numpy(dtype=bool)
        return pd.Series(out, index=t.index, name=t.name)
    return t.str.upper().isin(keys).astype(bool)


def is_missing_marker(s: Any) -> pd.Series:
    """True where the cell is missing (None/NaN) or holds a missing marker such as "—"."""
    t = normalize_text(s)
    return t.isna() | is_marker_text(t)


def _text_and_missing(s: Any) -> tuple[pd.Series, pd.Series]:
    """``normalize_text(s)`` and a bool Series: True where the cell is missing or a marker."""
    t = normalize_text(s)
    return t, t.isna() | is_marker_text(t)


def until_stable(t: pd.Series, step: Any, rounds: int = 4) -> pd.Series:
    """Apply ``step`` (which includes NFKC) again to non-ASCII values until they stop changing.

    Removing characters after NFKC can put a combining mark next to a new base ("O¯" ->
    NFKC "O \u0304" -> without the space "O\u0304", which NFKC composes to "Ō"); a second
    pass settles it, so that every normaliser is idempotent. ASCII text settles in one pass.
    """
    for _ in range(rounds):
        nonascii = ~t.str.isascii().fillna(True).astype(bool)
        if not nonascii.any():
            break
        sub = t[nonascii]
        again = step(sub)
        changed = (again != sub).fillna(False).astype(bool)
        if not changed.any():
            break
        t = t.mask(nonascii, again)
    return t


def until_stable_nfkc(t: pd.Series, step: Any) -> pd.Series:
    """:func:`until_stable` for ``t = step(x)`` where ``step`` ends by deleting every
    white-space character (and whatever else it rewrites is gone from its output too), so
    that ``step(t) == t`` exactly where ``NFKC(t) == t``.

    Only values that NFKC would still change go through the loop: ``unicodedata.is_normalized``
    answers that far faster than a second full step over every non-ASCII value (pandas runs
    NFKC per value in Python). Element-wise identical to ``until_stable(t, step)``.
    """
    nonascii = ~t.str.isascii().fillna(True).astype(bool)
    if not nonascii.any():
        return t
    values = t[nonascii]
    unsettled = np.fromiter(
        (isinstance(v, str) and not unicodedata.is_normalized("NFKC", v) for v in values.tolist()),
        dtype=bool,
        count=len(values),
    )
    if not unsettled.any():
        return t
    mask = np.zeros(len(t), dtype=bool)
    mask[np.flatnonzero(nonascii.to_numpy())[unsettled]] = True
    return t.mask(mask, until_stable(t[mask], step))


# --------------------------------------------------------------------------------------
# numbers

_NUMBER_RE = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def _clean_number_text(t: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Strip separators, percent, currency; return (text, negate) where negate marks (12)."""
    t = t.str.replace("[\u2212\u2012\u2013\u2014\ufe63]", "-", regex=True)
    # thousands separators: ASCII comma, ideographic/fullwidth comma (NFKC maps ， to ,),
    # apostrophe and thin/normal spaces between digits
    t = t.str.replace("[,'\u066c]", "", regex=True)
    t = t.str.replace(f"({_DIGIT}) ({_DIGIT})", r"\1\2", regex=True)
    t = t.str.replace("^[¥$]|[%‰]$|^RMB|^CNY", "", regex=True)
    t = t.str.replace("^ | $", "", regex=True)
    negate = t.str.match(r"^\([^()]*\)$").fillna(False).astype(bool)
    t = t.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    t = t.str.replace("^[¥$] ?", "", regex=True)
    return t, negate


def _numbers_from_text(t: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(float values, ok mask) for already-normalised text; ok False where not a number."""
    t, negate = _clean_number_text(t)
    ok = t.str.match(_NUMBER_RE).fillna(False).astype(bool)
    vals = pd.to_numeric(t.where(ok), errors="coerce").astype("float64")
    vals = vals.where(~negate, -vals)
    ok = ok & vals.notna()
    return vals, ok


def _split_object(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(mask of real numbers, mask of datetimes) in an object Series; one pass over types."""
    types = s.map(type)
    is_num = types.isin([int, float, np.int64, np.float64, np.int32, np.float32]) & s.notna()
    is_dt = types.isin([_dt.datetime, _dt.date, pd.Timestamp, np.datetime64]) & s.notna()
    return is_num.astype(bool), is_dt.astype(bool)


def parse_number(s: Any) -> Parsed:
    """Parse numbers written as text into float64.

    Handles full-width digits, thousands separators ("1,234.5", "1，234"), a trailing percent
    sign ("12.5%" -> 12.5, the number is kept in percent), surrounding spaces, accounting
    negatives "(12)", exponent notation ("2.016000e+03") and values that are numeric already.
    Booleans are not numbers (invalid).
    """
    s = as_series(s)
    if pd.api.types.is_bool_dtype(s.dtype):
        return Parsed(pd.Series(np.nan, index=s.index), s.notna())
    if pd.api.types.is_numeric_dtype(s.dtype):
        vals = s.astype("float64")
        return Parsed(vals, pd.Series(False, index=s.index))
    t, missing = _text_and_missing(s)
    vals, ok = _numbers_from_text(t)
    vals = vals.where(~missing)
    invalid = ~missing & ~ok
    if s.dtype == object:
        is_num, _ = _split_object(s)
        if is_num.any():
            direct = pd.to_numeric(s.where(is_num), errors="coerce").astype("float64")
            vals = vals.where(~is_num, direct)
            invalid = invalid & ~is_num
    return Parsed(vals.rename(s.name), invalid.astype(bool).rename(s.name))


# --------------------------------------------------------------------------------------
# amounts

# Multiplier to yuan of every unit spelling we accept (after NFKC, no spaces, upper-case).
AMOUNT_UNITS: dict[str, float] = {
    "元": 1.0,
    "YUAN": 1.0,
    "人民币元": 1.0,
    "千元": 1e3,
    "万": 1e4,
    "万元": 1e4,
    "WAN": 1e4,
    "人民币万元": 1e4,
    "十万元": 1e5,
    "百万": 1e6,
    "百万元": 1e6,
    "千万": 1e7,
    "千万元": 1e7,
    "亿": 1e8,
    "亿元": 1e8,
    "YI": 1e8,
    "人民币亿元": 1e8,
    "万亿": 1e12,
    "万亿元": 1e12,
}
_TO_UNITS = {"yuan": 1.0, "wan": 1e4, "yi": 1e8}
_UNIT_SUFFIX_RE = "(?P<unit>万亿元|万亿|千万元|千万|百万元|百万|十万元|亿元|亿|万元|万|千元|元)$"


def _unit_key(u: pd.Series) -> pd.Series:
    """Unit text as a lookup key: normalised, without white space, upper-case, outer brackets
    dropped."""
    u = normalize_text(u).str.replace(f"{_WS}", "", regex=True).str.upper()
    return u.str.replace(r"^\((.*)\)$", r"\1", regex=True)


def unit_factor(unit: str) -> float:
    """Multiplier to yuan of a unit spelling ("亿元", "万元", "(万元)", "wan"...).

    Raises ``ValueError`` for a unit we do not know.
    """
    key = _unit_key(pd.Series([unit], dtype=object)).iloc[0]
    if key not in AMOUNT_UNITS:
        raise ValueError(
            f"未知金额单位 unknown amount unit: {unit!r}; 应为 expected one of {sorted(AMOUNT_UNITS)}"
        )
    return AMOUNT_UNITS[key]


def _to_factor(to: str) -> float:
    """Yuan per target unit ("yuan" 1, "wan" 1e4, "yi" 1e8); another name is a ``ValueError``."""
    if to not in _TO_UNITS:
        raise ValueError(f"to must be one of {sorted(_TO_UNITS)}, got {to!r}")
    return _TO_UNITS[to]


def parse_amount(s: Any, unit: str | pd.Series | None = None, to: str = "wan") -> Parsed:
    """Parse money amounts and convert them to one unit (``to``: "yuan", "wan" or "yi").

    A unit written in the cell ("1.2亿元", "3,400万元", "560000元", "1.2亿") wins. Otherwise
    ``unit`` applies: one spelling for the whole column ("亿元") or a Series of spellings
    aligned on the index (rows whose unit spelling is unknown are invalid). A bare number
    with ``unit=None`` is taken to be in ``to`` already. Returns float64 in ``to`` units.
    """
    s = as_series(s)
    target = _to_factor(to)
    if isinstance(unit, pd.Series):
        ukey = _unit_key(unit.reindex(s.index))
        col_factor = ukey.map(AMOUNT_UNITS).astype("float64")
        bad_unit = ukey.notna() & col_factor.isna()
        col_factor = col_factor.fillna(target)
    else:
        col_factor = pd.Series(target if unit is None else unit_factor(unit), index=s.index)
        bad_unit = pd.Series(False, index=s.index)

    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        vals = s.astype("float64") * col_factor / target
        return Parsed(vals, (bad_unit & s.notna()).astype(bool))

    t, missing = _text_and_missing(s)
    compact = t.str.replace(f"{_WS}", "", regex=True)
    cell_unit = _extract(compact, _UNIT_SUFFIX_RE)["unit"]
    number_text = compact.str.replace(_UNIT_SUFFIX_RE, "", regex=True)
    # a cell holding only a unit ("万元") is a header echo, not an amount
    vals, ok = _numbers_from_text(number_text)
    cell_factor = cell_unit.map(AMOUNT_UNITS).astype("float64")
    factor = cell_factor.fillna(col_factor)
    uses_col_unit = cell_factor.isna()
    if s.dtype == object:
        is_num, _ = _split_object(s)
        if is_num.any():
            direct = pd.to_numeric(s.where(is_num), errors="coerce").astype("float64")
            vals = vals.where(~is_num, direct)
            ok = ok | is_num
            missing = missing & ~is_num
    out = (vals * factor / target).where(~missing & ok)
    invalid = ~missing & (~ok | (uses_col_unit & bad_unit))
    out = out.where(~invalid)
    return Parsed(out.rename(s.name), invalid.astype(bool).rename(s.name))


# --------------------------------------------------------------------------------------
# dates

# Excel's 1900 date system: serial 1 = 1900-01-01 but Excel counts a 1900-02-29 that never
# existed, so for every serial after 60 the origin is 1899-12-30.
_EXCEL_ORIGIN = pd.Timestamp("1899-12-30")
# Serials we accept as dates: 1950-01-01 .. 2099-12-31. Wider ranges swallow ordinary
# numbers (a count of 2024 is not 1905-07-16).
_EXCEL_MIN, _EXCEL_MAX = 18264, 73415
_DATE_UNIT = "datetime64[ns]"

_TIME = "(?: ?T?(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\\.[0-9]+)?)?)?"
_YMD_RE = (
    "^(?P<year>[0-9]{4})(?:年|[./-])(?P<month>[0-9]{1,2})"
    "(?:月(?:(?P<day>[0-9]{1,2})[日号]?)?|[./-](?P<day2>[0-9]{1,2})[日号]?)?" + _TIME + "$"
)
_COMPACT_RE = "^(?P<year>[0-9]{4})(?P<month>[0-9]{2})(?P<day>[0-9]{2})?$"
_SERIAL_RE = r"^[0-9]{5}(?:\.[0-9]+)?$"


def _to_ns(x: pd.Series) -> pd.Series:
    """datetime64 of any unit -> datetime64[ns]; values outside its range become NaT."""
    if x.dtype == _DATE_UNIT:
        return x
    ok = x.between(pd.Timestamp.min, pd.Timestamp.max)
    return x.where(ok).astype(_DATE_UNIT)


def _assemble(parts: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    """``datetime64[ns]`` Series from year/month/day(/hour/minute/second) float columns; a
    missing day is the 1st, a year outside 1900-2199 or an impossible date is NaT."""
    frame = pd.DataFrame(parts, index=index)
    # years outside 1900..2199 in a register are typos, not dates
    have = frame[["year", "month"]].notna().all(axis=1) & frame["year"].between(1900, 2199)
    frame["day"] = frame["day"].where(frame["day"].notna() | ~have, 1)
    for col in ("hour", "minute", "second"):
        if col in frame:
            frame[col] = frame[col].where(frame[col].notna() | ~have, 0)
    if not have.any():
        return pd.Series(pd.NaT, index=index, dtype=_DATE_UNIT)
    out = pd.to_datetime(frame.loc[have], errors="coerce")
    return _to_ns(out.reindex(index))


def _dates_from_text(t: pd.Series) -> pd.Series:
    """``datetime64[ns]`` Series parsed from date text (2024-03-05, 2024年3月5日, 2024.3,
    20240305, ...); NaT where no pattern matches."""
    compact = t.str.replace(" ?([年月日号./-]) ?", r"\1", regex=True)
    ymd = _extract(compact, _YMD_RE, numeric=True)
    parts = {
        "year": ymd["year"],
        "month": ymd["month"],
        "day": ymd["day"].fillna(ymd["day2"]),
        "hour": ymd["hour"],
        "minute": ymd["minute"],
        "second": ymd["second"],
    }
    out = _assemble(parts, t.index)

    rest = out.isna()
    if rest.any():
        c = _extract(compact.where(rest), _COMPACT_RE, numeric=True)
        out = out.fillna(_assemble(dict(c), t.index))

    rest = out.isna() & compact.str.match(_SERIAL_RE).fillna(False).astype(bool)
    if rest.any():
        serial = pd.to_numeric(compact.where(rest), errors="coerce")
        out = out.fillna(_dates_from_serial(serial))
    return out


def _dates_from_serial(serial: pd.Series) -> pd.Series:
    """``datetime64[ns]`` of Excel serial day numbers (days since 1899-12-30); NaT outside the
    range."""
    ok = serial.between(_EXCEL_MIN, _EXCEL_MAX)
    days = serial.where(ok)
    delta = pd.to_timedelta(days, unit="D")
    return (_EXCEL_ORIGIN + delta).astype(_DATE_UNIT).where(ok)


def parse_date(s: Any) -> Parsed:
    """Parse dates into ``datetime64[ns]``.

    Accepted: "2024年3月" (-> 2024-03-01), "2024年3月15日", "2024.03", "2024.3.15",
    "2024-03-15", "2024/3/15", "2024-03-15 08:30:00", "20240315", "202403", Excel serial
    numbers (numbers or digit strings, 1900 date system, 1950..2099 only) and values that
    are datetimes already (python ``datetime``/``date``, ``pd.Timestamp``, datetime64).
    Impossible dates (2024-02-30, month 13), written years outside 1900..2199 and
    datetimes outside the ``datetime64[ns]`` range are invalid; so are time-zone-aware
    values mixed into an object column (spreadsheet exports carry none).
    """
    s = as_series(s)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        vals = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        out = _to_ns(vals)
        return Parsed(out, (vals.notna() & out.isna()).astype(bool))
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        num = s.astype("float64")
        vals = _dates_from_serial(num)
        return Parsed(vals.rename(s.name), (num.notna() & vals.isna()).rename(s.name))

    t, missing = _text_and_missing(s)
    vals = _dates_from_text(t).where(~missing)
    if s.dtype == object:
        is_num, is_dt = _split_object(s)
        if is_num.any():
            vals = vals.where(~is_num, _dates_from_serial(pd.to_numeric(s.where(is_num))))
        if is_dt.any():
            direct = pd.to_datetime(s.where(is_dt), errors="coerce")
            if getattr(direct.dt, "tz", None) is not None:
                direct = direct.dt.tz_localize(None)
            vals = vals.where(~is_dt, _to_ns(direct))
    invalid = ~missing & vals.isna()
    return Parsed(vals.astype(_DATE_UNIT).rename(s.name), invalid.astype(bool).rename(s.name))


# --------------------------------------------------------------------------------------
# month periods

# Longest first so "十二" is not read as "十" + "二".
_CN_MONTHS = [
    ("十二", "12"),
    ("十一", "11"),
    ("十", "10"),
    ("一", "1"),
    ("二", "2"),
    ("三", "3"),
    ("四", "4"),
    ("五", "5"),
    ("六", "6"),
    ("七", "7"),
    ("八", "8"),
    ("九", "9"),
]
_PERIOD_RE = (
    "^(?:(?P<year>[0-9]{4})年)?(?:累计)?(?P<start>[0-9]{1,2})(?:\\.0+)?月?份?"
    "(?:(?:-|—|–|~|至|到)(?P<end>[0-9]{1,2})月?份?)?(?:累计)?$"
)


def parse_month_period(s: Any) -> Parsed:
    """Parse month periods ("1-2月", "1—2月", "1~2月", "2024年1-2月", "3月", "三月", "12").

    ``values`` is a DataFrame on the input's index with ``start_month``, ``end_month`` and
    ``year`` (all Int64; ``year`` is <NA> unless written). A single month gives
    start == end. Months outside 1..12 or a start after the end are invalid.
    """
    s = as_series(s)
    t, missing = _text_and_missing(s)
    compact = t.str.replace(f"{_WS}", "", regex=True)
    for cn, num in _CN_MONTHS:
        compact = compact.str.replace(cn, num, regex=False)
    m = _extract(compact, _PERIOD_RE, numeric=True)
    year = m["year"].astype("Int64")
    start = m["start"].astype("Int64")
    end = m["end"].astype("Int64")
    end = end.fillna(start)
    ok = (start >= 1) & (end <= 12) & (start <= end)
    ok = ok.fillna(False).astype(bool) & ~missing
    frame = pd.DataFrame(
        {
            "start_month": start.where(ok),
            "end_month": end.where(ok),
            "year": year.where(ok),
        },
        index=s.index,
    )
    invalid = ~missing & ~ok
    return Parsed(frame, invalid.astype(bool).rename(s.name))


# --------------------------------------------------------------------------------------
# names


def normalize_enterprise_name(s: Any) -> pd.Series:
    """Display form of an enterprise name.

    NFKC, brackets unified to the full-width （） of the official register, whitespace
    removed wherever it touches a CJK character or bracket (Latin words keep one space).
    """
    return _enterprise_name_of_text(normalize_text(s))


_OPEN_BRACKETS = "[(\\[【〔［]"
_CLOSE_BRACKETS = "[)\\]】〕］]"
_ONE_SPACE = _arrowtext.byte_table(b" ")


def _enterprise_name_of_text(t: pd.Series) -> pd.Series:
    """:func:`normalize_enterprise_name` after ``normalize_text`` (for callers holding it)."""
    if _arrowtext.is_arrow_text(t):
        # Few names hold a bracket: one match finds them (no new strings) and only those are
        # rewritten; two replaces over every name cost 2.5x the match.
        bracket = f"{_OPEN_BRACKETS[:-1]}{_CLOSE_BRACKETS[1:]}"
        has = t.str.contains(bracket, regex=True).fillna(False).to_numpy(dtype=bool)
        if has.any():
            sub = t[has].str.replace(_OPEN_BRACKETS, "（", regex=True)
            t = t.mask(has, sub.str.replace(_CLOSE_BRACKETS, "）", regex=True))
        if not _arrowtext.any_byte_in(t, _ONE_SPACE):
            return t  # no space anywhere (one memchr over the column)
    else:
        t = t.str.replace(_OPEN_BRACKETS, "（", regex=True)
        t = t.str.replace(_CLOSE_BRACKETS, "）", regex=True)
    # A space before / after a CJK character or bracket goes. Written without look-around
    # (which RE2 lacks: pandas would fall back to Python per value); after normalize_text
    # spaces are single, so consuming the neighbour gives the same result.
    spaced = t.str.contains(" ", regex=False).fillna(False).astype(bool)
    if not spaced.any():
        return t
    sub = t[spaced].str.replace(f" ([{_CJK}（）])", r"\1", regex=True)
    return t.mask(spaced, sub.str.replace(f"([{_CJK}（）]) ", r"\1", regex=True))


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def enterprise_name_key(s: Any) -> pd.Series:
    """Matching key that makes spelling variants of one name equal.

    Brackets unified, all whitespace and middle dots removed, Latin letters lower-cased,
    "有限责任公司" ≡ "有限公司". "股份有限公司" stays distinct from "有限公司": a company
    limited by shares is a different legal form, and a 股改 (conversion) is a real change of
    name that a reviewer should see, not a spelling variant.
    """
    return until_stable_nfkc(name_key_step(s), name_key_step)


def name_key_step(s: Any) -> pd.Series:
    """One pass of :func:`enterprise_name_key` (display form, then key), without the
    settle-until-stable loop."""
    return name_key_of_display(normalize_enterprise_name(s))


def name_key_of_display(t: pd.Series) -> pd.Series:
    """The key step after :func:`normalize_enterprise_name` (callers that hold the display
    form already skip recomputing it)."""
    if not _arrowtext.is_arrow_text(t):
        t = t.str.replace(f"{_WS}|[·・•]|[（）]", "", regex=True)
        t = t.str.replace("有限责任公司", "有限公司", regex=False)
        return _ascii_lower(t)
    # Each rewrite only where a match (no new strings) or a byte scan finds something to
    # rewrite: most display names hold no space, dot, bracket, 有限责任公司 or A-Z, and a
    # rewrite makes a new string of every value.
    t = _replace_where(t, f"{_WS}|[·・•]|[（）]", "", regex=True)
    t = _replace_where(t, "有限责任公司", "有限公司", regex=False)
    return _ascii_lower(t) if _arrowtext.any_byte_in(t, _ASCII_UPPER) else t


_ASCII_UPPER = _arrowtext.byte_table(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _replace_where(t: pd.Series, pattern: str, repl: str, regex: bool) -> pd.Series:
    """``t.str.replace(pattern, repl, regex=regex)``, computed only for the values that
    contain a match."""
    has = t.str.contains(pattern, regex=regex).fillna(False).to_numpy(dtype=bool)
    if not has.any():
        return t
    return t.mask(has, t[has].str.replace(pattern, repl, regex=regex))


def _ascii_lower(t: pd.Series) -> pd.Series:
    """Lower-case ASCII letters only (pyarrow's ascii_lower; ``str.translate`` runs in Python)."""
    if isinstance(t.array, pd.arrays.ArrowStringArray):
        lowered = pc.ascii_lower(pa.array(t.array))
        return pd.Series(pd.array(lowered, dtype=t.dtype), index=t.index, name=t.name)
    return t.str.translate(_ASCII_LOWER)


def normalize_region_name(s: Any) -> pd.Series:
    """Region names as the yearbooks mean them: NFKC, no spaces ("全    国" -> "全国")."""
    return until_stable_nfkc(_region_step(s), _region_step)


def _region_step(s: Any) -> pd.Series:
    """One pass of :func:`normalize_region_name`: normalised text without any white space."""
    return normalize_text(s).str.replace(f"{_WS}", "", regex=True)


# --------------------------------------------------------------------------------------
# headers


def normalize_header(label: object) -> str:
    """Matching form of a column header: NFKC, no whitespace, bracketed units dropped,
    ASCII lower-case ("成交额\\n(万元)" -> "成交额"). Non-strings are rendered with ``str``;
    None/NaN give "". Scalar and cached: headers are few and repeat across sheets."""
    if label is None or (isinstance(label, float) and np.isnan(label)):
        return ""
    return _header_key(str(label))


_WS_PY = re.compile(f"{_WS}+")
_BRACKETED_PY = re.compile(r"\([^()]*\)|（[^（）]*）|\[[^\[\]]*\]|【[^【】]*】")


@functools.lru_cache(maxsize=4096)
def _header_key(text: str) -> str:
    """The cached matching key of :func:`normalize_header` for a header's text."""
    t = _WS_PY.sub("", unicodedata.normalize("NFKC", text))
    stripped = _BRACKETED_PY.sub("", t)
    return (stripped or t).translate(_ASCII_LOWER)


def header_lookup(synonyms: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Matching key (:func:`normalize_header`) -> canonical name, for :func:`map_headers`.

    ``synonyms`` maps canonical name -> accepted spellings (the canonical name itself also
    matches). Raises ``ValueError`` if two canonical names share a spelling."""
    lookup: dict[str, str] = {}
    for canonical, spellings in synonyms.items():
        for spelling in (canonical, *spellings):
            key = normalize_header(spelling)
            if key in lookup and lookup[key] != canonical:
                raise ValueError(
                    f"synonym {spelling!r} matches both {lookup[key]!r} and {canonical!r}"
                )
            lookup[key] = canonical
    return lookup


def map_headers(
    columns: Iterable[object],
    synonyms: Mapping[str, Sequence[str]],
    *,
    file: str | None = None,
    sheet: str | None = None,
    lookup: Mapping[str, str] | None = None,
) -> tuple[dict[object, str], list[object]]:
    """Map raw headers to canonical names.

    ``synonyms`` maps canonical name -> accepted spellings (the canonical name itself also
    matches); a caller that maps many sheets may pass the ``lookup`` built once by
    :func:`header_lookup` instead. Matching is on :func:`normalize_header`. Returns
    ``(mapping, unmapped)`` where ``mapping`` is raw header -> canonical name and
    ``unmapped`` lists the raw headers that matched nothing, in order. Raises ``ValueError``
    if two canonical names share a spelling and :class:`SchemaError` if two raw headers map
    to one canonical name.
    """
    if lookup is None:
        lookup = header_lookup(synonyms)
    mapping: dict[object, str] = {}
    seen: dict[str, object] = {}
    unmapped: list[object] = []
    for col in columns:
        canonical = lookup.get(normalize_header(col))
        if canonical is None:
            unmapped.append(col)
            continue
        if canonical in seen:
            raise SchemaError(
                "两列表头对应同一字段",
                "two headers map to the same column",
                file=file,
                sheet=sheet,
                column=canonical,
                found=[seen[canonical], col],
                expected="每个字段只出现一次 one header per column",
            )
        seen[canonical] = col
        mapping[col] = canonical
    return mapping, unmapped


# --------------------------------------------------------------------------------------
# row-level flags

_FOOTNOTE_RE = (
    "^(?:注|说明|备注|资料来源|数据来源|来源|填报说明|制表|制表人|审核|审核人|填表人|"
    "填报人|单位负责人|统计负责人|负责人)(?:[0-9]|[:.、 ]|$)|^\\*"
)


def is_footnote_text(s: Any) -> pd.Series:
    """True for text that is a table footnote or signature line ("注：", "数据来源：", "制表人:")."""
    t = normalize_text(s)
    return t.str.contains(_FOOTNOTE_RE, regex=True).fillna(False).astype(bool)


def is_formula_text(s: Any) -> pd.Series:
    """True for text that is a spreadsheet formula exported as text ("=SUM(B2:B9)")."""
    t = normalize_text(s)
    return t.str.match("^=.+").fillna(False).astype(bool)


# --------------------------------------------------------------------------------------
# DataFrame steps (for .pipe)


def _columns(df: pd.DataFrame, columns: str | Iterable[str] | None) -> list[str]:
    """The column names a step works on: all of ``df``'s for None, one name, or the given list."""
    if columns is None:
        return list(df.columns)
    if isinstance(columns, str):
        return [columns]
    return list(columns)


def normalize_text_columns(df: pd.DataFrame, columns: str | Iterable[str]) -> pd.DataFrame:
    """Apply :func:`normalize_text` to ``columns``; other columns untouched."""
    return df.assign(**{c: normalize_text(df[c]) for c in _columns(df, columns)})


def _invalid_name(column: str) -> str:
    """Name of the bool column that flags unparseable text in ``column``."""
    return f"{column}_invalid"


def parse_number_columns(df: pd.DataFrame, columns: str | Iterable[str]) -> pd.DataFrame:
    """Replace ``columns`` by :func:`parse_number` values; add ``<column>_invalid`` flags."""
    new: dict[str, pd.Series] = {}
    for c in _columns(df, columns):
        p = parse_number(df[c])
        new[c] = p.values
        new[_invalid_name(c)] = p.invalid
    return df.assign(**new)


def parse_date_columns(df: pd.DataFrame, columns: str | Iterable[str]) -> pd.DataFrame:
    """Replace ``columns`` by :func:`parse_date` values; add ``<column>_invalid`` flags."""
    new: dict[str, pd.Series] = {}
    for c in _columns(df, columns):
        p = parse_date(df[c])
        new[c] = p.values
        new[_invalid_name(c)] = p.invalid
    return df.assign(**new)


def normalize_amount_unit(
    df: pd.DataFrame,
    column: str,
    unit: str | pd.Series | None = None,
    to: str = "wan",
    out: str | None = None,
) -> pd.DataFrame:
    """Parse ``column`` as amounts (see :func:`parse_amount`) into unit ``to``.

    ``unit`` may also name a column of ``df`` that holds each row's unit. Writes ``out``
    (default: replace ``column``) and ``<out>_invalid``.
    """
    if isinstance(unit, str) and unit in df.columns:
        unit = df[unit]
    p = parse_amount(df[column], unit=unit, to=to)
    target = out or column
    return df.assign(**{target: p.values, _invalid_name(target): p.invalid})


def normalize_enterprise_names(
    df: pd.DataFrame, column: str = "enterprise_name", key: str | None = None
) -> pd.DataFrame:
    """Display form of names in ``column``; with ``key=`` also write the matching key."""
    new = {column: normalize_enterprise_name(df[column])}
    if key is not None:
        new[key] = enterprise_name_key(df[column])
    return df.assign(**new)


def flag_footnote_rows(
    df: pd.DataFrame, columns: str | Iterable[str] | None = None, out: str = "is_footnote"
) -> pd.DataFrame:
    """Add ``out``: True for rows whose only non-missing cell (among ``columns``) is
    footnote text such as "注：1. 数据为快报数" or "数据来源：区统计局"."""
    cols = _columns(df, columns)
    if not cols:
        return df.assign(**{out: pd.Series(False, index=df.index)})
    present = pd.DataFrame({c: ~is_missing_marker(df[c]) for c in cols}, index=df.index)
    first_idx = present.to_numpy().argmax(axis=1) if len(df) else np.array([], dtype=int)
    first = pd.Series(
        df[cols].to_numpy(dtype=object)[np.arange(len(df)), first_idx] if len(df) else [],
        index=df.index,
        dtype=object,
    )
    flag = (present.sum(axis=1) == 1) & is_footnote_text(first)
    return df.assign(**{out: flag.astype(bool)})


def flag_formula_cells(
    df: pd.DataFrame, columns: str | Iterable[str] | None = None, out: str = "has_formula"
) -> pd.DataFrame:
    """Add ``out``: True for rows where any of ``columns`` holds formula text ("=SUM(...)")."""
    cols = _columns(df, columns)
    flag = pd.Series(False, index=df.index)
    for c in cols:
        flag = flag | is_formula_text(df[c])
    return df.assign(**{out: flag.astype(bool)})
