"""Property-based tests (hypothesis) of the normalisers and the USCC validator."""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as std_uscc

from tianxin_analysis import clean, identifiers
from tianxin_analysis.errors import SchemaError

# Modest budgets: the whole file runs in a few seconds.
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

texts = st.lists(st.text(max_size=30), max_size=12)
# what a spreadsheet reader hands over: text, numbers, datetimes, blanks
cells = st.lists(
    st.one_of(
        st.text(max_size=20),
        st.integers(-(10**12), 10**12),
        st.floats(allow_nan=True, allow_infinity=True),
        st.none(),
        st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)),
        st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1)),
    ),
    max_size=12,
)
# text that looks like the cells we get: digits, CJK units/dates, separators, spaces
cjkish = st.lists(
    st.text(alphabet="0123456789０１２３.,，%()（）-—~年月日亿万元 \u3000/", max_size=14),
    max_size=12,
)


def _obj(values: list[object]) -> pd.Series:
    return pd.Series(values, dtype=object)


def _check_parsed(p: clean.Parsed, n: int) -> None:
    assert len(p.invalid) == n
    assert p.invalid.dtype == bool
    values = p.values
    missing = values.isna().all(axis=1) if isinstance(values, pd.DataFrame) else values.isna()
    # invalid rows never carry a value
    assert missing[p.invalid].all()


# ---- never an unhandled exception ---------------------------------------------------


@FAST
@given(texts)
def test_text_normalisers_total_on_arbitrary_text(values: list[str]) -> None:
    s = _obj(values)
    for f in (
        clean.normalize_text,
        clean.normalize_enterprise_name,
        clean.enterprise_name_key,
        clean.normalize_region_name,
        clean.is_missing_marker,
        clean.is_footnote_text,
        clean.is_formula_text,
    ):
        out = f(s)
        assert len(out) == len(s)
        assert out.index.equals(s.index)


@FAST
@given(st.one_of(texts, cjkish, cells))
def test_parsers_total_on_arbitrary_cells(values: list[object]) -> None:
    s = _obj(values)
    for p in (
        clean.parse_number(s),
        clean.parse_amount(s),
        clean.parse_amount(s, unit="亿元", to="yi"),
        clean.parse_date(s),
        clean.parse_month_period(s),
    ):
        _check_parsed(p, len(s))
    v = identifiers.validate_uscc(s)
    assert len(v) == len(s)
    assert (v["valid"] == v["error"].isna()).all()


@FAST
@given(st.lists(st.one_of(st.text(max_size=12), st.integers(), st.none()), max_size=10))
def test_map_headers_total(columns: list[object]) -> None:
    synonyms = {"enterprise_name": ["企业名称"], "value_wan": ["成交额"]}
    try:
        mapping, unmapped = clean.map_headers(columns, synonyms)
    except SchemaError:
        return  # two headers for one column is reported, not guessed
    assert len(mapping) + len(unmapped) == len(columns)


def test_missing_markers_are_never_invalid() -> None:
    s = _obj(sorted(clean.MISSING_MARKERS))
    for p in (clean.parse_number(s), clean.parse_date(s), clean.parse_month_period(s)):
        assert not p.invalid.any()


# ---- idempotence --------------------------------------------------------------------


@FAST
@given(texts)
@pytest.mark.parametrize(
    "f",
    [
        clean.normalize_text,
        clean.normalize_enterprise_name,
        clean.normalize_region_name,
        clean.enterprise_name_key,
        identifiers.normalize_uscc,
    ],
)
def test_normalisers_are_idempotent(f, values: list[str]) -> None:
    once = f(_obj(values))
    twice = f(once)
    pd.testing.assert_series_equal(once, twice, check_names=False)


@FAST
@given(texts)
def test_name_key_is_stable_under_display_normalisation(values: list[str]) -> None:
    s = _obj(values)
    pd.testing.assert_series_equal(
        clean.enterprise_name_key(s),
        clean.enterprise_name_key(clean.normalize_enterprise_name(s)),
        check_names=False,
    )


# ---- round trips --------------------------------------------------------------------

FULLWIDTH = str.maketrans("0123456789.,%()-", "０１２３４５６７８９．，％（）－")


@FAST
@given(
    st.lists(
        st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False), max_size=12
    ),
    st.sampled_from(["plain", "thousands", "percent", "paren", "fullwidth", "exp"]),
)
def test_number_round_trip(values: list, style: str) -> None:
    def fmt(d) -> str:
        x = float(d)
        if style == "plain":
            return f" {x:.2f} "
        if style == "thousands":
            return f"{x:,.2f}"
        if style == "percent":
            return f"{x:.2f}%"
        if style == "paren":
            return f"({abs(x):,.2f})" if x < 0 else f"{x:,.2f}"
        if style == "fullwidth":
            return f"{x:,.2f}".translate(FULLWIDTH)
        return f"{x:e}"

    p = clean.parse_number(_obj([fmt(d) for d in values]))
    assert not p.invalid.any()
    np.testing.assert_allclose(p.values.to_numpy(), [float(d) for d in values], rtol=1e-6)


@FAST
@given(
    st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), max_size=10),
    st.sampled_from([("元", 1.0), ("万元", 1e4), ("亿元", 1e8), ("万", 1e4), ("亿", 1e8)]),
    st.sampled_from(["yuan", "wan", "yi"]),
)
def test_amount_round_trip(values: list[float], unit: tuple[str, float], to: str) -> None:
    p = clean.parse_amount(_obj([f"{v!r}{unit[0]}" for v in values]), to=to)
    expected = np.array(values) * unit[1] / {"yuan": 1.0, "wan": 1e4, "yi": 1e8}[to]
    assert not p.invalid.any()
    np.testing.assert_allclose(p.values.to_numpy(dtype=float), expected, rtol=1e-12)


DATE_FORMATS = [
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: d.isoformat(),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: d.strftime("%Y%m%d"),
    lambda d: str((d - dt.date(1899, 12, 30)).days),
    lambda d: (d - dt.date(1899, 12, 30)).days,
    lambda d: dt.datetime(d.year, d.month, d.day),
    lambda d: f"{d.isoformat()} 00:00:00",
]


@FAST
@given(
    st.lists(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2099, 12, 31)), max_size=10),
    st.integers(0, len(DATE_FORMATS) - 1),
)
def test_date_round_trip(dates: list[dt.date], which: int) -> None:
    p = clean.parse_date(_obj([DATE_FORMATS[which](d) for d in dates]))
    assert not p.invalid.any()
    assert p.values.tolist() == [pd.Timestamp(d) for d in dates]


@FAST
@given(
    st.lists(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2099, 12, 31)), max_size=10)
)
def test_year_month_round_trip(dates: list[dt.date]) -> None:
    p = clean.parse_date(_obj([f"{d.year}年{d.month}月" for d in dates]))
    assert p.values.tolist() == [pd.Timestamp(d.year, d.month, 1) for d in dates]


@FAST
@given(
    st.lists(st.tuples(st.integers(1, 12), st.integers(1, 12)), max_size=10),
    st.sampled_from(["-", "—", "~", "～", "至"]),
    st.one_of(st.none(), st.integers(2000, 2099)),
)
def test_month_period_round_trip(pairs: list[tuple[int, int]], sep: str, year: int | None) -> None:
    pairs = [(min(a, b), max(a, b)) for a, b in pairs]
    prefix = "" if year is None else f"{year}年"
    p = clean.parse_month_period(_obj([f"{prefix}{a}{sep}{b}月" for a, b in pairs]))
    assert not p.invalid.any()
    assert p.values["start_month"].tolist() == [a for a, _ in pairs]
    assert p.values["end_month"].tolist() == [b for _, b in pairs]
    if year is not None:
        assert (p.values["year"] == year).all()


# ---- agreement with python-stdnum -----------------------------------------------------

ALPHABET = identifiers.USCC_ALPHABET
provinces = st.sampled_from(["11", "31", "43", "44", "51", "65"])


@st.composite
def uscc_like(draw: st.DrawFn) -> str:
    """18 characters shaped like a USCC, correct or not: digits in positions 1-8 (the part
    stdnum and we test differently is held fixed), then anything from a wider alphabet."""
    head = draw(st.text(alphabet=string.digits, min_size=2, max_size=2))
    admin = draw(provinces) + draw(st.text(alphabet=string.digits, min_size=4, max_size=4))
    tail = draw(st.text(alphabet=ALPHABET + "IOZSV", min_size=9, max_size=10))
    return head + admin + tail


@FAST
@given(st.lists(uscc_like(), min_size=1, max_size=30), st.data())
def test_validator_agrees_with_stdnum(codes: list[str], data: st.DataObject) -> None:
    # make about half of them valid by fixing the check digit
    fixed = []
    for c in codes:
        if len(c) == 18 and all(ch in ALPHABET for ch in c) and data.draw(st.booleans()):
            c = c[:17] + identifiers.uscc_check_digit(c[:17])
        fixed.append(c)
    ours = identifiers.validate_uscc(_obj(fixed))["valid"].tolist()
    assert ours == [std_uscc.is_valid(c) for c in fixed]


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(1, 50))
def test_generated_codes_valid_for_stdnum(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    good = identifiers.generate_uscc(rng, n, admin_codes=("430103", "430111"))
    bad = identifiers.generate_uscc(rng, n, admin_codes=("430103",), valid=False)
    assert all(std_uscc.is_valid(c) for c in good)
    assert not any(std_uscc.is_valid(c) for c in bad)
    assert [std_uscc.calc_check_digit(c[:17]) for c in good] == list(
        identifiers.uscc_check_digit(pd.Series(good).str[:17])
    )


@FAST
@given(st.lists(st.text(alphabet=string.printable, max_size=22), max_size=20))
def test_validator_agrees_with_stdnum_on_ascii_text(values: list[str]) -> None:
    """On arbitrary ASCII both must agree wherever neither documented difference applies."""
    v = identifiers.validate_uscc(_obj(values))
    for text, ok, err, code in zip(values, v["valid"], v["error"], v["uscc"], strict=True):
        if err == "admin_code" or (isinstance(code, str) and not code[:2].isdigit()):
            continue
        if err == "missing" and text.strip(" -") != "":
            continue  # a missing marker ("N/A", "—") is missing for us, a format error for stdnum
        assert ok == std_uscc.is_valid(text), text


# ---- the Arrow fast paths agree with the per-value reference --------------------------

# names and codes as registries hold them: CJK, ASCII, full-width forms, combining marks
mixed_text = st.lists(
    st.one_of(
        st.text(max_size=20),
        st.text(
            alphabet="天心区湖南长沙科技有限公司（）()ＡＢ１２ abc\u0301\u3000·①㍿豈", max_size=20
        ),
        st.none(),
    ),
    max_size=12,
)


_WS_RUN = re.compile(f"[{clean._WS_CHARS}]+")


_CONTROL = re.compile(clean._CONTROL)


def _reference_normalize(v: str | None) -> str | None:
    """normalize_text of one value, written the obvious way (NFKC per value; control
    characters removed, and a value of nothing else is missing: issue 17)."""
    if v is None:
        return None
    t = unicodedata.normalize("NFKC", v)
    if _CONTROL.search(t):
        t = _CONTROL.sub("", t)
        if not t.strip():
            return None
    return _WS_RUN.sub(" ", t).strip(" ")


@FAST
@given(mixed_text)
def test_normalize_text_equals_per_value_nfkc(values: list[str | None]) -> None:
    out = clean.normalize_text(pd.Series(values, dtype="str"))
    got = [None if pd.isna(v) else v for v in out]
    assert got == [_reference_normalize(v) for v in values]
