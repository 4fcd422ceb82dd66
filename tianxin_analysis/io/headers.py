"""Header helpers for the data layer: find the header row of a grid by its synonyms and
combine a header spread over several rows into one label per column."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tianxin_analysis.errors import SchemaError


def _norm(value: object) -> str:
    """NFKC text without any whitespace (spaces, newlines, full-width spaces)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))


def find_header_row(
    grid: pd.DataFrame, required: Mapping[str, Sequence[str]], max_scan: int = 15
) -> int:
    """Spreadsheet row (index label of ``grid``) whose cells match the most required columns.

    ``required`` maps a column identifier to its accepted header texts (synonyms). A cell
    matches a synonym when, after NFKC and removing whitespace and line breaks, it equals the
    synonym or starts with it (``企业名称(全称)`` matches ``企业名称``). Ties go to the first row.
    """
    synonyms = {key: [_norm(s) for s in words if _norm(s)] for key, words in required.items()}
    best_row, best_score = None, 0
    for row_no, row in grid.head(max_scan).iterrows():
        score = _header_score(row, synonyms)
        if score > best_score:
            best_row, best_score = int(row_no), score
    if best_row is None:
        raise SchemaError(
            "找不到表头行",
            "header row not found",
            found=f"前 {max_scan} 行没有匹配的列名 (no match in the first {max_scan} rows)",
            expected="、".join(f"{k}: {'/'.join(v)}" for k, v in required.items()),
        )
    return best_row


def combine_header_rows(grid: pd.DataFrame, rows: Sequence[int], sep: str = "/") -> list[str]:
    """One label per column from a header spread over ``rows`` (spreadsheet row numbers).

    A merged parent cell shows its text only in its first column, so in every row but the
    last a blank cell takes the text on its left when a lower row labels that column
    (``2023年`` over ``1-2月 | 3月`` gives ``2023年/1-2月``, ``2023年/3月``). Parts are NFKC
    normalised with whitespace removed and joined with ``sep``; repeated parts collapse.
    """
    block = [[_norm(v) for v in grid.loc[r]] for r in rows]
    width = grid.shape[1]
    _spread_merged_parents(block, width)
    return [sep.join(_column_parts(block, c)) for c in range(width)]


def _header_score(row: pd.Series, synonyms: Mapping[str, list[str]]) -> int:
    """How many required columns (each a list of normalised synonyms) a cell of ``row``
    names: equal to a synonym or starting with it."""
    cells = [c for c in (_norm(v) for v in row) if c]
    return sum(
        any(cell == s or cell.startswith(s) for cell in cells for s in words)
        for words in synonyms.values()
    )


def _spread_merged_parents(block: list[list[str]], width: int) -> None:
    """In every row of ``block`` but the last, a blank cell takes the text on its left when a
    lower row labels that column (a merged parent shows its text in its first column only)."""
    for i in range(len(block) - 1):
        below = [any(block[j][c] for j in range(i + 1, len(block))) for c in range(width)]
        for c in range(1, width):
            if not block[i][c] and below[c] and block[i][c - 1]:
                block[i][c] = block[i][c - 1]


def _column_parts(block: list[list[str]], c: int) -> list[str]:
    """The non-blank texts of column ``c`` from top to bottom, a repeated one kept once."""
    parts: list[str] = []
    for row in block:
        if row[c] and (not parts or parts[-1] != row[c]):
            parts.append(row[c])
    return parts


# ----------------------------------------------------------------------------------------------
# Yearbook tables
