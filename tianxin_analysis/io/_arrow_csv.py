"""The fast CSV path: pyarrow parses a UTF-8 file into ``str`` columns with blank cells
missing, the same cells and row numbers as the ``csv`` module gives, without a Python
object per cell (the 10^6-row clean reads through :func:`_arrow_grid_of`)."""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tianxin_analysis import _arrowtext
from tianxin_analysis._workers import THREADED_ROWS as _THREADED_ROWS

# Whitespace-only cells are blank (``_cell``: ``str.strip()`` leaves nothing). The class is
# every character Python's ``str.isspace`` accepts, written out for RE2.
_WS_CLASS = "[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_BLANK_CELL = f"^{_WS_CLASS}*$"
_WS_LEAD = _arrowtext.lead_byte_table(_WS_CLASS)  # first UTF-8 bytes of those characters
_MAX_CSV_COLUMNS = 16384
# pyarrow's default 1 MB blocks cut a 240 MB registry into ~230 chunks per column, and every
# later step pays a little per chunk; 16 MB blocks still keep both cores busy while parsing.
# (A single row longer than a block is refused by pyarrow and read by the csv module.)
_CSV_BLOCK_SIZE = 16 << 20


def _may_lead_space(first: np.ndarray) -> np.ndarray:
    """Per first byte of a cell (uint8; overwritten): it may begin a whitespace character.

    Every byte marked in ``_WS_LEAD`` (a control byte or the space, C2, E1-E3) passes, and a
    few more (other control bytes) that the exact test then turns down. Three comparisons
    over 10^6 bytes cost a third of a lookup in the 256-entry table.
    """
    maybe = first <= 0x20
    maybe |= first == 0xC2
    first -= 0xE1  # wraps around: E1, E2, E3 become 0, 1, 2
    maybe |= first <= 2
    return maybe


def _utf8_text(arr: pa.Array) -> pa.Array | None:
    """A large_binary column chunk (no nulls) as large_string with empty and whitespace-only
    cells null, or None when a cell is not valid UTF-8.

    pyarrow's reader validates UTF-8 cell by cell while it converts a column to text, about
    a third of the parse of a 10^6-row registry (mostly Chinese text); the chunk is read as
    bytes instead and checked here in one pass over its data: the bytes are valid UTF-8 and
    no cell starts inside a character (on a continuation byte), so every cell is whole
    characters, exactly when each cell alone is valid.
    """
    n = len(arr)
    _, offsets_buf, data_buf = arr.buffers()
    text = pa.Array.from_buffers(pa.large_string(), n, [None, offsets_buf, data_buf], 0, arr.offset)
    if not n:
        return text
    offsets = np.frombuffer(offsets_buf, np.int64)[arr.offset : arr.offset + n + 1]
    starts = offsets[:-1]
    blank = starts == offsets[1:]
    lo, hi = int(offsets[0]), int(offsets[-1])
    if hi > lo:
        whole = pa.Array.from_buffers(
            pa.large_string(), 1, [None, pa.py_buffer(np.array([lo, hi], np.int64)), data_buf]
        )
        try:
            whole.validate(full=True)
        except pa.ArrowInvalid:
            return None
        # an empty last cell starts past the data: clipped, and it is blank anyway
        first = np.take(np.frombuffer(data_buf, np.uint8), starts, mode="clip")
        if ((first & 0xC0 == 0x80) & ~blank).any():
            return None
        # The regex on every cell was the bulk of the blank test; empty cells show in the
        # offsets and whitespace-only cells are rare, so only cells starting with a byte that
        # can begin a whitespace character are matched against it.
        maybe = _may_lead_space(first)
        maybe &= ~blank
        maybe = np.flatnonzero(maybe)
        if maybe.size:
            hit = pc.match_substring_regex(text.take(maybe), _BLANK_CELL)
            blank[maybe[hit.to_numpy(zero_copy_only=False)]] = True
    if not blank.any():
        return text
    if arr.offset:
        return pc.if_else(pa.array(blank), pa.scalar(None, text.type), text)
    # A packed mask of the kept cells is exactly a validity bitmap: no copy of the strings.
    valid = pa.py_buffer(np.packbits(~blank, bitorder="little"))
    return pa.Array.from_buffers(pa.large_string(), n, [valid, offsets_buf, data_buf])


@functools.cache
def _csv_convert_options() -> pacsv.ConvertOptions:
    """pyarrow CSV options that read every column as bytes (:func:`_utf8_text` makes them
    text) and keep empty strings (not null)."""
    # built once: a column type for each of 16384 names takes milliseconds every call
    return pacsv.ConvertOptions(
        column_types={f"f{i}": pa.large_binary() for i in range(_MAX_CSV_COLUMNS)},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )


def _arrow_grid(buf: bytes, delimiter: str, start: int = 0) -> pd.DataFrame | None:
    """The grid of a CSV file parsed by pyarrow into ``str`` columns, or None to fall back.

    Same cells, row numbers and blanks as ``csv.reader`` + :func:`_grid` (a blank line is a
    row of blank cells; quoted fields, doubled quotes and line breaks inside quotes as the
    ``csv`` module's default dialect reads them; whitespace-only cells are missing), but the
    text is parsed in C++ and the cells stay in Arrow buffers instead of becoming one Python
    string each. Returns None when pyarrow would read the file differently: rows of unequal
    length (``csv.reader`` pads them, pyarrow rejects them) or anything pyarrow refuses,
    such as invalid UTF-8. The text starts at byte ``start`` of ``buf`` (after a BOM).
    """
    if len(buf) <= start or buf.find(b"\x00", start) >= 0:
        return None
    source = pa.py_buffer(buf).slice(start)
    return _arrow_grid_of(source, delimiter, buf.find(b'"', start) >= 0)


def _arrow_grid_of(
    source: pa.Buffer | pa.NativeFile, delimiter: str, quoted: bool
) -> pd.DataFrame | None:
    """:func:`_arrow_grid` of text without NUL bytes; ``quoted``: it holds a double quote."""
    try:
        table = pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(
                autogenerate_column_names=True, block_size=_CSV_BLOCK_SIZE
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                # a line break can only sit inside a quoted field
                newlines_in_values=quoted,
                ignore_empty_lines=False,
                # No invalid_row_handler: pyarrow already refuses a row with another number
                # of fields than the first, and a handler is handed the row decoded as UTF-8
                # (a ragged row of GBK bytes raised inside pyarrow, printed as "ignored").
            ),
            convert_options=_csv_convert_options(),
        )
    except pa.ArrowException:
        return None
    if table.num_columns >= _MAX_CSV_COLUMNS:
        return None

    # The table's columns, each dropped once read (the table itself goes first), so that a
    # column's blocks are freed as soon as its one-chunk copy exists.
    cols: list[pa.ChunkedArray | None] = list(table.columns)
    n_rows, sizes = table.num_rows, [c.nbytes for c in table.columns]
    del table

    def column(i: int) -> pd.api.extensions.ExtensionArray | None:
        # Blanks chunk by chunk (each one block of the file), then the chunks joined into one
        # array: every later take from a chunked string array would first concatenate them
        # all, and joining here, on the reader's threads while other columns are still being
        # read, lets each column's blocks go as soon as it is done.
        col, cols[i] = cols[i], None
        assert col is not None  # each column is taken once
        chunks = [_utf8_text(c) for c in col.chunks]
        del col
        if any(c is None for c in chunks):
            return None
        if len(chunks) != 1:
            chunks = [pa.concat_arrays(chunks) if chunks else pa.array([], pa.large_string())]
        return pd.array(pa.chunked_array(chunks, pa.large_string()), dtype="str")

    if n_rows < _THREADED_ROWS:
        columns = {i: column(i) for i in range(len(cols))}
    else:
        # The blank tests are numpy gathers and comparisons, which release the GIL: the
        # columns of a large file on two threads instead of one while the other core idles.
        # Largest columns first, so that both threads finish together instead of one taking
        # the biggest column last.
        order = sorted(range(len(cols)), key=lambda i: -sizes[i])
        with ThreadPoolExecutor(max_workers=2) as pool:
            done = dict(zip(order, pool.map(column, order), strict=True))
        columns = {i: done[i] for i in range(len(cols))}
    if any(c is None for c in columns.values()):
        return None  # not UTF-8: the caller falls back, as when pyarrow refused the text
    frame = pd.DataFrame(columns, index=pd.RangeIndex(1, n_rows + 1 if columns else 1))
    frame.columns = pd.RangeIndex(len(columns))
    return frame
