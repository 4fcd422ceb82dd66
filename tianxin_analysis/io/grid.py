"""The raw grid every reader returns: :class:`RawSheet`, one sheet of cells where a
spreadsheet shows them (1-based row numbers, blank cells None)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RawSheet:
    """One sheet (or HTML table, or CSV file) as raw cells.

    ``grid`` has object dtype, columns ``0..n-1`` and an index of 1-based spreadsheet row
    numbers; blank cells are ``None``. Header rows are kept. ``blanks_missing``: the reader
    made every empty or whitespace-only cell missing (the ``str`` grids of ``as_text``), so
    a present cell is a filled one without looking at its text. ``hidden``: the workbook
    hides this sheet (the data layer skips it with a message, as it may hold older figures).
    """

    file: str
    sheet: str | None
    grid: pd.DataFrame
    blanks_missing: bool = False
    hidden: bool = False


def _cell(value: object) -> object:
    """A reader's cell as the grid holds it: blank text and NaN become None, a date a datetime."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _grid(rows: Sequence[Sequence[object]]) -> pd.DataFrame:
    """Rows of cells as an object frame padded to the widest row, rows numbered from 1 as in
    Excel."""
    width = max((len(r) for r in rows), default=0)
    padded = [[_cell(v) for v in r] + [None] * (width - len(r)) for r in rows]
    frame = pd.DataFrame(padded, columns=range(width), dtype=object)
    frame.index = pd.RangeIndex(1, len(padded) + 1)
    return frame


def _is_link_only(rows: Sequence[Sequence[object]]) -> bool:
    """True for a sheet holding at most one value, a web link (the CNKI sheet of a yearbook
    page)."""
    values = [v for r in rows for v in r if _cell(v) is not None]
    return len(values) <= 1 and all(str(v).strip().startswith("http") for v in values)
