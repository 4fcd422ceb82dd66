"""The fast engine's sort: the processed table's order (key, then lineage; stable, missing
last, as ``DataFrame.sort_values``) from integer ranks of each key, one mixed-radix key and one
argsort, or a scatter when the keys are already distinct."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .... import _arrowtext
from ....identifiers import (
    _RADIX_LIMIT,
    _int_offsets,
    _value_codes,
)
from ...declaration import LINEAGE
from ...kinds import SCHEMAS


def _sort(kind: str, df: pd.DataFrame, known_sorted: bool = False) -> pd.DataFrame:
    """``df`` sorted by the kind's key and lineage (stable, missing values last).
    ``known_sorted``: it is (``_dedupe_sorted`` said so), and is not checked again."""
    keys = [*SCHEMAS[kind].key, *LINEAGE]
    if known_sorted or _is_sorted(df, keys):  # _dedupe hands over its rows sorted
        return df.reset_index(drop=True)
    order = _sort_positions(df, keys, np.arange(len(df)))
    if order is None:
        return df.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)
    return df.take(order).reset_index(drop=True)


def _sort_positions(
    df: pd.DataFrame,
    keys: list[str],
    rows: np.ndarray,
    codes: dict[str, tuple[np.ndarray, int, pd.Index]] | None = None,
    rank_of: dict[str, np.ndarray] | None = None,
) -> np.ndarray | None:
    """The positions ``rows`` (ascending) in the order of
    ``df.iloc[rows].sort_values(keys, kind="stable", na_position="last")``, or None when a key
    column is neither pyarrow text nor a numpy integer (those go to ``sort_values``) and the
    keys before it do not already tell every row apart.

    Each key becomes an order-preserving integer rank (text: codes of its distinct values,
    ranked by one Arrow sort of those values: UTF-8 byte order is the code point order pandas
    sorts ``str`` by; missing last), the ranks one mixed-radix integer, then one stable argsort:
    ``sort_values`` factorises every key column of every row again and lexsorts them. Once the
    leading keys are distinct over ``rows``, the rest are not ranked at all.
    ``codes``: ``_value_codes`` over all rows already computed for some columns, and
    ``rank_of``: ``_text_rank_of`` of their uniques for some of those.
    """
    codes = codes or {}
    rank_of = rank_of or {}
    ranks: list[tuple[np.ndarray, int]] = []
    key: np.ndarray | None = np.zeros(len(rows), dtype=np.int64)
    nkey = 1
    for c in keys:
        r = _sort_rank(df[c], c, rows, codes, rank_of.get(c))
        if r is None:
            return None
        ranks.append(r)
        if key is None or nkey * r[1] >= _RADIX_LIMIT:
            key = None  # np.lexsort below
            continue
        key, nkey = key * r[1] + r[0], nkey * r[1]
        if len(rows) <= nkey <= 4 * len(rows) + 16 and len(rows) < 1 << 31:
            # Distinct already (after _dedupe, the kind's key is): the later keys cannot
            # change the order, and a scatter into nkey slots replaces the argsort. The keys
            # are distinct exactly when every row finds itself in its slot after the scatter
            # (one gather; a count per slot cost twice the memory traffic).
            slot = np.full(nkey, -1, dtype=np.int32)
            at = np.arange(len(key), dtype=np.int32)
            slot[key] = at
            if (slot[key] == at).all():
                return rows[slot[slot >= 0]]
    if key is None:  # np.lexsort is stable too (last key sorts first)
        return rows[np.lexsort([r for r, _ in reversed(ranks)])]
    # Keys are almost always distinct (the lineage is part of them): then any sort is the
    # stable one, and numpy's quicksort is several times faster than its stable sort.
    order = np.argsort(key)
    ranked = key[order]
    if len(ranked) > 1 and not (ranked[1:] > ranked[:-1]).all():
        order = np.argsort(key, kind="stable")
    return rows[order]


def _sort_rank(
    s: pd.Series,
    c: str,
    rows: np.ndarray,
    codes: dict[str, tuple[np.ndarray, int, pd.Index]],
    rank_of: np.ndarray | None = None,
) -> tuple[np.ndarray, int] | None:
    """``(rank, bound)``: order-preserving integer ranks in ``[0, bound)`` of ``s`` at
    ``rows`` (see :func:`_sort_positions`), or None for a column it does not rank.
    ``rank_of``: ``_text_rank_of`` of the uniques in ``codes[c]``."""
    if _arrowtext.is_arrow_text(s):
        if c not in codes:
            a = pa.array(s.array)
            if len(a) and not a.null_count and pc.all(pc.equal(a, a[0])).as_py():
                return np.zeros(len(rows), dtype=np.int64), 1  # one file, one sheet
        c_codes, n, uniques = codes[c] if c in codes else _value_codes(s)
        if rank_of is None:
            rank_of = _text_rank_of(uniques)
        return rank_of[c_codes[rows]], n
    if s.dtype.kind in "iu":
        v = s.to_numpy()[rows]
        if not len(v):
            return np.zeros(0, dtype=np.int64), 1
        span = _int_offsets(v, _RADIX_LIMIT - 1)
        if span is not None:
            offsets, lo, hi = span
            return offsets, hi - lo + 1
        # the values' sorted positions among the distinct values keep their order
        uniq, inv = np.unique(v, return_inverse=True)
        return inv.astype(np.int64).ravel(), len(uniq)
    return None


def _text_rank_of(uniques: pd.Index) -> np.ndarray:
    """The rank of every ``_value_codes`` code of a text column, given its ``uniques``: one
    Arrow sort of the distinct values (UTF-8 byte order is the code point order pandas sorts
    ``str`` by); the missing values' code (the last) ranks last."""
    n = len(uniques) + 1
    rank_of = np.empty(n, dtype=np.int64)
    rank_of[pc.array_sort_indices(pa.array(uniques.array)).to_numpy()] = np.arange(n - 1)
    rank_of[n - 1] = n - 1
    return rank_of


def _is_sorted(df: pd.DataFrame, keys: list[str]) -> bool:
    """True when ``df`` is already in ``sort_values(keys, kind="stable", na_position="last")``
    order (a stable sort of a sorted frame changes nothing). False also when a key column is
    neither pyarrow text nor a numpy integer or datetime column (not checked here)."""
    cols = [df[c] for c in keys]
    if not all(_arrowtext.is_arrow_text(s) or s.dtype.kind in "iuM" for s in cols):
        return False
    if len(df) < 2:
        return True
    # Lexicographic, from the first key: each later key is compared only at the adjacent
    # pairs still tied (after _dedupe the kind's key is distinct, so the lineage is skipped).
    tied = None  # the pairs (i, i + 1) equal in the keys so far, by i; None: every pair
    for s in cols:
        lt, eq = _adjacent_order(s, tied)
        if not (lt | eq).all():
            return False
        tied = np.flatnonzero(eq) if tied is None else tied[eq]
        if not len(tied):
            break
    return True


def _adjacent_order(s: pd.Series, at: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``(less, equal)`` of the values at ``i`` and ``i + 1`` for every ``i`` in ``at`` (None:
    every pair), in ``sort_values``' order (missing last, equal to each other)."""
    if _arrowtext.is_arrow_text(s):
        a = pa.array(s.array)
        if at is None:
            x, y = a.slice(0, len(a) - 1), a.slice(1)
        else:
            x, y = a.take(pa.array(at)), a.take(pa.array(at + 1))
        lt = pc.less(x, y).fill_null(False).to_numpy(zero_copy_only=False)
        eq = pc.equal(x, y).fill_null(False).to_numpy(zero_copy_only=False)
        if x.null_count or y.null_count:
            xv = pc.is_valid(x).to_numpy(zero_copy_only=False)
            yv = pc.is_valid(y).to_numpy(zero_copy_only=False)
            lt, eq = lt | (xv & ~yv), eq | (~xv & ~yv)
        return lt, eq
    v = s.to_numpy()
    x, y = (v[:-1], v[1:]) if at is None else (v[at], v[at + 1])
    if s.dtype.kind in "iu":
        return x < y, x == y
    xn, yn = np.isnat(x), np.isnat(y)
    xi, yi = x.view(np.int64), y.view(np.int64)
    both = ~xn & ~yn
    return (both & (xi < yi)) | (~xn & yn), (both & (xi == yi)) | (xn & yn)
