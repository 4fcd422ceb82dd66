"""The entry point of the io layer: :func:`read_sheets` reads any container into
:class:`RawSheet` grids, choosing the reader by content."""

from __future__ import annotations

import os
from pathlib import Path

from tianxin_analysis.errors import InputFileError, SchemaError

from .csv import _read_csv, _read_streamed_csv
from .grid import RawSheet
from .html import _read_html
from .limits import ReadLimits, _limits
from .sniff import _read_bytes, _sniff
from .workbook import _decrypt, _read_workbook


def read_sheets(
    path: str | os.PathLike[str],
    *,
    password: str | None = None,
    as_text: bool = False,
    limits: ReadLimits | None = None,
) -> list[RawSheet]:
    """Read every sheet of ``path`` as raw grids, whatever the container.

    xlsx and legacy xls via python-calamine; encrypted workbooks are decrypted in memory with
    ``password`` (default: Excel's read-only key "VelvetSweatshop"); HTML saved as .xls gives
    one sheet per ``<table>``; CSV gives one sheet with ``sheet=None``. A ``CNKI`` sheet that
    holds only a link is skipped.

    ``as_text=True`` (what the cleaning pipeline uses) gives a CSV grid of pandas ``str``
    columns with missing values for blank cells, parsed by pyarrow: the same cells and row
    numbers without a Python object per cell. Files pyarrow would read differently (rows of
    unequal length) fall back to the object grid. Workbooks and HTML are unaffected.

    ``limits`` (default :meth:`ReadLimits.from_env`) bounds what an untrusted file may make
    the reader allocate; a file beyond them is refused with :class:`InputFileError`. A
    workbook whose sheets hold no cell at all is refused as empty; hidden sheets are read and
    marked ``hidden``.
    """
    p = Path(path)
    lim = _limits(limits)
    if as_text:
        sheets = _read_streamed_csv(p, lim)
        if sheets is not None:
            return sheets
    data = _read_bytes(p)
    fmt = _sniff(data, p)
    name = str(p)
    if fmt in ("xls-encrypted", "xlsx-encrypted"):
        plain = fmt.removesuffix("-encrypted")
        return _read_workbook(_decrypt(data, name, password, fmt), name, lim, plain)
    if fmt in ("xlsx", "xls"):
        return _read_workbook(data, name, lim, fmt)
    if fmt == "html":
        return _read_html(data, name, lim)
    return _read_csv(data, name, lim, as_text=as_text)


def read_sheet(
    path: str | os.PathLike[str], sheet: str | None = None, *, password: str | None = None
) -> RawSheet:
    """One sheet of ``path``: the named one, or the first (for CSV the only one)."""
    sheets = read_sheets(path, password=password)
    if not sheets:
        raise InputFileError("文件中没有工作表", "file holds no sheet", file=str(path))
    if sheet is None:
        return sheets[0]
    for s in sheets:
        if s.sheet == sheet:
            return s
    raise SchemaError(
        "找不到工作表",
        "sheet not found",
        file=str(path),
        sheet=sheet,
        found=[s.sheet for s in sheets],
    )


# ----------------------------------------------------------------------------------------------
