"""Data layer: one pipeline per input kind (schema, quarantine, reconciliation, lineage).

Public API: ``run_clean(raw_dir, out_dir, progress=True) -> CleanRun``,
``load_processed(kind, processed_dir)``, ``is_synthetic(processed_dir)``, ``KINDS`` and
``SCHEMAS`` (header synonyms of every kind). The national/Hunan public series live in
``data.public``.
"""

from .kinds import KINDS, SCHEMAS
from .run import CleanRun, FileFailure, SkippedInput, is_synthetic, load_processed, run_clean

__all__ = [
    "KINDS",
    "SCHEMAS",
    "CleanRun",
    "FileFailure",
    "SkippedInput",
    "is_synthetic",
    "load_processed",
    "run_clean",
]
