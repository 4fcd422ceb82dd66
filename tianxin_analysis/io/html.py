"""HTML pages (web-system downloads, Office "HTML-as-xls" exports): each top-level
``<table>`` laid out as Excel shows it, read with lxml."""

from __future__ import annotations

import re

import lxml.etree
import lxml.html

from tianxin_analysis.errors import InputFileError

from .grid import RawSheet, _grid
from .limits import ReadLimits
from .sniff import _decode_text


def _cell_text(el: lxml.html.HtmlElement) -> str:
    """The text of an HTML cell, ``<br>`` as a line break, non-breaking spaces as spaces,
    stripped."""
    for br in el.iter("br"):
        br.tail = "\n" + (br.tail or "")
    return el.text_content().replace("\xa0", " ").strip()


# The HTML standard's own caps on spans (a larger value is treated as these).
_MAX_COLSPAN, _MAX_ROWSPAN = 1000, 65534


def _table_rows(table: lxml.html.HtmlElement, name: str, limits: ReadLimits) -> list[list[object]]:
    """Lay a <table> out as Excel shows it: a spanning cell's text sits in its top-left cell.

    Hand-written instead of ``pandas.read_html`` because read_html copies a spanning cell's
    text into every cell it covers, which turns a parent header over ten columns into ten
    labels and breaks header parsing. Spans are capped as browsers cap them, and the cells
    they cover are counted against ``limits.max_cells`` before any is laid out.
    """
    occupied: dict[tuple[int, int], bool] = {}
    cells: dict[tuple[int, int], str] = {}
    covered = 0
    trs = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
    for r, tr in enumerate(trs):
        c = 0
        for td in tr.xpath("./td|./th"):
            while occupied.get((r, c)):
                c += 1
            rowspan = min(max(_span(td.get("rowspan")), 1), _MAX_ROWSPAN)
            colspan = min(max(_span(td.get("colspan")), 1), _MAX_COLSPAN)
            covered += rowspan * colspan
            if covered > limits.max_cells:
                raise limits.refuse(
                    name, "HTML 表格单元格过多 (合并范围过大)",
                    "HTML table covers too many cells (spans too large)", covered, "max_cells",
                )  # fmt: skip
            text = _cell_text(td)
            if len(text) > limits.max_cell_chars:
                raise limits.refuse(
                    name, "单元格文字过长", "cell text too long", len(text), "max_cell_chars"
                )
            cells[(r, c)] = text
            for dr in range(rowspan):
                for dc in range(colspan):
                    occupied[(r + dr, c + dc)] = True
            c += colspan
    if not cells:
        return []
    n_rows = max(r for r, _ in occupied) + 1
    n_cols = max(c for _, c in occupied) + 1
    return [[cells.get((r, c)) for c in range(n_cols)] for r in range(n_rows)]


def _span(text: str | None) -> int:
    """A rowspan/colspan attribute as browsers read it: leading digits, else 1."""
    m = re.match(r"\s*(\d{1,9})", text or "")
    return int(m.group(1)) if m else 1


def _parse_html(data: bytes, name: str) -> lxml.html.HtmlElement:
    """The HTML document of ``data``, decoded as :func:`_decode_text` decodes it."""
    text, _ = _decode_text(data, name)
    try:
        return lxml.html.document_fromstring(text)
    except (ValueError, lxml.etree.ParserError):
        # A string with an XML encoding declaration must be parsed from bytes.
        return lxml.html.document_fromstring(data)


def _read_html(data: bytes, name: str, limits: ReadLimits) -> list[RawSheet]:
    """Each top-level ``<table>`` of an HTML page as a ``RawSheet`` named by its id or
    ``table<i>``; a page without a table is an ``InputFileError``."""
    doc = _parse_html(data, name)
    sheets = []
    for i, table in enumerate(doc.iter("table"), start=1):
        rows = _table_rows(table, name, limits)
        if rows:
            sheet = table.get("id") or f"table{i}"
            sheets.append(RawSheet(file=name, sheet=sheet, grid=_grid(rows)))
    if not sheets:
        raise InputFileError(
            "HTML 文件中没有表格",
            "HTML file holds no table",
            file=name,
            expected="至少一个 <table> (at least one <table>)",
        )
    return sheets
