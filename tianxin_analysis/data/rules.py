"""Quarantine rules: code -> (zh, en) reason, and the columns of the quarantine table.

The shared codes live in ``labels.REASONS``; the data layer adds the few that only its
kind-level checks raise (kept here until they are appended to ``labels.REASONS``).
"""

from __future__ import annotations

from .. import labels

QUARANTINE_COLUMNS = (
    "kind", "source_file", "source_sheet", "source_row", "column", "value",
    "rule", "reason_zh", "reason_en",
)  # fmt: skip

_DATA_REASONS = {
    "duplicate_row": ("与前一行完全重复", "exact duplicate of an earlier row"),
    "duplicate_key": (
        "同一主键对应不同记录",
        "another row has the same key with different values",
    ),
    "cumulative_mismatch": (
        "本月数与累计数不一致",
        "monthly value disagrees with the cumulative column",
    ),
    "total_row": ("合计行，非数据行", "total row, not data"),
}


def reasons() -> dict[str, tuple[str, str]]:
    """Every quarantine rule the pipelines can raise."""
    return {**_DATA_REASONS, **getattr(labels, "REASONS", {})}


def reason(rule: str) -> tuple[str, str]:
    table = reasons()
    if rule not in table:
        raise KeyError(f"quarantine rule without a reason text: {rule!r}")
    return table[rule]
