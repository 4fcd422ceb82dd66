"""``clean_file``: one raw export cleaned in memory, for a notebook that wants to look at a
file before (or without) a full ``run_clean``. Nothing is written or published."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..io import read_sheets
from .declaration import tidy_types
from .kinds import KINDS
from .quarantine import empty_quarantine
from .run import ENGINES, _all_missing
from .sheets import prepare_sheet
from .synonyms import schemas_with_synonyms


@dataclass(frozen=True)
class CleanResult:
    """One file of one kind, cleaned: ``table`` (the processed table's columns + lineage,
    sorted like ``load_processed``), ``quarantine`` (one row per rejected row, with its rule
    and zh/en reason), ``rows_read`` (non-blank rows below the header, every sheet)."""

    kind: str
    file: str
    table: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int

    @property
    def balanced(self) -> bool:
        """Every row read is either clean or quarantined."""
        return self.rows_read == len(self.table) + len(self.quarantine)


def clean_file(
    path: str | os.PathLike[str],
    kind: str,
    *,
    engine: str = "fast",
    include_hidden_sheets: bool = False,
) -> CleanResult:
    """Clean the raw export ``path`` as ``kind`` (one of ``KINDS``).

    Header synonyms come from the kind's declaration and, when ``path`` lies in
    ``<raw>/<kind>/``, from ``<raw>/header_synonyms.yaml``. A file that cannot be read or
    lacks a required column raises :class:`~tianxin_analysis.errors.InputFileError` or
    :class:`~tianxin_analysis.errors.SchemaError` (file, sheet, what was found and expected).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    path = Path(path)
    schema = schemas_with_synonyms(path.parent.parent)[kind]
    run = ENGINES[engine]
    rel = f"{kind}/{path.name}"
    prepared = [
        prepare_sheet(raw, rel, schema)
        for raw in read_sheets(path, as_text=True)
        if not _all_missing(raw.grid) and (include_hidden_sheets or not raw.hidden)
    ]
    rows_read = sum(p.rows_read for p in prepared)
    df, q, extra = run.process_rows(prepared, schema, pd.Timestamp.today().normalize())
    quarantined = [q]
    if len(df):
        df, q_dup, in_order = run.dedupe(kind, schema, df, extra, None)
        quarantined.append(q_dup)
        df = run.sort(kind, tidy_types(schema, df), known_sorted=in_order)
    else:
        df = tidy_types(schema, df)
    q_all = [x for x in quarantined if len(x)]
    quarantine = pd.concat(q_all, ignore_index=True) if q_all else empty_quarantine()
    quarantine = (
        quarantine.astype({"source_row": "int64"})
        .sort_values(["source_sheet", "source_row"], kind="stable")
        .reset_index(drop=True)
    )
    return CleanResult(kind, rel, df, quarantine, rows_read)
