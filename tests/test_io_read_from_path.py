"""``read_sheets(path, as_text=True)`` lets pyarrow read the file itself: whatever the file,
the answer (sheets or error) must be the one of the byte path it replaces."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tianxin_analysis.errors import InputFileError
from tianxin_analysis.io import _arrow_csv, read_sheets, sheets
from tianxin_analysis.io import csv as io_csv
from tianxin_analysis.io.sniff import _HEAD_BYTES, _OLE_MAGIC, _ZIP_MAGIC


def _outcome(path, **kwargs):
    """(sheets as plain values, None) or (None, (error type, message))."""
    try:
        sheets = read_sheets(path, as_text=True, **kwargs)
    except (InputFileError, UnicodeDecodeError) as exc:
        return None, (type(exc), str(exc))
    out = []
    for s in sheets:
        g = s.grid
        cells = g.astype(object).where(g.notna(), None).to_numpy().tolist()
        out.append(
            (s.file, s.sheet, list(g.index), list(g.columns), [str(d) for d in g.dtypes], cells)
        )
    return out, None


def _same_as_byte_path(path, monkeypatch):
    new = _outcome(path)
    with monkeypatch.context() as m:
        m.setattr(sheets, "_read_streamed_csv", lambda p, limits: None)
        old = _outcome(path)
    assert new == old
    return new


_HTML_LATE = b"x,y\n" + b" " * (_HEAD_BYTES - 20) + b"<table><tr><td>1</td></tr></table>\n"

_CASES = {
    "utf8": "名称,金额\n甲,1\n乙,\u3000\n".encode(),
    "bom": "\ufeff名称,金额\n甲,1\n".encode(),
    "bom only": "\ufeff".encode(),
    "utf16": "名称,金额\n甲,1\n".encode("utf-16"),
    "gb18030": "名称\t金额\n甲\t1\n".encode("gb18030"),
    "ragged": "标题\n名称,金额\n甲,1,多余\n".encode(),
    "quoted": b'a,"\n",b\n"",  \n',
    "blank": b",,\n  ,\t,\n",
    "newlines": b"\n\n\n",
    "nul": b"a,\x00b\n",
    "nul in head": b"a,b\n\x00\x01\x02",
    "invalid utf8 late": ("a,b\n" + "甲,乙\n" * 20000).encode() + "湘".encode("gb18030") + b"\n",
    # one character's bytes split over two cells: each cell is invalid, their bytes joined
    # are not (the cells are checked in one pass over a column's bytes)
    "split character late": ("a,b\n" + "甲,乙\n" * 20000).encode() + b"x\xe4,\xb8\xad\n",
    "split over rows late": ("a\n" + "甲\n" * 20000).encode() + b"x\xe4\n\xb8\xad\n",
    "html": b"<html><body><table><tr><td>1</td></tr></table></body></html>",
    "html past head": _HTML_LATE,
    "ole junk": _OLE_MAGIC + b"\x00" * 600,
    "zip junk": _ZIP_MAGIC + b"\x00" * 100,
    "pdf": b"%PDF-1.4\n",
    "large": ("序号,名称\n" + "".join(f"{i},企业{i}\n" for i in range(50_000))).encode(),
}


@pytest.mark.parametrize("suffix", [".csv", ".xls", ".txt"])
@pytest.mark.parametrize("case", list(_CASES))
def test_streamed_read_matches_byte_path(tmp_path, monkeypatch, case, suffix):
    path = tmp_path / f"t{suffix}"
    path.write_bytes(_CASES[case])
    _same_as_byte_path(path, monkeypatch)


def test_missing_empty_and_folder_paths_fail_as_before(tmp_path, monkeypatch):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    for path in (tmp_path / "missing.csv", empty, tmp_path):
        sheets, error = _same_as_byte_path(path, monkeypatch)
        assert sheets is None and error[0] is InputFileError


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_not_opened(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert io_csv._open_regular(fifo) is None  # opening it would wait for a writer


def test_the_grid_outlives_the_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n甲,1\n", encoding="utf-8")
    grid = read_sheets(path, as_text=True)[0].grid
    # the cells are pyarrow's own copies: rewriting the file does not reach them
    path.write_text("x,y\n乙,2\n", encoding="utf-8")
    assert grid.loc[2].tolist() == ["甲", "1"]
    assert all(isinstance(d, pd.StringDtype) for d in grid.dtypes)


def test_refused_streamed_file_is_parsed_once_more_only_for_other_encodings(tmp_path, monkeypatch):
    # ragged rows: pyarrow refuses the streamed file; the byte path must not ask it again
    path = tmp_path / "t.csv"
    path.write_text("标题\n名称,金额\n甲,1,多余\n", encoding="utf-8")
    calls = []
    parse = _arrow_csv._arrow_grid_of
    counted = lambda *a, **k: calls.append(1) or parse(*a, **k)  # noqa: E731
    # the streamed path (csv) and the byte path (_arrow_csv._arrow_grid) both parse with it
    monkeypatch.setattr(io_csv, "_arrow_grid_of", counted)
    monkeypatch.setattr(_arrow_csv, "_arrow_grid_of", counted)
    grid = read_sheets(path, as_text=True)[0].grid
    assert grid.dtypes.eq(object).all() and len(calls) == 1


_BYTES = st.binary(max_size=80) | st.text(
    alphabet=st.sampled_from(list('ab,"\n\r 甲\t;<') + ["\u3000", "\xa0", "\ufeff"]), max_size=40
).map(str.encode)


@given(_BYTES)
@settings(max_examples=200, deadline=None)
def test_arbitrary_files_match_byte_path(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("h") / "t.csv"
    path.write_bytes(data)
    with pytest.MonkeyPatch.context() as mp:
        _same_as_byte_path(path, mp)


def test_every_whitespace_lead_byte_is_a_candidate():
    every = np.arange(256, dtype=np.uint8)
    maybe = _arrow_csv._may_lead_space(every.copy())
    assert not (_arrow_csv._WS_LEAD & ~maybe).any()
    assert maybe.sum() <= 40  # a cheap net: ASCII text and CJK characters stay out of it


def test_blank_cells_of_a_sliced_chunk_past_empty_tails():
    cells = ["x", " ", "", "\u3000", "a\u3000", "\x01", ""]
    arr = pa.array([v.encode() for v in cells], pa.large_binary())
    for start in range(len(arr)):
        got = _arrow_csv._utf8_text(arr.slice(start))
        assert got.type == pa.large_string()
        assert got.to_pylist() == [None if not v.strip() else v for v in cells[start:]]


@pytest.mark.parametrize(
    "cells",
    [
        [b"\xe4", b"\xb8\xad"],
        [b"a\xe4\xb8", b"\xad"],
        [b"\xad"],
        [b"ok", b"\xff"],
        [b"\xed\xa0\x80"],
    ],
)
def test_a_cell_that_is_not_utf8_alone_refuses_the_chunk(cells):
    # as pyarrow's own per-cell check refused it, even where the bytes joined are UTF-8
    arr = pa.array([b"x", *cells, b""], pa.large_binary())
    assert _arrow_csv._utf8_text(arr) is None
    assert (
        _arrow_csv._utf8_text(pa.array([b"x", "中".encode(), b""], pa.large_binary())) is not None
    )


@pytest.mark.parametrize("case", ["split character late", "split over rows late"])
def test_a_split_character_is_read_by_the_csv_module(tmp_path, case):
    # pyarrow never hands such a file over: it is decoded as a whole (and found not UTF-8)
    path = tmp_path / "t.csv"
    path.write_bytes(_CASES[case])
    assert _arrow_csv._arrow_grid(path.read_bytes(), ",") is None
    sheets, error = _outcome(path)
    assert error is not None or set(sheets[0][4]) == {"object"}


def test_file_cut_short_while_read_gives_an_answer_not_a_crash(tmp_path, monkeypatch):
    """Another program truncates the export between the scan and the parse (a new export
    copied over it): the read sees a shorter file. (A memory-mapped read died of SIGBUS.)"""
    path = tmp_path / "t.csv"
    rows = "".join(f"企业{i},{i}\n" for i in range(50_000))
    path.write_text("名称,金额\n" + rows, encoding="utf-8")
    scan = io_csv._scan_bytes

    def scan_then_truncate(f, start):
        out = scan(f, start)
        with open(path, "r+b") as w:
            w.truncate(path.read_bytes().rindex(b"\n", 0, 4096) + 1)  # at a row's end
        return out

    monkeypatch.setattr(io_csv, "_scan_bytes", scan_then_truncate)
    try:
        grid = read_sheets(path, as_text=True)[0].grid
    except InputFileError:
        return  # a message about the file as it now is is an answer too
    assert 1 < len(grid) < 50_000 and grid.iloc[0].tolist() == ["名称", "金额"]
