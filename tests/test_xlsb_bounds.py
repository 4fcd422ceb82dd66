"""Issue 17 item 4 for xlsb: the bounds of an xlsx (farthest cell, cell count, cell length)
apply to a binary workbook too, checked from its records before python-calamine lays the
sheet out. The files are written record by record (MS-XLSB): no library writes xlsb."""

from __future__ import annotations

import io
import struct
import time
import zipfile

import pytest

from tianxin_analysis.errors import InputFileError
from tianxin_analysis.io import ReadLimits, read_sheets


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _record(rtype: int, payload: bytes = b"") -> bytes:
    return _varint(rtype) + _varint(len(payload)) + payload


def _row(r: int) -> bytes:  # BrtRowHdr: row index (0-based), then flags we do not need
    return _record(0, struct.pack("<I", r) + bytes(13))


def _real(col: int, value: float = 1.0) -> bytes:  # BrtCellReal: column, style, value
    return _record(5, struct.pack("<II", col, 0) + struct.pack("<d", value))


def _text(col: int, text: str) -> bytes:  # BrtCellSt: column, style, XLWideString
    return _record(6, struct.pack("<III", col, 0, len(text)) + text.encode("utf-16-le"))


def _xlsb(sheet: bytes, shared: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.bin", _record(131) + _record(132))  # BrtBeginBook, BrtEndBook
        zf.writestr("xl/worksheets/sheet1.bin", _record(129) + sheet + _record(130))
        if shared is not None:
            zf.writestr("xl/sharedStrings.bin", shared)
    return buf.getvalue()


def test_far_cell_in_an_xlsb_is_refused_before_it_is_laid_out(tmp_path):
    path = tmp_path / "远端单元格.xlsb"
    path.write_bytes(_xlsb(_row(0) + _real(0) + _row(1_048_575) + _real(16_383)))
    assert path.stat().st_size < 2_000
    start = time.perf_counter()
    with pytest.raises(InputFileError, match="工作表范围过大") as err:
        read_sheets(path)
    assert time.perf_counter() - start < 2.0
    text = str(err.value)
    assert str(path) in text and "sheet1.bin" in text and "1,048,576" in text
    assert "TIANXIN_LIMIT_MAX_CELLS" in text


def test_xlsb_cell_count_and_text_length_are_bounded(tmp_path):
    path = tmp_path / "多单元格.xlsb"
    cells = b"".join(_row(r) + _real(0) + _real(1) for r in range(300))
    path.write_bytes(_xlsb(cells))
    with pytest.raises(InputFileError, match="单元格过多"):
        read_sheets(path, limits=ReadLimits(max_cells=500))
    long_cell = tmp_path / "长文本.xlsb"
    long_cell.write_bytes(_xlsb(_row(0) + _text(0, "长" * 40_000)))
    with pytest.raises(InputFileError, match="单元格文字过长"):
        read_sheets(long_cell)
    shared = tmp_path / "共享字符串.xlsb"
    item = _record(19, b"\x00" + struct.pack("<I", 50_000) + "x".encode("utf-16-le") * 50_000)
    shared.write_bytes(_xlsb(_row(0) + _real(0), _record(159) + item + _record(160)))
    with pytest.raises(InputFileError, match="单元格文字过长") as err:
        read_sheets(shared)
    assert "sharedStrings.bin" in str(err.value)


def test_an_xlsb_within_bounds_goes_on_to_the_reader(tmp_path):
    """Within the bounds nothing is refused: what follows is the workbook reader's own
    verdict (this hand-made workbook has no sheet list, so it cannot be read)."""
    path = tmp_path / "小.xlsb"
    path.write_bytes(_xlsb(_row(0) + _real(0) + _text(1, "天心区") + _row(9) + _real(5)))
    with pytest.raises(InputFileError) as err:
        read_sheets(path)
    assert "TIANXIN_LIMIT" not in str(err.value)
