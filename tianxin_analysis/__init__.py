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
"""

__version__ = "0.1.0"

# The notebook's API, imported on first use (``import tianxin_analysis`` stays light):
# name -> module that defines it.
_LAZY = {
    "load_targets": "tianxin_analysis.targets",
    "evaluate_targets": "tianxin_analysis.forecast",
}


def __getattr__(name: str) -> object:
    """PEP 562: the public names of :data:`_LAZY`, imported when first asked for."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
