"""CSV files in GBK/GB18030, UTF-8 or UTF-16: the delimiter sniffed, the text read by
pyarrow when it can (:mod:`._arrow_csv`, streamed from the file for the usual large
UTF-8 export) and by the ``csv`` module otherwise, within the read limits."""

from __future__ import annotations

import codecs
import csv
import io as _stdio
import stat
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tianxin_analysis.errors import InputFileError

from ._arrow_csv import _arrow_grid, _arrow_grid_of
from .grid import RawSheet, _grid
from .limits import DEFAULT_LIMITS, ReadLimits
from .sniff import (
    _EXCEL_SUFFIXES,
    _HEAD_BYTES,
    _OLE_MAGIC,
    _ZIP_MAGIC,
    _decode_text,
    _read_bytes,
    _sniff,
)


def _sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV sample (comma, tab, semicolon or bar); comma when unsure."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


# UTF-8 takes at most 4 bytes a character: this many bytes hold the 8192 characters the
# delimiter is sniffed from, plus up to 3 bytes of a character cut at the end.
_SNIFF_CHARS = 8192
_SNIFF_BYTES = 4 * _SNIFF_CHARS + 4


def _utf8_sample(data: bytes) -> tuple[str, int] | None:
    """The first characters of a file that looks like UTF-8 and where its text starts.

    Decodes only a prefix (cut at a character boundary), so that a large UTF-8 file is not
    decoded in Python just to learn its encoding: pyarrow validates the UTF-8 of every cell
    while it parses, and every byte of the file that is not ASCII ends up in some cell.
    None when the prefix already shows another encoding (UTF-16 BOM, invalid UTF-8).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        head = decoder.decode(data[start : start + _SNIFF_BYTES], final=False)
    except UnicodeDecodeError:
        return None
    return head[:_SNIFF_CHARS], start


def _read_csv(
    data: bytes,
    name: str,
    limits: ReadLimits = DEFAULT_LIMITS,
    *,
    as_text: bool = False,
    tried_utf8: bool = False,
) -> list[RawSheet]:
    """One sheet of CSV cells. ``tried_utf8``: pyarrow already refused the file's UTF-8 bytes
    (as the fast path below would try them), so go on from there."""
    grid = None
    if as_text and not tried_utf8:
        # Fast path: a UTF-8 file (the usual large export) goes to pyarrow as its own bytes.
        # When pyarrow refuses it (invalid UTF-8, ragged rows, ...) the path below decides
        # exactly as if this attempt had not been made.
        head = _utf8_sample(data)
        if head is not None:
            sample, start = head
            tried_utf8 = True
            grid = _arrow_grid(data, _sniff_delimiter(sample), start)
    if grid is None:
        text, encoding = _decode_text(data, name)
        delimiter = _sniff_delimiter(text[:_SNIFF_CHARS])
        # The fast path already gave pyarrow these very bytes and this delimiter.
        if as_text and not (tried_utf8 and encoding in ("utf-8", "utf-8-sig")):
            # pyarrow reads UTF-8 bytes as they are; drop the decoded copy of a large file first.
            buf = _utf8_bytes(data, text, encoding)
            del text
            grid = _arrow_grid(buf, delimiter)
            del buf
            if grid is None:
                text, _ = _decode_text(data, name)
    if grid is not None:
        return _csv_sheets(grid, name, limits)
    rows = _csv_rows(text, delimiter, name, limits)
    if not any(cell.strip() for row in rows for cell in row):
        _refuse_blank(name)
    return [RawSheet(file=name, sheet=None, grid=_grid(rows))]


def _csv_rows(text: str, delimiter: str, name: str, limits: ReadLimits) -> list[list[str]]:
    """The rows of CSV ``text`` by the ``csv`` module, each cell at most
    ``limits.max_cell_chars`` long and the whole at most ``limits.max_cells`` cells."""
    reader = csv.reader(_stdio.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    cells = 0
    # the module's own field limit (131,072) would end in a bare csv.Error; ours comes first
    old = csv.field_size_limit()
    csv.field_size_limit(max(limits.max_cell_chars + 1, 1))
    try:
        for row in reader:
            cells += len(row)
            if cells > limits.max_cells:
                raise limits.refuse(name, "CSV 单元格过多", "CSV holds too many cells", cells,
                                    "max_cells")  # fmt: skip
            rows.append(row)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise limits.refuse(
                f"{name} (行 row {reader.line_num})", "单元格文字过长", "cell text too long",
                f"> {limits.max_cell_chars:,}", "max_cell_chars",
            ) from None  # fmt: skip
        raise InputFileError(
            "CSV 格式错误", "malformed CSV", file=name, row=reader.line_num, found=str(exc)
        ) from None
    finally:
        csv.field_size_limit(old)
    return rows


def _refuse_blank(name: str) -> None:
    """Raise the ``InputFileError`` of a file that holds nothing but blank lines."""
    # Blank lines only: as empty as a 0-byte file, and the analyst must hear about it
    # rather than have the file skipped without a word.
    raise InputFileError(
        "文件为空 (只有空行或空白)",
        "file is empty (blank lines or whitespace only)",
        file=name,
        expected="CSV 表格，至少一行表头 (a CSV table with a header row)",
    )


def _csv_sheets(grid: pd.DataFrame, name: str, limits: ReadLimits) -> list[RawSheet]:
    """The sheet of a CSV grid parsed by pyarrow (refused when every cell is blank, or beyond
    ``limits``: too many cells, a cell too long)."""
    if not any(grid[c].count() for c in grid.columns):
        _refuse_blank(name)
    if grid.size > limits.max_cells:
        raise limits.refuse(name, "CSV 单元格过多", "CSV holds too many cells", grid.size,
                            "max_cells")  # fmt: skip
    for c in grid.columns:
        arr = pa.array(grid[c].array)
        # bytes first (from the offsets, no decoding); characters only when bytes exceed
        if len(arr) and (pc.max(pc.binary_length(arr)).as_py() or 0) > limits.max_cell_chars:
            longest = pc.max(pc.utf8_length(arr)).as_py() or 0
            if longest > limits.max_cell_chars:
                raise limits.refuse(
                    f"{name} (列 column {c + 1})", "单元格文字过长", "cell text too long",
                    longest, "max_cell_chars",
                )  # fmt: skip
    return [RawSheet(file=name, sheet=None, grid=grid, blanks_missing=True)]


def _open_regular(path: Path) -> _stdio.BufferedReader | None:
    """``path`` opened for reading, or None for anything but a non-empty regular file (the
    byte reader then gives the usual answer or error)."""
    try:
        st = path.stat()
        # a FIFO or device would block or lie about its size
        if not stat.S_ISREG(st.st_mode) or not st.st_size:
            return None
        return open(path, "rb")
    except (OSError, ValueError):
        return None


_SCAN_BYTES = 16 << 20


def _scan_bytes(f: _stdio.BufferedReader, start: int) -> tuple[bool, bool]:
    """(the file holds a NUL byte, it holds a double quote) from byte ``start`` on.

    One pass of ``bytes.find`` (memchr) over 16 MB blocks read into one reused buffer: about
    0.06 s for a 240 MB export that is in the page cache anyway.
    """
    nul = quote = False
    buf = bytearray(_SCAN_BYTES)
    f.seek(start)
    while n := f.readinto(buf):
        nul = nul or buf.find(b"\x00", 0, n) >= 0
        quote = quote or buf.find(b'"', 0, n) >= 0
        if nul:
            break
    return nul, quote


def _read_streamed_csv(path: Path, limits: ReadLimits) -> list[RawSheet] | None:
    """The CSV fast path of :func:`read_sheets`: pyarrow reads the file itself.

    Reading a 240 MB export into ``bytes`` costs a copy of the whole file before pyarrow
    parses it (0.75 s against 0.45 s for the whole read at 10^6 rows); pyarrow reading the
    file block by block needs no such copy. Only a file whose head makes it a CSV and looks
    like UTF-8 is taken here; None means: read the bytes and go the usual way, which then
    answers (or fails) exactly as without this path.

    Not memory-mapped: a mapped file that another program truncates while it is parsed (an
    export copied over the raw file) kills the process with SIGBUS and no message; a file
    read with ``read`` then just ends early, and the rules see what it held.
    """
    f = _open_regular(path)
    if f is None:
        return None
    with f:
        head = f.read(_HEAD_BYTES)
        # Workbooks, and text under an Excel name, are judged from the whole file.
        if head.startswith((_OLE_MAGIC, _ZIP_MAGIC)) or path.suffix.lower() in _EXCEL_SUFFIXES:
            return None
        try:
            # the remaining decisions of _sniff (and their errors) read no byte past the head
            if _sniff(head, path) != "csv":
                return None
        except InputFileError:
            return None
        sample = _utf8_sample(head)
        if sample is None:
            return None
        text, start = sample
        nul, quote = _scan_bytes(f, start)
    grid = None
    if not nul:
        try:
            # pyarrow's own file: its reads release the GIL and skip Python's file object
            with pa.OSFile(str(path)) as source:
                source.seek(start)
                grid = _arrow_grid_of(source, _sniff_delimiter(text), quote)
        except OSError:  # gone or unreadable since it was opened: the byte path reports it
            grid = None
    name = str(path)
    if grid is None:
        return _read_csv(_read_bytes(path), name, limits, as_text=True, tried_utf8=True)
    return _csv_sheets(grid, name, limits)


def _utf8_bytes(data: bytes, text: str, encoding: str) -> bytes:
    """The decoded text as UTF-8 bytes (the file's own bytes when it is UTF-8 already)."""
    if encoding == "utf-8":
        return data
    if encoding == "utf-8-sig":
        return data[3:]
    return text.encode("utf-8")
