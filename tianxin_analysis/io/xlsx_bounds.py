"""Refuse a workbook whose content would take more than the read limits once read, before
python-calamine (which lays a sheet out as one dense rectangle) allocates it: the zip's
inflated size, each xlsx/xlsb sheet's used range and cell count, and long cell texts."""

from __future__ import annotations

import io as _stdio
import re
import zipfile
from collections.abc import Iterator
from typing import IO

from .limits import ReadLimits

# Cell references a sheet's used range is measured by: those with a column of two or three
# letters (a sheet of single-letter columns spans at most 26 x 1,048,576 cells), and the row
# elements. Found with findall (C speed) rather than a Python step per cell.
# (A pattern that starts with a literal is searched for by that literal: several times faster.)
_XLSX_WIDE_REF = re.compile(rb'r="([A-Z]{2,3})([0-9]{1,7})"')
_XLSX_ROW = re.compile(rb'<row\s[^>]*?\br="([0-9]{1,7})"')
_XLSX_SCAN_CHUNK = 8 << 20


def _column_number(letters: bytes) -> int:
    """1-based column number of Excel column letters (b"A" -> 1, b"AB" -> 28)."""
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _check_xlsx_bounds(data: bytes, name: str, limits: ReadLimits) -> None:
    """Refuse an xlsx whose content would take more than ``limits`` once read.

    The zip's directory gives the inflated size of every part (a zip bomb is refused before
    any part is inflated). Each sheet's XML is then streamed (8 MB at a time) to find its
    used range and cell count, and any text node (a cell's string, inline or shared) longer
    than a cell may be: python-calamine lays a sheet out as one dense rectangle, so a lone
    cell at XFD1048576 would make it allocate 512 GiB and abort the interpreter.
    """
    try:
        zf = zipfile.ZipFile(_stdio.BytesIO(data))
    except (zipfile.BadZipFile, EOFError, ValueError):
        return  # the workbook reader reports a damaged file
    with zf:
        infos = zf.infolist()
        inflated = sum(i.file_size for i in infos)
        if inflated > limits.max_inflated_bytes:
            raise limits.refuse(
                name, "工作簿解压后过大 (疑似压缩炸弹)",
                "workbook too large once unzipped (zip bomb?)", inflated, "max_inflated_bytes",
            )  # fmt: skip
        long_text = re.compile(b">[^<]{%d,}<" % (limits.max_cell_chars + 1))
        for info in infos:
            part = info.filename
            is_sheet = part.startswith("xl/worksheets/") and part.endswith(".xml")
            if not is_sheet and part != "xl/sharedStrings.xml":
                continue
            where = f"{name} ({part})"
            try:
                with zf.open(info) as f:
                    cells, max_row, max_col = _scan_xlsx_part(f, where, is_sheet, limits, long_text)
            except (zipfile.BadZipFile, EOFError, OSError, ValueError):
                return  # damaged: the workbook reader says so
            if is_sheet:
                _refuse_sheet_size(where, cells, max_row, max_col, limits)
        _check_xlsb_parts(zf, name, limits)


def _scan_xlsx_part(
    f: IO[bytes], where: str, is_sheet: bool, limits: ReadLimits, long_text: re.Pattern[bytes]
) -> tuple[int, int, int]:
    """(cells, farthest row, farthest column) of one streamed sheet part (zeros for the shared
    strings); refuses a text node longer than ``limits.max_cell_chars``. Stops counting once
    the cells exceed ``limits.max_cells``."""
    cells = max_row = max_col = 0
    carry = b""
    while chunk := f.read(_XLSX_SCAN_CHUNK):
        buf = carry + chunk
        cut = buf.rfind(b"<")
        cut = len(buf) if cut < 0 else cut
        # an unfinished element (or text node) is scanned with the next chunk
        carry, buf = buf[cut:], buf[:cut]
        if len(carry) > limits.max_cell_chars + _XLSX_SCAN_CHUNK:
            carry = carry[-(limits.max_cell_chars + 2) :]
        if long_text.search(buf + carry[:1]):
            raise limits.refuse(
                where, "单元格文字过长", "cell text too long",
                max(len(m.group()) - 2 for m in long_text.finditer(buf + carry[:1])),
                "max_cell_chars",
            )  # fmt: skip
        if not is_sheet:
            continue
        # every cell element opens with "<c " or "<c>" (the "<c" of "<col",
        # "<cfRule" is followed by a letter)
        cells += buf.count(b"<c ") + buf.count(b"<c>")
        if cells > limits.max_cells:
            break
        max_row, max_col = _chunk_extent(buf, max_row, max_col)
    return cells, max_row, max_col


def _chunk_extent(buf: bytes, max_row: int, max_col: int) -> tuple[int, int]:
    """The farthest row and column so far, widened by the cell references of ``buf``."""
    for letters, row in set(_XLSX_WIDE_REF.findall(buf)):
        max_col = max(max_col, _column_number(letters))
        max_row = max(max_row, int(row))
    # rows come in ascending order: the chunk's last one is its farthest
    last = _XLSX_ROW.match(buf, max(buf.rfind(b"<row "), 0))
    if last:
        max_row = max(max_row, int(last.group(1)))
    return max_row, max(max_col, 1)


def _refuse_sheet_size(
    where: str, cells: int, max_row: int, max_col: int, limits: ReadLimits
) -> None:
    """Refuse a sheet with more cells, or a used range larger, than ``limits.max_cells``."""
    if cells > limits.max_cells:
        raise limits.refuse(
            where, "工作表单元格过多", "sheet holds too many cells",
            cells, "max_cells",
        )  # fmt: skip
    area = max_row * max_col
    if area > limits.max_cells:
        raise limits.refuse(
            where,
            f"工作表范围过大 (最远单元格在第 {max_row:,} 行第 {max_col:,} 列)",
            f"sheet range too large (farthest cell at row {max_row:,}, column {max_col:,})",
            area, "max_cells",
        )  # fmt: skip


# BIFF12 (xlsb) record types: a row header, the cell records (each opens with its column),
# the two whose value is a string, and a shared string.
_BRT_ROW_HDR = 0
_BRT_CELLS = frozenset(range(1, 12))
_BRT_CELL_STRINGS = frozenset({6, 8})  # BrtCellSt, BrtFmlaString
_BRT_SST_ITEM = 19


def _varint(buf: bytes, pos: int, most: int) -> tuple[int, int]:
    """A little-endian 7-bit varint of at most ``most`` bytes at ``pos``: (value, next
    position), the position -1 when ``buf`` ends first."""
    value = shift = 0
    for _ in range(most):
        if not 0 <= pos < len(buf):
            return 0, -1
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    return value, pos


def _biff12_records(f: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(record type, payload) of a BIFF12 stream: type and size are 7-bit varints (type in
    up to 2 bytes, size in up to 4), MS-XLSB 2.1.4."""
    buf = b""
    pos = 0
    eof = False
    while True:
        if not eof and len(buf) - pos < 6 + (1 << 16):  # room for a header and most payloads
            more = f.read(_XLSX_SCAN_CHUNK)
            eof = not more
            buf = buf[pos:] + more
            pos = 0
        if pos >= len(buf):
            return
        start = pos
        rtype, pos = _varint(buf, pos, 2)
        size, pos = _varint(buf, pos, 4)
        if pos < 0:
            return  # truncated: the workbook reader reports it
        while len(buf) - pos < size:  # a long record: read on
            more = b"" if eof else f.read(max(_XLSX_SCAN_CHUNK, size))
            if not more:
                return
            buf, pos, start = buf[start:] + more, pos - start, 0
        yield rtype, buf[pos : pos + size]
        pos += size


def _check_xlsb_parts(zf: zipfile.ZipFile, name: str, limits: ReadLimits) -> None:
    """The bounds of :func:`_check_xlsx_bounds` for an xlsb (binary sheets, read by
    python-calamine, which lays a sheet out densely too): each sheet's records are walked
    for its cell count and farthest cell, and string cells and shared strings for length."""
    for info in zf.infolist():
        part = info.filename
        is_sheet = part.startswith("xl/worksheets/") and part.endswith(".bin")
        if not is_sheet and part != "xl/sharedStrings.bin":
            continue
        where = f"{name} ({part})"
        try:
            with zf.open(info) as f:
                cells, max_row, max_col = _scan_xlsb_part(f, where, limits)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError):
            return  # damaged: the workbook reader says so
        _refuse_sheet_size(where, cells, max_row, max_col, limits)


def _scan_xlsb_part(f: IO[bytes], where: str, limits: ReadLimits) -> tuple[int, int, int]:
    """(cells, farthest row, farthest column) of one streamed xlsb part (zeros for the shared
    strings); refuses a string longer than ``limits.max_cell_chars``. Stops counting once the
    cells exceed ``limits.max_cells``."""
    cells = max_row = max_col = 0
    row = 0
    for rtype, data in _biff12_records(f):
        chars = None
        if rtype == _BRT_ROW_HDR and len(data) >= 4:
            row = int.from_bytes(data[:4], "little")
        elif rtype in _BRT_CELLS and len(data) >= 4:
            cells += 1
            max_row = max(max_row, row + 1)
            max_col = max(max_col, int.from_bytes(data[:4], "little") + 1)
            if rtype in _BRT_CELL_STRINGS and len(data) >= 12:
                chars = int.from_bytes(data[8:12], "little")
        elif rtype == _BRT_SST_ITEM and len(data) >= 5:
            chars = int.from_bytes(data[1:5], "little")
        if chars is not None and chars > limits.max_cell_chars:
            raise limits.refuse(where, "单元格文字过长", "cell text too long",
                                chars, "max_cell_chars")  # fmt: skip
        if cells > limits.max_cells:
            break
    return cells, max_row, max_col
