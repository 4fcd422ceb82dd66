"""The fast CSV path (``as_text=True``): UTF-8 bytes straight to pyarrow, blank cells found
from offsets and lead bytes. Whatever the bytes, it must give the grid of the object path."""

from __future__ import annotations

import sys

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tianxin_analysis.errors import InputFileError
from tianxin_analysis.io import _arrow_csv
from tianxin_analysis.io.csv import _SNIFF_BYTES, _read_csv

# every character str.strip() removes, i.e. every one _cell treats as blank
_SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]


def _as_object(grid: pd.DataFrame) -> list[list[object]]:
    return grid.astype(object).where(grid.notna(), None).to_numpy().tolist()


def _same_as_object_path(data: bytes) -> pd.DataFrame | None:
    """Assert both paths agree on ``data``; return the fast grid (None when both refuse)."""
    try:
        ref = _read_csv(data, "t.csv")[0].grid
    except (InputFileError, UnicodeDecodeError) as exc:
        with pytest.raises(type(exc)) as err:
            _read_csv(data, "t.csv", as_text=True)
        assert str(err.value) == str(exc)
        return None
    sheet = _read_csv(data, "t.csv", as_text=True)[0]
    fast = sheet.grid
    assert list(fast.index) == list(ref.index)
    assert list(fast.columns) == list(ref.columns)
    assert _as_object(fast) == ref.to_numpy().tolist()
    if any(isinstance(d, pd.StringDtype) for d in fast.dtypes):
        # prepare_sheet then counts a present cell as filled without reading it
        assert sheet.blanks_missing
        cells = [v for row in _as_object(fast) for v in row]
        assert not any(isinstance(v, str) and not v.strip() for v in cells)
    return fast


@pytest.mark.parametrize("space", _SPACES)
def test_every_whitespace_character_makes_a_blank_cell(space):
    # quoted, so that line breaks stay inside the cells
    text = f'a,b\n"{space}",x\n"{space * 3}","{space}y"\n"\t{space} ","z{space}"\n'
    fast = _same_as_object_path(text.encode("utf-8"))
    assert fast is not None
    if space != "\t":  # tabs make the sniffer pick the tab as delimiter
        assert all(isinstance(d, pd.StringDtype) for d in fast.dtypes)
        assert fast[0].isna().tolist() == [False, True, True, True]


@pytest.mark.parametrize(
    "lead",
    # first bytes of whitespace characters, leading cells that are not blank
    ["\u2014", "\u2026", "\u2460", "\u3001", "\u3400", "\u00e9", "\u1e00", "\x0e", " ,"],
)
def test_cells_led_by_a_whitespace_lead_byte_are_kept(lead):
    text = f"名称,金额\n{lead}甲,{lead}\n乙,\n"
    _same_as_object_path(text.encode("utf-8"))


def test_invalid_utf8_after_the_sniffed_prefix_decodes_as_before():
    # valid UTF-8 for far more than the sniffed prefix, then a GB18030 name: the file is
    # decoded as the full decode decided before (whatever charset-normalizer guesses)
    rows = ["序号,名称"] + [f"{i},企业{i}" for i in range(6000)]
    data = "\n".join(rows).encode("utf-8") + b"\n9999," + "湘".encode("gb18030") + b"\n"
    assert len(data) > 2 * _SNIFF_BYTES
    fast = _same_as_object_path(data)
    assert fast is not None and all(isinstance(d, pd.StringDtype) for d in fast.dtypes)


def test_invalid_utf8_after_a_bom_fails_as_before():
    data = b"\xef\xbb\xbfa,b\n" + "甲,乙\n".encode() * 20000 + b"\xff,1\n"
    _same_as_object_path(data)


@pytest.mark.parametrize(
    "data",
    [
        "\ufeff名称,金额\n甲,1\n".encode(),  # UTF-8 BOM
        "\ufeff".encode(),  # a BOM and nothing else
        "名称,金额\n甲,1\n".encode("utf-16"),
        "名称\t金额\n甲\t1\n".encode("gb18030"),
        "名称;金额\n甲;\u3000\n".encode(),
        ("a,b\n" + "甲,乙\n" * 9000).encode()[:-2] + b"\n",  # a character cut at the prefix end
        "标题\n名称,金额\n甲,1,多余\n".encode(),  # ragged: csv.reader pads
        b'a,"\n",b\n"",  \n',  # quoted empty and quoted line break
        b"\n\n\n",
        b"a,\x00b\n",
    ],
)
def test_encodings_and_fallbacks(data):
    _same_as_object_path(data)


@pytest.mark.parametrize("threaded_rows", [50_000, 0], ids=["one-thread", "two-threads"])
def test_multi_block_file_keeps_rows_and_blanks(monkeypatch, threaded_rows):
    # small blocks: several chunks per column, and a row longer than a block falls back
    monkeypatch.setattr(_arrow_csv, "_CSV_BLOCK_SIZE", 1 << 16)
    monkeypatch.setattr(_arrow_csv, "_THREADED_ROWS", threaded_rows)
    rows = [
        f"{i},{' ' if i % 997 == 0 else ''}{'' if i % 13 else '企业'},\u3000" for i in range(30_000)
    ]
    data = ("\n".join(rows) + "\n").encode("utf-8")
    parsed = pacsv.read_csv(
        pa.py_buffer(data),
        read_options=pacsv.ReadOptions(block_size=1 << 16, autogenerate_column_names=True),
    )
    assert parsed.column(0).num_chunks > 1  # pyarrow reads several blocks ...
    fast = _same_as_object_path(data)
    assert fast is not None and fast[2].isna().all()
    # ... which the reader joins into one chunk per column, blanks made missing first
    assert all(fast[c].array.__arrow_array__().num_chunks == 1 for c in fast.columns)
    # (one character under the cell-length limit, still three times the block size)
    long_row = data + ("甲" * ((1 << 15) - 1) + ",1,2\n").encode()
    assert _same_as_object_path(long_row) is not None


_CELLS = st.text(
    alphabet=st.sampled_from(list('ab,"\n\r 甲\t;') + ["\u3000", "\xa0", "\u2014", "\x85"]),
    max_size=40,
)


@given(_CELLS, st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
@settings(max_examples=300, deadline=None)
def test_fast_path_matches_object_path(text, encoding):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    if data:
        _same_as_object_path(data)


@given(st.binary(max_size=60))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_match_object_path(data):
    if data:
        _same_as_object_path(data)
