"""Revisions: the same key and period in two reports with different values. The later report
wins; the earlier row is recorded in ``revisions.csv`` (one row per value revised) instead of
being quarantined as a ``duplicate_key``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .declaration import Schema

# revisions.csv: one row per value a later report revised (the earlier row is kept here, not
# in the clean table: the later report wins).
REVISION_COLUMNS = (
    "kind", "key_columns", "key", "period", "column", "old_value", "new_value",
    "old_file", "old_sheet", "old_row", "old_report_date",
    "new_file", "new_sheet", "new_row", "new_report_date",
)  # fmt: skip


@dataclass
class Revisions:
    """Report date of every raw file (its ``source_file`` name -> timestamp), and the
    revisions found: the same key and period in two files with different values is a
    revision, the later report wins (see :func:`supersede`)."""

    report_times: Mapping[str, pd.Timestamp]
    found: list[pd.DataFrame] = field(default_factory=list)
    # lineage (kind, source_file, source_sheet) of every superseded row, for reconciliation
    superseded: list[pd.DataFrame] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        """Every revision found, as one frame (REVISION_COLUMNS)."""
        kept = [f for f in self.found if len(f)]
        return pd.concat(kept, ignore_index=True) if kept else empty_revisions()


def empty_revisions() -> pd.DataFrame:
    """A revisions frame without rows."""
    return pd.DataFrame({c: pd.Series(dtype="str") for c in REVISION_COLUMNS}).astype(
        {"old_row": "int64", "new_row": "int64"}
    )


def supersede(
    kind: str, schema: Schema, df: pd.DataFrame, rows: np.ndarray, key: np.ndarray,
    revisions: Revisions,
) -> tuple[np.ndarray, pd.DataFrame]:  # fmt: skip
    """Among rows of ``df`` (positions ``rows``) that share a key (codes ``key``): in every key
    group whose latest report date belongs to one row, that row wins and the others are
    superseded. Returns (superseded mask over ``rows``, revisions frame, REVISION_COLUMNS).
    Groups whose latest date is shared stay key clashes (``duplicate_key``). A revision's
    period is the row's ``schema.partition`` value, with ``-MM`` of ``schema.month`` for a
    monthly kind."""
    sub = df.iloc[rows]
    files = sub["source_file"].astype(str).to_numpy()
    stamp = pd.to_datetime(pd.Series([revisions.report_times.get(f) for f in files]))
    t = stamp.fillna(pd.Timestamp.min).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    g = pd.DataFrame({"k": key, "t": t})
    latest = g["t"].eq(g.groupby("k")["t"].transform("max"))
    n_latest = latest.groupby(g["k"]).transform("sum")
    resolvable = n_latest.eq(1).to_numpy()
    winner = latest.to_numpy() & resolvable
    superseded = resolvable & ~latest.to_numpy()
    if not superseded.any():
        return superseded, empty_revisions()
    win_at = pd.Series(np.flatnonzero(winner), index=key[winner])
    old_i = np.flatnonzero(superseded)
    new_i = win_at.loc[key[old_i]].to_numpy()
    old, new = sub.iloc[old_i], sub.iloc[new_i]
    key_cols = list(schema.key)
    keys = old[key_cols].astype(str).agg("|".join, axis=1).to_numpy()
    period = old[schema.partition].astype(str).to_numpy()
    if schema.month is not None and schema.month in old.columns:
        period = np.char.add(np.char.add(period.astype(str), "-"),
                             np.char.zfill(old[schema.month].astype(str).to_numpy().astype(str), 2))  # fmt: skip
    frames = []
    for c in [c for c in schema.columns if c not in key_cols and c in sub.columns]:
        a, b = old[c].astype(str).to_numpy(), new[c].astype(str).to_numpy()
        differ = np.flatnonzero(a != b)
        if not len(differ):
            continue

        def when(files: np.ndarray) -> list[str]:
            """The report date of each file ("" when unknown)."""
            out = []
            for f in files:
                ts = revisions.report_times.get(f)
                out.append("" if ts is None else f"{pd.Timestamp(ts):%Y-%m-%d}")
            return out

        of = old["source_file"].astype(str).to_numpy()[differ]
        nf = new["source_file"].astype(str).to_numpy()[differ]
        frames.append(pd.DataFrame({
            "kind": kind, "key_columns": "|".join(key_cols), "key": keys[differ],
            "period": period[differ], "column": c, "old_value": a[differ], "new_value": b[differ],
            "old_file": of, "old_sheet": old["source_sheet"].astype(str).to_numpy()[differ],
            "old_row": old["source_row"].to_numpy(dtype=np.int64)[differ], "old_report_date": when(of),
            "new_file": nf, "new_sheet": new["source_sheet"].astype(str).to_numpy()[differ],
            "new_row": new["source_row"].to_numpy(dtype=np.int64)[differ], "new_report_date": when(nf),
        }))  # fmt: skip
    found = pd.concat(frames, ignore_index=True) if frames else empty_revisions()
    return superseded, found.astype({c: "str" for c in REVISION_COLUMNS if not c.endswith("_row")})
