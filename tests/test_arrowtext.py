"""Tests of tianxin_analysis._arrowtext: the byte-level pre-checks never miss a candidate."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tianxin_analysis import _arrowtext, clean

WS = _arrowtext.lead_byte_table(clean._WS)
values = st.lists(
    st.one_of(st.text(max_size=8), st.sampled_from(["", " ", "\u3000", "\xa0x", "天心", "·"]),
              st.none()),
    max_size=20,
)  # fmt: skip


def _is_ws(ch: str) -> bool:
    return ch.isspace()


def test_lead_byte_table_marks_the_first_bytes_of_white_space() -> None:
    expected = {chr(c).encode()[0] for c in range(0x10000) if chr(c).isspace()}
    assert set(WS.nonzero()[0]) == expected


@settings(max_examples=60, deadline=None)
@given(values, st.integers(0, 5))
def test_starts_with_any_is_a_superset_of_blank_starts(vals: list[str | None], cut: int) -> None:
    s = pd.concat([pd.Series(vals, dtype="str"), pd.Series(vals, dtype="str")]).iloc[cut:]
    got = _arrowtext.starts_with_any(s, WS)
    assert len(got) == len(s)
    for flag, v in zip(got, s, strict=True):
        empty = pd.isna(v) or v == ""
        if empty or _is_ws(v[0]):
            assert flag
        elif v[0].encode()[0] not in WS.nonzero()[0]:
            assert not flag


@settings(max_examples=60, deadline=None)
@given(values, st.integers(0, 5))
def test_any_byte_in_false_only_when_no_value_has_white_space(
    vals: list[str | None], cut: int
) -> None:
    s = pd.Series(vals, dtype="str").iloc[cut:]
    if not _arrowtext.any_byte_in(s, WS):
        assert not any(isinstance(v, str) and any(map(_is_ws, v)) for v in s)


SPACE_ONLY = _arrowtext.lead_byte_table(" ")


@settings(max_examples=80, deadline=None)
@given(values, st.integers(0, 5), st.sampled_from(["ws", "space"]))
def test_any_byte_in_is_exact(vals: list[str | None], cut: int, which: str) -> None:
    table = WS if which == "ws" else SPACE_ONLY
    s = pd.Series(vals, dtype="str").iloc[cut:]
    used = b"".join(v.encode() for v in s if isinstance(v, str))
    assert _arrowtext.any_byte_in(s, table) == any(table[b] for b in used)


@settings(max_examples=60, deadline=None)
@given(values, st.integers(0, 5))
def test_all_ascii_and_byte_lengths(vals: list[str | None], cut: int) -> None:
    s = pd.concat([pd.Series(vals, dtype="str"), pd.Series(vals, dtype="str")]).iloc[cut:]
    texts = [v for v in s if isinstance(v, str)]
    assert _arrowtext.all_ascii(s) == all(v.isascii() for v in texts)
    expected = [len(v.encode()) if isinstance(v, str) else 0 for v in s]
    assert _arrowtext.byte_lengths(s).tolist() == expected


@settings(max_examples=60, deadline=None)
@given(values, st.integers(0, 13), st.integers(0, 3))
def test_present_is_notna(vals: list[str | None], cut: int, cut_end: int) -> None:
    # two chunks, sliced at both ends: bitmaps read from a bit offset
    s = pd.concat([pd.Series(vals, dtype="str"), pd.Series(vals, dtype="str")])
    s = s.iloc[cut : len(s) - cut_end]
    got = _arrowtext.present(s)
    assert got.dtype == bool and got.tolist() == s.notna().tolist()
    one = pd.Series(vals, dtype="str").iloc[cut % (len(vals) + 1) :]
    assert _arrowtext.present(one).tolist() == one.notna().tolist()


def test_with_missing_last_is_one_chunk() -> None:
    for values in (pd.Index(["甲", "b"], dtype="str"), pd.array([], dtype="str")):
        u = _arrowtext.with_missing_last(values)
        assert u.dtype == "str" and isinstance(u.index, pd.RangeIndex)
        assert u.iloc[:-1].tolist() == list(values) and pd.isna(u.iloc[-1])
        assert u.array.__arrow_array__().num_chunks == 1
