"""Data layer: one pipeline per input kind (schema, quarantine, reconciliation, lineage).

Public API: ``run_clean(raw_dir, out_dir, progress=True) -> CleanRun``,
``clean_file(path, kind) -> CleanResult``, ``load_processed(kind, processed_dir)``,
``is_synthetic(processed_dir)``, ``KINDS`` and ``SCHEMAS`` (every kind's declaration, one file
each in ``data/kinds/``), ``register_kind``. Rules: ``data.rules``. The national/Hunan public series live in
``data.public``.
"""

from .kinds import KINDS, SCHEMAS, register_kind
from .one_file import CleanResult, clean_file
from .run import CleanRun, FileFailure, SkippedInput, is_synthetic, load_processed, run_clean

__all__ = [
    "KINDS",
    "SCHEMAS",
    "CleanResult",
    "CleanRun",
    "FileFailure",
    "SkippedInput",
    "clean_file",
    "is_synthetic",
    "load_processed",
    "register_kind",
    "run_clean",
]
