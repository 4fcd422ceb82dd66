"""The quarantine table: one row per rejected input row, with the rule, its zh/en reason
(from the rule registry) and the cell as found (personal data masked, control characters
shown as escapes)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import clean
from ..errors import printable
from .fields import cell_text
from .rules import QUARANTINE_COLUMNS, reason


def empty_quarantine() -> pd.DataFrame:
    """A quarantine table without rows."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in QUARANTINE_COLUMNS}).astype(
        {"source_row": "int64"}
    )


def with_reasons(q: pd.DataFrame) -> pd.DataFrame:
    """``q`` (kind, lineage, column, value, rule) with the reasons, in QUARANTINE_COLUMNS."""
    # reason() once per distinct rule (a few), at its first row: the first row with an
    # unknown rule still raises, and its ~1 µs per call is not paid twice for 10^4+ rows.
    rules = q["rule"].tolist()
    texts: dict[object, tuple[str, str]] = {}
    for r in rules:
        if r not in texts:
            texts[r] = reason(r)
    zh = [texts[r][0] for r in rules]
    en = [texts[r][1] for r in rules]
    out = q.assign(reason_zh=pd.Series(zh, index=q.index, dtype=object),
                   reason_en=pd.Series(en, index=q.index, dtype=object))  # fmt: skip
    out = out.assign(value=pd.Series(shown_values(out["value"]), index=out.index, dtype=object))
    return out[list(QUARANTINE_COLUMNS)]


def shown_values(values: pd.Series) -> np.ndarray:
    """The cells as a quarantine shows them (object array of ``str``): as text
    (``cell_text``), control characters as escapes, personal data masked.

    The quarantine is an output like any other: personal data inside a value is masked (the
    row keeps its place and reason). A quarantine repeats its values (a name under several
    codes is quarantined on each of its rows), so the text work runs once per distinct text.
    """
    if isinstance(values.dtype, pd.CategoricalDtype) and values.notna().all():
        # a few distinct texts repeated over the rows (a name's credit codes): each shown once
        shown = shown_values(pd.Series(values.cat.categories.to_numpy(dtype=object)))
        return shown[values.cat.codes.to_numpy()]
    # Each cell's text numbered in order of first sight (a dict: twice as fast as factorising
    # an object array). cell_text of a str is the str itself; other cells (numbers, dates)
    # become text first, so that 1 and True, equal as keys, are never confused.
    number_of: dict[str, int] = {}
    codes = [
        number_of.setdefault(v if type(v) is str else cell_text(v), len(number_of))
        for v in values.tolist()
    ]
    shown = pd.Series([printable(t, keep_whitespace=True) for t in number_of], dtype=str)
    shown = clean.mask_personal_data(shown).fillna("").to_numpy(dtype=object)
    return shown[np.asarray(codes, dtype=np.intp)]


def quarantine_rows(
    frame: pd.DataFrame, kind: str, rule: str, column: str, value: pd.Series
) -> pd.DataFrame:
    """Quarantine rows for clean rows rejected at kind level (duplicates, conflicts)."""
    # a categorical stays one (shown_values then works on its categories)
    categorical = isinstance(value.dtype, pd.CategoricalDtype)
    q = pd.DataFrame(
        {
            "kind": kind,
            "source_file": frame["source_file"].to_numpy(dtype=object),
            "source_sheet": frame["source_sheet"].to_numpy(dtype=object),
            "source_row": frame["source_row"].astype("int64").to_numpy(),
            "column": column,
            "value": value.array if categorical else value.to_numpy(dtype=object),
            "rule": rule,
        }
    )
    return with_reasons(q)
