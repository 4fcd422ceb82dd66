"""Unified social credit codes (统一社会信用代码, USCC, GB 32100-2015), vectorised.

Layout of the 18 characters::

    9 1 430103 MA4L5R6K2 X
    | | |      |         +-- 18: check digit (GB 32100 mod-31 over positions 1-17)
    | | |      +------------ 9-17: organisation code (GB 11714: 8 body chars + its own mod-11
    | | |                          check digit)
    | | +------------------- 3-8: administrative division code of the registering office
    | +--------------------- 2: entity category (1 = enterprise under authority 9)
    +----------------------- 1: registration authority (9 = market regulation / 工商)

Hand-written rather than calling ``stdnum.cn.uscc`` per value: python-stdnum validates one
string at a time in Python, while a district table has 10^4–10^6 rows and the pipelines run
on every refresh. Here the codes become a ``uint32`` code-point matrix and the check digit is
one matrix product (measured: see tests/test_identifiers.py::test_faster_than_stdnum and the
report of the commit that added this module). ``tests/test_identifiers.py`` and
``tests/test_properties.py`` cross-check the result against python-stdnum.

Differences from ``stdnum.cn.uscc.validate`` (both documented and tested):

* stdnum requires positions 1-8 to be digits. GB 32100 allows letters of the code alphabet
  in positions 1-2 (authority "Y" = other, "N" = agriculture; categories such as "N", "A"),
  so we accept them; positions 3-8 must be digits here too.
* We also reject administrative division codes whose first two digits are not a province
  code (or "10", used for codes registered at the national level) -> ``admin_code``.
* Neither checks the GB 11714 check digit of the embedded organisation code (many codes of
  个体工商户 carry a registration number instead); :func:`organization_code_valid` does it
  on request.
"""

from __future__ import annotations

from typing import Any, NamedTuple, overload

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tianxin_analysis._arrowtext import _parts, is_arrow_text, with_missing_last
from tianxin_analysis.clean import (
    as_series,
    as_text,
    enterprise_name_key,
    is_marker_text,
    name_key_of_display,
    name_key_step,
    normalize_enterprise_name,
    normalize_text,
    until_stable,
    until_stable_nfkc,
)

__all__ = [
    "LINEAGE_COLUMNS",
    "USCC_ALPHABET",
    "USCC_ERRORS",
    "admin_code_of",
    "dedupe_by_uscc",
    "flag_invalid_uscc",
    "generate_uscc",
    "is_in_district",
    "normalize_uscc",
    "organization_code_check_digit",
    "organization_code_valid",
    "uscc_check_digit",
    "validate_uscc",
]

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
# Error codes of validate_uscc, in the order they are tested (the first failing one wins).
USCC_ERRORS = ("missing", "length", "charset", "admin_code", "check_digit")
LINEAGE_COLUMNS = ("source_file", "source_sheet", "source_row")

# Province-level prefixes of GB/T 2260 codes, plus "10" for national-level registration.
_PROVINCES = frozenset(
    "10 11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)

# code point -> value in the USCC alphabet (-1 = not in it); ASCII, plus a last slot (128)
# that every non-ASCII code point is clipped to
_USCC_VALUE = np.full(129, -1, dtype=np.int8)
for _i, _c in enumerate(USCC_ALPHABET):
    _USCC_VALUE[ord(_c)] = _i
_ALPHABET_ARRAY = np.array(list(USCC_ALPHABET))

# GB 11714 organisation code: digits 0-9, letters A=10 .. Z=35; weights of the 8 body chars.
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ORG_VALUE = np.full(129, -1, dtype=np.int8)
for _c in "0123456789":
    _ORG_VALUE[ord(_c)] = int(_c)
for _c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _ORG_VALUE[ord(_c)] = ord(_c) - 55
_ORG_CHECK = np.array(list("0123456789X0"))  # index 11 - (sum mod 11); 10 -> X, 11 -> 0


def _codepoints(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) uint32 matrix of code points of strings that are exactly ``width`` long."""
    if len(values) == 0:
        return np.zeros((0, width), dtype=np.uint32)
    arr = np.asarray(values, dtype=f"<U{width}")
    return arr.view(np.uint32).reshape(len(arr), width)


def _lookup(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Alphabet values of a code-point matrix (-1 outside the table), as int64."""
    return table[np.minimum(codes, len(table) - 1)].astype(np.int64)


def normalize_uscc(s: Any) -> pd.Series:
    """NFKC, upper-case, without spaces and hyphens; missing markers become missing."""
    t = as_text(as_series(s))
    if not is_arrow_text(t):
        return until_stable(_uscc_step(t), _uscc_step)
    clean = _clean_mask(_clean_uscc(pa.array(t.array)), len(t))
    return _normalize_rest(t, ~clean)


# A value of exactly 18 characters of [0-9A-Z] is its own normal form: it is ASCII (NFKC is
# the identity), holds no white space, space or hyphen, is upper-case already, and no missing
# marker is 18 characters long (tests check it). In a registry nearly every code looks like
# this, so a byte scan of the Arrow buffers finds them and only the rest goes through the
# general _uscc_step. Hand-written on the buffers because it is about 4x faster than an RE2
# match plus a gather of the code points.
#
# byte -> alphabet value (0-30); 31 for the other characters of [0-9A-Z] (I, O, S, V, Z);
# -1 for every other byte
_BYTE_VALUE = np.full(256, -1, dtype=np.int8)
for _c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _BYTE_VALUE[ord(_c)] = USCC_ALPHABET.index(_c) if _c in USCC_ALPHABET else 31
_BYTE_TABLE = _BYTE_VALUE.view(np.uint8).tobytes()  # the same, for bytes.translate
# Weighted sums by einsum over the int8 values, not ``@``: a float matmul goes to OpenBLAS, whose
# helper threads then spin on the other core for a while (~60 ms of a 2-core machine's CPU
# in a 10^6-row clean, seen with perf), and einsum on int8 is as fast (23 vs 28 ms at 10^6).
_WEIGHTS_I32 = USCC_WEIGHTS.astype(np.int32)  # sums stay below 17 * 30 * 30


class _Clean(NamedTuple):
    """Rows of an Arrow string array that hold exactly 18 characters of [0-9A-Z]."""

    rows: np.ndarray  # positions, ascending
    values: np.ndarray  # (len(rows), 18) int8 of _BYTE_VALUE


def _clean_uscc(arr: pa.Array | pa.ChunkedArray) -> _Clean:
    """The rows of an Arrow string array that are already 18 code-alphabet characters (nothing
    to normalise), with their characters as alphabet values (int8, one row of 18 per code)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    offsets, data = _parts(arr)
    cand = (offsets[1:] - offsets[:-1]) == 18
    if arr.null_count:
        cand &= arr.is_valid().to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(cand)
    if len(rows) == 0:
        return _Clean(rows, np.zeros((0, 18), dtype=np.int8))
    # The candidates' bytes side by side (an Arrow take copies the 18 bytes of each), turned
    # into alphabet values by bytes.translate through a 256-byte table: fancy indexing of a
    # sliding-window view, then np.take through the table, cost ~25 ns per byte (0.11 s for
    # 2.3e5 codes); this ~1 ns. (translate is the byte-table lookup Python has in C.)
    picked = arr.take(pa.array(rows)) if len(rows) < len(arr) else arr
    p_offsets, p_data = _parts(picked)
    lo = int(p_offsets[0])
    raw = p_data[lo : lo + 18 * len(rows)].tobytes().translate(_BYTE_TABLE)
    values = np.frombuffer(raw, dtype=np.int8).reshape(len(rows), 18)
    ok = _column_min(values) >= 0
    return _Clean(rows[ok], values[ok])


def _merge_clean(first: _Clean, later: _Clean, rest: np.ndarray) -> _Clean:
    """``first`` (clean rows outside ``rest``) with ``later`` (clean rows among the values at
    ``rest``, numbered within them), as one _Clean in row order; cheaper than a second scan
    of every value."""
    later_rows = np.flatnonzero(rest)[later.rows]
    mask = np.zeros(len(rest), dtype=bool)
    mask[first.rows] = True
    mask[later_rows] = True
    rows = np.flatnonzero(mask)
    rank = np.cumsum(mask) - 1
    values = np.empty((len(rows), 18), dtype=np.int8)
    values[rank[first.rows]] = first.values
    values[rank[later_rows]] = later.values
    return _Clean(rows, values)


def _column_min(values: np.ndarray) -> np.ndarray:
    """Row-wise minimum of a 2-D array (one value per row)."""
    # a loop over the 18 columns beats .min(axis=1), which reduces 18 items at a time
    acc = values[:, 0].copy()
    for i in range(1, values.shape[1]):
        np.minimum(acc, values[:, i], out=acc)
    return acc


def _column_max(values: np.ndarray) -> np.ndarray:
    """Row-wise maximum of a 2-D array (one value per row)."""
    acc = values[:, 0].copy()
    for i in range(1, values.shape[1]):
        np.maximum(acc, values[:, i], out=acc)
    return acc


def _clean_mask(clean: _Clean, n: int) -> np.ndarray:
    """Bool mask of length ``n``, True at the rows of ``clean``."""
    out = np.zeros(n, dtype=bool)
    out[clean.rows] = True
    return out


def _normalize_rest(t: pd.Series, rest: np.ndarray) -> pd.Series:
    """``t`` (pyarrow ``str``) with the values at ``rest`` replaced by their normal form."""
    if not rest.any():
        return t.copy(deep=False)  # a new object; copy-on-write keeps ``t`` safe from edits
    arr = pa.array(t.array)
    if isinstance(arr, pa.ChunkedArray):  # replace_with_mask takes one array
        arr = arr.combine_chunks()
    # positional sub-Series: _uscc_step aligns on the index, which need not be unique
    sub = pd.Series(pd.array(arr.filter(pa.array(rest)), dtype=t.dtype))
    normed = pa.array(until_stable(_uscc_step(sub), _uscc_step).array)
    if isinstance(normed, pa.ChunkedArray):
        normed = normed.combine_chunks()
    out = pc.replace_with_mask(arr, pa.array(rest), normed.cast(arr.type))
    return pd.Series(pd.array(out, dtype=t.dtype), index=t.index, name=t.name)


def _admin_array(mat: np.ndarray, rows: np.ndarray, n: int) -> pa.Array:
    """Arrow string array of length ``n``: the (len(rows), 6) bytes ``mat`` at ``rows``,
    else null."""
    has = np.zeros(n, dtype=bool)
    has[rows] = True
    offsets = np.zeros(n + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(has * 6)
    data = np.ascontiguousarray(mat).tobytes()
    validity = pa.py_buffer(np.packbits(has, bitorder="little").tobytes())
    return pa.Array.from_buffers(
        pa.large_string(), n, [validity, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data)]
    )


def _uscc_step(s: Any) -> pd.Series:
    """One pass of :func:`normalize_uscc`: normalised text, markers missing, no spaces or hyphens,
    upper-case."""
    t = normalize_text(s)
    t = t.where(~is_marker_text(t))
    return t.str.replace("[ -]", "", regex=True).str.upper()


def _check_values(values17: np.ndarray) -> np.ndarray:
    """Check-digit values for a (n, 17) matrix of alphabet values (all >= 0)."""
    total = values17 @ USCC_WEIGHTS
    return (31 - total % 31) % 31


@overload
def uscc_check_digit(first17: str) -> str: ...
@overload
def uscc_check_digit(first17: pd.Series) -> pd.Series: ...
def uscc_check_digit(first17: pd.Series | str) -> pd.Series | str:
    """GB 32100-2015 check digit of the first 17 characters.

    Weights 3^i mod 31, check = 31 - (sum mod 31), 31 -> 0. A string gives a string (raises
    ``ValueError`` if it is not 17 alphabet characters); a Series gives a ``str`` Series with
    missing values where the input is not 17 alphabet characters.
    """
    if isinstance(first17, str):
        out = uscc_check_digit(pd.Series([first17], dtype=object))
        if pd.isna(out.iloc[0]):
            raise ValueError(
                f"need 17 characters of {USCC_ALPHABET!r} to compute a check digit, got {first17!r}"
            )
        return str(out.iloc[0])
    t = normalize_uscc(first17)
    ok = (t.str.len() == 17).fillna(False).astype(bool).to_numpy()
    codes = _codepoints(t.to_numpy(dtype=object)[ok], 17)
    vals = _lookup(codes, _USCC_VALUE)
    good = (vals >= 0).all(axis=1)
    digits = np.full(len(t), None, dtype=object)
    idx = np.flatnonzero(ok)[good]
    digits[idx] = _ALPHABET_ARRAY[_check_values(vals[good])]
    return pd.Series(digits, index=t.index, dtype="str", name=t.name)


def validate_uscc(s: Any) -> pd.DataFrame:
    """Validate USCCs. Returns a frame on the input's index with columns

    ``uscc`` (str: NFKC, upper-case, spaces/hyphens removed; missing if missing),
    ``valid`` (bool), ``error`` (str code or <NA>: "missing", "length", "charset",
    "admin_code", "check_digit"; the first failing test in that order) and ``admin_code``
    (str, positions 3-8, where the code is 18 alphabet characters with digits there).
    """
    t0 = as_text(as_series(s))
    if not is_arrow_text(t0):
        return _validate_uscc_general(normalize_uscc(t0))
    return _validate_uscc_arrow(t0)[0]


def _validate_uscc_arrow(t0: pd.Series) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`validate_uscc` of a pyarrow ``str`` Series, and the mask of the values that
    were not clean codes already (18 characters of [0-9A-Z]): ``normalize_text`` leaves a
    clean code as it is, so callers that also need that text only compute it for these."""
    clean = _clean_uscc(pa.array(t0.array))
    rest = ~_clean_mask(clean, len(t0))
    t = _normalize_rest(t0, rest)
    arr = pa.array(t.array)
    n = len(t)
    if rest.any():  # a normalised value may have become clean ("9143 0103..." -> "9143...")
        clean = _merge_clean(clean, _clean_uscc(arr.take(np.flatnonzero(rest))), rest)
    missing = pc.is_null(arr).to_numpy(zero_copy_only=False).astype(bool, copy=False)
    length18 = pc.fill_null(pc.equal(pc.utf8_length(arr), 18), False)
    length18 = length18.to_numpy(zero_copy_only=False).astype(bool, copy=False)

    # Every character of the alphabet is in [0-9A-Z], so a value of 18 characters that is not
    # clean fails the charset test; only the clean ones need their values.
    rows, vals = clean
    charset_ok = _column_max(vals) <= 30
    admin_digits = (_column_max(vals[:, 2:8]) <= 9) & charset_ok
    province = vals[:, 2].astype(np.int64) * 10 + vals[:, 3]
    admin_ok = admin_digits & np.isin(province, [int(p) for p in _PROVINCES])
    check_ok = np.zeros(len(vals), dtype=bool)
    total = np.einsum("ij,j->i", vals[charset_ok, :17], _WEIGHTS_I32, dtype=np.int32)
    check = (31 - total % 31) % 31
    check_ok[charset_ok] = check == vals[charset_ok, 17]

    # error as small codes into USCC_ERRORS (-1 = none), turned into text by one Arrow take
    code = np.full(n, -1, dtype=np.int8)
    code[missing] = 0
    code[~missing & ~length18] = 1
    code[length18] = 2  # charset unless clean; clean rows are set below
    sub = np.full(len(vals), -1, dtype=np.int8)
    sub[~check_ok] = 4
    sub[~admin_ok] = 3
    sub[~charset_ok] = 2
    code[rows] = sub
    names = pa.array(USCC_ERRORS, pa.large_string())
    error = names.take(pa.array(code.astype(np.int64), mask=code < 0))

    # values 0-9 are the digits themselves
    digits = (vals[admin_digits, 2:8] + ord("0")).astype(np.uint8)
    admin = _admin_array(digits, rows[admin_digits], n)
    return pd.DataFrame(
        {
            "uscc": t,
            "valid": pd.Series(code < 0, index=t.index, dtype=bool),
            "error": pd.Series(pd.array(error, dtype="string"), index=t.index),
            "admin_code": pd.Series(pd.array(admin, dtype="str"), index=t.index),
        },
        index=t.index,
    ), rest


def _validate_uscc_general(t: pd.Series) -> pd.DataFrame:
    """:func:`validate_uscc` of normalised text ``t`` through Python strings (text that is
    not pyarrow-backed)."""
    n = len(t)
    text = t.to_numpy(dtype=object)
    missing = t.isna().to_numpy()
    length18 = (t.str.len() == 18).fillna(False).astype(bool).to_numpy()

    codes = _codepoints(text[length18], 18)
    vals = _lookup(codes, _USCC_VALUE)
    charset_ok = (vals >= 0).all(axis=1)
    admin_digits = (vals[:, 2:8] <= 9).all(axis=1) & charset_ok
    province = vals[:, 2] * 10 + vals[:, 3]
    admin_ok = admin_digits & np.isin(province, [int(p) for p in _PROVINCES])
    check_ok = np.zeros(len(vals), dtype=bool)
    good = charset_ok
    check_ok[good] = _check_values(vals[good, :17]) == vals[good, 17]

    error = np.full(n, None, dtype=object)
    error[missing] = "missing"
    error[~missing & ~length18] = "length"
    sub = np.full(len(vals), None, dtype=object)
    sub[~check_ok] = "check_digit"
    sub[~admin_ok] = "admin_code"
    sub[~charset_ok] = "charset"
    error[length18] = sub

    admin = np.full(n, None, dtype=object)
    sub_admin = np.full(len(vals), None, dtype=object)
    if admin_digits.any():
        sub_admin[admin_digits] = pd.Series(text[length18][admin_digits]).str.slice(2, 8).to_numpy()
    admin[length18] = sub_admin

    valid = pd.isna(error)
    return pd.DataFrame(
        {
            "uscc": t,
            "valid": pd.Series(valid, index=t.index, dtype=bool),
            "error": pd.Series(error, index=t.index, dtype="string"),
            "admin_code": pd.Series(admin, index=t.index, dtype="str"),
        },
        index=t.index,
    )


def flag_invalid_uscc(df: pd.DataFrame, column: str = "uscc") -> pd.DataFrame:
    """Normalise ``column`` and add ``uscc_valid`` (bool) and ``uscc_error`` (code or <NA>).

    Error codes: missing, length, charset, admin_code, check_digit (see
    :func:`validate_uscc`). A ``DataFrame.pipe`` step: returns a new frame.
    """
    v = validate_uscc(df[column])
    return df.assign(**{column: v["uscc"], "uscc_valid": v["valid"], "uscc_error": v["error"]})


def admin_code_of(s: Any) -> pd.Series:
    """Administrative division code (positions 3-8) of each code; missing where the code is
    not 18 alphabet characters with digits in positions 3-8."""
    return validate_uscc(s)["admin_code"]


def is_in_district(s: Any, code: str = "430103") -> pd.Series:
    """True where the code is valid and registered under ``code`` (a GB/T 2260 prefix:
    "430103" = 天心区, "4301" = 长沙市, "43" = 湖南省)."""
    v = validate_uscc(s)
    return (v["valid"] & v["admin_code"].str.startswith(code).fillna(False)).astype(bool)


@overload
def organization_code_check_digit(first8: str) -> str: ...
@overload
def organization_code_check_digit(first8: pd.Series) -> pd.Series: ...
def organization_code_check_digit(first8: pd.Series | str) -> pd.Series | str:
    """GB 11714 check digit of an organisation code's 8 body characters (digits/A-Z)."""
    if isinstance(first8, str):
        out = organization_code_check_digit(pd.Series([first8], dtype=object))
        if pd.isna(out.iloc[0]):
            raise ValueError(f"need 8 digits/letters, got {first8!r}")
        return str(out.iloc[0])
    t = normalize_uscc(first8)
    ok = (t.str.len() == 8).fillna(False).astype(bool).to_numpy()
    vals = _lookup(_codepoints(t.to_numpy(dtype=object)[ok], 8), _ORG_VALUE)
    good = (vals >= 0).all(axis=1)
    out = np.full(len(t), None, dtype=object)
    out[np.flatnonzero(ok)[good]] = _ORG_CHECK[11 - (vals[good] @ _ORG_WEIGHTS) % 11]
    return pd.Series(out, index=t.index, dtype="str", name=t.name)


def organization_code_valid(s: Any) -> pd.Series:
    """True where a USCC's embedded organisation code (positions 9-17) has a correct GB 11714
    check digit. Not part of :func:`validate_uscc` (see module docstring)."""
    t = normalize_uscc(s)
    body = t.str.slice(8, 16).where(t.str.len() == 18)
    check = organization_code_check_digit(body)
    return (check == t.str.slice(16, 17)).fillna(False).astype(bool)


def generate_uscc(
    rng: np.random.Generator,
    n: int,
    admin_codes: tuple[str, ...] | list[str] = ("430103",),
    valid: bool = True,
) -> np.ndarray:
    """``n`` realistic enterprise USCCs: authority "9", category "1", an admin code drawn
    from ``admin_codes``, a GB 11714 organisation code ("MA" + 6 characters for two thirds,
    the older all-digit form otherwise) with its own check digit, then the USCC check digit.

    With ``valid=False`` every code has a wrong USCC check digit (and is otherwise intact).
    Returns a numpy array of ``str``.
    """
    admin = np.asarray(list(admin_codes), dtype="<U6")
    if n == 0:
        return np.array([], dtype="<U18")
    if any(len(a) != 6 or not a.isdigit() for a in admin):
        raise ValueError(f"admin codes must be 6 digits, got {list(admin_codes)!r}")
    prefix = np.char.add("91", admin[rng.integers(0, len(admin), n)])

    alphabet = np.array(list(USCC_ALPHABET))
    digits = np.array(list("0123456789"))
    new_style = rng.random(n) < 2 / 3
    tail_new = alphabet[rng.integers(0, 31, (n, 6))]
    tail_old = digits[rng.integers(0, 10, (n, 8))]
    body = np.where(
        new_style[:, None],
        np.concatenate([np.tile(np.array(["M", "A"]), (n, 1)), tail_new], axis=1),
        tail_old,
    )
    body_codes = np.array([ord(c) for c in body.ravel()], dtype=np.uint32).reshape(n, 8)
    org_check = _ORG_CHECK[11 - (_lookup(body_codes, _ORG_VALUE) @ _ORG_WEIGHTS) % 11]
    first17 = prefix
    for j in range(8):
        first17 = np.char.add(first17, body[:, j])
    first17 = np.char.add(first17, org_check)

    vals = _lookup(_codepoints(first17, 17), _USCC_VALUE)
    check = _check_values(vals)
    if not valid:
        check = (check + rng.integers(1, 31, n)) % 31
    return np.char.add(first17, _ALPHABET_ARRAY[check]).astype(str)


def _name_table(
    names: pd.Series, names_are_display: bool = False
) -> tuple[np.ndarray, pd.Series | None, pd.Series, pd.Series]:
    """``(codes, raw, display, key)``: ``names`` as codes into per-distinct-name tables.

    ``display[codes]`` is ``normalize_enterprise_name(names)`` and ``key[codes]`` is
    ``enterprise_name_key(names)``; both are element-wise and a registry repeats each name
    in every batch, so they run once per distinct name and are never expanded to every row.
    ``raw[codes]`` equals ``names`` value for value (``raw`` is None on the small path, where
    the tables are the rows themselves).

    ``names_are_display=True`` promises that ``names`` already are display forms (made by
    ``normalize_enterprise_name``, which is idempotent: tests/test_properties.py), so
    ``display`` is ``raw`` itself and the normalisation (NFKC per value in Python) is skipped.
    """
    if len(names) < 1000 or pd.api.types.infer_dtype(names, skipna=True) not in ("string", "empty"):
        plain = names.reset_index(drop=True)
        codes = np.arange(len(names), dtype=np.int64)
        return codes, None, normalize_enterprise_name(plain), enterprise_name_key(plain)
    # enterprise_name_key(u) == until_stable(key_of_display(normalize_enterprise_name(u)))
    codes, uniques = pd.factorize(names.astype("str"), use_na_sentinel=True)
    u = with_missing_last(uniques)
    codes = np.where(codes < 0, len(u) - 1, codes).astype(np.int64)
    display = u if names_are_display else normalize_enterprise_name(u)
    return codes, u, display, _key_of_display(display)


# Text made only of ASCII and CJK unified ideographs (U+4E00-U+9FFF) is NFKC-normalised: none
# of these characters has a decomposition or composes with a neighbour. RE2 answers that for
# the whole column in C++, so only the rest needs Python's per-value unicodedata check.
_NFKC_STABLE = "^[\\x00-\\x7f\\x{4e00}-\\x{9fff}]*$"


def _key_of_display(display: pd.Series) -> pd.Series:
    """``enterprise_name_key`` of text that is already ``normalize_enterprise_name`` output
    (element-wise identical to ``until_stable_nfkc(name_key_of_display(d), name_key_step)``)."""
    k = name_key_of_display(display)
    if not isinstance(k.array, pd.arrays.ArrowStringArray) or not len(k):
        return until_stable_nfkc(k, name_key_step)
    stable = pc.match_substring_regex(pa.array(k.array), _NFKC_STABLE)
    rest = ~stable.fill_null(True).to_numpy(zero_copy_only=False)
    if not rest.any():
        return k
    return k.mask(rest, until_stable_nfkc(k[rest], name_key_step))


def _codes(s: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes of ``s`` in order of first appearance (missing values get one code)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    return codes.astype(np.int64), len(uniques)


def _dense(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Combined integer codes renumbered 0..n-1 in order of first appearance."""
    return _codes(pd.Series(codes, dtype=np.int64))


def _int_offsets(v: np.ndarray, max_span: int) -> tuple[np.ndarray, int, int] | None:
    """``(v - min, min, max)`` for numpy integers ``v`` (not uint64, not empty) whose span
    ``max - min`` is at most ``max_span``, else None. The offsets are int64 (no overflow of a
    small integer dtype) and keep the order and ties of ``v``: codes and sort ranks without
    hashing or sorting."""
    if v.dtype.kind not in "iu" or v.dtype == np.uint64 or not len(v):
        return None
    lo, hi = int(v.min()), int(v.max())
    if hi - lo > max_span:
        return None
    return v.astype(np.int64) - np.int64(lo), lo, hi


def _value_codes(s: pd.Series) -> tuple[np.ndarray, int, pd.Index]:
    """``(codes, bound, uniques)``: codes of ``s`` in ``[0, bound)`` with equal codes exactly
    where ``DataFrame.duplicated`` sees equal values; missing values share the last code
    (``bound - 1``). Unlike :func:`_codes`, no renumbering pass.

    Integers spanning fewer values than about twice their number (years, months) are their
    offset from the minimum: no hashing (10^6 years: 2 against 15-50 ms). ``uniques`` then
    holds the value of every code in the span, used or not.
    """
    if isinstance(s.dtype, np.dtype):
        span = _int_offsets(s.to_numpy(), 2 * len(s) + 16)
        if span is not None:
            codes, lo, hi = span
            return codes, hi - lo + 2, pd.Index(np.arange(lo, hi + 1, dtype=s.dtype))
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    codes = codes.astype(np.int64, copy=False)
    codes[codes < 0] = len(uniques)
    return codes, len(uniques) + 1, uniques


# Mixed-radix products of codes stay below this (int64 arithmetic without overflow).
_RADIX_LIMIT = 1 << 62


def _combine(a: np.ndarray, na: int, b: np.ndarray, nb: int) -> tuple[np.ndarray, int]:
    """Codes of the pairs ``(a, b)`` (``a`` in ``[0, na)``, ``b`` in ``[0, nb)``) and their bound.

    Plain mixed radix while it fits in int64; otherwise ``a`` is renumbered densely first
    (then ``na <= len(a)``, so the product fits for any table below 2^31 rows).
    """
    if na * nb >= _RADIX_LIMIT:
        a, na = _dense(a)
    return a * nb + b, na * nb


def _first_duplicates(
    df: pd.DataFrame,
    rows: np.ndarray,
    subset: list[str],
    pre: tuple[np.ndarray, int, set[str]] | None = None,
) -> np.ndarray:
    """True at the ``rows`` (a mask) equal to an earlier one of ``rows`` in every column of
    ``subset``: ``df[rows].duplicated(subset, keep="first")`` as a mask over ``df``.

    ``pre = (codes, bound, columns)``: codes over all rows in ``[0, bound)`` that are equal
    exactly where the ``rows`` are equal in ``columns``. Rows unique in those cannot have a
    duplicate, so the other columns are only coded for the rest: factorising every string
    column of 10^6 rows is what makes ``DataFrame.duplicated`` slow, and in a registry
    (code, name, year) is almost a key.
    """
    out = np.zeros(len(df), dtype=bool)
    pos = np.flatnonzero(rows)
    if len(pos) < 2 or not subset:
        return out
    key, nkey, covered = (np.zeros(len(pos), dtype=np.int64), 1, set()) if pre is None else pre
    if pre is not None:
        key = key[pos]
    others = [c for c in subset if c not in covered]
    if pre is not None and others:
        maybe = _repeated(key, nkey)
        pos, key = pos[maybe], key[maybe]
    for c in others:
        codes, n, _ = _value_codes(df[c].take(pos))
        key, nkey = _combine(key, nkey, codes, n)
    out[pos[pd.Series(key).duplicated(keep="first").to_numpy()]] = True
    return out


def _repeated(key: np.ndarray, bound: int) -> np.ndarray:
    """``duplicated(keep=False)`` of codes in ``[0, bound)``: a count per code when the codes
    are few enough for an array of counts (no hashing), else pandas' hash table."""
    if bound <= 4 * len(key) + 16:
        return np.bincount(key, minlength=bound)[key] > 1
    return pd.Series(key).duplicated(keep=False).to_numpy()


class _DedupePlan(NamedTuple):
    """What :func:`dedupe_by_uscc` decides, as masks over the input rows."""

    conflict: np.ndarray  # bool: rows of a (uscc, *keys) group with more than one name key
    duplicate: np.ndarray  # bool: non-conflict rows equal to an earlier one (to drop)
    conflict_names: np.ndarray  # object: "name A | name B" per conflict row, in row order
    codes: dict[str, tuple[np.ndarray, int, pd.Index]]  # _value_codes of uscc and keys
    names: pd.Series | None  # the name column with unified display forms (unify_all only)


def _chosen_display(
    cu: np.ndarray, ck: np.ndarray, nk: int, cd: np.ndarray, nd: int, disp: np.ndarray
) -> np.ndarray:
    """Per row, the display form its (uscc, key) group gets: the group's most frequent one,
    ties to the first seen. ``cu``/``ck``/``cd``: codes of the rows' uscc, key and display
    form (``ck < nk``, ``cd < nd``); ``disp``: the rows' display forms as indices into the
    display table. Returns indices into that table."""
    # Groups as integer codes (dense numbers them in order of first appearance, so a smaller
    # code is a group seen first): no groupby over large string frames.
    uk, nuk = _dense(cu * nk + ck)
    ukd, nukd = _dense(uk * nd + cd)
    size = np.bincount(ukd, minlength=nukd)
    uk_of = np.empty(nukd, dtype=np.int64)
    uk_of[ukd] = uk
    row_of = np.empty(nukd, dtype=np.int64)
    row_of[ukd] = np.arange(len(ukd))  # a row of each group (all hold the same display form)
    order = np.lexsort((np.arange(nukd), -size, uk_of))
    lead = np.ones(nukd, dtype=bool)
    lead[1:] = uk_of[order][1:] != uk_of[order][:-1]
    chosen = np.empty(nuk, dtype=np.int64)
    chosen[uk_of[order][lead]] = order[lead]
    return disp[row_of[chosen[uk]]]


class _RowCodes(NamedTuple):
    """Integer codes of the rows that :func:`_dedupe_plan` compares."""

    has: np.ndarray  # bool: rows with a code and a name key
    uc: np.ndarray  # code of each row's uscc (nu - 1: missing)
    nu: int
    ck: np.ndarray  # code of each row's name key (< nk)
    nk: int
    gh: np.ndarray  # (uscc, *keys) group code of each row in ``has`` (< ng)
    ng: int


def _group_codes(
    df: pd.DataFrame,
    uscc: str,
    keys: list[str],
    known: dict[str, tuple[np.ndarray, int, pd.Index]],
    uscc_codes: tuple[np.ndarray, int, pd.Index],
    has: np.ndarray,
) -> tuple[np.ndarray, int, dict[str, tuple[np.ndarray, int, pd.Index]]]:
    """(uscc, *keys) group code of each row in ``has`` and the bound of those codes, and
    the ``_value_codes`` of uscc and of each key (taken from ``known`` where there)."""
    codes = {uscc: uscc_codes}
    g, ng = uscc_codes[0], uscc_codes[1]
    for k in keys:
        codes[k] = known[k] if k in known else _value_codes(df[k])
        g, ng = _combine(g, ng, codes[k][0], codes[k][1])
    gh = g[has]
    if ng > 2 * len(gh) + 16:  # group codes as indices into arrays of about n slots
        gh, ng = _dense(gh)
    return gh, ng, codes


def _mixed_groups(rc: _RowCodes, n: int) -> np.ndarray:
    """Rows (of ``n``) whose (uscc, *keys) group holds more than one name key."""
    # A group has two name keys where some row's key differs from the key of the group's
    # first row: numpy scatters instead of hashing (group, key) pairs. (Fancy assignment
    # keeps the last write of a repeated index, so the reversed rows leave the first.)
    gh, ckh = rc.gh, rc.ck[rc.has]
    first = np.empty(rc.ng, dtype=np.int64)
    first[gh[::-1]] = ckh[::-1]
    mixed = np.zeros(rc.ng, dtype=bool)
    mixed[gh[ckh != first[gh]]] = True
    conflict = np.zeros(n, dtype=bool)
    conflict[rc.has] = mixed[gh]
    return conflict


def _joined_conflict_names(
    rc: _RowCodes, conflict: np.ndarray, urows: np.ndarray, chosen: np.ndarray, display_u: pd.Series
) -> np.ndarray:
    """``conflict_names``: the distinct unified names of each conflict group, in row order,
    joined by " | ", one per conflict row."""
    # Few rows: a dict per group in Python beats a groupby with a Python callback per group.
    cnames = display_u.take(chosen[conflict[urows]]).tolist()
    groups: dict[int, dict[Any, None]] = {}
    cgroups = rc.gh[conflict[rc.has]].tolist()
    for gi, nm in zip(cgroups, cnames, strict=True):
        groups.setdefault(gi, {})[nm] = None
    joined = {gi: " | ".join(d) for gi, d in groups.items()}
    return np.array([joined[gi] for gi in cgroups], dtype=object)


def _unified_names(
    names: pd.Series,
    raw_u: pd.Series | None,
    display_u: pd.Series,
    ncodes: np.ndarray,
    has: np.ndarray,
    chosen: np.ndarray,
) -> pd.Series:
    """The name column with each row in ``has`` replaced by its group's display form
    (``chosen``: indices into ``display_u``, one per row in ``has``)."""
    if raw_u is not None and names.dtype == raw_u.dtype:
        # one take over [raw names | display forms] instead of a copy and a masked setitem
        idx = ncodes.copy()
        idx[has] = len(raw_u) + chosen
        both = pd.concat([raw_u, display_u], ignore_index=True)
        return pd.Series(both.take(idx).array, index=names.index, name=names.name)
    new_names = names.copy()
    new_names[has] = display_u.take(chosen).to_numpy()
    return new_names


def _pre_key_by_groups(
    df: pd.DataFrame, uscc: str, name: str, keys: list[str], rc: _RowCodes
) -> tuple[np.ndarray, int]:
    """Codes equal wherever (uscc, name, *keys) are equal, from the group codes: outside
    conflicts every (uscc, *keys) group holds one name key, so its group code covers all of
    them, and the bound of about n lets _repeated count, not hash."""
    pre = np.empty(len(df), dtype=np.int64)
    pre[rc.has] = rc.gh
    bound = rc.ng
    if not rc.has.all():
        other, nother = _value_codes(df[name][~rc.has])[:2]
        for c in (uscc, *keys):
            other, nother = _combine(other, nother, *_value_codes(df[c][~rc.has])[:2])
        other, nother = _dense(other)
        pre[~rc.has] = rc.ng + other
        bound += nother
    return pre, bound


def _pre_key_by_name_keys(
    df: pd.DataFrame,
    subset: list[str],
    uscc: str,
    name: str,
    keys: list[str],
    rc: _RowCodes,
    codes: dict[str, tuple[np.ndarray, int, pd.Index]],
) -> tuple[np.ndarray, int, set[str]]:
    """Codes equal wherever (uscc, name key, the keys in ``subset``) are equal, their
    bound, and the columns they cover (a key column is ignored: name keys instead of group
    codes)."""
    pre = rc.ck.copy()
    bound = rc.nk
    if not rc.has.all():
        raw_codes, n_raw, _ = _value_codes(df[name][~rc.has])
        pre[~rc.has] = rc.nk + raw_codes
        bound += n_raw
    covered = {uscc, name}
    pre, bound = _combine(pre, bound, rc.uc, rc.nu)
    for k in keys:
        if k in subset and k not in covered:
            covered.add(k)
            pre, bound = _combine(pre, bound, codes[k][0], codes[k][1])
    return pre, bound, covered


def _coded_duplicates(
    df: pd.DataFrame,
    rest: np.ndarray,
    subset: list[str],
    uscc: str,
    name: str,
    keys: list[str],
    rc: _RowCodes,
    codes: dict[str, tuple[np.ndarray, int, pd.Index]],
) -> np.ndarray:
    """Rows in ``rest`` equal on ``subset`` to an earlier one, uscc, name and keys compared
    as integer codes."""
    # Among rows with a code and a name, two unified names are equal exactly where the
    # codes and the name keys are; rows without either never equal one of those.
    covered = {uscc, name, *keys}
    if covered <= set(subset) and name not in keys:
        pre, bound = _pre_key_by_groups(df, uscc, name, keys, rc)
    else:
        pre, bound, covered = _pre_key_by_name_keys(df, subset, uscc, name, keys, rc, codes)
    return _first_duplicates(df, rest, subset, (pre, bound, covered))


def _frame_duplicates(
    df: pd.DataFrame, name: str, new_names: pd.Series, rest: np.ndarray, subset: list[str]
) -> np.ndarray:
    """Rows in ``rest`` equal on ``subset`` to an earlier one, with the unified names, by
    ``DataFrame.duplicated``."""
    duplicate = np.zeros(len(df), dtype=bool)
    if subset:
        out = df.assign(**{name: new_names})
        duplicate[rest] = out.loc[rest, subset].duplicated(keep="first").to_numpy()
    return duplicate


def _dedupe_plan(
    df: pd.DataFrame,
    uscc: str,
    name: str,
    keys: list[str],
    ignore: tuple[str, ...],
    names_are_display: bool = False,
    unify_all: bool = True,
    table: tuple[np.ndarray, pd.Series | None, pd.Series, pd.Series] | None = None,
    codes: dict[str, tuple[np.ndarray, int, pd.Index]] | None = None,
) -> _DedupePlan:
    """The decisions of :func:`dedupe_by_uscc` without building any frame.

    ``unify_all=False`` computes unified display forms only where ``conflict_names`` needs
    them (rows sharing a code with a conflict); the exact-duplicate test does not need them,
    because among rows with a code and a name two unified names are equal exactly where the
    codes and the name keys are equal. ``names_are_display``: see :func:`_name_table`.
    ``table`` (``_name_table(df[name], names_are_display)``) and ``codes`` (``_value_codes``
    of some of ``uscc`` and ``keys``): already computed by the caller (on other threads).
    """
    names = df[name]
    known = codes or {}
    ncodes, raw_u, display_u, key_u = (
        _name_table(names, names_are_display) if table is None else table
    )
    uc, nu, uu = known[uscc] if uscc in known else _value_codes(df[uscc])
    has = (uc != nu - 1) & key_u.notna().to_numpy()[ncodes]
    ck_u, nk = _codes(key_u)
    if raw_u is not None and display_u is raw_u:
        cd_u, nd = np.arange(len(raw_u), dtype=np.int64), len(raw_u)  # distinct already
    else:
        cd_u, nd = _codes(display_u)
    ck = ck_u[ncodes]

    # Conflicts: more than one name key in a (uscc, *keys) group.
    gh, ng, codes = _group_codes(df, uscc, keys, known, (uc, nu, uu), has)
    rc = _RowCodes(has, uc, nu, ck, nk, gh, ng)
    conflict = _mixed_groups(rc, len(df))

    # Unified display forms: of every row with a code and a name, or only of those sharing
    # a code with a conflict (the groups of their rows lie within those codes).
    if unify_all:
        urows = has
    else:
        flag = np.zeros(nu, dtype=bool)
        flag[uc[conflict]] = True
        urows = has & flag[uc]
    n_u = ncodes[urows]
    chosen = _chosen_display(uc[urows], ck[urows], nk, cd_u[n_u], nd, n_u)
    conflict_names = _joined_conflict_names(rc, conflict, urows, chosen, display_u)
    new_names = _unified_names(names, raw_u, display_u, ncodes, has, chosen) if unify_all else None

    rest = ~conflict
    subset = [c for c in df.columns if c not in ignore]
    if uscc in subset and name in subset and uscc != name and df.columns.is_unique:
        duplicate = _coded_duplicates(df, rest, subset, uscc, name, keys, rc, codes)
    else:
        if new_names is None:
            every = _chosen_display(uc[has], ck[has], nk, cd_u[ncodes[has]], nd, ncodes[has])
            new_names = names.copy()
            new_names[has] = display_u.take(every).to_numpy()
        duplicate = _frame_duplicates(df, name, new_names, rest, subset)
    return _DedupePlan(conflict, duplicate, conflict_names, codes, new_names)


def dedupe_by_uscc(
    df: pd.DataFrame,
    uscc: str = "uscc",
    name: str = "enterprise_name",
    keys: tuple[str, ...] | list[str] = (),
    ignore: tuple[str, ...] = LINEAGE_COLUMNS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reconcile and deduplicate rows of one entity table by USCC.

    1. Name variants: rows with the same ``uscc`` whose names have the same
       :func:`~tianxin_analysis.clean.enterprise_name_key` get one display name, the most
       frequent display form (ties: the first seen).
    2. Conflicts: rows whose (``uscc``, *``keys``) group holds names with different keys
       (e.g. two different companies under one code in one batch year) are taken out and
       returned as the second frame, with ``conflict_names`` ("name A | name B").
    3. Exact duplicates among the rest (equal in every column except ``ignore``, the lineage
       columns by default) are dropped, keeping the first.

    Rows with a missing ``uscc`` pass through step 3 only. Returns ``(clean, conflicts)``;
    the input is not modified.
    """
    plan = _dedupe_plan(df, uscc, name, list(keys), ignore)
    out = df.assign(**{name: plan.names})
    conflicts = out[plan.conflict]
    if len(conflicts):
        conflicts = conflicts.assign(conflict_names=plan.conflict_names)
    else:
        conflicts = conflicts.assign(conflict_names=pd.Series(dtype="str"))
    return out[~plan.conflict & ~plan.duplicate], conflicts


def names_under_several_codes(name_codes: np.ndarray, uscc_codes: np.ndarray) -> np.ndarray:
    """Per row, True where the row's name (a code; negative = missing) appears with more
    than one credit code (codes; negative = missing) among the rows.

    Element-wise over integer codes: the smallest and largest credit code of every name,
    two ``ufunc.at`` passes, no sort and no groupby over text.
    """
    ok = (name_codes >= 0) & (uscc_codes >= 0)
    if not ok.any():
        return np.zeros(len(name_codes), dtype=bool)
    n = int(name_codes[ok].max()) + 1
    lo = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n, -1, dtype=np.int64)
    np.minimum.at(lo, name_codes[ok], uscc_codes[ok])
    np.maximum.at(hi, name_codes[ok], uscc_codes[ok])
    several = np.zeros(len(name_codes), dtype=bool)
    several[ok] = lo[name_codes[ok]] != hi[name_codes[ok]]
    return several
