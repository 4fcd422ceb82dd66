"""Extending the cleaning without reading the engines: a new export kind is one file in a
kinds folder, a new validation rule is one decorated function, and both flow through
``tianxin clean`` (CLI) with the rule's reason texts in the quarantine, on both engines.

The toy rule is not element-wise (it compares each count with the column's median), and the
toy export has enough repeated cells for the fast engine to work on distinct values: a rule
evaluated per distinct value would give another answer there.
"""

from __future__ import annotations

import sys
import textwrap

import pandas as pd
import pytest

import tianxin_analysis
from tianxin_analysis.cli import main
from tianxin_analysis.data import kinds, rules

TOY_KIND_FILE = '''
"""实验室开放日 lab open days: visitors per lab and year (a toy kind for the tests)."""

import pandas as pd

from tianxin_analysis import Check, Field, Schema, rule
from tianxin_analysis.data.declaration import int64, missing_year, year_from


@rule(
    "too_many_visitors",
    zh="参观人数远超其他实验室",
    en="far more visitors than the other labs",
    fix=("核对参观人数", "check the visitor count"),
    elementwise=False,
)
def too_many_visitors(values: pd.Series, ctx, times: float = 10.0) -> pd.Series:
    """Counts above ``times`` the median count of the column (rows, not distinct values)."""
    return values > times * values.median()


def _derive(df: pd.DataFrame, ctx) -> pd.DataFrame:
    year = year_from(df, ctx, "year")
    out = pd.DataFrame(
        {"lab": df["lab"], "year": int64(year), "visitors": df["visitors"].astype("float64")},
        index=df.index,
    )
    return missing_year(out, year)


KIND = Schema(
    kind="lab_open_days",
    fields=(
        Field("lab", ("实验室名称", "实验室")),
        Field("year", ("年度",), "year", required=False),
        Field("visitors", ("参观人数",), "number", checks=(Check("too_many_visitors"),)),
    ),
    key=("lab", "year"),
    columns=("lab", "year", "visitors"),
    derive=_derive,
    dtypes={"year": "int64"},
)
'''


@pytest.fixture
def toy_kind(tmp_path, monkeypatch):
    """The toy kind file in a kinds folder of its own, discovered like a built-in kind."""
    folder = tmp_path / "more_kinds"
    folder.mkdir()
    (folder / "lab_open_days.py").write_text(textwrap.dedent(TOY_KIND_FILE), encoding="utf-8")
    monkeypatch.setattr(kinds, "__path__", [*kinds.__path__, str(folder)])
    assert kinds.discover() == ["lab_open_days"]
    yield kinds.SCHEMAS["lab_open_days"]
    kinds.unregister_kind("lab_open_days")
    rules.unregister("too_many_visitors")
    sys.modules.pop("tianxin_analysis.data.kinds.lab_open_days", None)


def _write_export(raw, n_labs: int = 1200) -> None:
    """Most labs had 10 visitors, a few 20-90, one 500: the median of the rows is 10 (500 is
    flagged), the median of the distinct counts 50 (500 would pass)."""
    visitors = [10] * n_labs
    for i, v in enumerate([20, 30, 40, 50, 60, 70, 80, 90, 500]):
        visitors[i] = v
    frame = pd.DataFrame(
        {"实验室名称": [f"实验室{i:04d}" for i in range(n_labs)], "年度": "2024年",
         "参观人数": visitors}
    )  # fmt: skip
    folder = raw / "lab_open_days"
    folder.mkdir(parents=True)
    frame.to_csv(folder / "开放日登记.csv", index=False, encoding="utf-8")


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_a_kind_file_and_a_rule_function_flow_through_clean(
    tmp_path, toy_kind, engine, monkeypatch
):
    raw, out = tmp_path / "raw", tmp_path / "processed"
    _write_export(raw)
    if engine == "reference":  # the CLI runs the default (fast) engine
        from tianxin_analysis.data import run

        monkeypatch.setitem(run.ENGINES, "fast", run.ENGINES["reference"])
    assert main(["--quiet", "clean", "--raw", str(raw), "--processed", str(out)]) == 0
    table = pd.read_csv(out / "lab_open_days.csv", encoding="utf-8-sig")
    quarantine = pd.read_csv(out / "quarantine.csv", encoding="utf-8-sig", dtype=str)
    assert len(table) == 1199 and table["year"].eq(2024).all()
    assert quarantine[["kind", "rule", "column", "value", "reason_zh", "reason_en"]].values.tolist() == [
        ["lab_open_days", "too_many_visitors", "visitors", "500",
         "参观人数远超其他实验室", "far more visitors than the other labs"],
    ]  # fmt: skip
    assert tianxin_analysis.load_processed("lab_open_days", out)["visitors"].max() == 90


def test_registered_rule_texts_and_fix_come_from_the_registry(toy_kind):
    assert rules.reason("too_many_visitors") == (
        "参观人数远超其他实验室", "far more visitors than the other labs"
    )  # fmt: skip
    assert rules.source_fix()["too_many_visitors"] == ("核对参观人数", "check the visitor count")
    assert "lab_open_days" in tianxin_analysis.KINDS


def test_a_kind_registered_in_code_is_cleaned_by_clean_file(tmp_path):
    schema = tianxin_analysis.Schema(
        kind="toy_parks",
        fields=(
            tianxin_analysis.Field("park", ("园区",)),
            tianxin_analysis.Field(
                "area_mu", ("面积",), "number", checks=(tianxin_analysis.InRange(1, 10_000),)
            ),
        ),  # fmt: skip
        key=("park",),
        columns=("park", "area_mu"),
        derive=lambda df, ctx: df[["park", "area_mu"]],
        partition="area_mu",
    )
    tianxin_analysis.register_kind(schema)
    try:
        path = tmp_path / "toy_parks" / "parks.csv"
        path.parent.mkdir()
        path.write_text("园区,面积\n岳麓园,120\n天心园,0.5\n", encoding="utf-8")
        result = tianxin_analysis.clean_file(path, "toy_parks")
    finally:
        kinds.unregister_kind("toy_parks")
    assert result.table["park"].tolist() == ["岳麓园"] and result.balanced
    assert result.quarantine[["rule", "value"]].values.tolist() == [["out_of_range", "0.5"]]


def test_a_rule_code_cannot_be_registered_twice_differently():
    with pytest.raises(ValueError, match="already registered"):
        rules.declare("future_date", zh="别的", en="something else")
