"""What a kind of raw export is, as a declaration: :class:`Field`, :class:`Schema` and the
per-row :class:`SheetContext` a kind's ``derive`` step sees, plus small plain-pandas helpers
the kind files share (``reject``, ``year_from``, ``int64``).

Nothing here runs a pipeline: the engines (``data.engine.reference``, ``data.engine.fast``)
carry the declarations out. A kind file in ``data/kinds/`` imports only this module,
``data.rules`` and pandas/numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from .rules import Check, InRange, NotNegative

# Where every output row came from (appended to each processed table).
LINEAGE = ("source_file", "source_sheet", "source_row")

FieldType = (
    str  # text | name | uscc | amount | number | integer | year | batch | date | category | period
)


@dataclass(frozen=True)
class Field:
    """One canonical column of a raw kind.

    ``type``: text, name (enterprise/unit name), uscc, amount (money; ``unit`` is the target
    unit "wan"/"yi", the header's unit applies to bare numbers), number, integer, year,
    batch ("第3批" -> 3), date, category (``categories``, with ``aliases`` for other
    spellings), period (month period "1-2月"). ``checks``: registered rules applied to the
    typed values, in precedence order (``(InRange(lo, hi), NotFuture())``; see ``rules``),
    after the type's own (an amount is :func:`~.rules.NotNegative` first, a year in 2000-2100).
    """

    name: str
    synonyms: tuple[str, ...]
    type: FieldType = "text"
    required: bool = True
    unit: str | None = None
    categories: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()

    @property
    def all_checks(self) -> tuple[Check, ...]:
        """The type's own checks, then the field's, in precedence order."""
        return (*TYPE_CHECKS.get(self.type, ()), *self.checks)


# Checks every field of a type carries before its own.
TYPE_CHECKS: dict[str, tuple[Check, ...]] = {
    "amount": (NotNegative(),),
    "year": (InRange(2000, 2100),),
}


@dataclass(frozen=True)
class Schema:
    """Everything one kind's pipeline needs to know about its raw files."""

    kind: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    columns: tuple[str, ...]  # output columns in order (lineage columns are appended)
    # Per sheet: parsed frame + sheet context -> frame with the output columns; may add a
    # ``_rule``/``_column``/``_value`` triple for rows that a kind-specific check rejects.
    derive: Callable[[pd.DataFrame, SheetContext], pd.DataFrame]
    # Raises SchemaError for a sheet this kind cannot hold (e.g. an unknown pipeline).
    validate_sheet: Callable[[str, str], object] | None = None
    # Over all rows of the kind: the name column used to reconcile USCC duplicates, if any.
    entity_name: str | None = None
    # Checks across rows of one sheet after derivation (e.g. monthly vs cumulative).
    sheet_checks: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    # Where an analyst adds header spellings without editing code (named in header errors).
    synonyms_file: str = "data/raw/header_synonyms.yaml"
    # The credit-code column that identifies an entity (with ``entity_name``), if any.
    identifier: str | None = None
    # Column whose values name the processed table's partitions (``<kind>/year=2024/``).
    partition: str = "year"
    # Column numbering the month within the partition's year, for a kind reported by month
    # (a revision then names its period ``2024-03``); None for a yearly kind.
    month: str | None = None
    # Output columns whose dtype is not read off the values: integers (int64, or nullable
    # Int64). Dates are datetime64[ns], floats float64 and the rest ``str`` (``tidy_types``).
    dtypes: Mapping[str, str] = field(default_factory=dict)

    @property
    def group_keys(self) -> list[str]:
        """The key without the identifier: the period one entity is counted once in."""
        return [c for c in self.key if c != self.identifier]

    @property
    def field_map(self) -> dict[str, Field]:
        """Fields by canonical name."""
        return {f.name: f for f in self.fields}

    def with_synonyms(
        self, extra: Mapping[str, Sequence[str]], synonyms_file: str | None = None
    ) -> Schema:
        """This schema with ``extra`` (canonical column -> more header spellings) appended to
        the built-in synonyms; ``synonyms_file`` is named in header error messages."""
        fields = tuple(
            replace(f, synonyms=tuple(dict.fromkeys([*f.synonyms, *extra.get(f.name, ())])))
            for f in self.fields
        )
        return replace(self, fields=fields, synonyms_file=synonyms_file or self.synonyms_file)


@dataclass(frozen=True)
class SheetContext:
    """Per-row context of the rows being processed (several sheets are processed at once)."""

    file: pd.Series  # relative to the raw folder
    sheet: pd.Series  # "" for CSV
    context_year: pd.Series  # Int64: a year in the title rows, sheet name or file name
    header_units: Mapping[str, pd.Series]  # canonical column -> unit written in its header


def tidy_types(schema: Schema, df: pd.DataFrame) -> pd.DataFrame:
    """Dtypes of the contract: text as ``str``, the schema's ``dtypes`` (and ``source_row``)
    as declared, dates datetime64[ns], floats float64."""
    declared = {**schema.dtypes, "source_row": "int64"}
    out = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[c] = s.astype("datetime64[ns]")
        elif c in declared:
            out[c] = s.astype(declared[c])
        elif pd.api.types.is_float_dtype(s.dtype):
            out[c] = s.astype("float64")
        else:
            out[c] = s.astype("str")
    return pd.DataFrame(out, index=df.index)


def reject(
    frame: pd.DataFrame, mask: pd.Series, rule: str, column: str, value: pd.Series
) -> pd.DataFrame:
    """Mark rows of ``frame`` (where ``mask``) as rejected by a kind-specific rule: the
    ``_rule``/``_column``/``_value`` columns a ``derive`` step may add (the first rule a row
    fails wins)."""
    if "_rule" not in frame.columns:
        frame = frame.assign(_rule=None, _column=None, _value=None).astype(
            {"_rule": object, "_column": object, "_value": object}
        )
    hit = mask.fillna(False).astype(bool) & frame["_rule"].isna()
    if not hit.any():
        return frame
    rule_s = frame["_rule"].where(~hit, rule)
    col_s = frame["_column"].where(~hit, column)
    val_s = frame["_value"].where(~hit, value.astype(object))
    return frame.assign(_rule=rule_s, _column=col_s, _value=val_s)


def year_from(frame: pd.DataFrame, ctx: SheetContext, *candidates: str) -> pd.Series:
    """The first of the ``candidates`` columns that holds a year, else the sheet's year."""
    year = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    for c in candidates:
        if c in frame.columns:
            year = year.fillna(frame[c].astype("Int64"))
    if ctx.context_year is not None:
        year = year.fillna(ctx.context_year)
    return year


def int64(s: pd.Series) -> pd.Series:
    """Integers as int64, missing as -1 (such rows are rejected as ``missing_required``)."""
    return s.astype("Int64").fillna(-1).astype("int64")


def missing_year(frame: pd.DataFrame, year: pd.Series) -> pd.DataFrame:
    """``frame`` with the rows whose year is unknown rejected as ``missing_required``."""
    empty = pd.Series("", index=frame.index, dtype=object)
    return reject(frame, year.isna(), "missing_required", "year", empty)
