"""Tests of tianxin_analysis.identifiers, cross-checked against python-stdnum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stdnum.cn import uscc as std_uscc

from tianxin_analysis import identifiers as ids

# The example of python-stdnum's documentation (stdnum/cn/uscc.py doctest).
KNOWN_VALID = ["91110000600037341L"]


def test_weights_are_powers_of_three_mod_31() -> None:
    assert ids.USCC_WEIGHTS.tolist() == [
        1,
        3,
        9,
        27,
        19,
        26,
        16,
        17,
        20,
        29,
        25,
        13,
        8,
        24,
        10,
        30,
        28,
    ]
    assert len(ids.USCC_ALPHABET) == 31
    assert not set("IOZSV") & set(ids.USCC_ALPHABET)


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_codes(code: str) -> None:
    assert ids.uscc_check_digit(code[:17]) == code[17]
    v = ids.validate_uscc(pd.Series([code]))
    assert v["valid"].iloc[0]
    assert v["admin_code"].iloc[0] == code[2:8]


def test_check_digit_thirty_one_maps_to_zero() -> None:
    rng = np.random.default_rng(3)
    codes = pd.Series(ids.generate_uscc(rng, 3000))
    zero = codes[codes.str[-1] == "0"]
    assert len(zero) > 0  # sum % 31 == 0 happens; the check digit must be "0", not "31"
    assert (ids.uscc_check_digit(zero.str[:17]) == "0").all()


def test_check_digit_series_and_errors() -> None:
    out = ids.uscc_check_digit(pd.Series(["91110000600037341", "9111000060003734I", "123", None]))
    assert out.iloc[0] == "L"
    assert out.iloc[1:].isna().all()
    with pytest.raises(ValueError, match="17 characters"):
        ids.uscc_check_digit("123")


def test_validate_error_codes() -> None:
    good = "91110000600037341L"
    s = pd.Series(
        [
            good,
            " ９１１１ ０000-600037341l ",  # full-width, spaces, hyphen, lower case
            None,
            "—",
            "9111000060003734",
            good[:17] + "A",
            good[:10] + "I" + good[11:],
            "91AB0000600037341L",
            "91990000600037341L",
            good[:17] + "中",
        ],
        index=range(100, 110),
    )
    v = ids.validate_uscc(s)
    assert v.index.tolist() == s.index.tolist()
    assert v.columns.tolist() == ["uscc", "valid", "error", "admin_code"]
    assert v["valid"].tolist() == [True, True] + [False] * 8
    assert v["uscc"].iloc[1] == good
    assert v["error"].iloc[2:].tolist() == [
        "missing",
        "missing",
        "length",
        "check_digit",
        "charset",
        "admin_code",
        "admin_code",
        "charset",
    ]
    assert v["error"].iloc[:2].isna().all()
    assert v["valid"].dtype == bool


def test_admin_code_helpers() -> None:
    rng = np.random.default_rng(5)
    tianxin = ids.generate_uscc(rng, 5, admin_codes=("430103",))
    yuelu = ids.generate_uscc(rng, 5, admin_codes=("430104",))
    bad = ids.generate_uscc(rng, 2, admin_codes=("430103",), valid=False)
    s = pd.Series(np.concatenate([tianxin, yuelu, bad]))
    assert (ids.admin_code_of(s).iloc[:5] == "430103").all()
    assert ids.is_in_district(s).tolist() == [True] * 5 + [False] * 7
    assert ids.is_in_district(s, "4301").tolist() == [True] * 10 + [False] * 2


def test_generated_codes_are_realistic_and_deterministic() -> None:
    a = ids.generate_uscc(np.random.default_rng(1), 500, admin_codes=("430103", "430102"))
    b = ids.generate_uscc(np.random.default_rng(1), 500, admin_codes=("430103", "430102"))
    assert (a == b).all()
    s = pd.Series(a)
    assert (s.str.len() == 18).all() and s.str.startswith("91").all()
    assert set(s.str[2:8]) == {"430103", "430102"}
    assert 0.5 < s.str[8:10].eq("MA").mean() < 0.8
    assert ids.organization_code_valid(s).all()
    assert ids.validate_uscc(s)["valid"].all()
    assert len(ids.generate_uscc(np.random.default_rng(1), 0)) == 0
    with pytest.raises(ValueError, match="6 digits"):
        ids.generate_uscc(np.random.default_rng(1), 1, admin_codes=("4301",))


def test_organization_code_check_digit() -> None:
    # GB 11714 example: body 12345678 -> 3*1+7*2+9*3+10*4+5*5+8*6+4*7+2*8 = 201; 11-201%11 = 8
    assert ids.organization_code_check_digit("12345678") == "8"
    assert ids.organization_code_valid(
        pd.Series(["91110000123456788X", "91110000123456789X"])
    ).tolist() == [
        True,
        False,
    ]


def _corrupt(rng: np.random.Generator, codes: np.ndarray) -> list[str]:
    """Typo-like corruptions: swap two neighbours, change one char, drop one, insert a letter."""
    out = []
    alphabet = list(ids.USCC_ALPHABET) + list("IOZSV")
    for code in codes:
        kind = rng.integers(0, 4)
        i = int(rng.integers(0, 17))
        if kind == 0:
            c = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        elif kind == 1:
            c = code[:i] + alphabet[rng.integers(0, len(alphabet))] + code[i + 1 :]
        elif kind == 2:
            c = code[:i] + code[i + 1 :]
        else:
            c = code[:i] + "IOZSV"[rng.integers(0, 5)] + code[i + 1 :]
        out.append(c)
    return out


def test_agrees_with_stdnum_on_thousands_of_codes() -> None:
    """Both check length, alphabet and the mod-31 digit. Our extra admin-code test and
    stdnum's digits-only rule for positions 1-8 are excluded by construction (generated
    codes use authority 9, category 1 and real admin codes), and asserted separately below."""
    rng = np.random.default_rng(2024)
    admin = ("430103", "430102", "110105", "440305", "310115")
    valid = ids.generate_uscc(rng, 3000, admin_codes=admin)
    wrong_check = ids.generate_uscc(rng, 1500, admin_codes=admin, valid=False)
    typos = _corrupt(rng, ids.generate_uscc(rng, 3000, admin_codes=admin))
    codes = list(valid) + list(wrong_check) + typos
    ours = ids.validate_uscc(pd.Series(codes))
    theirs = np.array([std_uscc.is_valid(c) for c in codes])
    # typos that break the digits of the admin code: stdnum says "format", we say admin/charset
    comparable = ~ours["error"].eq("admin_code").fillna(False).to_numpy()
    assert comparable.sum() > 7000
    assert (ours["valid"].to_numpy()[comparable] == theirs[comparable]).all()
    assert ours["valid"].iloc[:3000].all() and not ours["valid"].iloc[3000:4500].any()
    # on every code both call valid, the check digits agree
    for c in np.array(codes)[theirs][:200]:
        assert std_uscc.calc_check_digit(c[:17]) == ids.uscc_check_digit(c[:17])


def test_documented_differences_from_stdnum() -> None:
    # GB 32100 allows alphabet letters as authority/category ("Y" = other authority):
    first17 = "Y1430103MA4L5R6K2"
    code = first17 + ids.uscc_check_digit(first17)
    assert ids.validate_uscc(pd.Series([code]))["valid"].iloc[0]
    assert not std_uscc.is_valid(code)
    # an impossible province prefix passes stdnum's checksum but not ours
    first17 = "919901037907259294"[:17]
    code = first17 + ids.uscc_check_digit(first17)
    assert std_uscc.is_valid(code)
    assert ids.validate_uscc(pd.Series([code]))["error"].iloc[0] == "admin_code"


def test_vectorised_validation_agrees_with_stdnum_on_50k_codes() -> None:
    """Our vectorised check and python-stdnum (the test oracle) agree code by code; the speed
    comparison lives in benchmarks/, not in a timed unit test."""
    rng = np.random.default_rng(9)
    codes = pd.Series(ids.generate_uscc(rng, 50_000))
    flip = rng.random(len(codes)) < 0.2  # a fifth with a wrong check digit
    codes = codes.where(~flip, codes.str[:17] + codes.str[17].map(
        lambda c: "0" if c != "0" else "1"))  # fmt: skip
    ours = ids.validate_uscc(codes)["error"].isna()
    theirs = codes.map(std_uscc.is_valid)
    assert ours.tolist() == theirs.tolist() and 0 < int(ours.sum()) < len(codes)


# ---- dedupe -------------------------------------------------------------------------


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "uscc": ["A1", "A1", "A1", "B2", "B2", "C3", "C3", None, None],
            "enterprise_name": [
                "长沙甲科技有限公司",
                "长沙甲科技有限责任公司",
                "长沙 甲科技有限公司",
                "乙公司",
                "丙公司",
                "丁公司",
                "丁公司",
                "无码公司",
                "无码公司",
            ],
            "year": [2023, 2023, 2024, 2024, 2024, 2023, 2024, 2024, 2024],
            "source_row": [2, 3, 4, 5, 6, 7, 8, 9, 10],
        }
    )


def test_dedupe_by_uscc() -> None:
    df = _frame()
    before = df.copy()
    clean, conflicts = ids.dedupe_by_uscc(df, keys=("year",))
    pd.testing.assert_frame_equal(df, before)
    # A1: three spellings of one name -> the most frequent display form, one row per year
    a1 = clean[clean["uscc"] == "A1"]
    assert a1["enterprise_name"].tolist() == ["长沙甲科技有限公司", "长沙甲科技有限公司"]
    assert a1["year"].tolist() == [2023, 2024]
    assert a1["source_row"].tolist() == [2, 4]  # first occurrence kept
    # B2: two different companies under one code in one year -> conflicts
    assert conflicts["uscc"].tolist() == ["B2", "B2"]
    assert conflicts["conflict_names"].iloc[0] == "乙公司 | 丙公司"
    assert "B2" not in set(clean["uscc"])
    # C3 in two years is not a duplicate; rows without a code are deduplicated as rows
    assert (clean["uscc"] == "C3").sum() == 2
    assert clean["uscc"].isna().sum() == 1
    assert len(clean) + len(conflicts) + 2 == len(df)  # 1 A1 + 1 blank-code exact duplicate


def test_dedupe_without_keys_flags_renames_across_years() -> None:
    df = pd.DataFrame(
        {"uscc": ["X", "X"], "enterprise_name": ["甲公司", "乙公司"], "year": [2022, 2024]}
    )
    clean, conflicts = ids.dedupe_by_uscc(df)
    assert len(clean) == 0 and len(conflicts) == 2
    clean, conflicts = ids.dedupe_by_uscc(df, keys=["year"])
    assert len(clean) == 2 and len(conflicts) == 0


def test_dedupe_no_conflicts_has_conflict_column() -> None:
    clean, conflicts = ids.dedupe_by_uscc(_frame().iloc[:3])
    assert len(conflicts) == 0 and "conflict_names" in conflicts.columns
    assert len(clean) == 2  # year differs between rows 0/1 and 2
