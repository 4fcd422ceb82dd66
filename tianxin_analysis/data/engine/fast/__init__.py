"""The fast engine: the reference engine's results on 10^6-row registries in seconds.

``rows`` (rules, parsing and derivation on distinct values, two threads), ``dedupe`` (integer
codes), ``sort`` (mixed-radix ranks) and ``csv`` (Arrow kernels) implement the four steps of
:class:`~tianxin_analysis.data.engine.Engine`; ``tests/test_engines_equivalent.py`` holds them
to the reference engine byte for byte.
"""

from __future__ import annotations

from .. import Engine
from .csv import _write_csv
from .dedupe import _dedupe_sorted
from .rows import process_rows_coded
from .sort import _sort

ENGINE = Engine("fast", process_rows_coded, _dedupe_sorted, _sort, _write_csv)
