"""Numbers whose xlsx cell format gives them their meaning (a percent, a unit such as
``"万元"``), rewritten as the text Excel shows so that the cleaning steps read them."""

from __future__ import annotations

import dataclasses
import io as _stdio
import re
import zipfile

import lxml.etree

from .grid import RawSheet
from .xlsx_bounds import _column_number

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
# Excel's built-in percent formats (0% and 0.00%); custom ones are told by their code.
_BUILTIN_PERCENT = {9, 10}
# A unit written as a literal in a number format: #,##0.00"万元" shows 123.45 as 123.45万元.
_FORMAT_UNIT = re.compile(r'"((?:万|亿|千万|百万)?元|万|亿)"')
_FORMAT_LITERAL = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
_XLSX_STYLED = re.compile(rb'<c\s[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*?\bs="([0-9]+)"')
_XLSX_STYLED_SR = re.compile(rb'<c\s[^>]*?\bs="([0-9]+)"[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')


def _xml(zf: zipfile.ZipFile, part: str) -> lxml.etree._Element | None:
    """One XML part of an xlsx, parsed without entities or network; None when absent or
    malformed."""
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        return lxml.etree.fromstring(zf.read(part), parser)
    except (KeyError, lxml.etree.XMLSyntaxError):
        return None


def _meaning_styles(zf: zipfile.ZipFile) -> dict[int, str]:
    """Cell style index -> what its number format adds to a number: "%" (percent: 0.121
    shows as 12.1%) or a unit ("万元": 123.45 shows as 123.45万元). Formats that scale
    (thousands commas at the end, 0,"千") are left alone."""
    styles = _xml(zf, "xl/styles.xml")
    if styles is None:
        return {}
    codes = {int(f.get("numFmtId", "-1")): f.get("formatCode", "")
             for f in styles.iter(f"{_MAIN_NS}numFmt")}  # fmt: skip
    xfs = styles.find(f"{_MAIN_NS}cellXfs")
    meaning: dict[int, str] = {}
    for i, xf in enumerate(xfs if xfs is not None else ()):
        fid = int(xf.get("numFmtId", "0") or 0)
        positive = codes.get(fid, "").split(";")[0]
        bare = _FORMAT_LITERAL.sub("", positive)
        if fid in _BUILTIN_PERCENT or "%" in bare:
            meaning[i] = "%"
        elif (unit := _FORMAT_UNIT.search(positive)) and not bare.rstrip().endswith(","):
            meaning[i] = unit.group(1)
    return meaning


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML part, from the workbook and its relationships."""
    book, rels = _xml(zf, "xl/workbook.xml"), _xml(zf, "xl/_rels/workbook.xml.rels")
    if book is None or rels is None:
        return {}
    target = {r.get("Id"): r.get("Target", "") for r in rels}
    parts = {}
    for sh in book.iter(f"{_MAIN_NS}sheet"):
        t = target.get(sh.get(f"{_REL_NS}id"), "")
        parts[sh.get("name")] = t.lstrip("/") if t.startswith("/") else f"xl/{t}"
    return parts


def _shown_as_excel_shows(data: bytes, sheets: list[RawSheet]) -> list[RawSheet]:
    """Numbers whose cell format gives them their meaning, as the text Excel shows: a
    percent cell 0.121 becomes "12.1%", a cell formatted #,##0"万元" holding 123.45 becomes
    "123.45万元" (the cleaning steps read both). Only workbooks whose styles hold such a
    format are looked at; dates stored as numbers are already dates (python-calamine reads
    date formats)."""
    try:
        zf = zipfile.ZipFile(_stdio.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        return sheets
    with zf:
        meaning = _meaning_styles(zf)
        if not meaning:
            return sheets
        parts = _sheet_parts(zf)
        out = []
        for sheet in sheets:
            part = parts.get(sheet.sheet) if sheet.sheet is not None else None
            try:
                xml = zf.read(part) if part else b""
            except KeyError:
                xml = b""
            out.append(_restyled(sheet, xml, meaning))
        return out


def _restyled(sheet: RawSheet, xml: bytes, meaning: dict[int, str]) -> RawSheet:
    """``sheet`` with each number whose style (in the sheet's ``xml``) has a ``meaning`` shown
    as Excel shows it; the same object when no cell changes."""
    cells = [(m.group(1), m.group(2), m.group(3)) for m in _XLSX_STYLED.finditer(xml)]
    cells += [(m.group(2), m.group(3), m.group(1)) for m in _XLSX_STYLED_SR.finditer(xml)]
    grid, changed = sheet.grid, False
    for col, row, style in cells:
        what = meaning.get(int(style))
        r, c = int(row), _column_number(col) - 1
        if what is None or r not in grid.index or c not in grid.columns:
            continue
        value = grid.at[r, c]
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if not changed:
            grid, changed = grid.copy(), True
        shown = value * 100 if what == "%" else value
        grid.at[r, c] = f"{shown:.12g}{what}"
    return dataclasses.replace(sheet, grid=grid) if changed else sheet
