"""Every raw kind, one declaration file each: ``data/kinds/<kind>.py`` defines ``KIND``, a
:class:`~tianxin_analysis.data.declaration.Schema` (fields with header synonyms, types, units
and checks; key, identifier, partition column, dtypes; the ``derive`` step and cross-row
checks, in plain pandas).

Adding a kind is adding one file here (it is found by name, after the built-in kinds), or
calling :func:`register_kind` from anywhere. ``SCHEMAS`` maps kind -> schema; ``KINDS`` is the
live view of its names, in processing order. To accept another spelling of a header in a real
export without a code change, add it to ``data/raw/header_synonyms.yaml`` (``data.synonyms``).
"""

from __future__ import annotations

import importlib
import pkgutil

from ..declaration import Schema
from .pipelines import PIPELINES, pipeline_of_sheet

# The order kinds are processed and listed in (quarantine, reconciliation, summaries).
BUILTIN = (
    "hitech_certificates", "tech_sme_registrations", "tech_contracts", "hitech_value_added",
    "rd_expenditure", "district_gdp", "pipelines",
)  # fmt: skip

SCHEMAS: dict[str, Schema] = {}
KINDS = SCHEMAS.keys()


def register_kind(schema: Schema) -> Schema:
    """Add (or replace) a kind; ``run_clean`` reads ``data/raw/<schema.kind>/`` from now on."""
    SCHEMAS[schema.kind] = schema
    return schema


def unregister_kind(kind: str) -> None:
    """Forget a kind added with :func:`register_kind` (tests clean up with this)."""
    SCHEMAS.pop(kind, None)


def discover() -> list[str]:
    """Register the ``KIND`` of every module in this package's folders not registered yet
    (the built-in kinds first, in their order; then the others by name). Runs on import;
    call it again after adding a folder to ``__path__``. Returns the kinds it added."""
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    added = []
    for name in [*BUILTIN, *(m for m in found if m not in BUILTIN)]:
        schema = importlib.import_module(f"{__name__}.{name}").KIND
        if schema.kind not in SCHEMAS:
            register_kind(schema)
            added.append(schema.kind)
    return added


discover()

__all__ = ["KINDS", "PIPELINES", "SCHEMAS", "discover", "pipeline_of_sheet", "register_kind",
           "unregister_kind"]  # fmt: skip
