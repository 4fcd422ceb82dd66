"""Read back a cleaning run's reconciliation and quarantine for review (notebook 02)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import InputFileError
from ..labels import SOURCE_FIX


def _read_csv(processed_dir: str | os.PathLike[str], name: str) -> pd.DataFrame:
    path = Path(processed_dir) / name
    if not path.is_file():
        raise InputFileError(
            "找不到清洗结果，请先运行 tianxin clean", "cleaning output not found; run `tianxin clean`",
            file=str(path),
        )  # fmt: skip
    return pd.read_csv(
        path, encoding="utf-8-sig", dtype={"source_sheet": "string", "value": "string"}
    )


def read_reconciliation(processed_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """``reconciliation.csv``: one row per file and sheet, rows read = clean + quarantined."""
    return _read_csv(processed_dir, "reconciliation.csv")


def read_revisions(processed_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """``revisions.csv``: values a later report revised (columns ``run.REVISION_COLUMNS``);
    empty when the folder predates it."""
    from .run import REVISION_COLUMNS

    path = Path(processed_dir) / "revisions.csv"
    if not path.is_file():
        return pd.DataFrame(columns=list(REVISION_COLUMNS))
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def read_quarantine(processed_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """``quarantine.parquet``: one row per rejected input row, with file, sheet, row, rule."""
    path = Path(processed_dir) / "quarantine.parquet"
    if not path.is_file():
        return _read_csv(processed_dir, "quarantine.csv")
    return pd.read_parquet(path)


def reconciliation_by_kind(reconciliation: pd.DataFrame) -> pd.DataFrame:
    """Rows read / clean / quarantined (/ revised by a later report) per kind, with the
    share quarantined (0..1)."""
    cols = ["rows_read", "rows_clean", "rows_quarantined"]
    cols += ["rows_revised"] if "rows_revised" in reconciliation.columns else []
    out = reconciliation.groupby("kind", sort=False)[cols].sum()
    out["balanced"] = out["rows_read"] == out[cols[1:]].sum(axis=1)
    out["share_quarantined"] = out["rows_quarantined"] / out["rows_read"].where(
        out["rows_read"] > 0
    )
    return out.reset_index()


def quarantine_summary(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows counted by kind and rule, with the reason, an example location and
    what to fix at the source. Sorted by count, largest first."""
    if quarantine.empty:
        return pd.DataFrame(columns=["kind", "rule", "reason_zh", "rows", "example", "fix_zh"])
    q = quarantine.assign(
        example=quarantine["source_file"].astype(str).str.rsplit("/", n=1).str[-1]
        + " 第" + quarantine["source_row"].astype(str) + "行"
    )  # fmt: skip
    out = (
        q.groupby(["kind", "rule", "reason_zh"], sort=True)
        .agg(rows=("rule", "size"), example=("example", "first"))
        .reset_index()
        .sort_values(["rows", "kind", "rule"], ascending=[False, True, True], kind="stable")
    )
    out["fix_zh"] = out["rule"].map(lambda r: SOURCE_FIX.get(r, ("请核对源数据", ""))[0])
    return out.reset_index(drop=True)
