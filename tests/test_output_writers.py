"""Writing the processed outputs: the fast paths give what the plain pandas calls gave.

``_write_csv`` must give the bytes of ``neutralize_formulas(df).to_csv(...)``; the year
partitions must hold what ``df.loc[df["year"] == y].drop(columns="year")`` held; errors in
either writer thread must surface and leave no temporary file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tianxin_analysis._fs import formula_mask, neutralize_formula_array, neutralize_formulas
from tianxin_analysis.data import run as run_module
from tianxin_analysis.data.engine.fast import csv as fast_csv
from tianxin_analysis.data.run import _write_csv, _write_outputs

PREFIXES = ["=", "+", "-", "@", "\t", "\r"]


def _expected_csv(frame: pd.DataFrame) -> bytes:
    text = neutralize_formulas(frame).to_csv(
        index=False, lineterminator="\n", date_format="%Y-%m-%d"
    )
    return ("\ufeff" + text).encode("utf-8")


def _texts(n: int, seed: int) -> list[str | None]:
    rng = np.random.default_rng(seed)
    alphabet = ["a", "甲", "=", "+", "-", "@", "\t", "\r", "\n", ",", '"', " ", "'", "é", "1"]
    out: list[str | None] = []
    for _ in range(n):
        k = int(rng.integers(0, 5))
        out.append(None if rng.random() < 0.1 else "".join(rng.choice(alphabet, size=k)))
    return out


@pytest.mark.parametrize("dtype", ["str", "string", "string[python]", object])
def test_text_columns_match_to_csv(tmp_path, dtype):
    """Every formula prefix, special character, empty string and missing value, per dtype."""
    values = _texts(400, seed=1)
    frame = pd.DataFrame(
        {
            "t": pd.Series(values, dtype=dtype),
            "plain": pd.Series([f"v{i}" for i in range(400)], dtype=dtype),
            "n": np.arange(400, dtype="int64") - 200,
        }
    )
    target = tmp_path / "out.csv"
    _write_csv(frame, target)
    assert target.read_bytes() == _expected_csv(frame)


def test_sliced_and_chunked_columns(tmp_path):
    """Columns whose Arrow data is a slice of a larger buffer or spans several chunks."""
    values = _texts(300, seed=2)
    chunks = [pa.array(values[:100], pa.large_string()), pa.array(values[100:], pa.large_string())]
    big = pd.DataFrame({"a": pd.Series(values * 2, dtype="str"), "b": np.arange(600)})
    frame = pd.DataFrame(
        {
            "sliced": big["a"].iloc[150:450].reset_index(drop=True),
            "chunked": pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(chunks)), dtype="str"),
            "b": big["b"].iloc[150:450].reset_index(drop=True),
        }
    )
    assert pa.array(frame["chunked"].array).num_chunks == 2  # the case is really built
    target = tmp_path / "out.csv"
    _write_csv(frame, target)
    assert target.read_bytes() == _expected_csv(frame)


def test_header_and_fallback_dtypes(tmp_path):
    """Formula-like and quoted column names; a dtype without a fast path falls back."""
    frame = pd.DataFrame({"=x": ["-1", "a"], 'q,"n"': ["1", "2"], "ok": ["b", "c"]})
    target = tmp_path / "out.csv"
    _write_csv(frame, target)
    assert target.read_bytes() == _expected_csv(frame)
    mixed = pd.DataFrame({"m": pd.Series([-1, "=a"], dtype=object), "k": ["x", "y"]})
    _write_csv(mixed, target)
    assert target.read_bytes() == _expected_csv(mixed)
    cat = pd.DataFrame({"c": pd.Categorical(["=a", "b"]), "k": ["x", "y"]})
    _write_csv(cat, target)
    assert target.read_bytes() == _expected_csv(cat)


def test_all_empty_and_no_rows(tmp_path):
    frame = pd.DataFrame({"e": pd.Series(["", ""], dtype="str"), "m": pd.Series([None, None])})
    target = tmp_path / "out.csv"
    _write_csv(frame, target)
    assert target.read_bytes() == _expected_csv(frame)
    _write_csv(frame.iloc[:0], target)
    assert target.read_bytes() == _expected_csv(frame.iloc[:0])


def test_formula_mask_matches_regex():
    values = _texts(2000, seed=3) + ["", "=", "甲=", " =", None]
    for arr in (pa.array(values, pa.large_string()), pa.array(values, pa.string())):
        for piece in (arr, arr.slice(7, 1500)):
            expected = (
                pd.Series(piece.to_pylist(), dtype=object)
                .astype("string")
                .str.match(r"^[=+\-@\t\r]", na=False)
                .to_numpy(dtype=bool)
            )
            np.testing.assert_array_equal(formula_mask(piece), expected)
    neutral = neutralize_formula_array(pa.array(["=1", "a", "", "@"], pa.large_string()))
    assert neutral.to_pylist() == ["'=1", "a", "", "'@"]
    plain = pa.array(["a", "b"], pa.large_string())
    assert neutralize_formula_array(plain) is plain


def test_neutralize_formulas_unchanged_semantics():
    frame = pd.DataFrame(
        {
            "s": pd.Series(["=1", None, "a"], dtype="str"),
            "o": pd.Series([-1, "x", None], dtype=object),
            "f": [-1.0, 2.0, 3.0],
        }
    )
    out = neutralize_formulas(frame)
    assert out["s"].dtype == object and out["s"].tolist()[::2] == ["'=1", "a"]
    assert out["o"].tolist()[:2] == ["'-1", "x"]  # object cells are tested as their text
    assert out["f"].tolist() == [-1.0, 2.0, 3.0]
    assert frame["s"].tolist()[0] == "=1"


def _tables(n: int = 3000) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(4)
    df = pd.DataFrame(
        {
            "name": pd.Series([f"企业{i % 97}" for i in range(n)], dtype="str"),
            "year": rng.choice([2024, 2019, 2022, 2021], size=n).astype("int64"),
            "issue_date": pd.to_datetime("2019-01-01")
            + pd.to_timedelta(rng.integers(0, 2000, n), "D"),
            "source_row": np.arange(n, dtype="int64"),
        }
    )
    return {"hitech_certificates": df}


def _small_q_rec() -> tuple[pd.DataFrame, pd.DataFrame]:
    q = pd.DataFrame({"kind": ["k"], "value": ["=a,b"], "source_row": [3]})
    rec = pd.DataFrame({"kind": ["k"], "rows_read": [3], "balanced": [True]})
    return q, rec


def test_partitions_hold_each_years_rows_in_order(tmp_path):
    tables = _tables()
    q, rec = _small_q_rec()
    stale = tmp_path / "hitech_certificates" / "year=2000"
    stale.mkdir(parents=True)
    written = _write_outputs(tmp_path, tables, q, rec)
    df = tables["hitech_certificates"]
    years = sorted(df["year"].unique())
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        *[f"hitech_certificates/year={y}/part-0.parquet" for y in years],
        "hitech_certificates.csv",
        "_meta/quarantine.parquet",
        "quarantine.csv",
        "reconciliation.csv",
    ]
    assert not stale.exists()
    for y in years:
        got = pd.read_parquet(tmp_path / "hitech_certificates" / f"year={y}" / "part-0.parquet")
        want = df.loc[df["year"] == y].drop(columns="year").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want)
    assert (tmp_path / "hitech_certificates.csv").read_bytes() == _expected_csv(df)
    assert (tmp_path / "quarantine.csv").read_bytes() == _expected_csv(q)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "_meta" / "quarantine.parquet"), q)


@pytest.mark.parametrize("where", ["parquet", "csv"])
def test_writer_failure_surfaces_and_leaves_no_temp(tmp_path, monkeypatch, where):
    tables = _tables()
    q, rec = _small_q_rec()
    _write_outputs(tmp_path, tables, q, rec)
    before = pd.read_parquet(tmp_path / "hitech_certificates" / "year=2021" / "part-0.parquet")

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    if where == "parquet":
        monkeypatch.setattr(run_module.pq, "write_table", boom)  # to_parquet uses it too
    else:
        monkeypatch.setattr(fast_csv, "_csv_fields", boom)
    with pytest.raises(KeyboardInterrupt):
        _write_outputs(tmp_path, tables, q, rec)
    monkeypatch.undo()
    assert not list(tmp_path.rglob("*.tmp"))
    after = pd.read_parquet(tmp_path / "hitech_certificates" / "year=2021" / "part-0.parquet")
    pd.testing.assert_frame_equal(after, before)


@pytest.mark.parametrize("odd", ["plain", "cr\rhere", "lf\nhere", "a,b", 'q"q'])
def test_one_structural_character_or_none(tmp_path, odd):
    """The Arrow writer (no structural character anywhere) and the join path agree with
    to_csv, whichever single character turns the second one on."""
    frame = pd.DataFrame(
        {
            "t": pd.Series(["甲", odd, "", None] * 50, dtype="str"),
            "d": pd.to_datetime(["2024-01-02", None, "2023-12-31", "2020-02-29"] * 50),
            "n": np.arange(200, dtype="int64"),
        }
    )
    target = tmp_path / "out.csv"
    _write_csv(frame, target)
    assert target.read_bytes() == _expected_csv(frame)


def test_dictionary_only_for_repeating_columns(tmp_path):
    n = 100_000
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "uscc": pd.Series([f"U{i:08d}" for i in rng.permutation(n)], dtype="str"),
            "park": pd.Series(rng.choice(["甲园", "乙园", None], n), dtype="str"),
            "source_row": np.arange(n, dtype=np.int64),
            "year": rng.choice([2023, 2024], n),
        }
    )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert run_module._dictionary_columns(table) == ["park", "year"]
    assert run_module._dictionary_columns(table.slice(0, 1000)) is True  # writer's default
    rows = np.flatnonzero(frame["year"].to_numpy() == 2024)
    target = tmp_path / "p.parquet"
    run_module._write_partition(table, rows, target, (), ["park"])
    pd.testing.assert_frame_equal(pd.read_parquet(target), frame.take(rows).reset_index(drop=True))
    meta = pq.ParquetFile(target).metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(4)}
    assert "RLE_DICTIONARY" in encodings["park"]
    assert "RLE_DICTIONARY" not in encodings["uscc"]
    # min/max for repeating text and for numbers; none for near-unique text
    statistics = run_module._statistics_columns(table, ["park", "year"])
    assert statistics == ["park", "source_row", "year"]
    assert run_module._statistics_columns(table, True) is True
    run_module._write_partition(table, rows, target, (), ["park"], statistics)
    pd.testing.assert_frame_equal(pd.read_parquet(target), frame.take(rows).reset_index(drop=True))
    meta = pq.ParquetFile(target).metadata.row_group(0)
    has_stats = {
        meta.column(i).path_in_schema: meta.column(i).is_stats_set
        and meta.column(i).statistics.has_min_max
        for i in range(4)
    }
    assert has_stats == {"uscc": False, "park": True, "source_row": True, "year": True}


def test_integer_columns_by_lookup_match_to_csv(tmp_path):
    rng = np.random.default_rng(3)
    n = 6000  # more rows than _INT_LABELS: the lookup path for narrow ranges
    frame = pd.DataFrame(
        {
            "year": rng.integers(2015, 2026, n),
            "neg": rng.integers(-5, 3, n),
            "row": np.arange(n, dtype=np.int64) * 1000,  # too wide: the cast path
            "name": pd.Series(["甲"] * n, dtype="str"),
        }
    )
    target = tmp_path / "t.csv"
    _write_csv(frame, target)
    expected = "\ufeff" + frame.to_csv(index=False, lineterminator="\n")
    assert target.read_bytes() == expected.encode("utf-8")


@pytest.mark.parametrize(
    "v",
    [
        np.array([2021, 2019, 2021, 2020, 2019], dtype=np.int64),
        np.array([], dtype=np.int64),
        np.array([5, 3, 5, 0, 255], dtype=np.uint8),
        np.array([-(2**63), 2**63 - 1, 0, -(2**63)], dtype=np.int64),  # range too wide
        np.array([-40000, -40000 + 32767, -40000, -39000], dtype=np.int64),  # widest that fits
        np.random.default_rng(3).integers(-5, 40_000, 5000),
    ],
)
def test_small_ints_keep_the_stable_order(v):
    from tianxin_analysis.data.run import _small_ints

    small = _small_ints(v)
    assert len(small) == len(v)
    assert (np.argsort(small, kind="stable") == np.argsort(v, kind="stable")).all()


def test_constant_text_and_partition_slices(tmp_path):
    same = pd.Series(["registry.csv"] * 7, dtype="str")
    assert run_module._constant_text(same)
    assert not run_module._constant_text(pd.Series(["a", "b", "a", "a", "a", "b", "a"], dtype="str"))
    assert not run_module._constant_text(pd.Series(["a", None, "a"], dtype="str"))
    assert not run_module._constant_text(pd.Series(["a"] * 3, dtype=object))
    assert not run_module._constant_text(pd.Series([], dtype="str"))
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
    run_module._write_partition(table, rows, tmp_path / "a.parquet", ["source_file", "source_sheet"])
    run_module._write_partition(table, rows, tmp_path / "b.parquet")
    got = pd.read_parquet(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(got, body.take(rows).reset_index(drop=True))
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
