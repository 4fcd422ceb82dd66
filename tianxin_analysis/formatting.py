"""One way to write a number an analyst or a leader reads.

The status table, the charts, the workbook, the Word document and the notebooks show a target's
numbers through these functions, so one value is always written with the same rounding:
``4,531 项`` in the table is ``4,531 项`` on the chart and 4531 in the workbook cell.

Rules (``value_decimals``): counts (家, 项, 栋, 人, 名, 个) and values of 1,000 or more have no
decimals; percentages two decimals below 10 and one from 10; other values one decimal, a
trailing ``.0`` dropped in text (``145 亿元``).
"""

from __future__ import annotations

import numpy as np

from .labels import COMPARATOR

COUNT_UNITS = ("家", "项", "栋", "人", "名", "个")


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return not np.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def value_decimals(value: float, unit: str) -> int:
    """How many decimals ``value`` in ``unit`` is shown with (see the module docstring)."""
    if unit == "%":
        return 2 if abs(value) < 10 else 1
    if unit in COUNT_UNITS or abs(value) >= 1000:
        return 0
    return 1


def rounded(value: object, unit: str) -> float | None:
    """``value`` rounded as it is shown (None when missing): what a workbook cell stores."""
    if _missing(value):
        return None
    x = float(value)  # type: ignore[arg-type]
    return round(x, value_decimals(x, unit))


def format_value(value: object, unit: str = "", *, with_unit: bool = True) -> str:
    """``4,390 项``, ``151.9 亿元``, ``145 亿元``, ``2.77%``; ``—`` for a missing value."""
    if _missing(value):
        return "—"
    x = float(value)  # type: ignore[arg-type]
    d = value_decimals(x, unit)
    if unit == "%":
        text = f"{x:.{d}f}"
        return f"{text}%" if with_unit else text
    text = f"{x:,.{d}f}"
    if d == 1:
        text = text.removesuffix(".0")
    return f"{text} {unit}" if with_unit and unit else text


def excel_number_format(value: object, unit: str) -> str:
    """The Excel number format that shows a ``rounded`` value as ``format_value`` writes it."""
    if _missing(value):
        return "General"
    x = float(value)  # type: ignore[arg-type]
    d = value_decimals(x, unit)
    if unit == "%":
        return "0.00" if d == 2 else "0.0"
    if d == 0:
        return "#,##0"
    # 145 is written "145", 151.9 "151.9": the format follows the rounded value.
    return "#,##0" if float(round(x, 1)).is_integer() else "#,##0.0"


def format_probability(p: object) -> str:
    """``63%``; ``—`` for a missing probability."""
    if _missing(p):
        return "—"
    return f"{float(p):.0%}"  # type: ignore[arg-type]


def format_points(delta: object, *, signed: bool = True) -> str:
    """A difference of two percentages in percentage points: ``+0.4 个百分点``."""
    if _missing(delta):
        return "—"
    x = float(delta)  # type: ignore[arg-type]
    text = f"{x:+.1f}" if signed else f"{abs(x):.1f}"
    return f"{text.replace('-', '−')} 个百分点"


def format_target(comparator: str, value: float, unit: str) -> str:
    """The target as the plan writes it: ``≥4500 项``, ``≈2.8%``."""
    sep = "" if unit == "%" else " "
    return f"{COMPARATOR.get(comparator, comparator)}{float(value):g}{sep}{unit}"


def display_width(text: object) -> float:
    """Width of ``text`` in half-width characters (a CJK character counts 2, others 1.1)."""
    s = "" if text is None else str(text)
    return sum(2.0 if ord(ch) > 0x2E80 else 1.1 for ch in s)


def column_widths(headers, rows, pad: float = 2.5) -> list[float]:
    """Relative widths of table columns: the widest cell (a header may wrap onto two lines)
    plus ``pad`` for the cell padding, so narrow columns of digits are not squeezed."""
    rows = [list(r) for r in rows]
    return [max([display_width(h) * 0.55] + [display_width(r[i]) for r in rows]) + pad
            for i, h in enumerate(headers)]  # fmt: skip



def fit_widths(content, minimum, total: float, flexible: tuple[int, ...] = (0,)) -> list[float]:
    """Column widths that sum to ``total`` (any unit): column ``j`` gets ``content[j]`` (its
    widest cell on one line), at least ``minimum[j]``, and a share of the spare width in
    proportion. When the content does not fit, the ``flexible`` columns (text that may wrap,
    such as names) give way first, down to their minimum; only then is every column scaled."""
    want = [max(float(c), float(m)) for c, m in zip(content, minimum, strict=True)]
    over = sum(want) - total
    for j in flexible if over > 0 else ():
        give = min(over, want[j] - float(minimum[j]))
        want[j] -= give
        over -= give
    return [w * total / sum(want) for w in want]



# A name column keeps at least this many characters a line when names must wrap.
NAME_MIN_TEXT = "新增市级以上"


def table_widths(headers, rows, total: float, measure, pad: float) -> list[float]:
    """Widths (the unit of ``total`` and ``measure``) of a table whose first column holds
    names: each other cell on one line (a wrapped ``2.81%（2023年已公布）`` or ``难以完/成``
    reads badly), a header on at most two lines, names wrapping first when the page is
    narrow (``fit_widths``). ``measure(text)`` is the text's width in the table's font;
    ``pad`` the cell margins of one column."""
    rows = [list(r) for r in rows]
    content = [max([measure(str(r[j])) for r in rows], default=0.0) + pad
               for j in range(len(headers))]  # fmt: skip
    minimum = []
    for h in map(str, headers):
        k = (len(h) + 1) // 2
        minimum.append(max(measure(h[:k]), measure(h[k:])) + pad)
    minimum[0] = max(minimum[0], measure(NAME_MIN_TEXT) + pad)
    return fit_widths(content, minimum, total)


def balanced_lines(text: str, room: float, measure) -> str:
    """``text`` broken into lines of even length (joined by ``"\n"``) when it is wider than
    ``room``; ``measure(text)`` gives a width in the unit of ``room``. Greedy wrapping, as PDF
    and Word cells do, leaves a character or two on the last line (完成概/率, 高新技术产业增加值/
    增速). Text that fits, or already holds a line break, is returned as it is."""
    if measure(text) <= room or "\n" in text:
        return text
    n = int(np.ceil(measure(text) / room))
    while n < len(text):
        k = -(-len(text) // n)  # characters a line
        parts = [text[i : i + k] for i in range(0, len(text), k)]
        if all(measure(p) <= room for p in parts):
            return "\n".join(parts)
        n += 1
    return text


__all__ = [
    "COUNT_UNITS",
    "balanced_lines",
    "column_widths",
    "display_width",
    "excel_number_format",
    "fit_widths",
    "format_points",
    "format_probability",
    "format_target",
    "format_value",
    "rounded",
    "table_widths",
    "value_decimals",
]
