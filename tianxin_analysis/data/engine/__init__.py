"""Engines carry out the kind declarations: two implementations behind one interface.

* ``reference`` (:mod:`.reference`): readable pandas, the specification of what cleaning
  does to the rows of one kind (rules -> derive -> cross-row checks -> dedupe -> sort -> CSV).
* ``fast`` (:mod:`.fast`): the same results (identical frames, quarantine and
  CSV bytes; ``tests/test_engines_equivalent.py``), on distinct values, sorted codes, two
  threads and Arrow kernels, for registries of 10^6 rows.

``run_clean(..., engine="reference")`` picks one; reading, header mapping, reconciliation,
lineage and publishing are shared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Engine:
    """The four steps an engine implements (see :mod:`.reference` for their contracts).

    ``process_rows(sheets, schema, today, consume=...) -> (clean rows, quarantine, extra)``;
    ``dedupe(kind, schema, rows, extra, revisions) -> (rows, quarantine, rows are sorted)``;
    ``sort(kind, rows, known_sorted) -> rows``; ``write_csv(frame, path)``. ``extra`` is
    whatever ``process_rows`` hands on to ``dedupe`` (the fast engine's distinct values).
    """

    name: str
    process_rows: Callable[..., tuple[Any, Any, Any]]
    dedupe: Callable[..., tuple[Any, Any, bool]]
    sort: Callable[..., Any]
    write_csv: Callable[..., None]
