"""The processed tables as other engines read them (docs/scale.md): DuckDB, pyarrow.dataset,
Dask and Spark see every table with its rows, ``year`` as a 64-bit integer and dates as
timestamps."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from tianxin_analysis.data import KINDS, load_processed, run_clean
from tianxin_analysis.paths import RAW_DIR

# year as the hive partition's int64 (pyarrow infers int32, Dask a categorical without it)
YEAR_PARTITIONING = ds.partitioning(pa.schema([("year", pa.int64())]), flavor="hive")


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    out = tmp_path_factory.mktemp("engines") / "processed"
    run_clean(RAW_DIR, out, progress=False)
    return out


@pytest.fixture(scope="module")
def expected(processed):
    """Each kind's table as the library reads it."""
    return {kind: load_processed(kind, processed) for kind in KINDS}


def test_partitions_store_microsecond_timestamps(processed, expected):
    # Spark refuses TIMESTAMP(NANOS); the library still reads its contract's datetime64[ns].
    seen = 0
    for kind in KINDS:
        for part in (processed / kind).glob("year=*/part-0.parquet"):
            for field in pq.read_schema(part):
                if pa.types.is_timestamp(field.type):
                    assert field.type.unit == "us", (part, field)
                    seen += 1
        for column, dtype in expected[kind].dtypes.items():
            if str(dtype).startswith("datetime64"):
                assert str(dtype) == "datetime64[ns]", (kind, column)
    assert seen > 0  # the sample has dated tables (certificates, registrations, pipelines)


def test_pyarrow_dataset_reads_every_table(processed, expected):
    for kind in KINDS:
        table = ds.dataset(processed / kind, partitioning=YEAR_PARTITIONING).to_table()
        assert table.num_rows == len(expected[kind]), kind
        assert table.schema.field("year").type == pa.int64()


def test_kind_folders_hold_only_their_partitions(processed):
    # Side files (_meta/quarantine.parquet, reconciliation.csv, revisions.csv, lineage.json,
    # run.json) stay at the top of the processed folder, outside every kind's glob path.
    for kind in KINDS:
        files = {p.relative_to(processed / kind).as_posix() for p in (processed / kind).rglob("*")
                 if p.is_file()}  # fmt: skip
        assert files and all(f.startswith("year=") and f.endswith("/part-0.parquet")
                              for f in files), (kind, files)  # fmt: skip
    assert (processed / "_meta" / "quarantine.parquet").is_file()


def test_duckdb_reads_every_table_by_glob(processed, expected):
    duckdb = pytest.importorskip("duckdb", reason="duckdb comes with the [scale] extra")
    con = duckdb.connect()
    for kind in KINDS:
        rel = con.sql(f"SELECT * FROM read_parquet('{processed / kind}/**/*.parquet', "
                      "hive_partitioning = true)")  # fmt: skip
        types = dict(zip(rel.columns, map(str, rel.types), strict=True))
        assert types["year"] == "BIGINT", kind
        frame = rel.df()
        assert len(frame) == len(expected[kind]), kind
        for column, dtype in expected[kind].dtypes.items():
            if str(dtype).startswith("datetime64"):
                assert types[column] == "TIMESTAMP", (kind, column)
        assert sorted(frame["year"]) == sorted(expected[kind]["year"]), kind


def test_dask_reads_every_table(processed, expected):
    dd = pytest.importorskip("dask.dataframe", reason="dask comes with the [scale] extra")
    for kind in KINDS:
        ddf = dd.read_parquet(processed / kind,
                              dataset={"partitioning": {"flavor": "hive",
                                                        "schema": YEAR_PARTITIONING.schema}})  # fmt: skip
        assert ddf.dtypes["year"] == "int64", kind
        frame = ddf.compute()
        assert len(frame) == len(expected[kind]), kind
        assert (frame["year"] >= 2022).sum() == (expected[kind]["year"] >= 2022).sum(), kind
        for column, dtype in expected[kind].dtypes.items():
            if str(dtype).startswith("datetime64"):
                assert str(frame[column].dtype) == "datetime64[us]", (kind, column)


def test_spark_reads_every_table(spark, processed, expected):
    from pyspark.sql import functions as F

    for kind in KINDS:
        sdf = spark.read.parquet(str(processed / kind))
        sdf = sdf.withColumn("year", F.col("year").cast("long"))
        types = dict(sdf.dtypes)
        assert types["year"] == "bigint", kind
        assert sdf.count() == len(expected[kind]), kind
        for column, dtype in expected[kind].dtypes.items():
            if str(dtype).startswith("datetime64"):
                assert types[column] == "timestamp_ntz", (kind, column)
