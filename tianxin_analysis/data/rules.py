"""Quarantine rules: code -> (zh, en) reason, and the columns of the quarantine table.

The texts live in ``labels.REASONS`` (the one place for analyst-facing labels).
"""

from __future__ import annotations

from .. import labels

QUARANTINE_COLUMNS = (
    "kind", "source_file", "source_sheet", "source_row", "column", "value",
    "rule", "reason_zh", "reason_en",
)  # fmt: skip


def reasons() -> dict[str, tuple[str, str]]:
    """Every quarantine rule the pipelines can raise."""
    return labels.REASONS


def reason(rule: str) -> tuple[str, str]:
    table = reasons()
    if rule not in table:
        raise KeyError(f"quarantine rule without a reason text: {rule!r}")
    return table[rule]
