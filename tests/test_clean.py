"""Tests of tianxin_analysis.clean: each normaliser on the mess real exports carry."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tianxin_analysis import clean, identifiers
from tianxin_analysis.errors import SchemaError


def _s(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype=object)


# ---- text ---------------------------------------------------------------------------


def test_normalize_text_nfkc_strip_and_collapse() -> None:
    out = clean.normalize_text(_s("  ＡＢＣ１２３ ", "天心\u3000\u3000区", "a\n\tb", None, np.nan))
    assert out.iloc[:3].tolist() == ["ABC123", "天心 区", "a b"]
    assert out.iloc[3:].isna().all()


def test_normalize_text_keeps_index_and_does_not_mutate() -> None:
    s = pd.Series([" x ", "ｙ"], index=[10, 20])
    before = s.copy()
    out = clean.normalize_text(s)
    assert out.index.tolist() == [10, 20]
    pd.testing.assert_series_equal(s, before)


@pytest.mark.parametrize(
    "marker",
    ["", " ", "—", "-", "--", "/", "／", "无", "空", "NA", "n/a", "N/A", "nan", "null", "…", "——"],
)
def test_missing_markers(marker: str) -> None:
    assert clean.is_missing_marker(_s(marker)).iloc[0]


def test_missing_marker_is_not_text() -> None:
    assert not clean.is_missing_marker(_s("0", "无锡", "NAB")).any()


# ---- numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.5", 1234.5),
        ("1，234", 1234.0),
        ("１２３４．５", 1234.5),
        ("12.5%", 12.5),
        ("  42 ", 42.0),
        ("(12)", -12.0),
        ("（12.5）", -12.5),
        ("2.016000e+03", 2016.0),
        ("-3", -3.0),
        ("−3", -3.0),
        ("¥1,000", 1000.0),
        (".5", 0.5),
    ],
)
def test_parse_number_text(text: str, expected: float) -> None:
    p = clean.parse_number(_s(text))
    assert p.values.iloc[0] == pytest.approx(expected)
    assert not p.invalid.iloc[0]


def test_parse_number_missing_is_not_invalid_and_garbage_is() -> None:
    p = clean.parse_number(_s("—", None, "无", "abc", "1.2.3", "12亿"))
    assert p.values.isna().all()
    assert p.invalid.tolist() == [False, False, False, True, True, True]
    assert p.missing.tolist() == [True, True, True, False, False, False]


def test_parse_number_passes_numbers_through() -> None:
    p = clean.parse_number(_s(1, 2.5, np.int64(7), "8", None))
    assert p.values.iloc[:4].tolist() == [1.0, 2.5, 7.0, 8.0]
    assert not p.invalid.any()
    q = clean.parse_number(pd.Series([1.5, np.nan]))
    assert q.values.dtype == "float64" and q.values.iloc[0] == 1.5


def test_parse_number_bool_is_invalid() -> None:
    p = clean.parse_number(pd.Series([True, False]))
    assert p.invalid.all()


# ---- amounts ------------------------------------------------------------------------


def test_parse_amount_units_in_text() -> None:
    p = clean.parse_amount(_s("1.2亿元", "3,400万元", "560000元", "1.2亿", "5 千元", "—"), to="wan")
    assert p.values.iloc[:5].tolist() == pytest.approx([12000.0, 3400.0, 56.0, 12000.0, 0.5])
    assert np.isnan(p.values.iloc[5])
    assert not p.invalid.any()


def test_parse_amount_column_unit_and_conversion() -> None:
    p = clean.parse_amount(_s("1.5", 2, "300万元"), unit="亿元", to="yi")
    assert p.values.tolist() == pytest.approx([1.5, 2.0, 0.03])
    y = clean.parse_amount(pd.Series([1.0]), unit="万元", to="yuan")
    assert y.values.iloc[0] == 10000.0


def test_parse_amount_unit_series_and_unknown_unit() -> None:
    units = pd.Series(["亿元", "(万元)", "美元", None])
    p = clean.parse_amount(_s("1", "2", "3", "4"), unit=units, to="wan")
    assert p.values.iloc[:2].tolist() == [10000.0, 2.0]
    assert p.invalid.tolist() == [False, False, True, False]
    assert p.values.iloc[3] == 4.0  # no unit: already in `to`
    with pytest.raises(ValueError, match="unknown amount unit"):
        clean.parse_amount(_s("1"), unit="美元")
    with pytest.raises(ValueError, match="to must be"):
        clean.parse_amount(_s("1"), to="thousand")


def test_parse_amount_unit_only_is_invalid() -> None:
    assert clean.parse_amount(_s("万元", "abc万元")).invalid.all()


# ---- dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024年3月", "2024-03-01"),
        ("2024年3月15日", "2024-03-15"),
        ("2024 年 3 月 15 日", "2024-03-15"),
        ("2024.03", "2024-03-01"),
        ("2024.3.15", "2024-03-15"),
        ("2024-03-15", "2024-03-15"),
        ("2024/3/15", "2024-03-15"),
        ("20240315", "2024-03-15"),
        ("202403", "2024-03-01"),
        ("45366", "2024-03-15"),
        ("45366.0", "2024-03-15"),
        ("２０２４－０３－１５", "2024-03-15"),
        ("2024-03-15 08:30:00", "2024-03-15 08:30:00"),
    ],
)
def test_parse_date_text(text: str, expected: str) -> None:
    p = clean.parse_date(_s(text))
    assert p.values.iloc[0] == pd.Timestamp(expected)
    assert not p.invalid.iloc[0]


def test_parse_date_objects_and_serials() -> None:
    p = clean.parse_date(
        _s(
            45366,
            45366.0,
            dt.datetime(2024, 1, 2),
            dt.date(2024, 1, 3),
            pd.Timestamp("2024-05-01"),
            None,
        )
    )
    assert p.values.iloc[:5].tolist() == [
        pd.Timestamp("2024-03-15"),
        pd.Timestamp("2024-03-15"),
        pd.Timestamp("2024-01-02"),
        pd.Timestamp("2024-01-03"),
        pd.Timestamp("2024-05-01"),
    ]
    assert p.values.dtype == "datetime64[ns]"
    assert not p.invalid.any()
    q = clean.parse_date(pd.Series([45366, 2024]))
    assert q.values.iloc[0] == pd.Timestamp("2024-03-15")
    assert q.invalid.tolist() == [False, True]  # 2024 is a count, not a serial


def test_excel_serial_matches_openpyxl() -> None:
    from openpyxl.utils.datetime import from_excel

    serials = np.arange(18264, 73415, 997)
    got = clean.parse_date(pd.Series(serials)).values
    assert got.tolist() == [pd.Timestamp(from_excel(int(v))) for v in serials]


def test_parse_date_invalid() -> None:
    p = clean.parse_date(_s("2024-02-30", "2024-13-01", "下旬", "2024", "—", ""))
    assert p.invalid.tolist() == [True, True, True, True, False, False]
    assert p.values.isna().all()


def test_parse_date_out_of_range_is_invalid_not_an_error() -> None:
    p = clean.parse_date(_s(41850101, "18000101", "1899年1月", dt.datetime(9999, 1, 1)))
    assert p.invalid.all()
    assert p.values.dtype == "datetime64[ns]"


def test_parse_date_datetime_column_passes_through() -> None:
    s = pd.Series(pd.to_datetime(["2024-01-01", None]))
    p = clean.parse_date(s)
    assert p.values.iloc[0] == pd.Timestamp("2024-01-01")
    assert not p.invalid.any()


# ---- month periods -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "year"),
    [
        ("1-2月", 1, 2, None),
        ("1—2月", 1, 2, None),
        ("1~2月", 1, 2, None),
        ("1～2月", 1, 2, None),
        ("1月-2月", 1, 2, None),
        ("1至3月", 1, 3, None),
        ("2024年1-2月", 1, 2, 2024),
        ("3月", 3, 3, None),
        ("三月", 3, 3, None),
        ("十二月", 12, 12, None),
        ("一至十一月", 1, 11, None),
        ("1-12月", 1, 12, None),
        ("12", 12, 12, None),
        (12, 12, 12, None),
        ("1-6月份", 1, 6, None),
    ],
)
def test_parse_month_period(text: object, start: int, end: int, year: int | None) -> None:
    p = clean.parse_month_period(_s(text))
    row = p.values.iloc[0]
    assert (row["start_month"], row["end_month"]) == (start, end)
    assert pd.isna(row["year"]) if year is None else row["year"] == year
    assert not p.invalid.iloc[0]


def test_parse_month_period_invalid_and_dtypes() -> None:
    p = clean.parse_month_period(_s("13月", "0月", "3-2月", "全年", None, "—"))
    assert p.invalid.tolist() == [True, True, True, True, False, False]
    assert p.values.isna().all().all()
    assert p.values.dtypes.tolist() == ["Int64", "Int64", "Int64"]


# ---- names --------------------------------------------------------------------------


def test_normalize_enterprise_name() -> None:
    out = clean.normalize_enterprise_name(
        _s("长沙 天心 (湖南) 科技有限公司", "ＡＢＣ Tech（长沙）有限公司", "湖南[某某]公司 ", None)
    )
    assert out.iloc[:3].tolist() == [
        "长沙天心（湖南）科技有限公司",
        "ABC Tech（长沙）有限公司",
        "湖南（某某）公司",
    ]
    assert pd.isna(out.iloc[3])


def test_enterprise_name_key_equates_variants_not_legal_forms() -> None:
    k = clean.enterprise_name_key(
        _s(
            "长沙天心（湖南）科技有限责任公司",
            "长沙 天心 (湖南) 科技有限公司",
            "长沙天心湖南科技有限公司",
            "长沙天心（湖南）科技股份有限公司",
            "abc·科技有限公司",
            "ABC科技有限公司",
        )
    )
    assert k.iloc[0] == k.iloc[1] == k.iloc[2]
    assert k.iloc[3] != k.iloc[0]
    assert k.iloc[4] == k.iloc[5]


def test_normalize_region_name() -> None:
    assert clean.normalize_region_name(_s("全    国", "湖 南\u3000省", "长沙市")).tolist() == [
        "全国",
        "湖南省",
        "长沙市",
    ]


# ---- headers ------------------------------------------------------------------------

SYNONYMS = {
    "enterprise_name": ["企业名称", "单位名称"],
    "value_wan": ["成交额", "合同成交额"],
    "uscc": ["统一社会信用代码"],
}


def test_map_headers() -> None:
    cols = ["企业 名称", "成交额\n(万元)", "统一社会信用代码（18位）", "联系人", 5, None]
    mapping, unmapped = clean.map_headers(cols, SYNONYMS)
    assert mapping == {
        "企业 名称": "enterprise_name",
        "成交额\n(万元)": "value_wan",
        "统一社会信用代码（18位）": "uscc",
    }
    assert unmapped == ["联系人", 5, None]


def test_map_headers_canonical_name_matches_itself() -> None:
    mapping, unmapped = clean.map_headers(["USCC", "Enterprise_Name"], SYNONYMS)
    assert mapping == {"USCC": "uscc", "Enterprise_Name": "enterprise_name"}
    assert unmapped == []


def test_map_headers_duplicate_target_raises_schema_error() -> None:
    with pytest.raises(SchemaError, match="企业名称") as err:
        clean.map_headers(["企业名称", "单位名称"], SYNONYMS, file="a.xlsx", sheet="Sheet1")
    assert "a.xlsx" in str(err.value) and "Sheet1" in str(err.value)


def test_map_headers_ambiguous_synonyms() -> None:
    with pytest.raises(ValueError, match="matches both"):
        clean.map_headers(["x"], {"a": ["名称"], "b": ["名称 "]})


# ---- flags and frame steps ----------------------------------------------------------


def test_footnote_and_formula_text() -> None:
    assert clean.is_footnote_text(
        _s("注：1.数据为快报数", "数据来源：区统计局", "制表人:张三", "注册资本", "说明书公司")
    ).tolist() == [True, True, True, False, False]
    assert clean.is_formula_text(_s("=SUM(B2:B9)", "＝B2*2", "=", "a=b", None)).tolist() == [
        True,
        True,
        False,
        False,
        False,
    ]


def test_flag_footnote_rows() -> None:
    df = pd.DataFrame(
        {"a": ["甲公司", "注：单位为万元", None, "注：x"], "b": ["1", None, "注：y", "2"]}
    )
    out = clean.flag_footnote_rows(df)
    assert out["is_footnote"].tolist() == [False, True, True, False]
    assert "is_footnote" not in df.columns


def test_frame_steps_are_pure_and_chain() -> None:
    df = pd.DataFrame(
        {
            "name": [" 甲 (长沙) 公司", "乙公司"],
            "value": ["1.2亿元", "abc"],
            "date": ["2024年3月", "45366"],
            "n": ["1,000", "—"],
            "f": ["=A1", "ok"],
        }
    )
    before = df.copy()
    out = (
        df.pipe(clean.normalize_enterprise_names, "name", key="name_key")
        .pipe(clean.normalize_amount_unit, "value", to="wan", out="value_wan")
        .pipe(clean.parse_date_columns, ["date"])
        .pipe(clean.parse_number_columns, "n")
        .pipe(clean.flag_formula_cells, ["f"])
        .pipe(clean.normalize_text_columns, ["f"])
    )
    pd.testing.assert_frame_equal(df, before)
    assert out["name"].tolist() == ["甲（长沙）公司", "乙公司"]
    assert out["value_wan"].iloc[0] == 12000.0
    assert out["value_wan_invalid"].tolist() == [False, True]
    assert out["value"].tolist() == ["1.2亿元", "abc"]  # raw kept when out= is given
    assert out["date"].tolist() == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-15")]
    assert out["n"].iloc[0] == 1000.0 and out["n_invalid"].tolist() == [False, False]
    assert out["has_formula"].tolist() == [True, False]


def test_normalize_amount_unit_from_unit_column() -> None:
    df = pd.DataFrame({"v": ["1", "2"], "u": ["亿元", "万元"]})
    out = clean.normalize_amount_unit(df, "v", unit="u", to="wan")
    assert out["v"].tolist() == [10000.0, 2.0]


def test_flag_invalid_uscc_step() -> None:
    df = pd.DataFrame({"uscc": ["91110000600037341L", "91110000600037341A", None]})
    out = identifiers.flag_invalid_uscc(df)
    assert out["uscc_valid"].tolist() == [True, False, False]
    assert out["uscc_error"].iloc[1] == "check_digit"
    assert out["uscc_error"].iloc[2] == "missing"
    assert pd.isna(out["uscc_error"].iloc[0])


def test_empty_inputs() -> None:
    empty = pd.Series([], dtype=object)
    assert len(clean.parse_number(empty).values) == 0
    assert len(clean.parse_date(empty).values) == 0
    assert len(clean.parse_amount(empty).values) == 0
    assert clean.parse_month_period(empty).values.shape == (0, 3)
    assert len(clean.normalize_enterprise_name(empty)) == 0


def test_vectorised_parse_of_100k_cells_equals_each_value_parsed_alone() -> None:
    """100k mixed cells parse as each of their distinct values does alone (speed: benchmarks)."""
    rng = np.random.default_rng(7)
    n = 100_000
    dates = pd.Series(rng.choice(["2024年3月15日", "2024.3", "20240315", "45366", "—"], n))
    nums = pd.Series(rng.choice(["1,234.5", "１２", "12.5%", "(3)", "—"], n))
    for parse, cells in ((clean.parse_date, dates), (clean.parse_number, nums)):
        whole = parse(cells)
        for v in cells.unique():
            alone, rows = parse(pd.Series([v])), (cells == v).to_numpy()
            assert bool(whole.invalid[rows].all()) == bool(alone.invalid.iloc[0])
            got = pd.DataFrame(whole.values)[rows].drop_duplicates()
            assert len(got) == 1, v
            pd.testing.assert_frame_equal(
                got.reset_index(drop=True), pd.DataFrame(alone.values).reset_index(drop=True)
            )


@pytest.mark.parametrize("ascii_only", [True, False])
def test_is_marker_text_on_large_columns_matches_the_definition(ascii_only):
    # more than 10,000 cells: the path that looks only at short cells
    cells = ["N/A", "n/a", "NULL", "null", "......", "—", "——", "无", "GR202143024623", "abc", "",
             None, "none", "#N/A", "N.A.", "<NA>", "NaN", "有限公司", "x" * 7, "ı"]  # fmt: skip
    if ascii_only:
        cells = [c for c in cells if c is None or c.isascii()]
    t = clean.normalize_text(pd.Series(cells * 600, dtype="str"))
    got = clean.is_marker_text(t)
    # the same cells in a short column, which every cell is compared on
    one = clean.is_marker_text(clean.normalize_text(pd.Series(cells, dtype="str")))
    assert got.tolist() == one.tolist() * 600
    assert one.any() and not one.all()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=list("天心科技 (（)）[]【】〔〕［］ab·") + ["\u3000"], max_size=12),
        ),
        max_size=12,
    )
)
def test_enterprise_name_matches_per_value_regexes(names):
    """The column path (brackets rewritten only where a match finds them, spaces only when
    the column has one) equals the plain per-value rewrite."""
    text = clean.normalize_text(pd.Series(names, dtype="str"))
    got = clean.normalize_enterprise_name(pd.Series(names, dtype="str"))

    def ref(v: str) -> str:
        v = re.sub(clean._CLOSE_BRACKETS, "）", re.sub(clean._OPEN_BRACKETS, "（", v))
        v = re.sub(f" ([{clean._CJK}（）])", r"\1", v)
        return re.sub(f"([{clean._CJK}（）]) ", r"\1", v)

    expected = [None if pd.isna(v) else ref(v) for v in text]
    assert [None if pd.isna(v) else v for v in got] == expected


_KEY_TOKENS = ["天", "心", "有限责任公司", "有限公司", " ", "\u3000", "·", "・", "•", "（", "）",
               "A", "b", "Z", "-"]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.lists(st.sampled_from(_KEY_TOKENS), max_size=6).map("".join)),
        max_size=12,
    )
)
def test_name_key_matches_per_value_rewrite(names):
    """The key of display names (rewrites only where a match or byte scan finds something)
    equals the plain per-value rewrite."""
    display = clean.normalize_enterprise_name(pd.Series(names, dtype="str"))
    got = clean.name_key_of_display(display)

    def ref(v: str) -> str:
        v = re.sub(f"{clean._WS}|[·・•]|[（）]", "", v).replace("有限责任公司", "有限公司")
        return v.translate(clean._ASCII_LOWER)

    expected = [None if pd.isna(v) else ref(v) for v in display]
    assert [None if pd.isna(v) else v for v in got] == expected
