"""The quarantine table: how a rejected cell is shown (``data.quarantine``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tianxin_analysis.data.quarantine import quarantine_rows


def _rows(values: list[object]) -> pd.DataFrame:
    n = len(values)
    frame = pd.DataFrame({"source_file": ["a.csv"] * n, "source_sheet": [""] * n,
                          "source_row": np.arange(2, n + 2)})  # fmt: skip
    return quarantine_rows(frame, "hitech_certificates", "duplicate_row", "name",
                           pd.Series(values, dtype=object))  # fmt: skip


def test_each_cell_is_shown_as_text_escaped_and_masked_even_when_values_repeat():
    cells = [1, True, 1.0, 2.5, None, float("nan"), "a\x1bb", "a\x1bb", "第\t一",
             "电话 13812345678", "电话 13812345678", "联系人：张三", "ok", "ok", ""]  # fmt: skip
    q = _rows(cells)
    assert q["value"].tolist() == [
        "1", "True", "1", "2.5", "", "", "a\\x1bb", "a\\x1bb", "第\t一",
        "电话 [电话已隐去]", "电话 [电话已隐去]", "联系人：[姓名已隐去]", "ok", "ok", "",
    ]  # fmt: skip
    assert q["value"].dtype == object and q["source_row"].tolist() == list(range(2, 17))
    assert q["reason_zh"].nunique() == 1 and q["reason_zh"].iloc[0]


def test_an_empty_quarantine_keeps_its_columns():
    q = _rows([])
    assert len(q) == 0 and q["value"].dtype == object
    assert list(q.columns)[:6] == ["kind", "source_file", "source_sheet", "source_row",
                                   "column", "value"]  # fmt: skip
