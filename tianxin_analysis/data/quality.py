"""Read back a cleaning run's reconciliation and quarantine for review (notebook 02), and list
the rows a statistics office would check (credit codes issued outside the district)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..errors import InputFileError
from .declaration import Schema
from .kinds import SCHEMAS
from .revisions import REVISION_COLUMNS
from .rules import DEFAULT_FIX, source_fix


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
    """``revisions.csv``: values a later report revised (columns ``revisions.REVISION_COLUMNS``);
    empty when the folder predates it."""
    path = Path(processed_dir) / "revisions.csv"
    if not path.is_file():
        return pd.DataFrame(columns=list(REVISION_COLUMNS))
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def read_quarantine(processed_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """``_meta/quarantine.parquet``: one row per rejected input row, with file, sheet, row, rule."""
    path = Path(processed_dir) / "_meta" / "quarantine.parquet"  # (run.QUARANTINE_PARQUET)
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
    fixes = source_fix()
    out["fix_zh"] = out["rule"].map(lambda r: fixes.get(r, DEFAULT_FIX)[0])
    return out.reset_index(drop=True)


# Registration authority code (characters 3-8 of a credit code) of 天心区, and its province.
DISTRICT_CODE = "430103"
PROVINCE_PREFIX = "43"
_REGION_REVIEW_COLUMNS = ["kind", "enterprise_name", "uscc", "region_code", "scope_zh",
                          "prominent", "source_file", "source_row"]  # fmt: skip


def uscc_region_review(
    tables: Mapping[str, pd.DataFrame],
    district_code: str = DISTRICT_CODE,
    *,
    schemas: Mapping[str, Schema] | None = None,
) -> pd.DataFrame:
    """Clean rows whose credit code was issued outside the district, for checking.

    Characters 3-8 of a credit code are the registering authority's region: an enterprise
    that moved to 天心区 keeps the code it was registered with, so such rows stay in the
    tables (not dropped) and are listed here. ``prominent`` marks codes from outside the
    province (43xxxx: 湖南), the likelier mistakes (a Beijing 110108 code counted for
    Tianxin); they come first. ``tables``: kind -> processed table; its credit-code and name
    columns are those the kind declares (``Schema.identifier``, ``Schema.entity_name`` in
    ``schemas``, by default the registered kinds); a kind without a credit code is skipped.
    The review names them ``uscc`` and ``enterprise_name`` whatever the kind calls them.
    """
    schemas = SCHEMAS if schemas is None else schemas
    frames = []
    for kind, table in tables.items():
        schema = schemas.get(kind)
        code_col = schema.identifier if schema is not None else None
        if code_col is None or code_col not in table.columns or not len(table):
            continue
        region = table[code_col].astype("str").str.slice(2, 8)
        away = region.notna().to_numpy() & (region != district_code).fillna(False).to_numpy()
        if not away.any():
            continue
        rows = table.loc[away]
        name_col = schema.entity_name if schema.entity_name in rows.columns else None
        outside = ~region[away].str.startswith(district_code[:2]).fillna(False)
        frames.append(pd.DataFrame({
            "kind": kind,
            "enterprise_name": rows[name_col].astype(object) if name_col else None,
            "uscc": rows[code_col].astype(object),
            "region_code": region[away].astype(object),
            "scope_zh": outside.map({True: "省外 outside Hunan", False: "省内区外 elsewhere in Hunan"}),
            "prominent": outside.to_numpy(),
            "source_file": rows["source_file"].astype(object),
            "source_row": rows["source_row"].astype("int64"),
        }))  # fmt: skip
    if not frames:
        return pd.DataFrame(columns=_REGION_REVIEW_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["prominent", "kind", "uscc"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)  # fmt: skip


def uscc_region_summary(review: pd.DataFrame) -> pd.DataFrame:
    """Counts of :func:`uscc_region_review`: one row per kind and scope (outside Hunan first),
    with the enterprises (distinct credit codes), the rows and the most frequent region codes."""
    columns = ["kind", "scope_zh", "enterprises", "rows", "top_region_codes"]
    if review.empty:
        return pd.DataFrame(columns=columns)
    grouped = review.groupby(["prominent", "kind", "scope_zh"], sort=True)
    out = grouped.agg(enterprises=("uscc", "nunique"), rows=("uscc", "size")).reset_index()
    top = grouped["region_code"].agg(
        lambda s: "、".join(s.value_counts().sort_index().sort_values(ascending=False,
                                                                       kind="stable").index[:3])
    )  # fmt: skip
    out["top_region_codes"] = top.to_numpy()
    out = out.sort_values(["prominent", "kind"], ascending=[False, True], kind="stable")
    return out[columns].reset_index(drop=True)
