"""Display formatting of the notebooks' tables (tables.format_table, tables.status_display)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers_evaluation import make_evaluation

from tianxin_analysis import tables


def test_format_table_writes_separators_percent_units_and_dashes():
    frame = pd.DataFrame(
        {
            "kind": ["a", None],
            "year": [2023, 2024],
            "rows": [1234567, 12],
            "value": [4530.573005, np.nan],
            "share": [0.603152, 0.0],
            "ok": [True, False],
        },
        index=pd.Index([10, 11], name="i"),
    )
    out = tables.format_table(frame, percent=["share"], units={"value": "万元"})
    assert out.to_dict("list") == {
        "kind": ["a", "—"],
        "year": ["2023", "2024"],  # a year is a label: no separator
        "rows": ["1,234,567", "12"],
        "value": ["4,530.57 万元", "—"],
        "share": ["60.3%", "0.0%"],
        "ok": ["是", "否"],
    }
    assert out.index.equals(frame.index) and list(out.columns) == list(frame.columns)
    # One number of decimals per column, as many as its values need.
    mixed = tables.format_table(pd.DataFrame({"v": [520, 2.8, 1.0]}))["v"].tolist()
    assert mixed == ["520.0", "2.8", "1.0"]
    fixed = tables.format_table(frame[["value"]], unit="%", digits=1)
    assert fixed["value"].tolist() == ["4,530.6%", "—"]
    assert tables.format_table(frame[["value"]], digits={"value": 0})["value"].tolist() == [
        "4,531",
        "—",
    ]


def test_status_display_writes_each_target_in_its_unit():
    ev = make_evaluation(synthetic=True)
    shown = tables.status_display(ev)
    assert list(shown.index) == ev.table["name_zh"].tolist()
    assert "年末预测" in shown.columns and "指标代码" not in shown.columns
    row = ev.table.set_index("target_id").loc["tech_contracts_count"]
    one = tables.status_display(ev, ["tech_contracts_count"]).iloc[0]
    assert one["年末预测"] == f"{row['point']:,.0f} 项"
    assert one["完成概率"] == f"{row['p_meet']:.0%}"
    assert one["比较"] == "≥"
    rr = tables.status_display(ev, ["tech_contracts_count"], ["required_run_rate"]).iloc[0, 0]
    assert rr == (
        "—" if pd.isna(row["required_run_rate"]) else f"{row['required_run_rate']:.2f} 倍"
    )
    pct = tables.status_display(ev, ["rd_intensity_2023"], ["point"]).iloc[0, 0]
    assert pct.endswith("%") and " " not in pct
