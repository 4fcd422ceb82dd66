"""The fast engine's rows step: rules, parsing and derivation over the prepared sheets of one
kind, with the same results as ``data.engine.reference.process_rows``.

Columns that repeat (dates, categories, units of a 10^6-row registry) are parsed once per
distinct cell (``_field_result_fast``, element-wise rules only; a rule that is not
element-wise is evaluated over the rows), the first failing rule of each row is found on the
distinct cells and spread once (``_row_rules``), the surviving rows' columns are gathered by
one take each, two threads share the columns, and the clean text columns are handed on to the
deduplication as :class:`DistinctValues`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from .... import _arrowtext, clean
from ...._workers import THREADED_ROWS as _THREADED_ROWS
from ....identifiers import _validate_uscc_arrow
from ...declaration import LINEAGE, Field, Schema, SheetContext
from ...fields import FieldResult as _FieldResult
from ...fields import ValidatedCodes, parse_field
from ...fields import cell_text as _text
from ...quarantine import with_reasons as _with_reasons
from ...rules import QUARANTINE_COLUMNS, RuleContext
from ...sheets import PreparedSheet


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
