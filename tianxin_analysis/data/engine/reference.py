"""The reference engine: what cleaning does to the rows of one kind, in readable pandas.

This is the specification the fast engine (``data.engine.fast``) must match frame
for frame and byte for byte (``tests/test_engines_equivalent.py``). Shared with it: reading
and header mapping (``data.sheets.prepare_sheet`` hands over one
``PreparedSheet`` per sheet: the data rows under canonical column names, the sheet's
context), and what happens after (reconciliation, lineage, publishing, Parquet).

For the rows of one kind the steps are:

1. **rules** (:func:`process_rows`): each column is parsed by its field's type
   (:func:`~tianxin_analysis.data.fields.parse_field`); a row's reason is the first that
   applies of: footnote row, total row, a required value missing, then each field's own
   checks in field order and precedence order. Blank rows are neither clean nor quarantined.
2. **derive**: the kind's ``derive`` step turns the typed columns of the surviving rows into
   the output columns (it may reject rows with a kind-specific rule), then the kind's
   cross-row ``sheet_checks`` run over each sheet's accepted rows.
3. **dedupe** (:func:`dedupe`): name conflicts under one credit code, names under several
   codes, exact duplicates, revisions (a later report wins) and key clashes.
4. **sort** (:func:`sort`) by key and lineage, and **write** (:func:`write_csv`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ... import clean
from ..._fs import atomic_write_text, neutralize_formulas
from ...identifiers import dedupe_by_uscc
from ..declaration import LINEAGE, Schema, SheetContext
from ..fields import cell_text, parse_field
from ..kinds import SCHEMAS
from ..quarantine import empty_quarantine, quarantine_rows, with_reasons
from ..revisions import Revisions, supersede
from . import Engine

FAILURE = ["rule", "column", "value"]


def process_rows(
    sheets: list, schema: Schema, today: pd.Timestamp, consume: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Clean rows (the kind's columns + lineage) and quarantine rows of prepared sheets of one
    kind. ``consume`` is accepted for the engine interface and has no effect here."""
    sheets = [p for p in sheets if len(p.cells)]
    if not sheets:
        return (
            pd.DataFrame(columns=[*schema.columns, *LINEAGE]),
            with_reasons(empty_quarantine().drop(columns=["reason_zh", "reason_en"])),
            {},
        )
    cells, rows = _stack(sheets, schema)
    results = _parse_fields(cells, rows, schema, today)
    failures = _first_failures(cells, rows, results, schema)
    keep = failures["rule"].isna() & ~rows["blank"]
    parsed = pd.DataFrame({k: v[keep] for r in results.values() for k, v in r.parsed.items()})
    kept = rows.loc[keep]
    ctx = SheetContext(
        file=kept["file"],
        sheet=kept["sheet"],
        context_year=kept["context_year"],
        header_units={k: kept[f"unit:{k}"] for k in _unit_columns(rows)},
    )
    derived = schema.derive(parsed, ctx)
    later = _kind_failures(derived, kept["sheet_no"], schema)
    failures.loc[later.index, FAILURE] = later[FAILURE].to_numpy()
    ok = failures["rule"].isna() & ~rows["blank"]
    clean_rows = derived.loc[ok[keep].to_numpy(), list(schema.columns)].assign(
        source_file=kept["file"], source_sheet=kept["sheet"], source_row=kept["source_row"]
    )
    bad = ~ok & ~rows["blank"]
    quarantine = pd.DataFrame(
        {
            "kind": schema.kind,
            "source_file": rows.loc[bad, "file"].astype(object).to_numpy(),
            "source_sheet": rows.loc[bad, "sheet"].astype(object).to_numpy(),
            "source_row": rows.loc[bad, "source_row"].to_numpy(dtype=np.int64),
            **{c: failures.loc[bad, c].to_numpy(dtype=object) for c in ("column", "value")},
            "rule": failures.loc[bad, "rule"].to_numpy(dtype=object),
        }
    )
    return clean_rows.reset_index(drop=True), with_reasons(quarantine), {}


def _stack(sheets: list, schema: Schema) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cells of all sheets one under the other (the schema's columns, raw values), and
    per row its sheet's facts (:func:`_sheet_facts`)."""
    cols, units = _columns_and_units(sheets, schema)
    cell_frames = []
    for p in sheets:
        c = p.cells.reindex(columns=cols)
        # text columns of CSV files stay ``str``; the rest are object cells
        cell_frames.append(
            c.astype({k: object for k in cols if not isinstance(c[k].dtype, pd.StringDtype)})
        )
    cells = pd.concat(cell_frames, ignore_index=True)
    rows = pd.concat([_sheet_facts(i, p, units) for i, p in enumerate(sheets)], ignore_index=True)
    return cells, rows.astype({"foot_text": "str"})


def _columns_and_units(sheets: list, schema: Schema) -> tuple[list[str], list[str]]:
    """The schema's columns some sheet holds, and the amount columns some header gives a
    unit for (both in schema order)."""
    present = {c for p in sheets for c in p.cells.columns}
    with_unit = {k for p in sheets for k in p.header_units}
    cols = [f.name for f in schema.fields if f.name in present]
    units = [f.name for f in schema.fields if f.type == "amount" and f.name in with_unit]
    return cols, units


def _sheet_facts(number: int, p, units: list[str]) -> pd.DataFrame:
    """Per row of prepared sheet ``p``: its sheet's number, file and name, its spreadsheet
    row, blank or not, the text of a row holding one cell, the year the sheet's title
    names, and per amount column the unit written in its header."""
    n = len(p.cells)
    facts = {
        "sheet_no": number,
        "file": pd.Series([p.file] * n, dtype="str"),
        "sheet": pd.Series([p.sheet] * n, dtype="str"),
        "source_row": p.cells.index.to_numpy(dtype=np.int64),
        "blank": np.zeros(n, bool) if p.blank is None else p.blank,
        "foot_text": p.footnote_text.to_numpy(),
        "context_year": pd.array([p.context_year] * n, dtype="Int64"),
    }
    for k in units:
        facts[f"unit:{k}"] = pd.Series([p.header_units.get(k)] * n, dtype=object)
    return pd.DataFrame(facts)


def _unit_columns(rows: pd.DataFrame) -> list[str]:
    return [c.removeprefix("unit:") for c in rows.columns if c.startswith("unit:")]


def _parse_fields(
    cells: pd.DataFrame, rows: pd.DataFrame, schema: Schema, today: pd.Timestamp
) -> dict:
    """``parse_field`` of every column present (the first one may hold 合计)."""
    fields = [f for f in schema.fields if f.name in cells.columns]
    units = set(_unit_columns(rows))
    return {
        f.name: parse_field(
            cells[f.name],
            f,
            rows[f"unit:{f.name}"] if f.type == "amount" and f.name in units else None,
            today,
            first=f is fields[0],
        )
        for f in fields
    }


def _checks_in_order(rows: pd.DataFrame, results: dict, schema: Schema) -> list:
    """(rule, column, mask) in precedence order: footnote, total, a required value missing,
    then every field's own checks in field order."""
    checks = [("footnote_row", "", _footnotes(rows))]
    checks += [("total_row", c, r.total) for c, r in results.items() if r.total is not None]
    checks += [("missing_required", f.name, results[f.name].missing)
               for f in schema.fields if f.required and f.name in results]  # fmt: skip
    checks += [(rule, c, mask) for c, r in results.items() for rule, mask in r.checks]
    return checks


def _first_failures(
    cells: pd.DataFrame, rows: pd.DataFrame, results: dict, schema: Schema
) -> pd.DataFrame:
    """Per row, the first rule it fails (rule, column, the cell as found), or missing."""
    out = pd.DataFrame(None, index=cells.index, columns=FAILURE, dtype=object)
    for rule, column, mask in _checks_in_order(rows, results, schema):
        hit = pd.Series(mask, index=cells.index).fillna(False).astype(bool) & out["rule"].isna()
        if hit.any():
            found = rows["foot_text"] if column == "" else cells[column]
            n = int(hit.sum())
            out.loc[hit, FAILURE] = np.column_stack(
                [np.full(n, rule, object), np.full(n, column, object), _as_found(found[hit])]
            )
    return out


def _as_found(cells: pd.Series) -> np.ndarray:
    """The cells as a quarantine row shows them ("" for a missing text cell)."""
    if isinstance(cells.dtype, pd.StringDtype):
        return cells.fillna("").to_numpy(dtype=object)
    return cells.map(cell_text).to_numpy(dtype=object)


def _footnotes(rows: pd.DataFrame) -> pd.Series:
    """Footnote rows: a row holding one text cell that reads as a note or signature ("注：",
    "制表人："), and every one-cell row after the first of them in its sheet (a numbered
    list of notes continues on such rows)."""
    single = rows["foot_text"] != ""
    foot = pd.Series(False, index=rows.index)
    foot[single] = clean.is_footnote_text(rows.loc[single, "foot_text"]).to_numpy(dtype=bool)
    started = foot.groupby(rows["sheet_no"]).cummax()
    return foot | (single & started)


def _kind_failures(derived: pd.DataFrame, sheet_no: pd.Series, schema: Schema) -> pd.DataFrame:
    """Rows the kind rejects: in ``derive`` (its ``_rule`` column), then in its cross-row
    checks, run over each sheet's accepted rows (two reports of one year are two series)."""
    flagged = []
    rejected = pd.Series(False, index=derived.index)
    if "_rule" in derived.columns:
        rejected = derived["_rule"].notna()
        flagged.append(derived.loc[rejected, ["_rule", "_column", "_value"]])
    if schema.sheet_checks is not None:
        accepted = derived.loc[~rejected]
        for _, part in accepted.groupby(sheet_no[~rejected], sort=True):
            flagged.append(schema.sheet_checks(part)[["_rule", "_column", "_value"]])
    if not flagged:
        return pd.DataFrame(columns=FAILURE, dtype=object)
    out = pd.concat(flagged).set_axis(["rule", "column", "value"], axis=1)
    return out.astype(object)


def dedupe(
    kind: str,
    schema: Schema,
    df: pd.DataFrame,
    extra: object = None,
    revisions: Revisions | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """Kind-level duplicates: ``(clean rows, quarantined rows, False)`` (not sorted yet).

    With an identifier (credit code) and entity name: rows under one code whose names differ
    in one period are ``duplicate_conflict``, a name under several codes
    ``name_several_uscc``; then exact duplicates (all but lineage) ``duplicate_row``; two rows
    with one key are a revision when a later report holds one of them (``revisions``), else
    both are ``duplicate_key``."""
    quarantined: list[pd.DataFrame] = []
    if schema.identifier is not None and schema.entity_name is not None and len(df):
        df, dropped = _entity_duplicates(kind, schema, df, quarantined)
    else:
        dup = df.duplicated(subset=[c for c in df.columns if c not in LINEAGE], keep="first")
        dropped, df = df.loc[dup], df.loc[~dup]
    if len(dropped):
        quarantined.append(quarantine_rows(dropped, kind, "duplicate_row", "",
                                           pd.Series("", index=dropped.index)))  # fmt: skip
    key = list(schema.key)
    if revisions is not None:
        df = _revised(kind, schema, df, revisions)
    clash = df.duplicated(subset=key, keep=False).to_numpy()
    if clash.any():
        bad = df.loc[clash]
        value = bad[key].astype(str).agg("|".join, axis=1)
        quarantined.append(quarantine_rows(bad, kind, "duplicate_key", "|".join(key), value))
        df = df.loc[~clash]
    q = pd.concat(quarantined, ignore_index=True) if quarantined else empty_quarantine()
    return df, q, False


def _entity_duplicates(
    kind: str, schema: Schema, df: pd.DataFrame, quarantined: list[pd.DataFrame]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Name conflicts under one code and names under several codes (appended to
    ``quarantined``); returns (the other rows, the exact duplicates among them)."""
    ident, name = schema.identifier, schema.entity_name
    kept, conflicts = dedupe_by_uscc(df, uscc=ident, name=name, keys=schema.group_keys)
    if len(conflicts):
        quarantined.append(quarantine_rows(conflicts, kind, "duplicate_conflict", ident,
                                           conflicts["conflict_names"].astype(object)))  # fmt: skip
    dropped = df.loc[~df.index.isin(conflicts.index) & ~df.index.isin(kept.index)]
    df = df.loc[df.index.isin(kept.index)]  # the rows keep their own names
    several = _names_under_several_codes(df, name, ident)
    if several.any():
        flagged = df.loc[several]
        quarantined.append(quarantine_rows(flagged, kind, "name_several_uscc", ident,
                                           _codes_of_names(flagged, name, ident, df)))  # fmt: skip
        df = df.loc[~several]
    return df, dropped


def _revised(kind: str, schema: Schema, df: pd.DataFrame, revisions: Revisions) -> pd.DataFrame:
    """``df`` without the rows a later report revised (recorded in ``revisions``)."""
    key = list(schema.key)
    clash = df.duplicated(subset=key, keep=False).to_numpy()
    if not clash.any():
        return df
    rows = np.flatnonzero(clash)
    groups = df.iloc[rows].groupby(key, dropna=False, sort=False).ngroup().to_numpy()
    superseded, found = supersede(kind, schema, df, rows, groups, revisions)
    revisions.found.append(found)
    if not superseded.any():
        return df
    gone = df.iloc[rows[superseded]]
    revisions.superseded.append(gone[["source_file", "source_sheet"]].astype(str).assign(kind=kind))
    return df.drop(index=gone.index)


def _names_under_several_codes(df: pd.DataFrame, name: str, ident: str) -> np.ndarray:
    """Rows whose name appears with more than one credit code among ``df``'s rows."""
    pairs = df[[name, ident]].astype(object).dropna().drop_duplicates()
    codes_per_name = pairs.groupby(name).size()
    return (df[name].map(codes_per_name).fillna(0) > 1).to_numpy() & df[ident].notna().to_numpy()


def _codes_of_names(flagged: pd.DataFrame, name: str, ident: str, kept: pd.DataFrame) -> pd.Series:
    """Per flagged row, "code A | code B": every credit code its name appears under."""
    rows = kept.loc[kept[name].isin(set(flagged[name])), [name, ident]].drop_duplicates()
    joined = rows.groupby(name, sort=False)[ident].agg(lambda u: " | ".join(sorted(map(str, u))))
    return flagged[name].map(joined).astype(object)


def sort(kind: str, df: pd.DataFrame, known_sorted: bool = False) -> pd.DataFrame:
    """The processed table's order: the kind's key, then lineage (stable, missing last)."""
    keys = [*SCHEMAS[kind].key, *LINEAGE]
    return df.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)


def write_csv(df: pd.DataFrame, target: Path) -> None:
    """UTF-8 with BOM (Excel opens it as UTF-8), no formula can start in a cell, ISO dates."""
    text = neutralize_formulas(df).to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d")
    atomic_write_text(target, "\ufeff" + text, encoding="utf-8")


ENGINE = Engine("reference", process_rows, dedupe, sort, write_csv)
