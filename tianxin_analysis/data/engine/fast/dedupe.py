"""The fast engine's deduplication: the same decisions as
``data.engine.reference.dedupe``, on integer codes of the credit codes, names and keys
(coded from the distinct values the rows step hands over), one name table built on a second
thread, and the clean rows gathered already in the sort order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .... import _arrowtext
from ...._workers import THREADED_ROWS as _THREADED_ROWS
from ....identifiers import (
    LINEAGE_COLUMNS,
    _combine,
    _dedupe_plan,
    _name_table,
    _repeated,
    _value_codes,
    dedupe_by_uscc,
    names_under_several_codes,
)
from ...declaration import LINEAGE, Schema
from ...quarantine import empty_quarantine as _empty_quarantine
from ...quarantine import quarantine_rows
from ...revisions import Revisions, supersede
from .rows import DistinctValues
from .sort import _sort_positions, _text_rank_of


def _dedupe(
    kind: str,
    schema: Schema,
    df: pd.DataFrame,
    distinct: Mapping[str, DistinctValues] | None = None,
    revisions: Revisions | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kind-level duplicates: exact duplicates, USCC name conflicts, other key clashes.
    (:func:`_dedupe_sorted` without its third value.)"""
    df, q, _ = _dedupe_sorted(kind, schema, df, distinct, revisions)
    return df, q


def _dedupe_sorted(
    kind: str,
    schema: Schema,
    df: pd.DataFrame,
    distinct: Mapping[str, DistinctValues] | None = None,
    revisions: Revisions | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """``(clean rows, quarantined rows, the clean rows are in _sort's order)``: kind-level
    duplicates, that is exact duplicates, USCC name conflicts, other key clashes.

    The clean rows come back already in ``_sort``'s order (one take of every column filters
    and sorts them; ``_sort`` then finds them sorted), with their own display names: the
    unified names of ``dedupe_by_uscc`` only decide duplicates and conflict reports.
    ``distinct``: columns of ``df`` as ``process_rows_coded`` hands them over; the USCC and
    name columns among them are coded from their distinct values, not from every row.
    ``revisions``: with the files' report dates, a key clash between files of different
    report dates is a revision (the later row kept, the earlier recorded in ``revisions``),
    not a ``duplicate_key``.
    """
    if not (df.index.is_unique and df.columns.is_unique and schema.key):
        return *_dedupe_by_labels(kind, schema, df), False
    distinct = distinct or {}
    quarantined = []
    codes: dict[str, tuple[np.ndarray, int, pd.Index]] = {}
    rank_of: dict[str, np.ndarray] = {}
    if schema.entity_name is not None and len(df):
        # Name fields come out of process_rows as display forms already (see _name_table).
        display = any(f.name == schema.entity_name and f.type == "name" for f in schema.fields)
        table = None
        name_of = distinct.get(schema.entity_name)
        ident = schema.identifier
        uscc_of = distinct.get(ident)
        if len(df) >= _THREADED_ROWS or name_of is not None or uscc_of is not None:
            # The name table (factorise + name keys) on a second thread while this one codes
            # the USCCs and ranks them for the sort: mostly pyarrow kernels, which release
            # the GIL, so the two use both cores.
            with ThreadPoolExecutor(max_workers=1) as pool:
                if name_of is None:
                    names = pool.submit(_name_table, df[schema.entity_name], display)
                else:
                    names = pool.submit(_name_table_of, name_of, display)
                if uscc_of is None:
                    codes[ident] = _value_codes(df[ident])
                else:
                    u_codes, n, uniques = _value_codes(uscc_of.values)
                    codes[ident] = u_codes[uscc_of.positions], n, uniques
                if ident in schema.key and _arrowtext.is_arrow_text(df[ident]):
                    rank_of[ident] = _text_rank_of(codes[ident][2])
                table = names.result()
        plan = _dedupe_plan(
            df, ident, schema.entity_name, schema.group_keys, LINEAGE_COLUMNS,
            names_are_display=display, unify_all=False, table=table, codes=codes,
        )  # fmt: skip
        codes = plan.codes
        if plan.conflict.any():
            conflicts = df.iloc[np.flatnonzero(plan.conflict)]
            value = pd.Series(plan.conflict_names, index=conflicts.index, dtype=object)
            quarantined.append(
                quarantine_rows(conflicts, kind, "duplicate_conflict", ident, value)
            )
        dup = plan.duplicate
        kept = ~plan.conflict & ~dup
        several, name_codes = _names_under_several_codes(df, schema, table, codes, kept)
        if several.any():
            quarantined.append(_several_codes_quarantine(kind, schema, df, several, name_codes))
            kept &= ~several
    else:
        dup = df.duplicated(subset=[c for c in df.columns if c not in LINEAGE], keep="first")
        dup = dup.to_numpy()
        kept = ~dup
    if dup.any():
        dropped = df.iloc[np.flatnonzero(dup)]
        quarantined.append(
            quarantine_rows(dropped, kind, "duplicate_row", "", pd.Series("", index=dropped.index))
        )
    pos = np.flatnonzero(kept)
    key = np.zeros(len(pos), dtype=np.int64)
    nkey = 1
    for c in schema.key:
        c_codes, n, _ = codes[c] if c in codes else _value_codes(df[c])
        key, nkey = _combine(key, nkey, c_codes[pos], n)
    clash = _repeated(key, nkey)
    if clash.any() and revisions is not None:
        # Only the clashing rows (normally none or a few) are looked at: no per-row work.
        superseded, found = supersede(kind, schema, df, pos[clash], key[clash], revisions)
        revisions.found.append(found)
        if superseded.any():
            gone = df.iloc[pos[np.flatnonzero(clash)[superseded]]]
            revisions.superseded.append(
                gone[["source_file", "source_sheet"]].astype(str).assign(kind=kind)
            )
            drop = np.zeros(len(pos), dtype=bool)
            drop[np.flatnonzero(clash)[superseded]] = True
            pos, key = pos[~drop], key[~drop]
            clash = _repeated(key, nkey)
    if clash.any():
        bad = df.iloc[pos[clash]]
        value = bad[list(schema.key)].astype(str).agg("|".join, axis=1)
        quarantined.append(quarantine_rows(bad, kind, "duplicate_key", "|".join(schema.key), value))
        pos = pos[~clash]
    order = _sort_positions(df, [*schema.key, *LINEAGE], pos, codes, rank_of)
    df = _take_rows(df, pos if order is None else order, distinct)
    q = pd.concat(quarantined, ignore_index=True) if quarantined else _empty_quarantine()
    return df, q, order is not None


def _names_under_several_codes(
    df: pd.DataFrame, schema: Schema, table: tuple | None, codes: Mapping, kept: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, name codes)``: the rows among ``kept`` whose enterprise name appears under
    more than one credit code among them (the name table's and the USCC codes of the
    deduplication, so no new pass over the text at scale), and each row's name code (-1:
    missing name or a row not kept)."""
    if table is not None and table[1] is not None:
        # codes into the distinct names, the missing name last (_name_table)
        name_codes = table[0].copy()
        name_codes[name_codes == len(table[1]) - 1] = -1
    else:  # the small path's table is the rows themselves
        name_codes = pd.factorize(df[schema.entity_name].astype("str"), use_na_sentinel=True)[0]
    uscc_codes = codes[schema.identifier][0].astype(np.int64).copy()
    uscc_codes[df[schema.identifier].isna().to_numpy()] = -1
    name_codes = np.where(kept, name_codes, -1).astype(np.int64)
    return names_under_several_codes(name_codes, uscc_codes), name_codes


def _several_codes_quarantine(
    kind: str, schema: Schema, df: pd.DataFrame, several: np.ndarray, name_codes: np.ndarray
) -> pd.DataFrame:
    """The ``name_several_uscc`` quarantine of the rows ``several``, each with every credit
    code its name appears under (``name_codes``: :func:`_names_under_several_codes`')."""
    # the quarantine needs only their lineage: 3 columns taken, not all
    flagged = df[list(LINEAGE)].iloc[np.flatnonzero(several)]
    # the kept rows that carry a flagged name, found by name code (no text compared)
    of_flagged = np.zeros(int(name_codes.max()) + 1, dtype=bool)
    of_flagged[name_codes[several]] = True
    named = np.flatnonzero(of_flagged[name_codes] & (name_codes >= 0))
    codes = df[schema.identifier].iloc[named]
    if codes.isna().any():  # (never after the rules: a credit code is required)
        joined = _codes_of_names(  # Python ints: numpy scalars hash ~5x slower
            name_codes[several].tolist(), name_codes[named].tolist(), codes.tolist()
        )
        value = pd.Series(joined, index=flagged.index, dtype=object)
    else:
        value = _joined_codes(name_codes[several], name_codes[named], codes)
        value = value.set_axis(flagged.index)
    return quarantine_rows(flagged, kind, "name_several_uscc", schema.identifier, value)


def _joined_codes(flagged: np.ndarray, names: np.ndarray, codes: pd.Series) -> pd.Series:
    """:func:`_codes_of_names` of credit codes without missing ones, on integer codes: per
    flagged row (its name's code) "code A | code B", as a categorical Series (one text per
    distinct set of codes, which the quarantine then shows once each).

    The distinct (name, code) pairs come from one ``np.unique`` over integer pairs ordered
    by the codes' text, and each name's codes are joined by one Arrow kernel: the dict of
    Python pairs cost ~0.25 s for the 10^5 flagged rows of a 10^6-row registry.
    """
    code_of_row, texts = pd.factorize(codes)
    texts = texts.tolist()
    # the rank of each distinct code in Python's sorted() order (code points)
    rank = np.empty(len(texts), dtype=np.int64)
    rank[sorted(range(len(texts)), key=texts.__getitem__)] = np.arange(len(texts))
    by_rank = np.argsort(rank)
    pairs = np.unique(names.astype(np.int64) * len(texts) + rank[code_of_row])
    pair_name, pair_rank = np.divmod(pairs, len(texts))
    starts = np.flatnonzero(np.r_[True, pair_name[1:] != pair_name[:-1]])
    lists = pa.LargeListArray.from_arrays(
        pa.array(np.r_[starts, len(pairs)], pa.int64()),
        pa.array(texts, pa.large_string()).take(pa.array(by_rank[pair_rank])),
    )
    joined = pc.binary_join(lists, pa.scalar(" | ", pa.large_string()))
    set_of_name, sets = pd.factorize(pd.Series(pd.array(joined, dtype="str")))
    at = np.searchsorted(pair_name[starts], flagged)
    return pd.Series(pd.Categorical.from_codes(set_of_name[at], categories=sets))


def _codes_of_names(flagged: Sequence, names: Sequence, codes: Sequence) -> list[str]:
    """Per flagged row (its name, or the name's code), "code A | code B": every credit code
    the name appears under among the (name, credit code) pairs ``zip(names, codes)``, the
    kept rows that carry a flagged name.

    The reference engine's groupby, as one pass over the distinct pairs: a Python call per
    name through ``groupby.agg`` cost ~1 s for 10^4 names at 10^6 rows."""
    codes_of: dict[object, list[str]] = {}
    for n, u in dict.fromkeys(zip(names, map(str, codes), strict=True)):
        codes_of.setdefault(n, []).append(u)
    joined = {n: " | ".join(sorted(us)) for n, us in codes_of.items()}
    return [joined[n] for n in flagged]


def _name_table_of(
    names: DistinctValues, names_are_display: bool
) -> tuple[np.ndarray, pd.Series | None, pd.Series, pd.Series]:
    """``_name_table`` of ``names.values.take(names.positions)``, computed over the distinct
    values: its tables hold distinct names, and only the codes are per row."""
    codes, raw, display, key = _name_table(names.values, names_are_display)
    return codes[names.positions], raw, display, key


def _take_rows(
    df: pd.DataFrame, order: np.ndarray, distinct: Mapping[str, DistinctValues] | None = None
) -> pd.DataFrame:
    """``df.take(order)`` (unique column names, ``order`` without repeats), the columns taken
    on two threads: the takes of pyarrow text columns (most of the time) release the GIL, and
    ``DataFrame.take`` runs them one after another.

    ``distinct``: columns of ``df`` as distinct values + positions (``process_rows_coded``).
    Such a column is gathered from its few distinct values (2-3x faster than from 10^6
    scattered rows for a column of a dozen values), and a column of one value is its own
    first ``len(order)`` rows (a slice, no copy).
    """
    distinct = distinct or {}
    if (len(order) < _THREADED_ROWS or df.shape[1] < 2) and not distinct:
        return df.take(order)

    def one(i: int):
        s = df.iloc[:, i]
        d = distinct.get(df.columns[i])
        if d is None or d.values.dtype != s.dtype:
            return s.array.take(order)
        if len(d.values) == 1:
            return s.array[: len(order)]
        return d.values.array.take(d.at(order))

    if len(order) < _THREADED_ROWS:
        taken = [one(i) for i in range(df.shape[1])]
    else:
        with ThreadPoolExecutor(max_workers=2) as pool:
            taken = list(pool.map(one, range(df.shape[1])))
    out = pd.DataFrame(dict(enumerate(taken)), index=df.index.take(order), copy=False)
    return out.set_axis(df.columns, axis=1).__finalize__(df)


def _dedupe_by_labels(
    kind: str, schema: Schema, df: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`_dedupe` for frames with repeated index labels or column names (never made by
    ``process_rows``): the label-based original, kept for exactly its behaviour there."""
    quarantined = []
    if schema.entity_name is not None and len(df):
        ident = schema.identifier
        kept, conflicts = dedupe_by_uscc(
            df, uscc=ident, name=schema.entity_name, keys=schema.group_keys
        )
        if len(conflicts):
            quarantined.append(
                quarantine_rows(
                    conflicts,
                    kind,
                    "duplicate_conflict",
                    ident,
                    conflicts["conflict_names"].astype(object),
                )  # fmt: skip
            )
        if df.index.is_unique:  # masks over df: no intermediate copy of the other rows
            in_kept = df.index.isin(kept.index)
            dropped = df.loc[~df.index.isin(conflicts.index) & ~in_kept]
            df = df.loc[in_kept]  # kept keeps df's row order
        else:
            rest = df.loc[~df.index.isin(conflicts.index)]
            dropped = rest.loc[~rest.index.isin(kept.index)]
            df = df.loc[kept.index]
        name = schema.entity_name
        pairs = pd.DataFrame({"n": df[name].to_numpy(dtype=object),
                              "u": df[ident].to_numpy(dtype=object)})  # fmt: skip
        pairs = pairs.where(pairs.notna().all(axis=1))
        per_name = pairs.dropna().drop_duplicates().groupby("n").size()
        several = (pairs["n"].map(per_name).fillna(0) > 1).to_numpy()
        if several.any():
            flagged = df.iloc[np.flatnonzero(several)]
            named = df.loc[df[name].isin(set(flagged[name])), [name, ident]]
            joined = _codes_of_names(flagged[name].tolist(), named[name].tolist(),
                                     named[ident].tolist())  # fmt: skip
            quarantined.append(quarantine_rows(flagged, kind, "name_several_uscc", ident,
                                               pd.Series(joined, index=flagged.index)))  # fmt: skip
            df = df.iloc[np.flatnonzero(~several)]
    else:
        dup = df.duplicated(subset=[c for c in df.columns if c not in LINEAGE], keep="first")
        dropped = df.loc[dup]
        df = df.loc[~dup]
    if len(dropped):
        quarantined.append(
            quarantine_rows(dropped, kind, "duplicate_row", "", pd.Series("", index=dropped.index))
        )
    clash = df.duplicated(subset=list(schema.key), keep=False)
    if clash.any():
        bad = df.loc[clash]
        value = bad[list(schema.key)].astype(str).agg("|".join, axis=1)
        quarantined.append(quarantine_rows(bad, kind, "duplicate_key", "|".join(schema.key), value))
        df = df.loc[~clash]
    q = pd.concat(quarantined, ignore_index=True) if quarantined else _empty_quarantine()
    return df, q
