"""docs/scale.md as written: every ```python block runs, in order, from a folder holding the
cleaned sample, on Spark local[2] (the package shipped as a wheel), Dask and DuckDB, and the
engines' forecasts equal the local pool's, number for number and dtype for dtype."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SCALE_DOC, scale_doc_blocks

from tianxin_analysis import scale
from tianxin_analysis.data import load_processed


def _in_output_order(frame: pd.DataFrame) -> pd.DataFrame:
    order = {t.id: i for i, t in enumerate(scale.DEFAULT_TARGETS)}
    rank = frame["target_id"].map(order)
    return (frame.assign(_rank=rank).sort_values(["region", "_rank"], kind="stable")
                 .drop(columns="_rank").reset_index(drop=True))  # fmt: skip


@pytest.fixture(scope="module")
def doc(spark, scale_workdir):
    pytest.importorskip("dask.dataframe", reason="dask comes with the [scale] extra")
    pytest.importorskip("duckdb", reason="duckdb comes with the [scale] extra")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(scale_workdir)
        namespace: dict = {}
        for block in scale_doc_blocks():
            exec(compile(block, str(SCALE_DOC), "exec"), namespace)
    return namespace


def test_reading_the_processed_tables(doc, scale_workdir):
    processed = scale_workdir / "data" / "processed"
    certs = load_processed("hitech_certificates", processed)
    by_year = doc["certificates_by_year"]
    assert by_year["year"].dtype == np.int64
    assert by_year["certificates"].sum() == len(certs)
    contracts = doc["contracts"]
    assert contracts["year"].dtype == np.int64
    assert len(contracts) == len(load_processed("tech_contracts", processed))
    recent = doc["recent"].compute()
    assert recent["year"].dtype == np.int64 and len(recent) == (certs["year"] >= 2022).sum()
    sdf = doc["spark_contracts"]
    assert dict(sdf.dtypes)["year"] == "bigint" and sdf.count() == len(contracts)


def test_spark_workers_import_the_shipped_wheel(doc, spark):
    files = (spark.sparkContext.parallelize([0], 1)
             .map(lambda _: __import__("tianxin_analysis").__file__).collect())  # fmt: skip
    assert "tianxin_analysis.zip" in files[0], files  # the wheel, not the source tree


def test_engines_equal_the_local_pool(doc, scale_workdir):
    local = _in_output_order(doc["local_result"])
    assert local["region"].nunique() == 6  # the district and five made-up regions
    assert "430103" in set(local["region"])
    assert local.dtypes.to_dict() == scale.output_meta().dtypes.to_dict()
    for engine in ("spark", "dask"):
        got = pd.read_parquet(scale_workdir / "forecasts" / engine / "2024-09")
        got = _in_output_order(got.reset_index(drop=True))
        pd.testing.assert_frame_equal(got, local, check_exact=True, obj=engine)


@pytest.mark.parametrize("regions_per_block", [scale.REGIONS_PER_BLOCK, 2])
def test_forecast_all_regions_is_engine_independent(doc, spark, monkeypatch, regions_per_block):
    # the command's path (tianxin regions --engine ...), on the same session; with two
    # regions a block, the six regions are three tasks on every engine
    monkeypatch.setattr(scale, "REGIONS_PER_BLOCK", regions_per_block)
    long = doc["long"].sample(frac=1.0, random_state=5)  # any order of rows
    kw = {"year": 2024, "as_of_month": 9, "progress": False}
    local = scale.forecast_all_regions(long, engine="local", **kw)
    pd.testing.assert_frame_equal(local, _in_output_order(doc["local_result"]), check_exact=True)
    for engine in ("dask", "spark"):
        got = scale.forecast_all_regions(long, engine=engine, spark=spark, **kw)
        pd.testing.assert_frame_equal(got, local, check_exact=True, obj=engine)
