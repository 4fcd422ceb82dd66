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

One module per responsibility: :mod:`.sniff` (container and encoding), :mod:`.workbook` with
:mod:`.xlsx_bounds` and :mod:`.xlsx_styles` (xlsx/xls/xlsb, decryption, bounds, cell formats),
:mod:`.html`, :mod:`.csv` with its pyarrow fast path :mod:`._arrow_csv`, :mod:`.sheets` (the
entry point), :mod:`.headers`, :mod:`.yaml_files`, :mod:`.yearbook` with :mod:`.regions`, and
:mod:`.limits` (the bounds on untrusted input). This module re-exports the public names.
"""

from __future__ import annotations

from .grid import RawSheet
from .headers import combine_header_rows, find_header_row
from .limits import DEFAULT_LIMITS, ReadLimits
from .regions import AGGREGATE_REGIONS, PROVINCES, REGION_ORDER
from .sheets import read_sheet, read_sheets
from .sniff import FORMATS, detect_format
from .workbook import DEFAULT_XLS_PASSWORD
from .yaml_files import read_yaml, read_yaml_document
from .yearbook import read_yearbook_table

__all__ = [
    "AGGREGATE_REGIONS",
    "DEFAULT_LIMITS",
    "DEFAULT_XLS_PASSWORD",
    "FORMATS",
    "PROVINCES",
    "REGION_ORDER",
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
