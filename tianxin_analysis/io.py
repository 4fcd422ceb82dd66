"""Read every container analysts meet into raw grids, and the S&T yearbook into tidy frames.

Two levels:

* :func:`read_sheets` turns a file into :class:`RawSheet` grids: raw cell values exactly where a
  spreadsheet shows them (1-based row numbers, header rows kept). Header detection belongs to the
  data layer; :func:`find_header_row` and :func:`combine_header_rows` help it.
* :func:`read_yearbook_table` turns any table of the *China Statistical Yearbook on Science and
  Technology* (encrypted xls, plain xls, HTML saved as .xls) into a tidy frame with the columns
  ``region, region_en, is_aggregate, year, indicator, indicator_en, unit, value`` and the table's
  number, titles and notes in ``df.attrs``. The parser is generic: it finds the title, unit,
  header block, region rows and notes by their content, never by file or table number.

The container is decided by content (magic bytes, OLE streams, HTML sniffing), not by the file
name. Libraries do the work: python-calamine (xlsx/xls), msoffcrypto-tool (Excel encryption),
lxml (HTML), charset-normalizer (text encodings).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import functools
import io as _stdio
import os
import re
import stat
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import charset_normalizer
import lxml.etree
import lxml.html
import msoffcrypto
import msoffcrypto.exceptions
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import python_calamine
import yaml

from tianxin_analysis import _arrowtext
from tianxin_analysis._workers import THREADED_ROWS as _THREADED_ROWS
from tianxin_analysis.errors import InputFileError, SchemaError

__all__ = [
    "AGGREGATE_REGIONS",
    "DEFAULT_LIMITS",
    "DEFAULT_XLS_PASSWORD",
    "FORMATS",
    "PROVINCES",
    "RawSheet",
    "ReadLimits",
    "combine_header_rows",
    "detect_format",
    "find_header_row",
    "read_sheet",
    "read_sheets",
    "read_yaml",
    "read_yaml_document",
    "read_yearbook_table",
]

FORMATS = ("xlsx", "xls", "xls-encrypted", "xlsx-encrypted", "html", "csv")

# Excel encrypts "read-only recommended" workbooks with this fixed, publicly documented key.
DEFAULT_XLS_PASSWORD = "VelvetSweatshop"

_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".et", ".ett"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_BINARY_MAGICS = {
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"%PDF": "PDF document",
    b"BM": "BMP image",
}
_GBK_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "hz_gb_2312", "cp936", "euc_cn"}

# The 31 provincial-level regions of mainland China in the yearbook's order, with the
# yearbook's English names, and the five aggregates the yearbook prints beside them.
PROVINCES: tuple[tuple[str, str], ...] = (
    ("北京", "Beijing"),
    ("天津", "Tianjin"),
    ("河北", "Hebei"),
    ("山西", "Shanxi"),
    ("内蒙古", "Inner Mongolia"),
    ("辽宁", "Liaoning"),
    ("吉林", "Jilin"),
    ("黑龙江", "Heilongjiang"),
    ("上海", "Shanghai"),
    ("江苏", "Jiangsu"),
    ("浙江", "Zhejiang"),
    ("安徽", "Anhui"),
    ("福建", "Fujian"),
    ("江西", "Jiangxi"),
    ("山东", "Shandong"),
    ("河南", "Henan"),
    ("湖北", "Hubei"),
    ("湖南", "Hunan"),
    ("广东", "Guangdong"),
    ("广西", "Guangxi"),
    ("海南", "Hainan"),
    ("重庆", "Chongqing"),
    ("四川", "Sichuan"),
    ("贵州", "Guizhou"),
    ("云南", "Yunnan"),
    ("西藏", "Tibet"),
    ("陕西", "Shaanxi"),
    ("甘肃", "Gansu"),
    ("青海", "Qinghai"),
    ("宁夏", "Ningxia"),
    ("新疆", "Xinjiang"),
)
AGGREGATE_REGIONS: tuple[tuple[str, str], ...] = (
    ("全国", "National Total"),
    ("东部地区", "Eastern Region"),
    ("中部地区", "Middle Region"),
    ("西部地区", "Western Region"),
    ("东北地区", "Northeast Region"),
)
_REGION_EN = dict(AGGREGATE_REGIONS + PROVINCES)
_AGGREGATE_NAMES = frozenset(zh for zh, _ in AGGREGATE_REGIONS)
_KNOWN_REGIONS = frozenset(_REGION_EN)
# Order used to sort tidy output: aggregates, provinces, then anything else (港澳台, 国外...).
REGION_ORDER: dict[str, int] = {zh: i for i, zh in enumerate(_REGION_EN)}


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on an untrusted input file, checked before anything large is allocated.

    The defaults are generous: a national registry (about 600,000 enterprises by 20 columns,
    12 million cells, one sheet of an xlsx) passes. Each can be overridden per run through an
    environment variable ``TIANXIN_LIMIT_<NAME>`` (e.g. ``TIANXIN_LIMIT_MAX_CELLS=80000000``)
    or by passing ``limits=`` to :func:`read_sheets`. Documented in ``data/README.md``.

    ``max_cells``: cells of one sheet's used range (rows x columns as the reader lays them
    out; a lone cell at XFD1048576 makes a range of 1.7e10 cells, 512 GiB). ``max_inflated_bytes``:
    the XML of an xlsx once unzipped (a zip bomb inflates 10 MB into GBs).
    ``max_cell_chars``: characters of one cell (Excel's own limit is 32,767).
    ``max_yaml_bytes`` / ``max_yaml_aliases``: a targets (or clause) YAML file's size and the
    number of ``*alias`` references it may use (an alias bomb expands exponentially).
    """

    max_cells: int = 20_000_000
    max_inflated_bytes: int = 1 << 30
    max_cell_chars: int = 32_767
    max_yaml_bytes: int = 1 << 20
    max_yaml_aliases: int = 100

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ReadLimits:
        """The defaults, each overridden by ``TIANXIN_LIMIT_<NAME>`` when that is set."""
        env = os.environ if environ is None else environ
        values = {}
        for name in cls.__dataclass_fields__:
            text = env.get(f"TIANXIN_LIMIT_{name.upper()}")
            if text is None:
                continue
            try:
                values[name] = int(text.replace("_", "").replace(",", ""))
            except ValueError:
                raise InputFileError(
                    "读取上限设置不是整数", "read limit setting is not an integer",
                    found=f"TIANXIN_LIMIT_{name.upper()}={text!r}", expected="正整数 (a positive integer)",
                ) from None  # fmt: skip
        return cls(**values)

    def refuse(self, name: str, zh: str, en: str, found: int | str, limit: str) -> InputFileError:
        """The error naming ``name`` for a value ``found`` above the bound ``limit``."""
        bound = getattr(self, limit)
        return InputFileError(
            zh, en, file=name, found=f"{found:,}" if isinstance(found, int) else found,
            expected=f"不超过 at most {bound:,} (上限可由 override with TIANXIN_LIMIT_{limit.upper()})",
        )  # fmt: skip


DEFAULT_LIMITS = ReadLimits()


def _limits(limits: ReadLimits | None) -> ReadLimits:
    """The given read limits, or those of the environment (``ReadLimits.from_env``)."""
    return ReadLimits.from_env() if limits is None else limits


_MISSING_MARKS = {"", "-", "--", "—", "——", "－", "…", "...", "/", "x", "×", "NA", "N/A", "nan"}


# ----------------------------------------------------------------------------------------------
# Format detection
# ----------------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """The whole file's bytes; a missing path, a folder or an empty file is an
    ``InputFileError``."""
    if not path.exists():
        raise InputFileError("文件不存在", "file not found", file=str(path))
    if path.is_dir():
        raise InputFileError(
            "路径是文件夹，不是文件", "path is a folder, not a file", file=str(path)
        )
    data = path.read_bytes()
    if not data:
        raise InputFileError(
            "文件为空 (0 字节)",
            "file is empty (0 bytes)",
            file=str(path),
            expected="xlsx / xls / HTML / CSV 表格 (a spreadsheet, HTML table or CSV)",
        )
    return data


# The format of a text file is told by this many bytes at its start (and its name).
_HEAD_BYTES = 65536


def _looks_like_html(data: bytes) -> bool:
    """True when the first bytes (BOM and blanks skipped) open an HTML document or table."""
    head = data[:_HEAD_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    # Office "HTML-as-xls" exports and web-system downloads start with a doctype, <html>,
    # a comment, or go straight to <table>.
    return bool(re.search(rb"<(html|table|!doctype\s+html)\b", head))


def _sniff(data: bytes, path: Path) -> str:
    """The container format of ``data``: "xlsx", "xls", "html", "csv", or "<format>-encrypted"
    (magic bytes first, then text); a damaged or unknown container is an ``InputFileError``."""
    name = str(path)
    suffix = path.suffix.lower()
    if data.startswith(_OLE_MAGIC):
        try:
            office = msoffcrypto.OfficeFile(_stdio.BytesIO(data))
        except Exception as exc:  # olefile raises assorted errors on damaged containers
            raise InputFileError(
                "OLE 复合文档已损坏或不是 Excel 文件",
                "OLE compound file is damaged or not an Excel workbook",
                file=name,
                found=type(exc).__name__,
                expected="Excel 97-2003 工作簿 (.xls)",
            ) from exc
        kind = type(office).__name__
        if kind == "OOXMLFile":  # an OLE box holding EncryptionInfo: an encrypted xlsx
            return "xlsx-encrypted"
        if kind == "Xls97File":
            try:
                encrypted = office.is_encrypted()
            except Exception as exc:
                raise InputFileError(
                    "xls 文件已损坏",
                    "xls file is damaged",
                    file=name,
                    found=type(exc).__name__,
                ) from exc
            return "xls-encrypted" if encrypted else "xls"
        raise InputFileError(
            "这是其他 Office 文档，不是 Excel 工作簿",
            "this is another Office document, not an Excel workbook",
            file=name,
            found=kind,
            expected="xlsx / xls",
        )
    if data.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(_stdio.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, EOFError, ValueError) as exc:
            raise InputFileError(
                "xlsx 文件已损坏或不完整 (压缩包无法打开，可能下载中断)",
                "xlsx file is damaged or truncated (zip container cannot be opened)",
                file=name,
                found=str(exc),
                expected="完整的 xlsx 工作簿 (a complete xlsx workbook)",
            ) from exc
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            return "xlsx"
        raise InputFileError(
            "压缩包不是 Excel 工作簿",
            "zip archive is not an Excel workbook",
            file=name,
            found=sorted(names)[:5],
            expected="包含 xl/workbook.xml 的 xlsx (xlsx with xl/workbook.xml)",
        )
    for magic, what in _BINARY_MAGICS.items():
        if data.startswith(magic):
            raise InputFileError(
                "文件内容不是表格",
                "file content is not a spreadsheet",
                file=name,
                found=what,
                expected="xlsx / xls / HTML / CSV",
            )
    if _looks_like_html(data):
        return "html"
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(
            "无法识别的二进制文件",
            "unrecognised binary file",
            file=name,
            found=data[:8].hex(),
            expected="xlsx / xls / HTML / CSV",
        )
    if suffix in _EXCEL_SUFFIXES:
        # Plain text under an Excel name is almost always an error page or a wrong download.
        raise InputFileError(
            "文件扩展名是 Excel，但内容是纯文本",
            "file has an Excel extension but holds plain text",
            file=name,
            found=_decode_text(data, name)[0][:60],
            expected="Excel 工作簿 (Excel workbook)",
        )
    return "csv"


def detect_format(path: str | os.PathLike[str]) -> str:
    """Return the container of ``path`` by content: one of :data:`FORMATS`.

    Raises :class:`InputFileError` for missing, empty, damaged or non-spreadsheet files.
    """
    p = Path(path)
    return _sniff(_read_bytes(p), p)


# ----------------------------------------------------------------------------------------------
# Text decoding
# ----------------------------------------------------------------------------------------------


def _decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode bytes to text; return ``(text, encoding)``.

    BOMs and valid UTF-8 are unambiguous and checked first. Otherwise charset-normalizer
    guesses; any GBK-family guess decodes as gb18030, the superset that also holds the rare
    characters of enterprise names.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    matches = charset_normalizer.from_bytes(data)
    encodings = [m.encoding for m in matches]
    if any(e.replace("-", "_").lower() in _GBK_FAMILY for e in encodings):
        encoding = "gb18030"
    elif encodings:
        encoding = encodings[0]
    else:
        encoding = "gb18030"  # Chinese exports are the only non-UTF-8 text we receive
    try:
        return data.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputFileError(
            "无法识别文本编码",
            "cannot determine the text encoding",
            file=name,
            found=encoding,
            expected="UTF-8 / GBK / GB18030",
        ) from exc


# ----------------------------------------------------------------------------------------------
# Raw sheets
# ----------------------------------------------------------------------------------------------


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


def _decrypt(data: bytes, name: str, password: str | None, fmt: str) -> bytes:
    """The decrypted workbook bytes of an encrypted xls/xlsx, tried with ``password`` or the
    default one; an unknown password or scheme is an ``InputFileError``."""
    office = msoffcrypto.OfficeFile(_stdio.BytesIO(data))
    tried = [password] if password is not None else [DEFAULT_XLS_PASSWORD]
    for key in tried:
        try:
            if type(office).__name__ == "OOXMLFile":
                office.load_key(password=key, verify_password=True)
            else:  # the xls97 loader checks the key itself and takes no verify flag
                office.load_key(password=key)
            out = _stdio.BytesIO()
            office.decrypt(out)
            return out.getvalue()
        except (msoffcrypto.exceptions.InvalidKeyError, msoffcrypto.exceptions.DecryptionError):
            continue
        except Exception as exc:  # unsupported encryption schemes raise assorted errors
            raise InputFileError(
                "加密文件无法解密",
                "encrypted file cannot be decrypted",
                file=name,
                found=f"{fmt}: {type(exc).__name__}: {exc}",
            ) from exc
    raise InputFileError(
        "文件受密码保护，密码未知或不正确",
        "file is password protected; password unknown or wrong",
        file=name,
        found=fmt,
        expected="未加密的文件，或通过 password= 提供正确密码 (unencrypted file, or pass password=)",
    )


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


def _biff12_records(f) -> Iterator[tuple[int, bytes]]:
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
        cells = max_row = max_col = 0
        row = 0
        try:
            with zf.open(info) as f:
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
        except (zipfile.BadZipFile, EOFError, OSError, ValueError):
            return  # damaged: the workbook reader says so
        _refuse_sheet_size(where, cells, max_row, max_col, limits)


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
            out.append(dataclasses.replace(sheet, grid=grid) if changed else sheet)
        return out


def _read_workbook(data: bytes, name: str, limits: ReadLimits, fmt: str = "xlsx") -> list[RawSheet]:
    """Every visible sheet of an xlsx/xls workbook as a ``RawSheet`` (Excel row numbers kept,
    hidden sheets and a CNKI link sheet skipped); an unreadable workbook is an
    ``InputFileError``."""
    if fmt == "xlsx":
        _check_xlsx_bounds(data, name, limits)
    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(_stdio.BytesIO(data))
        visible = python_calamine.SheetVisibleEnum.Visible
        hidden = {m.name for m in wb.sheets_metadata if m.visible != visible}
        sheets = []
        for sheet_name in wb.sheet_names:
            # skip_empty_area=False keeps leading blank rows so row numbers match Excel.
            rows = wb.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
            if sheet_name.strip().upper() == "CNKI" and _is_link_only(rows):
                continue
            sheets.append(
                RawSheet(file=name, sheet=sheet_name, grid=_grid(rows),
                         hidden=sheet_name in hidden)
            )  # fmt: skip
    except InputFileError:
        raise
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise InputFileError(
            "工作簿无法读取 (文件损坏?)",
            "workbook cannot be read (damaged file?)",
            file=name,
            found=f"{type(exc).__name__}: {exc}",
        ) from exc
    if fmt == "xlsx":
        sheets = _shown_as_excel_shows(data, sheets)
    if all(not s.grid.notna().to_numpy().any() for s in sheets):
        # as empty as a 0-byte file: the analyst must hear about it, not find it skipped
        raise InputFileError(
            "文件为空 (工作簿中没有任何内容)",
            "file is empty (the workbook holds no cell)",
            file=name,
            expected="至少一行表头的表格 (a table with a header row)",
        )
    return sheets


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


def _blank_to_null(arr: pa.Array) -> pa.Array:
    """``arr`` with empty and whitespace-only strings made null (the array has no nulls)."""
    n = len(arr)
    _, offsets_buf, data_buf = arr.buffers()
    if not n or arr.type != pa.large_string():
        blank = pc.match_substring_regex(arr, _BLANK_CELL).to_numpy(zero_copy_only=False)
    else:
        # The regex on every cell was the bulk of the read; empty cells show in the offsets
        # and whitespace-only cells are rare, so only cells starting with a byte that can
        # begin a whitespace character are matched against it.
        offsets = np.frombuffer(offsets_buf, np.int64)[arr.offset : arr.offset + n + 1]
        starts = offsets[:-1]
        blank = starts == offsets[1:]
        if data_buf is not None and data_buf.size:
            # an empty last cell starts past the data: clipped, and it is blank anyway
            maybe = _may_lead_space(np.take(np.frombuffer(data_buf, np.uint8), starts, mode="clip"))
            maybe &= ~blank
            maybe = np.flatnonzero(maybe)
            if maybe.size:
                hit = pc.match_substring_regex(arr.take(maybe), _BLANK_CELL)
                blank[maybe[hit.to_numpy(zero_copy_only=False)]] = True
    if not blank.any():
        return arr
    if arr.offset:
        return pc.if_else(pa.array(blank), pa.scalar(None, arr.type), arr)
    # A packed mask of the kept cells is exactly a validity bitmap: no copy of the strings.
    valid = pa.py_buffer(np.packbits(~blank, bitorder="little"))
    return pa.Array.from_buffers(arr.type, n, [valid, offsets_buf, data_buf])


def _utf8_bytes(data: bytes, text: str, encoding: str) -> bytes:
    """The decoded text as UTF-8 bytes (the file's own bytes when it is UTF-8 already)."""
    if encoding == "utf-8":
        return data
    if encoding == "utf-8-sig":
        return data[3:]
    return text.encode("utf-8")


@functools.cache
def _csv_convert_options() -> pacsv.ConvertOptions:
    """pyarrow CSV options that read every column as text and keep empty strings (not null)."""
    # built once: a column type for each of 16384 names takes milliseconds every call
    return pacsv.ConvertOptions(
        column_types={f"f{i}": pa.large_string() for i in range(_MAX_CSV_COLUMNS)},
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

    def column(i: int) -> pd.api.extensions.ExtensionArray:
        # Blanks chunk by chunk (each one block of the file), then the chunks joined into one
        # array: every later take from a chunked string array would first concatenate them
        # all, and joining here, on the reader's threads while other columns are still being
        # read, lets each column's blocks go as soon as it is done.
        col, cols[i] = cols[i], None
        assert col is not None  # each column is taken once
        chunks = [_blank_to_null(c) for c in col.chunks]
        del col
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
    frame = pd.DataFrame(columns, index=pd.RangeIndex(1, len(columns[0]) + 1 if columns else 1))
    frame.columns = pd.RangeIndex(len(columns))
    return frame


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
# YAML (targets files): a safe loader with bounds
# ----------------------------------------------------------------------------------------------


class _CountingLoader(yaml.SafeLoader):
    """PyYAML's safe loader (no Python objects) counting the ``*alias`` references it meets."""

    aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
        return super().compose_node(parent, index)


def _expanded_nodes(root: yaml.Node, cap: int) -> int:
    """How many nodes ``root`` stands for once every alias is expanded (capped at ``cap + 1``;
    a node that contains itself counts as ``cap + 1``). Linear in the distinct nodes."""
    memo: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        if done:
            active.discard(id(node))
            memo[id(node)] = min(1 + sum(memo[id(c)] for c in children), cap + 1)
            continue
        if id(node) in memo:
            continue
        if id(node) in active:
            return cap + 1  # recursive: infinite once expanded
        active.add(id(node))
        stack.append((node, True))
        for c in children:
            if id(c) in active:
                return cap + 1
            if id(c) not in memo:
                stack.append((c, False))
    return memo[id(root)]


def read_yaml(path: str | os.PathLike[str], *, limits: ReadLimits | None = None) -> object:
    """The data of a small YAML file (a targets file), refusing what a hostile file could do.

    PyYAML's safe loader (plain data only, no Python objects) behind three bounds of
    ``limits``: the file's size (``max_yaml_bytes``), the ``*alias`` references it uses
    (``max_yaml_aliases``), and the nodes its aliases expand to (at most 10 per byte of the
    file, at least 10,000): an alias bomb of nine nested lists of nine aliases stands for
    10^9 strings from a 1 kB file, within any plain alias count of a hundred. Raises :class:`InputFileError` for a
    bound and lets ``yaml.YAMLError`` / ``UnicodeDecodeError`` through for the caller's message.
    """
    lim = _limits(limits)
    p = Path(path)
    name = str(p)
    size = p.stat().st_size
    if size > lim.max_yaml_bytes:
        raise lim.refuse(name, "YAML 文件过大", "YAML file too large", size, "max_yaml_bytes")
    with open(p, "rb") as fh:
        text = fh.read(lim.max_yaml_bytes + 1).decode("utf-8")
    loader = _CountingLoader(text)
    try:
        node = loader.get_single_node()
        if loader.aliases > lim.max_yaml_aliases:
            raise lim.refuse(
                name, "YAML 引用 (*别名) 过多", "YAML uses too many *aliases", loader.aliases,
                "max_yaml_aliases",
            )  # fmt: skip
        if node is None:
            return None
        cap = max(10_000, 10 * len(text))
        if loader.aliases and _expanded_nodes(node, cap) > cap:
            raise InputFileError(
                "YAML 别名展开后过大 (别名炸弹)", "YAML aliases expand too far (alias bomb)",
                file=name, found=f"> {cap:,} 个节点 nodes",
                expected="不用别名，或少量别名 (plain YAML, or a few aliases)",
            )  # fmt: skip
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_yaml_document(
    path: str | os.PathLike[str], error: type, what: tuple[str, str], expected: str
) -> object:
    """:func:`read_yaml` of ``path`` with every problem raised as ``error`` naming the file.

    ``error`` is one of the located errors (``errors.TargetsFileError``, ``SchemaError``);
    ``what`` names the file in the message, e.g. ``("目标文件", "targets file")``;
    ``expected`` says what the file should be when it is missing.
    """
    import yaml

    name = str(path)
    if not Path(path).is_file():
        raise error(f"找不到{what[0]}", f"{what[1]} not found", file=name, expected=expected)
    try:
        return read_yaml(path)
    except InputFileError as exc:
        raise error(exc.zh, exc.en, file=name, found=exc.found,
                    expected=exc.expected) from None  # fmt: skip
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise error(
            f"{what[0]}不是有效的 YAML", f"{what[1]} is not valid YAML", file=name,
            found=str(exc).splitlines()[0], expected="UTF-8 YAML",
        ) from None  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Header helpers for the data layer
# ----------------------------------------------------------------------------------------------


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
        cells = [c for c in (_norm(v) for v in row) if c]
        score = sum(
            any(cell == s or cell.startswith(s) for cell in cells for s in words)
            for words in synonyms.values()
        )
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
    for i in range(len(block) - 1):
        below = [any(block[j][c] for j in range(i + 1, len(block))) for c in range(width)]
        for c in range(1, width):
            if not block[i][c] and below[c] and block[i][c - 1]:
                block[i][c] = block[i][c - 1]
    labels = []
    for c in range(width):
        parts: list[str] = []
        for row in block:
            if row[c] and (not parts or parts[-1] != row[c]):
                parts.append(row[c])
        labels.append(sep.join(parts))
    return labels


# ----------------------------------------------------------------------------------------------
# Yearbook tables
# ----------------------------------------------------------------------------------------------

_TABLE_NO = re.compile(r"^\s*(\d{1,2})\s*[-－—–]\s*(\d{1,3})\s*(.*)$", re.S)
_CJK = re.compile(r"[\u3400-\u9fff]")
_UNIT_WORD = re.compile(r"^(?:[万亿千百]?(?:元|美元|人|个|项|件|家|台|吨|人年|户|所|种)|%|‰)$")
_PAREN = re.compile(r"\(([^()]*)\)")


def _clean_zh(text: str) -> str:
    """NFKC; drop whitespace next to a CJK character (``全 国``, ``工业 企业``), collapse the rest."""
    t = unicodedata.normalize("NFKC", text).strip()
    t = re.sub(r"(?<=[\u3400-\u9fff])\s+|\s+(?=[\u3400-\u9fff])", "", t)
    return re.sub(r"\s+", " ", t)


def _clean_en(text: str) -> str:
    """English text NFKC-normalised with runs of white space collapsed to one space."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def _as_year(value: object) -> int | None:
    """A header year from ``2016``, ``2016.0``, ``'2.016000e+03'``, ``'2016 '`` or ``2016年``."""
    if value is None or isinstance(value, bool):
        return None
    text = _norm(value).removesuffix("年")
    try:
        number = float(text)
    except ValueError:
        return None
    if number.is_integer() and 1949 <= number <= 2100:
        return int(number)
    return None


def _as_number(value: object) -> float | None:
    """Cell to float; blank and the yearbook's missing marks give NaN; other text gives None."""
    if value is None:
        return np.nan
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = _norm(value).replace(",", "")
    if text in _MISSING_MARKS:
        return np.nan
    try:
        return float(text)
    except ValueError:
        return None


def _is_value(value: object) -> bool:
    """True for a cell holding a number (not blank, not a missing mark, not text)."""
    number = _as_number(value)
    return number is not None and not np.isnan(number)


@dataclass(frozen=True)
class _Label:
    """A yearbook header cell split into Chinese label, English label, unit and sub-item flag
    (#)."""

    zh: str
    en: str
    unit: str
    subitem: bool


def _parse_label(text: str) -> _Label:
    """Split a packed header cell ``企业数\\n(个)\\nNumber of\\nEnterprises\\n(unit)``."""
    zh_parts: list[str] = []
    en_parts: list[str] = []
    unit = ""
    for raw_line in re.split(r"\r\n|\r|\n", unicodedata.normalize("NFKC", text)):
        line = raw_line.strip()
        if not line:
            continue
        whole = re.fullmatch(r"\((.*)\)", line)
        if whole:
            inner = _norm(whole.group(1))
            if _UNIT_WORD.match(inner):
                unit = unit or inner
            elif _CJK.search(inner):
                zh_parts.append(line)
            # a parenthesised English unit such as "(unit)" carries nothing new
            continue
        if _CJK.search(line) or line.startswith("#"):
            for inner in _PAREN.findall(line):
                if _UNIT_WORD.match(_norm(inner)):
                    unit = unit or _norm(inner)
                    line = line.replace(f"({inner})", "")
            zh_parts.append(line)
        else:
            en_parts.append(line)
    zh = _norm("".join(zh_parts))
    subitem = zh.startswith("#")
    return _Label(zh=zh.lstrip("#"), en=_clean_en(" ".join(en_parts)), unit=unit, subitem=subitem)


def _table_units(text: str) -> list[str]:
    """The units named after ``单位:`` in a table's unit line ("单位: 万元, %" -> ["万元", "%"])."""
    after = re.split(r"单位\s*[:：]?", unicodedata.normalize("NFKC", text), maxsplit=1)[-1]
    return [u for u in (_norm(p) for p in re.split(r"[,，、.;；/]", after)) if u]


def _subject(title: str) -> str:
    """What a regions × years table measures, from its title, without place/period words."""
    t = re.sub(r"\(\s*\d{4}\s*(?:年)?\s*(?:-\s*\d{4}\s*(?:年)?)?\s*\)", "", title)
    t = re.sub(r"\d{4}\s*年", "", t)
    t = re.sub(r"^(?:中国)?(?:历年|主要年份)?(?:各地区)?", "", t)
    t = re.sub(r"统计(?=\(|$)", "", t)
    return t.strip()


def _page_grid(path: Path) -> tuple[list[list[object]], str]:
    """All rows of the yearbook page in reading order, and the container format.

    Workbooks: the sheet with the most filled cells (a ``CNKI`` link sheet is already gone).
    HTML pages: text blocks before the first table (the title), every table, and text blocks
    after the last table, stacked so one parser reads both containers.
    """
    data = _read_bytes(path)
    fmt = _sniff(data, path)
    name = str(path)
    limits = _limits(None)
    if fmt == "html":
        doc = _parse_html(data, name)
        body = doc.body if doc.find("body") is not None else doc
        rows: list[list[object]] = []
        seen_table = False
        trailing: list[list[object]] = []
        for el in body.iter():
            if not isinstance(el.tag, str):
                continue
            if el.tag == "table":
                if el.xpath("ancestor::table"):
                    continue
                rows.extend(trailing)
                trailing = []
                rows.extend(_table_rows(el, name, limits))
                seen_table = True
                continue
            if el.tag in {"div", "p", "h1", "h2", "h3", "h4", "caption", "span"}:
                if el.xpath("ancestor::table") or el.xpath(".//table"):
                    continue
                text = _cell_text(el)
                if text:
                    (trailing if seen_table else rows).append([text])
        rows.extend(trailing)
        return rows, fmt
    if fmt == "csv":
        sheets = _read_csv(data, name, limits)
    elif fmt.endswith("encrypted"):
        plain = fmt.removesuffix("-encrypted")
        sheets = _read_workbook(_decrypt(data, name, None, fmt), name, limits, plain)
    else:
        sheets = _read_workbook(data, name, limits, fmt)
    if not sheets:
        raise SchemaError("工作簿中没有数据表", "workbook holds no data sheet", file=name)
    best = max(sheets, key=lambda s: int(s.grid.notna().to_numpy().sum()))
    return best.grid.astype(object).where(best.grid.notna(), None).to_numpy().tolist(), fmt


def _row_texts(row: Sequence[object]) -> list[tuple[int, str]]:
    """(column index, stripped text) of each non-blank cell of a row."""
    return [(i, str(v).strip()) for i, v in enumerate(row) if v is not None and str(v).strip()]


def _is_ascii_text(text: str) -> bool:
    """True for text with a Latin letter and no CJK character (an English line)."""
    return bool(re.search(r"[A-Za-z]", text)) and not _CJK.search(text)


# One record of a yearbook table's body: (1-based row number, region, English region name as
# printed, the cells of the value columns).
_Record = tuple[int, str, str, list[object]]
# What one value column holds: (year, indicator, indicator_en, unit).
_ColumnMeta = tuple[int, str, str, str]


def _padded_rows(rows: list[list[object]]) -> tuple[list[list[object]], int]:
    """Rows padded with None to one width and their cells normalised; and that width."""
    width = max((len(r) for r in rows), default=0)
    rows = [list(r) + [None] * (width - len(r)) for r in rows]
    return [[_cell(v) for v in r] for r in rows], width


def _data_start(rows: list[list[object]], first_col: list[str], name: str) -> int:
    """Index of the first row whose first cell is a known region and which holds a number."""
    data_start = next(
        (
            i
            for i in range(len(rows))
            if first_col[i] in _KNOWN_REGIONS and any(_is_value(v) for v in rows[i][1:])
        ),
        None,
    )
    if data_start is None:
        raise SchemaError(
            "找不到地区数据行",
            "no region rows found",
            file=name,
            expected="第一列为 全国 或省份名称的行 (rows whose first cell is 全国 or a province)",
        )
    return data_start


def _is_preamble(row: Sequence[object]) -> bool:
    """A row above the header: it names the unit, or holds one text in its first cell."""
    texts = _row_texts(row)
    if any("单位" in t for _, t in texts):
        return True
    return len(texts) == 1 and texts[0][0] == 0


def _header_start(rows: list[list[object]], first_col: list[str], data_start: int) -> int:
    """First header row: from the 地区 row (or the row above the data) up while rows are
    header-like (not empty, not preamble)."""
    region_rows = [i for i in range(data_start) if first_col[i] == "地区"]
    header_start = region_rows[-1] if region_rows else data_start - 1
    while (
        header_start > 0
        and _row_texts(rows[header_start - 1])
        and not _is_preamble(rows[header_start - 1])
    ):
        header_start -= 1
    return header_start


@dataclass(frozen=True)
class _Preamble:
    """What the lines above the header say: table number, titles, units."""

    table_id: str | None
    title: str
    title_en: str
    units: list[str]


def _preamble(rows: list[list[object]], header_start: int, name: str) -> _Preamble:
    """Title, English title and unit from the rows above the header."""
    texts = [t for i in range(header_start) for _, t in _row_texts(rows[i])]
    if not texts:
        raise SchemaError("找不到表题", "table title not found", file=name, row=1)
    title_raw = texts[0]
    m = _TABLE_NO.match(unicodedata.normalize("NFKC", title_raw))
    title_en = next(
        (
            _clean_en(t)
            for t in texts[1:]
            if _is_ascii_text(t) and not re.fullmatch(r"\(.*\)", t.strip())
        ),
        "",
    )
    unit_texts = [t for t in texts if "单位" in t]
    return _Preamble(
        table_id=f"{m.group(1)}-{m.group(2)}" if m else None,
        title=_clean_zh(m.group(3) if m else title_raw),
        title_en=title_en,
        units=_table_units(unit_texts[0]) if unit_texts else [],
    )


def _has_english_column(labels: list[str], body: list[list[object]], width: int) -> bool:
    """Column 1 holds English region names (its header says so, or its first texts are ASCII)."""
    col1_text = [str(r[1]) for r in body if width > 1 and isinstance(r[1], str) and r[1].strip()]
    return width > 1 and (
        "region" in labels[1].lower()
        or (len(col1_text) > 0 and all(_is_ascii_text(t) for t in col1_text[:5]))
    )


def _body_records(
    body: list[list[object]], data_start: int, value_cols: list[int], has_en: bool, name: str
) -> tuple[list[_Record], list[str]]:
    """Region rows (English continuation lines joined to the row above) and the notes below."""
    records: list[_Record] = []
    notes: list[str] = []
    in_notes = False
    for offset, row in enumerate(body):
        texts = _row_texts(row)
        if not texts:
            continue
        lead = _norm(row[0])
        values = [row[c] for c in value_cols]
        has_values = any(v is not None for v in values)
        text_only = bool(lead) and not has_values and (not has_en or row[1] is None)
        if (
            in_notes
            or re.match(r"^(注|Note)", lead, re.I)
            or (text_only and lead not in _KNOWN_REGIONS)
        ):
            in_notes = True
            notes.append(" ".join(t for _, t in texts))
            continue
        row_no = data_start + offset + 1
        if not lead:
            _join_english_line(records, row, texts, has_en and not has_values, row_no, name)
            continue
        region_en = str(row[1]) if has_en and row[1] is not None else ""
        records.append((row_no, _clean_zh(str(row[0])).replace(" ", ""), region_en, values))
    return records, notes


def _join_english_line(
    records: list[_Record],
    row: list[object],
    texts: list[tuple[int, str]],
    english_only: bool,
    row_no: int,
    name: str,
) -> None:
    """A row without a region name continues the English name of the row above, or is an
    error."""
    if english_only and row[1] is not None and records:
        prev = records[-1]
        records[-1] = (prev[0], prev[1], f"{prev[2]} {row[1]}", prev[3])
        return
    raise SchemaError(
        "数据行缺少地区名称",
        "data row has no region name",
        file=name,
        row=row_no,
        column="A",
        found=[t for _, t in texts],
    )


def _kept_columns(
    labels: list[str], value_cols: list[int], records: list[_Record], header_row: int, name: str
) -> tuple[list[int], list[int | None]]:
    """Positions (in ``value_cols``) of the columns with a header or a value, and each value
    column's header year (None for an indicator). Refuses a header that mixes years and
    indicators and a value column without a header."""
    label_years = [_as_year(labels[c].split("\n")[0]) if labels[c] else None for c in value_cols]
    keep = [
        i
        for i, c in enumerate(value_cols)
        if labels[c] or any(rec[3][i] is not None for rec in records)
    ]
    if not keep:
        raise SchemaError("表头中没有数据列", "no value columns under the header", file=name)
    years = [label_years[i] is not None for i in keep]
    if any(years) and not all(years):
        raise SchemaError(
            "表头混合了年份和指标",
            "header mixes years and indicators",
            file=name,
            row=header_row,
            found=[labels[value_cols[i]] for i in keep],
        )
    for i in keep:
        if not labels[value_cols[i]]:
            raise SchemaError(
                "数据列没有表头",
                "value column has no header",
                file=name,
                row=header_row,
                column=_column_letter(value_cols[i]),
            )
    return keep, label_years


def _title_year(pre: _Preamble, name: str) -> int:
    """The year of a regions × indicators table, from its title's ``(2022年)``."""
    year_match = re.findall(r"(\d{4})\s*年", unicodedata.normalize("NFKC", pre.title))
    if not year_match:
        year_match = re.findall(r"\(\s*(\d{4})\s*\)", pre.title_en)
    if not year_match:
        raise SchemaError(
            "表题中找不到年份",
            "no year in the table title",
            file=name,
            row=1,
            found=pre.title,
            expected="如 (2022年) (e.g. (2022年))",
        )
    return int(year_match[-1])


def _indicator_columns(
    labels: list[str], value_cols: list[int], keep: list[int], pre: _Preamble, name: str
) -> list[_ColumnMeta]:
    """Regions × indicators: each column's indicator and unit (its own, else the table's
    unit that no column claims), all in the title's year."""
    year = _title_year(pre, name)
    parsed = [_parse_label(labels[c]) for c in value_cols]
    units = pre.units
    claimed = {parsed[i].unit for i in keep if parsed[i].unit}
    remaining = [u for u in units if u not in claimed]
    default_unit = (
        remaining[0]
        if len(remaining) == 1
        else (units[0] if len(units) == 1 else ",".join(remaining))
    )
    return [(year, parsed[i].zh, parsed[i].en, parsed[i].unit or default_unit) for i in keep]


def _long_values(
    records: list[_Record],
    col_meta: list[_ColumnMeta],
    keep: list[int],
    value_cols: list[int],
    name: str,
) -> list[tuple[str, str, int, str, str, str, float]]:
    """One tuple per region and kept column with a number (blanks left out); text in a
    value cell is an error naming the cell."""
    out_rows = []
    for row_no, region, region_en, values in records:
        for (year, ind, ind_en, unit), i in zip(col_meta, keep, strict=True):
            number = _as_number(values[i])
            if number is None:
                raise SchemaError(
                    "数值单元格不是数字",
                    "value cell is not a number",
                    file=name,
                    row=row_no,
                    column=_column_letter(value_cols[i]),
                    found=values[i],
                    expected="数字或空白 (a number or blank)",
                )
            if np.isnan(number):
                continue
            out_rows.append((region, region_en, year, ind, ind_en, unit, number))
    return out_rows


def _yearbook_frame(
    out_rows: list[tuple[str, str, int, str, str, str, float]],
    pre: _Preamble,
    notes: list[str],
    name: str,
) -> pd.DataFrame:
    """The long frame of :func:`read_yearbook_table` with its typed columns and attrs."""
    frame = pd.DataFrame(
        out_rows,
        columns=["region", "region_en_src", "year", "indicator", "indicator_en", "unit", "value"],
    )
    canonical = frame["region"].map(_REGION_EN)
    frame = frame.assign(
        region=frame["region"].astype("str"),
        region_en=canonical.fillna(frame["region_en_src"].map(_clean_en)).astype("str"),
        is_aggregate=frame["region"].isin(_AGGREGATE_NAMES).astype(bool),
        year=frame["year"].astype("int64"),
        indicator=frame["indicator"].astype("str"),
        indicator_en=frame["indicator_en"].astype("str"),
        unit=frame["unit"].astype("str"),
        value=frame["value"].astype("float64"),
    )[["region", "region_en", "is_aggregate", "year", "indicator", "indicator_en", "unit", "value"]]
    if frame.empty:
        raise SchemaError("表中没有数值", "table holds no values", file=name)
    frame.attrs = {
        "table_id": pre.table_id,
        "title": pre.title,
        "title_en": pre.title_en,
        "notes": notes,
        "source_file": name,
    }
    return frame


def _parse_yearbook(rows: list[list[object]], name: str) -> pd.DataFrame:
    """A yearbook page's rows (see :func:`_page_grid`) as the long frame of
    :func:`read_yearbook_table`: preamble (title, units), header block, region rows, notes."""
    rows, width = _padded_rows(rows)
    first_col = [_norm(r[0]) if width else "" for r in rows]
    data_start = _data_start(rows, first_col, name)
    header_start = _header_start(rows, first_col, data_start)
    pre = _preamble(rows, header_start, name)

    # Column roles: 0 = region; 1 = English region name when the column holds English text.
    labels = [
        "\n".join(
            str(rows[r][c]) for r in range(header_start, data_start) if rows[r][c] is not None
        )
        for c in range(width)
    ]
    body = rows[data_start:]
    has_en = _has_english_column(labels, body, width)
    value_cols = list(range(2 if has_en else 1, width))
    records, notes = _body_records(body, data_start, value_cols, has_en, name)

    # Header labels of the value columns: years or indicators.
    keep, label_years = _kept_columns(labels, value_cols, records, header_start + 1, name)
    if label_years[keep[0]] is not None:
        unit = ",".join(pre.units)
        col_meta = [
            (cast(int, label_years[i]), _subject(pre.title), pre.title_en, unit) for i in keep
        ]
    else:
        col_meta = _indicator_columns(labels, value_cols, keep, pre, name)
    out_rows = _long_values(records, col_meta, keep, value_cols, name)
    return _yearbook_frame(out_rows, pre, notes, name)


def _column_letter(index: int) -> str:
    """Excel column letters of a 0-based column index (0 -> "A", 27 -> "AB")."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@functools.lru_cache(maxsize=256)
def _yearbook_cached(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    """The parsed yearbook table at ``path``; cached on (path, mtime, size), so callers copy it."""
    rows, _ = _page_grid(Path(path))
    return _parse_yearbook(rows, path)


def read_yearbook_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read one table of the *China Statistical Yearbook on Science and Technology*.

    Any container (encrypted xls, plain xls, HTML saved as .xls) and either layout: regions ×
    years (``year`` from the header) or regions × indicators (``year`` from the title's
    ``(2022年)``). Returns one row per region, year and indicator with columns ``region``
    (Chinese, spaces removed), ``region_en``, ``is_aggregate`` (全国 and the four regional
    groups), ``year`` (int64), ``indicator``, ``indicator_en``, ``unit`` (``%``, ``万元``,
    ``亿元``, ``个``, ``项``), ``value`` (float64; blank cells are left out). ``df.attrs`` holds
    ``table_id`` (``"1-8"``; None when the page carries no number), ``title``, ``title_en``,
    ``notes`` (list of str) and ``source_file``.

    Parsed tables are cached per (path, modification time, size); callers get a copy.
    """
    p = Path(path).resolve()
    if not p.is_file():
        raise InputFileError("文件不存在", "file not found", file=str(path))
    st = p.stat()
    cached = _yearbook_cached(str(p), st.st_mtime_ns, st.st_size)
    out = cached.copy()
    out.attrs = {**cached.attrs, "notes": list(cached.attrs["notes"])}
    return out
