"""process_rows_coded's per-distinct columns, and _dedupe coding the USCC and name columns from
them, against the row-by-row coding they replace."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tianxin_analysis.data import run
from tianxin_analysis.data import schema as schema_module
from tianxin_analysis.data.kinds import SCHEMAS
from tianxin_analysis.data.schema import (
    DistinctValues,
    _same_text,
    prepare_sheet,
    process_rows,
    process_rows_coded,
)
from tianxin_analysis.io import read_sheets

_REGISTRY = Path(__file__).resolve().parents[1] / "benchmarks" / "registry.py"
_spec = importlib.util.spec_from_file_location("tianxin_benchmarks_registry", _REGISTRY)
registry = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(registry)

KIND = "hitech_certificates"
TODAY = pd.Timestamp("2024-07-01")


def _prepared(tmp_path: Path, n: int, seed: int):
    path = registry.write_registry_csv(tmp_path / f"registry_{seed}.csv", n, seed=seed)
    schema = SCHEMAS[KIND]
    return [
        prepare_sheet(s, f"{KIND}/{path.name}", schema) for s in read_sheets(path, as_text=True)
    ]


@pytest.mark.parametrize(("n", "seed"), [(3000, 1), (60_000, 2)])
def test_distinct_values_are_the_clean_columns_and_dedupe_is_unchanged(tmp_path, n, seed):
    schema = SCHEMAS[KIND]
    sheets = _prepared(tmp_path, n, seed)
    df, q, distinct = process_rows_coded(sheets, schema, TODAY)
    plain_df, plain_q = process_rows(sheets, schema, TODAY)
    pd.testing.assert_frame_equal(df, plain_df)
    pd.testing.assert_frame_equal(q, plain_q)
    handed = list(sheets)  # consume=True (run_clean's call) empties the list it is handed
    consumed_df, consumed_q, _ = process_rows_coded(handed, schema, TODAY, consume=True)
    assert handed == [] and len(sheets) == 1
    pd.testing.assert_frame_equal(consumed_df, df)
    pd.testing.assert_frame_equal(consumed_q, q)
    assert {"uscc", "enterprise_name"} <= set(distinct)  # repeated in a registry
    for c, d in distinct.items():
        rebuilt = pd.Series(d.values.take(d.positions).array, name=c)
        pd.testing.assert_series_equal(rebuilt, df[c], check_names=False)

    coded, coded_q = run._dedupe(KIND, schema, df, distinct)
    plain, plain_dq = run._dedupe(KIND, schema, df)
    pd.testing.assert_frame_equal(coded, plain)
    pd.testing.assert_frame_equal(coded_q, plain_dq)
    assert set(coded_q["rule"]) >= {"duplicate_row", "duplicate_conflict"}
    # each column alone handed over
    for c in distinct:
        one, one_q = run._dedupe(KIND, schema, df, {c: distinct[c]})
        pd.testing.assert_frame_equal(one, plain)
        pd.testing.assert_frame_equal(one_q, plain_dq)
    # the run skips _sort's check when _dedupe_sorted says its rows are in order: they are
    got, _, in_order = run._dedupe_sorted(KIND, schema, df, distinct)
    assert in_order and run._is_sorted(got, [*schema.key, *run.LINEAGE])
    pd.testing.assert_frame_equal(run._sort(KIND, got, known_sorted=True), run._sort(KIND, got))
    shuffled = got.iloc[::-1]
    assert not run._is_sorted(shuffled, [*schema.key, *run.LINEAGE])


def test_distinct_values_with_repeats_and_missing_code_like_the_rows():
    """Distinct raw cells may parse to equal values, and to missing ones that no clean row
    refers to: the codes still group exactly the equal values, as coding the rows does."""
    values = pd.Series(["b", "a", "b", None, "a", "c", None], dtype="str")
    rng = np.random.default_rng(3)
    pos = rng.choice([0, 1, 2, 4, 5], 70_000)
    names = pd.Series(["甲公司", "乙公司", "甲公司", None, "丙公司", "丁公司", None], dtype="str")
    npos = rng.choice([0, 1, 2, 4, 5], len(pos), p=[0.3, 0.3, 0.2, 0.1, 0.1])
    df = pd.DataFrame(
        {
            "enterprise_name": pd.Series(names.take(npos).array),
            "uscc": pd.Series(values.take(pos).array),
            "certificate_no": pd.Series(np.arange(len(pos)).astype(str), dtype="str"),
            "year": rng.integers(2020, 2023, len(pos)),
            "source_file": pd.Series(["f"] * len(pos), dtype="str"),
            "source_sheet": pd.Series([""] * len(pos), dtype="str"),
            "source_row": np.arange(len(pos), dtype=np.int64),
        }
    )
    distinct = {
        "uscc": DistinctValues(values, pos),
        "enterprise_name": DistinctValues(names, npos),
    }
    schema = SCHEMAS[KIND]
    coded, coded_q = run._dedupe(KIND, schema, df, distinct)
    plain, plain_q = run._dedupe(KIND, schema, df)
    pd.testing.assert_frame_equal(coded, plain)
    pd.testing.assert_frame_equal(coded_q, plain_q)


def test_a_column_derive_changes_is_not_handed_over(tmp_path):
    base = SCHEMAS[KIND]

    def derive(df, ctx):
        out = base.derive(df, ctx)
        return out.assign(
            enterprise_name=out["enterprise_name"].str.replace("有限", "", regex=False)
        )

    schema = dataclasses.replace(base, derive=derive)
    df, _, distinct = process_rows_coded(_prepared(tmp_path, 3000, 4), schema, TODAY)
    assert "enterprise_name" not in distinct and "uscc" in distinct
    d = distinct["uscc"]
    assert pd.Series(d.values.take(d.positions).array).equals(df["uscc"])


def test_same_text_compares_buffers_not_values():
    s = pd.Series(["a", None, "c"], dtype="str")
    assert _same_text(s, pd.DataFrame({"x": s})["x"])
    assert not _same_text(s, s.copy(deep=True).str.upper().str.lower())  # equal, not shared
    assert not _same_text(s, s.iloc[1:])
    assert not _same_text(s, s.fillna("b"))
    assert not _same_text(s, pd.Series(["a", None, "c"], dtype=object))


@pytest.mark.parametrize("n", [0, 5, 60_000])
def test_take_rows_from_distinct_values_equals_dataframe_take(n):
    rng = np.random.default_rng(n)
    few = pd.Series(["x", None, "z", "x"], dtype="str")
    one = pd.Series(["only"], dtype="str")
    gone = pd.Series([None], dtype="str")
    pf, p1, pg = rng.integers(0, 4, n), np.zeros(n, np.int64), np.zeros(n, np.int64)
    df = pd.DataFrame(
        {
            "few": pd.Series(few.take(pf).array),
            "one": pd.Series(one.take(p1).array),
            "gone": pd.Series(gone.take(pg).array),
            "other": rng.integers(0, 9, n),
        }
    ).set_axis(rng.permutation(n) * 3, axis=0)
    distinct = {
        "few": DistinctValues(few, pf),
        "one": DistinctValues(one, p1),
        "gone": DistinctValues(gone, pg),
    }
    order = rng.permutation(n)[: n - n // 4]
    expected = df.take(order)
    pd.testing.assert_frame_equal(run._take_rows(df, order, distinct), expected)
    pd.testing.assert_frame_equal(run._take_rows(df, order), expected)


def test_row_rules_first_failure_with_any_mask_form():
    """Masks as numpy bool on the cells' index, nullable booleans and masks on another
    index order: each row gets its first failing check, and the failing cell as found."""
    from tianxin_analysis.data.schema import Field, _DistinctMask, _FieldResult, _row_rules

    rng = np.random.default_rng(5)
    n = 400
    cells = pd.DataFrame(
        {
            "a": pd.Series(rng.choice(["x", "y", None], n), dtype="str"),
            "b": pd.Series(rng.choice([1.5, None, "t"], n), dtype=object),
            "c": pd.Series(rng.choice(["p", "q", "r", None], n), dtype="str"),
        }
    )
    m1 = pd.Series(rng.random(n) < 0.1, index=cells.index)
    m2 = pd.Series(pd.array(rng.choice([True, False, None], n), dtype="boolean"))
    m3 = pd.Series(rng.random(n) < 0.2, index=cells.index)[::-1]  # reversed labels
    miss_a = pd.Series(rng.random(n) < 0.05, index=cells.index)
    # column c: masks over its 4 distinct cells (p, q, r, missing) and each row's code
    codes_c = pd.Series(pd.Categorical(cells["c"], categories=["p", "q", "r"])).cat.codes
    codes_c = np.where(codes_c < 0, 3, codes_c).astype(np.int64)
    d_miss, d5, d6 = (np.array(v) for v in ([0, 0, 0, 1], [0, 1, 1, 0], [1, 1, 0, 0]))
    d_miss, d5, d6 = (_DistinctMask(v.astype(bool), codes_c) for v in (d_miss, d5, d6))
    results = {
        "a": _FieldResult([("r1", m1), ("r2", m2)], miss_a, None, {}),
        "b": _FieldResult([("r3", m3)], pd.Series(False, index=cells.index), None, {}),
        "c": _FieldResult([("r5", d5), ("r6", d6)], d_miss, None, {}),
    }
    schema = dataclasses.replace(
        SCHEMAS[KIND],
        fields=(Field("a", ("a",)), Field("b", ("b",), required=False), Field("c", ("c",))),
    )
    foot = pd.Series([""] * n, dtype=object)
    foot.iloc[[3, 4]] = ["注：1. 说明", "2. 其他"]
    failing, found = _row_rules(cells, foot, np.zeros(n, dtype=np.int64), schema, results)
    assert found.dtypes.tolist() == [object] * 3
    assert found.index.equals(cells.index[failing])
    got = found.reindex(cells.index)  # rows without a failure: None
    got = got.astype(object).where(got.notna(), None)

    checks = [
        ("footnote_row", "", pd.Series(np.isin(np.arange(n), [3, 4]))),
        ("missing_required", "a", miss_a),
        ("missing_required", "c", pd.Series(d_miss.rows())),
        ("r1", "a", m1),
        ("r2", "a", m2.fillna(False)),
        ("r3", "b", m3.sort_index()),
        ("r5", "c", pd.Series(d5.rows())),
        ("r6", "c", pd.Series(d6.rows())),
    ]
    for i in range(n):
        hit = next(((r, c) for r, c, m in checks if bool(m.iloc[i])), (None, None))
        rule, col = got["rule"].iloc[i], got["column"].iloc[i]
        assert (rule, col) == hit, i
        assert failing[i] == (rule is not None)
        cell = None if col is None else (foot.iloc[i] if col == "" else cells[col].iloc[i])
        if col in ("a", "c"):
            assert got["value"].iloc[i] == ("" if pd.isna(cell) else cell)
        elif col == "b":
            assert got["value"].iloc[i] == ("" if cell is None else str(cell))
        elif col == "":
            assert got["value"].iloc[i] == cell
        else:
            assert got["value"].iloc[i] is None


def test_constant_text_and_partition_slices(tmp_path):
    same = pd.Series(["registry.csv"] * 7, dtype="str")
    assert run._constant_text(same)
    assert not run._constant_text(pd.Series(["a", "b", "a", "a", "a", "b", "a"], dtype="str"))
    assert not run._constant_text(pd.Series(["a", None, "a"], dtype="str"))
    assert not run._constant_text(pd.Series(["a"] * 3, dtype=object))
    assert not run._constant_text(pd.Series([], dtype="str"))
    body = pd.DataFrame(
        {
            "uscc": pd.Series(list("abcdefg"), dtype="str"),
            "source_file": same,
            "source_sheet": pd.Series([""] * 7, dtype="str"),
            "source_row": np.arange(7, dtype=np.int64),
        }
    )
    rows = np.array([5, 0, 3])
    table = pa.Table.from_pandas(body, preserve_index=False)
    run._write_partition(table, rows, tmp_path / "a.parquet", ["source_file", "source_sheet"])
    run._write_partition(table, rows, tmp_path / "b.parquet")
    got = pd.read_parquet(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(got, body.take(rows).reset_index(drop=True))
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


@pytest.mark.parametrize("rows", [10, 60_000])
def test_text_columns_combined_into_one_chunk(rows):
    values = [f"v{i % 7}" if i % 5 else None for i in range(rows)]
    arr = pa.array(values, pa.large_string())
    half = rows // 2
    chunked = pd.array(pa.chunked_array([arr.slice(0, half), arr.slice(half)]), dtype="str")
    cells = pd.DataFrame({"a": chunked, "b": np.arange(rows), "c": pd.Series(values, dtype="str")})
    out = schema_module._one_chunk_columns(cells)
    pd.testing.assert_frame_equal(out, cells)
    assert out["a"].array.__arrow_array__().num_chunks == 1
    assert schema_module._same_text(out["c"], cells["c"])  # one chunk already: left alone
