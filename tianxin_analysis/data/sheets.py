"""One sheet of a raw export made ready for an engine: :func:`prepare_sheet` takes one
:class:`~tianxin_analysis.io.RawSheet` and

1. finds the header (one row, or two rows when a merged group header sits above the labels);
   rows above it are title rows, not data;
2. drops personal-data columns (联系人, 电话/手机, 身份证号, 邮箱 ...) before anything else;
3. maps headers to canonical names (``clean.map_headers``) — a missing required column is a
   :class:`~tianxin_analysis.errors.SchemaError` naming the file, sheet and the accepted headers;
4. marks blank rows (counted) and the text of rows holding one cell (titles, footnotes).

Shared by both engines (``data.engine``), which then run the row rules.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import _arrowtext, clean
from ..errors import SchemaError
from ..io import RawSheet, combine_header_rows, find_header_row
from .declaration import Schema
from .fields import cell_text as _text
from .kinds import SCHEMAS

# Headers of columns that hold personal data; dropped on reading, never written anywhere.
PERSONAL_HEADER = re.compile(
    r"联系人|联络人|电话|手机|身份证|证件号|邮箱|e-?mail|邮件|填报人|填表人|经办人|负责人|联系方式|传真|住址",
    re.IGNORECASE,
)
# Column that carries the provenance note of an export (the sample writes 模拟数据 there).
PROVENANCE_HEADERS = ("数据说明", "数据来源说明", "备注说明")
SYNTHETIC_MARK = re.compile(r"模拟数据|synthetic", re.IGNORECASE)
_YEAR_IN_TEXT = re.compile(r"(20[0-9]{2}|19[0-9]{2})\s*年")
_UNIT_IN_HEADER = re.compile(r"(万亿元|亿元|千万元|百万元|万元|千元|元)")

@dataclass
class PreparedSheet:
    """One sheet after header detection: data rows with canonical raw columns."""

    file: str
    sheet: str
    cells: pd.DataFrame  # canonical columns (raw values) on the spreadsheet-row index
    context_year: int | None
    header_units: dict[str, str | None]
    footnote_text: pd.Series  # first non-empty text of rows holding exactly one text cell
    header_rows: tuple[int, ...]
    rows_above_header: int
    rows_blank: int
    synthetic: bool
    dropped_personal: tuple[str, ...]
    unmapped: tuple[str, ...]
    # Rows of ``cells`` that are blank (None: none is); they are neither read nor written.
    blank: np.ndarray | None = None
    # Text of the title rows above the header (a report's date is often written there).
    title: str = ""

    @property
    def rows_read(self) -> int:
        return len(self.cells) - (0 if self.blank is None else int(self.blank.sum()))


def _header_rows_seen(grid: pd.DataFrame, rows: Sequence[int]) -> str:
    """``第3行: 月份 | 本月 | 累计; 第4行: ...`` — the header rows as read, for messages."""
    parts = []
    for r in rows:
        cells = [t for t in (_text(v).strip() for v in grid.loc[r]) if t]
        parts.append(f"第{r}行 row {r}: {' | '.join(cells) if cells else '（空 blank）'}")
    return "; ".join(parts)


def _choose_header(grid: pd.DataFrame, schema: Schema, ctx_file: str, ctx_sheet: str):
    required = {f.name: f.synonyms for f in schema.fields if f.required}
    try:
        h = find_header_row(grid, required)
    except SchemaError as exc:
        seen = [r for r in grid.index[:15] if any(_text(v).strip() for v in grid.loc[r])]
        raise SchemaError(
            "找不到表头行",
            "header row not found",
            file=ctx_file,
            sheet=ctx_sheet or None,
            found=f"{exc.found}；读到的行 rows read: {_header_rows_seen(grid, seen)}",
            expected=f"{exc.expected}；或在 {schema.synonyms_file} 中为该类数据添加表头同义词 "
            f"(or add the spellings to {schema.synonyms_file})",
        ) from None
    rows = grid.index
    pos = rows.get_loc(h)
    candidates = [(h,)]
    if pos > 0:
        candidates.append((rows[pos - 1], h))
    if pos + 1 < len(rows):
        candidates.append((h, rows[pos + 1]))
    # Most required columns first, then most columns in all: a measure grouped over 本月 |
    # 累计 maps its monthly column from the top row alone, the cumulative one only with both.
    best: tuple[tuple[int, int], tuple[int, ...], list[str]] | None = None
    for cand in candidates:
        labels = combine_header_rows(grid, list(cand)) if len(cand) > 1 else [
            _text(v) for v in grid.loc[cand[0]]
        ]  # fmt: skip
        labels = _dedupe_labels(labels)
        mapping, _ = _safe_map(labels, schema)
        score = (sum(1 for v in mapping.values() if v in required), len(mapping))
        if best is None or score > best[0]:
            best = (score, cand, labels)
    assert best is not None
    return best[1], best[2]


def _dedupe_labels(labels: list[str]) -> list[str]:
    """Blank or repeated header cells get a position suffix so columns stay distinct."""
    out, seen = [], set()
    for i, lab in enumerate(labels):
        name = lab if lab else f"_col{i}"
        if name in seen:
            name = f"{name}_col{i}"
        seen.add(name)
        out.append(name)
    return out


@functools.cache
def _header_key(label: str) -> str:
    return clean.normalize_header(label)


@functools.cache
def _lookup_of(kind: str, synonyms: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    return clean.header_lookup(dict(synonyms))


def _lookup(schema: Schema | str) -> dict[str, str]:
    """The header lookup of a kind or schema, built once per set of synonyms
    (``clean.header_lookup``)."""
    if isinstance(schema, str):
        schema = SCHEMAS[schema]
    return _lookup_of(schema.kind, tuple((f.name, f.synonyms) for f in schema.fields))


# The period part of a grouped header: a measure above 本月 | 累计 (技术合同登记数 over 本月)
# or a period above the measures (本月 over 合同数); synonyms are written period first.
_PERIOD_PARTS = {
    "本月": "本月", "当月": "本月", "本期": "本月", "本月数": "本月", "当月数": "本月",
    "累计": "累计", "本年累计": "累计", "累计数": "累计", "年初至本月累计": "累计",
    "1-本月累计": "累计", "1至本月累计": "累计", "本年累计数": "累计",
}  # fmt: skip


def _grouped_key(key: str, lookup: Mapping[str, str]) -> str | None:
    """The lookup key of a two-part header ``measure/period`` or ``period/measure`` whose own
    key is unknown: ``period/measure`` with the period's usual word, and for the month's
    column the bare measure (``技术合同登记数/本月`` -> ``本月/技术合同登记数`` or
    ``技术合同登记数``)."""
    parts = key.split("/")
    if len(parts) != 2:
        return None
    a, b = parts
    if b in _PERIOD_PARTS:
        period, measure = _PERIOD_PARTS[b], a
    elif a in _PERIOD_PARTS:
        period, measure = _PERIOD_PARTS[a], b
    else:
        return None
    tries = [f"{period}/{measure}", *([measure] if period == "本月" else [])]
    return next((t for t in tries if t in lookup), None)


def map_headers(
    labels: list[str], schema: Schema | str, *, file: str | None = None, sheet: str | None = None
) -> tuple[dict[str, str], list[str]]:
    """``clean.map_headers`` with the schema's (or kind's) synonyms; two-part grouped headers
    are matched in either order (see :func:`_grouped_key`). Per sheet, so the cost is small."""
    lookup = _lookup(schema)
    extra = {}
    for label in labels:
        key = _header_key(label)
        if key not in lookup and (alt := _grouped_key(key, lookup)) is not None:
            extra[key] = lookup[alt]
    if extra:
        lookup = {**lookup, **extra}
    return clean.map_headers(labels, {}, file=file, sheet=sheet, lookup=lookup)


def _safe_map(labels: list[str], schema: Schema | str) -> tuple[dict[str, str], list[str]]:
    try:
        return map_headers(labels, schema)
    except SchemaError:
        return {}, list(labels)


def context_year(grid: pd.DataFrame, above: list[int], sheet: str, file: str) -> int | None:
    """A year written in the title rows above the header, else the sheet name, else file name."""
    texts = [_text(v) for r in above for v in grid.loc[r] if _text(v)]
    for text in [*texts, sheet]:
        m = _YEAR_IN_TEXT.search(clean.normalize_text(pd.Series([text])).iloc[0] or "")
        if m:
            return int(m.group(1))
    m = re.fullmatch(r"(20[0-9]{2})年?度?", sheet.strip())
    if m:
        return int(m.group(1))
    years = re.findall(r"20[0-9]{2}", file.rsplit("/", 1)[-1])
    return int(years[0]) if len(years) == 1 else None


# Characters Python's str.strip() removes (str.isspace), as in clean._WS_CHARS.
_STRIP_EDGE = re.compile(f"^{clean._WS}+|{clean._WS}+$")


def _stripped_texts(s: pd.Series) -> pd.Series:
    """``_text(v).strip()`` of every cell as a ``str`` Series ("" for blank cells).

    Text columns are handled by pandas string methods; only columns that mix in numbers or
    dates go through ``_text`` per cell.
    """
    if isinstance(s.dtype, pd.StringDtype):
        t = s
    elif s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        t = s.astype("str")
    else:
        t = s.map(_text).astype("str")
    t = t.fillna("")
    # Only cells that begin or end with white space need the (slower) regex.
    edge = (t.str.match(f"{clean._WS}") | t.str.contains(f"{clean._WS}$")).fillna(False)
    if edge.any():
        t = t.mask(edge, t[edge].str.replace(_STRIP_EDGE.pattern, "", regex=True))
    return t


_BLANK_TEXT = f"{clean._WS}*"


# First UTF-8 bytes of the white-space characters of clean._WS.
_WS_LEAD = _arrowtext.lead_byte_table(clean._WS)


def _filled(s: pd.Series, blanks_missing: bool = False) -> np.ndarray:
    """Cells whose ``_text(v).strip()`` is not empty, as a bool array. ``blanks_missing``:
    the reader already made every blank cell missing (``RawSheet.blanks_missing``)."""
    if blanks_missing and _arrowtext.is_arrow_text(s):
        return _arrowtext.present(s)
    if _arrowtext.is_arrow_text(s):
        # Text columns (CSV grids): a blank cell is empty or starts with white space, so the
        # regex runs only on cells whose first byte says they may be blank (few).
        present = s.notna().to_numpy(dtype=bool, copy=True)
        maybe = _arrowtext.starts_with_any(s, _WS_LEAD) & present
        if maybe.any():
            blank = s[maybe].str.fullmatch(_BLANK_TEXT).to_numpy(dtype=bool, na_value=True)
            present[np.flatnonzero(maybe)[blank]] = False
        return present
    return _stripped_texts(s).ne("").to_numpy(dtype=bool)


def _row_texts(body: pd.DataFrame, blanks_missing: bool = False) -> tuple[pd.Series, pd.Series]:
    """(row holds a non-blank cell, text of the only non-blank cell or "") per row.

    The stripped text is computed only for the rows that hold exactly one non-blank cell
    (titles, footnotes), not for every cell; the texts come back as a ``str`` Series, ""
    in all other rows (an Arrow array of empty strings is one buffer of zero offsets, not
    a Python object per row).
    """
    n = len(body)
    # small counts, one add per column (stacking the masks to sum them copied them all)
    count = np.zeros(n, dtype=np.int16 if body.shape[1] < 1 << 15 else np.int64)
    filled = []
    for c in range(body.shape[1]):
        filled.append(_filled(body.iloc[:, c], blanks_missing))
        count += filled[-1]
    one = count == 1
    positions, texts = [], []
    if one.any():
        for c, f in enumerate(filled):
            hit = one & f
            if hit.any():
                positions.append(np.flatnonzero(hit))
                texts.append(pa.array(_stripped_texts(body.iloc[hit, c]).array, pa.large_string()))
    single = pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(np.zeros(n + 1, np.int64)), pa.py_buffer(b"")]
    )
    if positions:  # each row's one text comes from one column: put them in row order
        at = np.concatenate(positions)
        order = np.argsort(at, kind="stable")
        mask = np.zeros(n, dtype=bool)
        mask[at] = True
        single = pc.replace_with_mask(single, mask, pa.concat_arrays(texts).take(order))
    nonempty = pd.Series(count > 0, index=body.index, dtype=bool)
    return nonempty, pd.Series(pd.array(single, dtype="str"), index=body.index)


def prepare_sheet(raw: RawSheet, rel_file: str, schema: Schema) -> PreparedSheet:
    """Find the header, drop personal-data columns, map headers, skip blank rows."""
    sheet_name = raw.sheet or ""
    grid = raw.grid
    header_rows, labels = _choose_header(grid, schema, rel_file, sheet_name)
    above, body = _split_at_header(grid, header_rows)
    body = body.set_axis(labels, axis=1)

    personal = _personal_columns(labels)
    body = body.drop(columns=personal)
    provenance = _provenance_columns(body.columns)
    mapping, unmapped = map_headers(
        [c for c in body.columns if c not in provenance],
        schema,
        file=rel_file,
        sheet=sheet_name,
    )
    _require_columns(schema, mapping, grid, header_rows, labels, rel_file, sheet_name)
    if schema.validate_sheet is not None:
        schema.validate_sheet(sheet_name, rel_file)

    nonempty, footnote_text = _row_texts(body, raw.blanks_missing)
    body = body[[*provenance, *mapping]]  # only the columns used from here on
    body, footnote_text, blank = _without_blank_edges(body, footnote_text, ~nonempty.to_numpy())
    return PreparedSheet(
        file=rel_file,
        sheet=sheet_name,
        cells=body.rename(columns=mapping)[list(mapping.values())],
        context_year=context_year(grid, above, sheet_name, rel_file),
        header_units=_header_units(mapping),
        footnote_text=footnote_text,
        header_rows=tuple(int(r) for r in header_rows),
        rows_above_header=len(above),
        rows_blank=int((~nonempty).sum()),
        blank=blank if blank.any() else None,
        synthetic=_is_synthetic(grid, above, body, provenance),
        dropped_personal=tuple(personal),
        unmapped=tuple(str(c) for c in unmapped if not str(c).startswith("_col")),
        title=_title(grid, above),
    )


def _personal_columns(labels: Sequence[str]) -> list[str]:
    """The columns whose header says they hold personal data (``PERSONAL_HEADER``): dropped
    before anything else, never written anywhere."""
    return [c for c in labels if PERSONAL_HEADER.search(c)]


def _provenance_columns(columns: Sequence[str]) -> list[str]:
    """The columns that carry an export's provenance note (``PROVENANCE_HEADERS``)."""
    return [c for c in columns if _header_key(c) in PROVENANCE_HEADERS]


def _split_at_header(grid: pd.DataFrame, header_rows: Sequence[int]) -> tuple[list, pd.DataFrame]:
    """``(spreadsheet rows above the header, the rows below it)`` of ``grid``."""
    first, last = header_rows[0], header_rows[-1]
    if grid.index.is_monotonic_increasing:  # spreadsheet rows: slices, no 10^6-row masks
        above = grid.index[: grid.index.searchsorted(first)].tolist()
        return above, grid.iloc[grid.index.searchsorted(last, side="right") :]
    return grid.index[grid.index < first].tolist(), grid.loc[grid.index > last]


def _require_columns(
    schema: Schema,
    mapping: Mapping[str, str],
    grid: pd.DataFrame,
    header_rows: Sequence[int],
    labels: Sequence[str],
    rel_file: str,
    sheet_name: str,
) -> None:
    """Raise a :class:`SchemaError` naming the first required field no header maps to, the
    header rows as found and the accepted spellings."""
    missing = [f for f in schema.fields if f.required and f.name not in mapping.values()]
    if not missing:
        return
    f = missing[0]
    raise SchemaError(
        "缺少必需的列",
        "required column missing",
        file=rel_file,
        sheet=sheet_name or None,
        row=header_rows[-1],
        column=f.name,
        found=f"表头行 header rows {_header_rows_seen(grid, header_rows)}；"
        f"合并后的列名 combined: {' | '.join(c for c in labels if not c.startswith('_col'))}",
        expected=f"表头之一 one of: {' / '.join(f.synonyms)}；或在 {schema.synonyms_file} 的 "
        f"{schema.kind}: {f.name}: 下添加本表的写法 (or add this file's spelling there)",
    )


def _without_blank_edges(
    body: pd.DataFrame, footnote_text: pd.Series, blank: np.ndarray
) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """``body``, its footnote texts and blank flags without the blank rows before and after
    one run of rows (the usual trailing blank line before footnotes): a positional slice
    shares the columns instead of copying them. Blank rows inside the data stay, flagged:
    the engines drop them with the rows they filter anyway (one take of every column
    instead of two)."""
    if not blank.any():
        return body, footnote_text, blank
    keep = np.flatnonzero(~blank)
    if not len(keep) or keep[-1] - keep[0] + 1 != len(keep):
        return body, footnote_text, blank
    run = slice(int(keep[0]), int(keep[-1]) + 1)
    return body.iloc[run], footnote_text.iloc[run], blank[run]


def _is_synthetic(
    grid: pd.DataFrame, above: Sequence, body: pd.DataFrame, provenance: Sequence[str]
) -> bool:
    """Whether a title row or a provenance column (``PROVENANCE_HEADERS``) marks the export
    as synthetic (模拟数据)."""
    if any(SYNTHETIC_MARK.search(_text(v)) for r in above for v in grid.loc[r]):
        return True
    # each provenance column's distinct values only (blank rows add only a missing value)
    return any(SYNTHETIC_MARK.search(_text(v)) for c in provenance for v in pd.unique(body[c]))


def _title(grid: pd.DataFrame, above: Sequence) -> str:
    """The text of the title rows above the header, cell by cell (a report's date is
    often written there)."""
    return " ".join(_text(v) for r in above for v in grid.loc[r] if _text(v))


def _header_units(mapping: Mapping[str, str]) -> dict[str, str | None]:
    """Canonical column -> the unit its raw header names (万元, 亿元 ...), or None."""
    return {
        canonical: (m.group(1) if (m := _UNIT_IN_HEADER.search(raw_label)) else None)
        for raw_label, canonical in mapping.items()
    }
