"""Tables of the *China Statistical Yearbook on Science and Technology* (encrypted xls,
plain xls, HTML saved as .xls) as tidy frames. The parser is generic: it finds the title,
unit, header block, region rows and notes by their content, never by file or table number."""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from tianxin_analysis.errors import InputFileError, SchemaError

from .csv import _read_csv
from .grid import _cell
from .headers import _norm
from .html import _cell_text, _parse_html, _table_rows
from .limits import ReadLimits, _limits
from .regions import _AGGREGATE_NAMES, _KNOWN_REGIONS, _REGION_EN
from .sniff import _read_bytes, _sniff
from .workbook import _decrypt, _read_workbook
from .yearbook_cells import (
    _TABLE_NO,
    _as_number,
    _as_year,
    _clean_en,
    _clean_zh,
    _column_letter,
    _is_ascii_text,
    _is_value,
    _parse_label,
    _row_texts,
    _subject,
    _table_units,
)


def _html_page_rows(data: bytes, name: str, limits: ReadLimits) -> list[list[object]]:
    """The rows of an HTML yearbook page: text blocks before the first table (the title),
    every top-level table, and text blocks after the last table."""
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
    return rows


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
        return _html_page_rows(data, name, limits), fmt
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
    title_en = _english_title(texts[1:])
    unit_texts = [t for t in texts if "单位" in t]
    return _Preamble(
        table_id=f"{m.group(1)}-{m.group(2)}" if m else None,
        title=_clean_zh(m.group(3) if m else title_raw),
        title_en=title_en,
        units=_table_units(unit_texts[0]) if unit_texts else [],
    )


def _english_title(texts: list[str]) -> str:
    """The first English line of ``texts`` that is not a parenthesised note, cleaned; "" if none."""
    return next(
        (
            _clean_en(t)
            for t in texts
            if _is_ascii_text(t) and not re.fullmatch(r"\(.*\)", t.strip())
        ),
        "",
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
    _refuse_unlabelled(labels, [value_cols[i] for i in keep], header_row, name)
    return keep, label_years


def _refuse_unlabelled(labels: list[str], columns: list[int], header_row: int, name: str) -> None:
    """Refuse the first of ``columns`` (0-based) whose header label is blank."""
    for c in columns:
        if not labels[c]:
            raise SchemaError(
                "数据列没有表头",
                "value column has no header",
                file=name,
                row=header_row,
                column=_column_letter(c),
            )


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
