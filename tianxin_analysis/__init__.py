"""tianxin-analysis: monitoring the targets of Tianxin District's annual S&T work plan.

Flow of data (imports point down this list only)::

    io        read any container (xlsx, xls, encrypted xls, HTML-as-xls, CSV in GBK/UTF-8)
    clean     pure DataFrame -> DataFrame normalisers (numbers, units, dates, names, USCC)
    data      one pipeline per input kind: schema, quarantine, reconciliation, lineage
    targets   the plan's targets as data (data/raw/targets/<year>.yaml)
    forecast  one model per kind of target -> ForecastResult
    charts    one house style for briefing charts
    report    the briefing pack (HTML, PDF, XLSX)
    cli       the ``tianxin`` command

What a notebook needs is importable from here (loaded on first use, so ``import
tianxin_analysis`` stays light)::

    from tianxin_analysis import clean_file, run_clean, load_processed, KINDS
    result = clean_file("data/raw/tech_contracts/2024.xlsx", "tech_contracts")
    result.table, result.quarantine

Extending: a new export kind is one file in ``data/kinds/`` (or ``register_kind(Schema(...))``);
a new validation rule is one function decorated with ``@rule(code, zh=..., en=..., fix=...)``
and listed in a field's ``checks``.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Public name -> module that defines it (imported on first use).
_PUBLIC = {
    "clean_file": "tianxin_analysis.data.one_file",
    "CleanResult": "tianxin_analysis.data.one_file",
    "run_clean": "tianxin_analysis.data.run",
    "CleanRun": "tianxin_analysis.data.run",
    "load_processed": "tianxin_analysis.data.run",
    "KINDS": "tianxin_analysis.data.kinds",
    "register_kind": "tianxin_analysis.data.kinds",
    "Schema": "tianxin_analysis.data.declaration",
    "Field": "tianxin_analysis.data.declaration",
    "rule": "tianxin_analysis.data.rules",
    "Check": "tianxin_analysis.data.rules",
    "InRange": "tianxin_analysis.data.rules",
    "NotFuture": "tianxin_analysis.data.rules",
    "load_targets": "tianxin_analysis.targets",
    "evaluate_targets": "tianxin_analysis.forecast",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> object:
    """PEP 562: the public names of :data:`_PUBLIC`, imported when first asked for."""
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names, for tab completion."""
    return sorted(__all__)
