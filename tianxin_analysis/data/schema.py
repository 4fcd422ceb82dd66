"""The generic part of every pipeline: a schema, and one sheet turned into clean rows + quarantine.

A :class:`Schema` lists the canonical columns of one raw kind (header synonyms, type, range,
allowed values). :func:`process_sheet` takes one :class:`~tianxin_analysis.io.RawSheet` and

1. finds the header (one row, or two rows when a merged group header sits above the labels);
   rows above it are title rows, not data;
2. drops personal-data columns (联系人, 电话/手机, 身份证号, 邮箱 ...) before anything else;
3. maps headers to canonical names (``clean.map_headers``) — a missing required column is a
   :class:`~tianxin_analysis.errors.SchemaError` naming the file, sheet and the accepted headers;
4. skips blank rows (counted) and runs the row rules in a fixed order; the first rule a row
   fails sends it to quarantine with the cell as found.

Every non-blank row below the header ends in exactly one of the two frames, which is what the
reconciliation checks. Kind-specific derivations and checks live in ``data/kinds/<kind>.py``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import _arrowtext, clean
from .._workers import THREADED_ROWS as _THREADED_ROWS
from ..errors import SchemaError
from ..identifiers import _validate_uscc_arrow
from ..io import RawSheet, combine_header_rows, find_header_row
from .declaration import LINEAGE, Field, Schema, SheetContext
from .fields import FieldResult as _FieldResult
from .fields import ValidatedCodes, parse_field
from .fields import cell_text as _text
from .kinds import SCHEMAS
from .quarantine import with_reasons as _with_reasons
from .rules import QUARANTINE_COLUMNS, RuleContext

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
    last_header = header_rows[-1]
    if grid.index.is_monotonic_increasing:  # spreadsheet rows: slices, no 10^6-row masks
        above = grid.index[: grid.index.searchsorted(header_rows[0])].tolist()
        body = grid.iloc[grid.index.searchsorted(last_header, side="right") :]
    else:
        above = grid.index[grid.index < header_rows[0]].tolist()
        body = grid.loc[grid.index > last_header]
    body = body.set_axis(labels, axis=1)

    personal = [c for c in labels if PERSONAL_HEADER.search(c)]
    body = body.drop(columns=personal)
    provenance = [c for c in body.columns if _header_key(c) in PROVENANCE_HEADERS]
    mapping, unmapped = map_headers(
        [c for c in body.columns if c not in provenance],
        schema,
        file=rel_file,
        sheet=sheet_name,
    )
    missing = [f for f in schema.fields if f.required and f.name not in mapping.values()]
    if missing:
        f = missing[0]
        raise SchemaError(
            "缺少必需的列",
            "required column missing",
            file=rel_file,
            sheet=sheet_name or None,
            row=last_header,
            column=f.name,
            found=f"表头行 header rows {_header_rows_seen(grid, header_rows)}；"
            f"合并后的列名 combined: {' | '.join(c for c in labels if not c.startswith('_col'))}",
            expected=f"表头之一 one of: {' / '.join(f.synonyms)}；或在 {schema.synonyms_file} 的 "
            f"{schema.kind}: {f.name}: 下添加本表的写法 (or add this file's spelling there)",
        )
    if schema.validate_sheet is not None:
        schema.validate_sheet(sheet_name, rel_file)

    nonempty, footnote_text = _row_texts(body, raw.blanks_missing)
    body = body[[*provenance, *mapping]]  # only the columns used from here on
    blank = ~nonempty.to_numpy()
    if blank.any():
        keep = np.flatnonzero(~blank)
        if len(keep) and keep[-1] - keep[0] + 1 == len(keep):
            # blank rows only before/after one run of rows (the usual trailing blank line
            # before footnotes): a positional slice shares the columns instead of copying
            run = slice(int(keep[0]), int(keep[-1]) + 1)
            body, footnote_text, blank = body.iloc[run], footnote_text.iloc[run], blank[run]
        # Blank rows inside the data stay, flagged: process_rows drops them with the rows it
        # filters anyway (one take of every column instead of two).

    synthetic = any(SYNTHETIC_MARK.search(_text(v)) for r in above for v in grid.loc[r])
    for c in provenance:
        distinct = pd.unique(body[c])  # blank rows add only a missing value
        synthetic = synthetic or any(SYNTHETIC_MARK.search(_text(v)) for v in distinct)
    header_units = {
        canonical: (m.group(1) if (m := _UNIT_IN_HEADER.search(raw_label)) else None)
        for raw_label, canonical in mapping.items()
    }
    return PreparedSheet(
        file=rel_file,
        sheet=sheet_name,
        cells=body.rename(columns=mapping)[list(mapping.values())],
        context_year=context_year(grid, above, sheet_name, rel_file),
        header_units=header_units,
        footnote_text=footnote_text,
        header_rows=tuple(int(r) for r in header_rows),
        rows_above_header=len(above),
        rows_blank=int((~nonempty).sum()),
        blank=blank if blank.any() else None,
        synthetic=synthetic,
        dropped_personal=tuple(personal),
        unmapped=tuple(str(c) for c in unmapped if not str(c).startswith("_col")),
        title=" ".join(_text(v) for r in above for v in grid.loc[r] if _text(v)),
    )


def process_rows(
    sheets: list[PreparedSheet], schema: Schema, today: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rules, parsing and derivation over the rows of several prepared sheets of one kind.

    Returns (clean rows in the kind's output columns + lineage, quarantine rows). Sheets are
    processed together because every clean step has a fixed cost per call.
    """
    clean_rows, quarantine, _ = process_rows_coded(sheets, schema, today)
    return clean_rows, quarantine


@dataclass(frozen=True)
class DistinctValues:
    """A clean column as ``values.take(positions)``: its values were computed once per
    distinct raw cell, so whoever groups the rows by the column (``_dedupe``) can factorise
    the few ``values`` instead of every row.

    ``positions`` is ``codes[rows]`` (``codes`` itself when ``rows`` is None), gathered only
    when first asked for: a consumer that reorders the rows anyway gathers once with
    :meth:`at`, on its own thread, instead of this 10^6-row gather per column running on
    the single thread that assembles the clean rows.
    """

    values: pd.Series  # on a RangeIndex
    codes: np.ndarray  # per row (of the clean rows, or of a larger set), position in ``values``
    rows: np.ndarray | None = None  # the clean rows' positions in ``codes``; None: all

    @functools.cached_property
    def positions(self) -> np.ndarray:
        """Per clean row, its position in ``values``."""
        return self.codes if self.rows is None else self.codes[self.rows]

    def at(self, order: np.ndarray) -> np.ndarray:
        """``positions[order]``, without gathering ``positions`` first."""
        if self.rows is None or "positions" in self.__dict__:
            return self.positions[order]
        return self.codes[self.rows[order]]


def process_rows_coded(
    sheets: list[PreparedSheet], schema: Schema, today: pd.Timestamp, consume: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, DistinctValues]]:
    """:func:`process_rows`, and the clean text columns that are :class:`DistinctValues`
    (columns that ``schema.derive`` passes through unchanged from per-distinct parsing).

    ``consume=True``: the caller hands ``sheets`` over; the list is emptied once its cells
    have been copied, so that their memory can go early.
    """
    given = sheets
    sheets = [p for p in sheets if len(p.cells)]
    if not sheets:
        return (
            pd.DataFrame(columns=[*schema.columns, *LINEAGE]),
            _with_reasons(
                pd.DataFrame(columns=[c for c in QUARANTINE_COLUMNS if not c.startswith("reason")])
            ),
            {},
        )
    cols = [f.name for f in schema.fields if any(f.name in p.cells.columns for p in sheets)]
    frames = []
    for p in sheets:
        cells = p.cells.reindex(columns=cols)
        # Text columns of CSV files stay pandas ``str`` (Arrow); the rest are object cells.
        frames.append(
            cells.astype(
                {c: object for c in cols if not isinstance(cells[c].dtype, pd.StringDtype)}
            )
        )
    cells = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    cells = _one_chunk_columns(cells.set_axis(pd.RangeIndex(len(cells)), axis=0))
    # Per-sheet facts become per-row columns by repeating them over each sheet's rows (a
    # take from a few values, not a 10^6-row Python object per sheet and fact).
    lengths = [len(p.cells) for p in sheets]
    sheet_of_row = np.repeat(np.arange(len(sheets)), lengths)

    n_sheets = len(sheets)

    def sheet_at(rows: np.ndarray | slice) -> np.ndarray:
        # One sheet (the usual large export): zeros from calloc, not a gather of 10^6 zeros.
        if n_sheets == 1:
            n = len(range(len(sheet_of_row))[rows]) if isinstance(rows, slice) else len(rows)
            return np.zeros(n, dtype=np.int64)
        return sheet_of_row[rows]

    def per_row(values: list, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        return np.array(values, dtype=object)[sheet_at(rows)]

    def text_per_row(values: list[str], rows: np.ndarray | slice = slice(None)) -> pd.Series:
        index = cells.index[rows]
        if len(set(values)) == 1:  # one file and sheet: repeated in C++, no take of zeros
            taken = pa.repeat(pa.scalar(values[0], pa.large_string()), len(index))
        else:
            taken = pa.array(values, pa.large_string()).take(pa.array(sheet_at(rows)))
        return pd.Series(pd.array(taken, dtype="str"), index=index)

    files, sheet_names = [p.file for p in sheets], [p.sheet for p in sheets]
    source_row = np.concatenate([p.cells.index.to_numpy(dtype=np.int64) for p in sheets])
    blank = np.concatenate(
        [np.zeros(len(p.cells), bool) if p.blank is None else p.blank for p in sheets]
    )
    amount = {f.name for f in schema.fields if f.type == "amount"}
    header_units = {
        k: pd.Series(per_row([p.header_units.get(k) for p in sheets]), index=cells.index)
        for k in dict.fromkeys(k for p in sheets for k in p.header_units if k in amount)
    }
    foot_text = pd.concat([p.footnote_text for p in sheets], ignore_index=True).set_axis(
        cells.index, axis=0
    )
    no_year = np.array([p.context_year is None for p in sheets], dtype=bool)
    year_of_sheet = np.array([p.context_year or 0 for p in sheets], dtype=np.int64)
    # From here the raw cells live on in ``cells`` alone (one chunk per column). Letting go
    # of the sheets frees their chunked copies now instead of at the return (~190 MB at
    # 10^6 rows) when the caller handed them over, and the later steps reuse that memory.
    del frames, sheets
    if consume:
        given.clear()
    results = _field_results(cells, schema, header_units, today)
    failing, failures = _row_rules(cells, foot_text, sheet_of_row, schema, results)
    # Typed values and derivation only for the rows that passed the generic rules (derive is
    # row by row; the cross-row sheet checks see only accepted rows anyway).
    keep = np.flatnonzero(~failing & ~blank)
    parsed = _parse(cells, results, keep)
    kept_sheet = sheet_at(keep)
    kept_ctx = SheetContext(
        file=text_per_row(files, keep),
        sheet=text_per_row(sheet_names, keep),
        context_year=pd.Series(
            pd.arrays.IntegerArray(year_of_sheet[kept_sheet], no_year[kept_sheet]),
            index=cells.index[keep],
        ),
        header_units={k: v.take(keep) for k, v in header_units.items()},
    )
    derived = schema.derive(parsed, kept_ctx)
    ok_kept = np.ones(len(keep), dtype=bool)
    later = [failures]  # failures found after the generic rules (a later one wins)
    if "_rule" in derived.columns:
        extra = derived["_rule"].notna().to_numpy()
        if extra.any():
            later.append(_failure_frame(derived.loc[extra]))
            ok_kept &= ~extra
    if schema.sheet_checks is not None and ok_kept.any():
        # One sheet at a time, as the checks say: two reports of the same year (a revision)
        # are two cumulative series, not one.
        accepted, of_sheet = derived.loc[ok_kept], kept_sheet[ok_kept]
        sheets_seen = np.unique(of_sheet)
        flagged = (schema.sheet_checks(accepted) if len(sheets_seen) == 1 else
                   pd.concat([schema.sheet_checks(accepted[of_sheet == i]) for i in sheets_seen]))  # fmt: skip
        if len(flagged):
            later.append(_failure_frame(flagged))
            ok_kept &= ~derived.index.isin(flagged.index)
    if len(later) > 1:
        failures = pd.concat(later)
        failures = failures[~failures.index.duplicated(keep="last")]
    ok = np.zeros(len(cells), dtype=bool)
    ok[keep[ok_kept]] = True

    final = derived[list(schema.columns)].assign(
        source_file=kept_ctx.file, source_sheet=kept_ctx.sheet, source_row=source_row[keep]
    )
    clean_rows = final if ok_kept.all() else final.loc[ok_kept]
    bad = np.flatnonzero(~ok & ~blank)
    failed = failures.reindex(cells.index[bad])
    quarantine = pd.DataFrame(
        {
            "kind": schema.kind,
            "source_file": per_row(files, bad),
            "source_sheet": per_row(sheet_names, bad),
            "source_row": source_row[bad],
            "column": failed["column"].to_numpy(dtype=object),
            "value": failed["value"].to_numpy(dtype=object),
            "rule": failed["rule"].to_numpy(dtype=object),
        }
    )
    rows = keep if ok_kept.all() else keep[ok_kept]
    distinct = {
        c: DistinctValues(v.values, v.codes, rows)
        for r in results.values()
        for c, v in r.parsed.items()
        if isinstance(v, _PerDistinct) and c in schema.columns and c in parsed.columns
        and _same_text(derived[c], parsed[c])
    }  # fmt: skip
    for c, values in (("source_file", files), ("source_sheet", sheet_names)):
        distinct[c] = DistinctValues(pd.Series(values, dtype="str"), sheet_of_row, rows)
    return clean_rows.reset_index(drop=True), _with_reasons(quarantine), distinct


def _one_chunk_columns(cells: pd.DataFrame) -> pd.DataFrame:
    """``cells`` with the Arrow chunks of each text column combined into one.

    The reader hands over one chunk per column of a CSV file, but a kind read from several
    files or sheets has one chunk per sheet here, and Arrow's take from a chunked string
    array first concatenates all its chunks, on every call: the sample of
    the unique-value test, the failing cells of the rules and the parse each copied whole
    10^6-row columns again (a take of 4,000 cells: 3 ms against 0.06 ms from one chunk).
    Combining each column once costs one copy.
    """
    chunked = [c for c in cells.columns if _arrowtext.is_arrow_text(cells[c])
               and cells[c].array.__arrow_array__().num_chunks > 1]  # fmt: skip
    if not chunked or not cells.columns.is_unique:
        return cells

    def one(c: str) -> pd.api.extensions.ExtensionArray:
        combined = cells[c].array.__arrow_array__().combine_chunks()
        return pd.array(pa.chunked_array([combined]), dtype=cells[c].dtype)

    if len(cells) < _THREADED_ROWS or len(chunked) < 2:
        arrays = [one(c) for c in chunked]
    else:  # memory copies in Arrow, without the GIL: both cores
        with ThreadPoolExecutor(max_workers=_THREADS) as pool:
            arrays = list(pool.map(one, chunked))
    return cells.assign(**dict(zip(chunked, arrays, strict=True)))


def _same_text(a: pd.Series, b: pd.Series) -> bool:
    """True when ``a`` and ``b`` are pyarrow text columns over the very same Arrow buffers
    (equal value for value without reading them: the column was passed through)."""
    if not (_arrowtext.is_arrow_text(a) and _arrowtext.is_arrow_text(b)):
        return False
    x, y = a.array.__arrow_array__(), b.array.__arrow_array__()  # chunked arrays
    if x.num_chunks != y.num_chunks or len(x) != len(y):
        return False
    for cx, cy in zip(x.chunks, y.chunks, strict=True):
        if cx.type != cy.type or cx.offset != cy.offset or len(cx) != len(cy):
            return False
        for bx, by in zip(cx.buffers(), cy.buffers(), strict=True):
            if (bx is None) != (by is None) or (bx is not None and bx.address != by.address):
                return False
    return True


@dataclass(frozen=True)
class _DistinctMask:
    """A rule's mask over the distinct cells of a column, and the distinct cell of every row.

    Not spread over the rows: :func:`_row_rules` finds each row's first failing rule per
    column on the distinct cells and spreads that once, instead of a 10^6-row take of every
    rule's mask.
    """

    values: np.ndarray  # bool per distinct cell
    codes: np.ndarray  # per row, position in ``values``

    def rows(self) -> np.ndarray:
        return self.values[self.codes]


@dataclass(frozen=True)
class _PerDistinct:
    """Values computed once per distinct cell, and the distinct value of every row.

    Kept apart until the rows that survive the rules are known, so that each output column
    is built by one take of the surviving rows (a take of 10^6 strings costs ~0.1 s).
    """

    values: pd.Series  # on a RangeIndex of distinct cells (the last one: missing)
    codes: np.ndarray  # per row, position in ``values``

    def rows(self, positions: np.ndarray, index: pd.Index) -> pd.Series:
        # the values' array, not the Series: Series.take also gathers an index of 10^6 labels
        taken = self.values.array.take(self.codes[positions])
        return pd.Series(taken, index=index, name=self.values.name)


@functools.cache
def _marker_is_clean_code() -> bool:
    """Whether a missing marker reads as a clean credit code (18 characters of [0-9A-Z]);
    none does, and ``_field_result`` relies on that to skip the clean codes."""
    return any(re.fullmatch("[0-9A-Z]{18}", k) for k in clean._marker_keys())


def _field_result(
    s: pd.Series,
    f: Field,
    unit: pd.Series | None,
    today: pd.Timestamp,
    first: bool,
    elementwise_only: bool = False,
) -> _FieldResult:
    """:func:`~.fields.parse_field`, with the credit codes of an Arrow text column checked
    in bulk: the code column's text serves only the missing test, and a clean code (18
    characters of [0-9A-Z], most of a registry) is its own normal form and no marker, so the
    text of the rest alone is normalised (a tenth of the codes here, 0.07 s at 10^6 rows)."""
    if f.type == "uscc" and _arrowtext.is_arrow_text(s) and not _marker_is_clean_code():
        uscc, rest = _validate_uscc_arrow(s)
        text = clean.normalize_text(s[rest])
        missing_rest = (text.isna() | clean.is_marker_text(text)).to_numpy(dtype=bool)
        missing = np.zeros(len(s), dtype=bool)
        missing[rest] = missing_rest
        known = ValidatedCodes(uscc, pd.Series(missing, index=s.index, name=s.name))
        return parse_field(s, f, unit, today, first, elementwise_only, known)
    return parse_field(s, f, unit, today, first, elementwise_only)


# Columns with fewer distinct values than this share of rows are processed on their distinct
# values (dates, categories, units repeat thousands of times in a large registry).
_UNIQUE_SHARE = 0.5


def _as_text_column(s: pd.Series) -> pd.Series | None:
    """The column as ``str`` dtype when every cell is text or missing, else None.

    Only such columns are factorised: in an object column 1, 1.0 and True hash alike.
    """
    if isinstance(s.dtype, pd.StringDtype):
        return s
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        return s.astype("str")
    return None


_SAMPLE_ROWS = 20_000


def _nearly_unique(text: pd.Series) -> bool:
    """True when an evenly spaced sample of the column repeats (almost) no value.

    Certificate numbers are distinct row by row: factorising 10^6 of them to learn that
    would cost more than the per-distinct-value path saves. A column with k rows per value
    repeats about sample²/(2·distinct) times in the sample (birthday problem), so any column
    that repeats often enough to pay off shows repeats here. Only the path is chosen; the
    result is the same either way.
    """
    if len(text) < 4 * _SAMPLE_ROWS:
        return False
    sample = text.iloc[:: len(text) // _SAMPLE_ROWS]
    return sample.nunique() > 0.99 * sample.count()


def _field_result_fast(
    s: pd.Series, f: Field, unit: pd.Series | None, today: pd.Timestamp, first: bool
) -> _FieldResult:
    """:func:`_field_result` computed once per distinct cell text when that pays off."""
    text = _as_text_column(s)
    const_unit = unit is None or unit.nunique(dropna=False) <= 1
    if text is None or not const_unit or len(s) < 1000 or _nearly_unique(text):
        return _field_result(s, f, unit, today, first)
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    if len(uniques) > _UNIQUE_SHARE * len(s):
        return _field_result(s, f, unit, today, first)
    u = _arrowtext.with_missing_last(uniques)  # code -1: missing
    codes = np.where(codes < 0, len(u) - 1, codes)
    u_unit = None if unit is None else pd.Series(unit.iloc[0], index=u.index, dtype=object)
    r = _field_result(u, f, u_unit, today, first, elementwise_only=True)

    def per_distinct(mask: pd.Series) -> _DistinctMask:
        return _DistinctMask(mask.to_numpy(dtype=bool, na_value=False), codes)

    parsed = {k: _PerDistinct(v, codes) for k, v in r.parsed.items()}
    # The declared checks come last, in order; a rule over the whole column (its verdict on
    # a value depends on the other rows) is evaluated over the rows.
    declared = dict.fromkeys(range(len(r.checks) - len(f.all_checks), len(r.checks)))
    checks: list[tuple[str, pd.Series | _DistinctMask]] = []
    for i, (code, mask) in enumerate(r.checks):
        if mask is not None:
            checks.append((code, per_distinct(mask)))
            continue
        check = f.all_checks[i - min(declared)]
        rows = parsed[f.name].rows(np.arange(len(s)), s.index)
        checks.append((code, check.mask(rows, RuleContext(today))))
    return _FieldResult(
        checks=checks,
        missing=per_distinct(r.missing),
        total=None if r.total is None else per_distinct(r.total),
        parsed=parsed,
    )


# Columns are independent, and most of their work runs in pyarrow / numpy kernels that
# release the GIL, so two threads use both cores on large inputs.
_THREADS = 2


def _field_results(
    cells: pd.DataFrame,
    schema: Schema,
    header_units: Mapping[str, pd.Series],
    today: pd.Timestamp,
) -> dict[str, _FieldResult]:
    fields = [f for f in schema.fields if f.name in cells.columns]

    def one(f: Field) -> _FieldResult:
        unit = header_units.get(f.name) if f.type == "amount" else None
        return _field_result_fast(cells[f.name], f, unit, today, f is fields[0])

    if len(cells) < _THREADED_ROWS or len(fields) < 2:
        return {f.name: one(f) for f in fields}
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        return dict(zip([f.name for f in fields], pool.map(one, fields), strict=True))


_FAILURE_COLUMNS = ["rule", "column", "value"]


def _failure_frame(flagged: pd.DataFrame) -> pd.DataFrame:
    """The ``_rule``/``_column``/``_value`` of rows a kind-level check rejected, as the
    object frame (rule, column, value) on their labels that ``_row_rules`` returns."""
    values = flagged[["_rule", "_column", "_value"]].to_numpy()
    return pd.DataFrame(values, index=flagged.index, columns=_FAILURE_COLUMNS, dtype=object)


def _row_rules(
    cells: pd.DataFrame,
    foot_text: pd.Series,
    sheet_of_row: np.ndarray,
    schema: Schema,
    results: Mapping[str, _FieldResult],
) -> tuple[np.ndarray, pd.DataFrame]:
    """Which rows fail a generic rule (bool per row), and the first failing rule of each of
    them: object frame (rule, column, value) on their labels in cells' index, in row order
    (only failing rows: a frame over every row, mostly None, costs a 10^6-row table).

    ``foot_text`` is the text of rows holding one text cell ("" otherwise); rows are in
    sheet order, ``sheet_of_row`` numbering the sheet of each.
    """
    checks: list[tuple[str, str, pd.Series]] = []
    if _arrowtext.is_arrow_text(foot_text):  # from the offsets, no pass over the text
        single = _arrowtext.byte_lengths(foot_text) > 0
    else:  # numpy's object comparison: Series.ne costs 4x as much for the same answer
        single = np.asarray(foot_text.to_numpy(dtype=object) != "", dtype=bool)
    foot = np.zeros(len(cells), dtype=bool)
    if single.any():  # only rows holding one text cell can be footnotes
        foot[single] = clean.is_footnote_text(foot_text[single]).to_numpy(dtype=bool)
    if foot.any():
        # A footnote list continues on rows that hold one text cell ("注：1. …" then "2. …"):
        # within each sheet, every single-cell row after the first footnote is one too.
        bounds = np.flatnonzero(np.diff(sheet_of_row)) + 1
        started = np.concatenate(
            [np.logical_or.accumulate(part) for part in np.split(foot, bounds)]
        )
        foot = foot | (single & started)
    checks.append(("footnote_row", "", pd.Series(foot, index=cells.index)))

    fields = [f for f in schema.fields if f.name in cells.columns]
    for f in fields:
        if results[f.name].total is not None:
            checks.append(("total_row", f.name, results[f.name].total))
    for f in fields:
        if f.required:
            checks.append(("missing_required", f.name, results[f.name].missing))
    for f in fields:
        checks.extend((rule, f.name, mask) for rule, mask in results[f.name].checks)

    n = len(cells)
    # The first failing check of each row, as the smallest index of a failing check. Masks
    # over a column's distinct cells: per distinct cell first (its checks written last to
    # first, so the earliest write stays), spread over the rows by one gather per column.
    # Masks over the rows: one masked store each, where no earlier check failed.
    none = len(checks)
    small = np.int16 if none < np.iinfo(np.int16).max else np.int64  # a quarter of the bytes
    first = np.full(n, none, dtype=small)
    per_column: dict[int, tuple[np.ndarray, list[tuple[int, np.ndarray]]]] = {}
    for i, (_, _, mask) in enumerate(checks):
        if isinstance(mask, _DistinctMask):
            per_column.setdefault(id(mask.codes), (mask.codes, []))[1].append((i, mask.values))
            continue
        if mask.dtype == np.dtype(bool) and mask.index.equals(cells.index):
            m = mask.to_numpy()
        else:
            m = mask.reindex(cells.index).fillna(False).to_numpy(dtype=bool)
        first[m & (first > i)] = i
    for codes, masks in per_column.values():
        first_u = np.full(len(masks[0][1]), none, dtype=small)
        for i, values in reversed(masks):
            first_u[values] = i
        np.minimum(first, first_u[codes], out=first)
    failed = first < none
    failing = np.flatnonzero(failed)
    check_of = first[failing]
    # One (failing rows, 3) object table handed to pandas as its block.
    table = np.full((len(failing), 3), None, dtype=object)
    table[:, 0] = np.array([c[0] for c in checks], dtype=object)[check_of]
    table[:, 1] = np.array([c[1] for c in checks], dtype=object)[check_of]
    # The failing cells as found: one take per column (the rules of a column share it), at
    # positions (a boolean .loc costs a 10^6-row pass).
    rules_of: dict[str, list[int]] = {}
    for i in np.unique(check_of).tolist():
        rules_of.setdefault(checks[i][1], []).append(i)
    for col, rules in rules_of.items():
        at = np.flatnonzero(np.isin(check_of, rules))
        found = foot_text.take(failing[at]) if col == "" else cells[col].take(failing[at])
        if _arrowtext.is_arrow_text(found):  # _text of str cells: the text, "" if missing
            table[at, 2] = found.fillna("").to_numpy(dtype=object)
        else:
            table[at, 2] = found.map(_text).to_numpy(dtype=object)
    frame = pd.DataFrame(
        table, index=cells.index[failing], columns=_FAILURE_COLUMNS, dtype=object, copy=False
    )
    return failed, frame


def _parse(
    cells: pd.DataFrame, results: Mapping[str, _FieldResult], positions: np.ndarray
) -> pd.DataFrame:
    """Typed values of every mapped column at the rows ``positions`` (invalid cells are
    missing)."""
    index = cells.index[positions]
    parsed = [(k, v) for name in cells.columns if name in results
              for k, v in results[name].parsed.items()]  # fmt: skip

    def one(v: pd.Series | _PerDistinct) -> pd.Series:
        if isinstance(v, _PerDistinct):
            return v.rows(positions, index)
        return pd.Series(v.array.take(positions), index=index, name=v.name)

    if len(positions) < _THREADED_ROWS or len(parsed) < 2:
        columns = [one(v) for _, v in parsed]
    else:
        # The takes (of pyarrow text, mostly) release the GIL: two threads use both cores.
        with ThreadPoolExecutor(max_workers=_THREADS) as pool:
            columns = list(pool.map(one, [v for _, v in parsed]))
    return pd.DataFrame(dict(zip([k for k, _ in parsed], columns, strict=True)), index=index)
