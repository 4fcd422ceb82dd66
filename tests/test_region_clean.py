"""``tianxin clean`` of many regions' exports (``data/raw/<region code>/<kind>/…``): the region
as a column and a partition of every table, in the quarantine, reconciliation and lineage;
the tables as DuckDB, pyarrow.dataset, Dask and Spark read them; the Dask path equal to the
local one; layout mistakes as messages."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from tianxin_analysis.cli import main
from tianxin_analysis.data import KINDS, load_processed, run_clean
from tianxin_analysis.data.quality import read_quarantine
from tianxin_analysis.errors import InputFileError
from tianxin_analysis.sample import sample_region_codes, write_region_sample

CODES = sample_region_codes(2)  # 430101, 430102
# region as text and year as int64 (engines would guess integers for both hive keys)
PARTITIONING = ds.partitioning(
    pa.schema([("region", pa.string()), ("year", pa.int64())]), flavor="hive"
)


@pytest.fixture(scope="module")
def regions_raw(tmp_path_factory):
    raw = tmp_path_factory.mktemp("regions") / "raw"
    for code in CODES:
        write_region_sample(raw, code)
    return raw


@pytest.fixture(scope="module")
def processed(regions_raw):
    out = regions_raw.parent / "processed"
    run = run_clean(regions_raw, out, progress=False)
    assert run.ok, run.summary_text()
    return out


@pytest.fixture(scope="module")
def expected(processed):
    return {kind: load_processed(kind, processed) for kind in KINDS}


def test_region_sample_is_seeded_by_its_code(tmp_path, regions_raw):
    again = write_region_sample(tmp_path, CODES[0])
    assert again and all(
        p.read_bytes() == (regions_raw / p.relative_to(tmp_path)).read_bytes() for p in again
    )
    first = {p.relative_to(regions_raw / CODES[0]) for p in (regions_raw / CODES[0]).rglob("*.*")}
    assert any(
        (regions_raw / CODES[0] / rel).read_bytes() != (regions_raw / CODES[1] / rel).read_bytes()
        for rel in first
    )
    with pytest.raises(ValueError):
        write_region_sample(tmp_path, "4301")


def test_tables_are_partitioned_by_region_then_year(processed, expected):
    for kind in KINDS:
        files = {p.relative_to(processed / kind).as_posix()
                 for p in (processed / kind).rglob("*") if p.is_file()}  # fmt: skip
        regions = {f.split("/")[0] for f in files}
        assert regions == {f"region={c}" for c in CODES}, kind
        assert all(f.split("/")[1].startswith("year=") and f.endswith("/part-0.parquet")
                   for f in files), kind  # fmt: skip
        table = expected[kind]
        assert list(table.columns)[0] == "region" and table["region"].dtype == "str", kind
        assert sorted(table["region"].unique()) == CODES, kind
        assert table["year"].dtype == "int64"
    # side files out of every table's glob path; the analysts' CSVs where they were
    assert (processed / "_meta" / "quarantine.parquet").is_file()
    assert not (processed / "quarantine.parquet").exists()
    assert {"quarantine.csv", "reconciliation.csv", "revisions.csv", "lineage.json"} <= {
        p.name for p in processed.iterdir()
    }


def test_each_region_equals_its_own_single_district_clean(tmp_path, regions_raw, expected):
    # The region folder alone, in the single-district layout: the same rows, without region.
    raw = tmp_path / "raw"
    shutil.copytree(regions_raw / CODES[1], raw)
    single = run_clean(raw, tmp_path / "processed", progress=False)
    for kind in KINDS:
        rows = expected[kind].loc[expected[kind]["region"] == CODES[1]].drop(columns="region")
        rows = rows.assign(source_file=rows["source_file"].str.removeprefix(f"{CODES[1]}/"))
        alone = load_processed(kind, tmp_path / "processed")
        assert "region" not in alone.columns
        pd.testing.assert_frame_equal(rows.reset_index(drop=True), alone, check_dtype=True)
    assert len(single.quarantine) > 0


def test_quarantine_reconciliation_and_lineage_name_the_region(processed, expected):
    q = read_quarantine(processed)
    assert list(q.columns)[0] == "region" and set(q["region"]) == set(CODES)
    assert (q["source_file"].str.split("/").str[0] == q["region"]).all()
    csv = pd.read_csv(processed / "quarantine.csv", encoding="utf-8-sig", dtype=str)
    assert list(csv["region"]) == list(q["region"])
    rec = pd.read_csv(processed / "reconciliation.csv", encoding="utf-8-sig",
                      dtype={"region": str})  # fmt: skip
    assert list(rec.columns)[0] == "region" and rec["balanced"].all()
    for code in CODES:  # every row read is clean, quarantined or revised, region by region
        mine = rec.loc[rec["region"] == code]
        clean = sum((expected[k]["region"] == code).sum() for k in KINDS)
        assert mine["rows_clean"].sum() == clean
        assert mine["rows_quarantined"].sum() == (q["region"] == code).sum()
    lineage = json.loads((processed / "lineage.json").read_text(encoding="utf-8"))
    assert lineage["regions"] == CODES
    assert all(e["region"] == e["path"].split("/")[0] for e in lineage["raw_files"])
    assert "_meta/quarantine.parquet" in lineage["outputs"]


def test_pyarrow_dataset_reads_every_table_and_the_whole_tree(processed, expected):
    for kind in KINDS:
        table = ds.dataset(processed / kind, partitioning=PARTITIONING).to_table()
        assert table.num_rows == len(expected[kind]), kind
        assert table.schema.field("region").type == pa.string()
        assert table.schema.field("year").type == pa.int64()
    # "_meta" is skipped like every "_" folder: the tree's parquet files are the tables'
    tree = ds.dataset(processed, format="parquet", exclude_invalid_files=True)
    assert len(tree.files) == sum(len(list((processed / k).rglob("*.parquet"))) for k in KINDS)


def test_duckdb_reads_every_table_and_the_whole_tree(processed, expected):
    duckdb = pytest.importorskip("duckdb", reason="duckdb comes with the [scale] extra")
    con = duckdb.connect()
    for kind in KINDS:
        rel = con.sql(f"SELECT * FROM read_parquet('{processed / kind}/**/*.parquet', "
                      "hive_partitioning = true, "
                      "hive_types = {'region': VARCHAR, 'year': BIGINT})")  # fmt: skip
        types = dict(zip(rel.columns, map(str, rel.types), strict=True))
        assert (types["region"], types["year"]) == ("VARCHAR", "BIGINT"), kind
        frame = rel.df()
        assert len(frame) == len(expected[kind]), kind
        assert frame["region"].value_counts().to_dict() == \
            expected[kind]["region"].value_counts().to_dict(), kind  # fmt: skip
    # Every table of every region in one glob (the quarantine in _meta/ is left out).
    every = con.sql(f"SELECT count(*) FROM read_parquet('{processed}/[!_]*/**/*.parquet', "
                    "hive_partitioning = true, union_by_name = true)").fetchall()[0][0]  # fmt: skip
    assert every == sum(len(t) for t in expected.values())


def test_dask_reads_every_table(processed, expected):
    dd = pytest.importorskip("dask.dataframe", reason="dask comes with the [scale] extra")
    for kind in KINDS:
        ddf = dd.read_parquet(processed / kind, dataset={
            "partitioning": {"flavor": "hive", "schema": PARTITIONING.schema}})  # fmt: skip
        assert ddf.dtypes["year"] == "int64", kind
        assert str(ddf.dtypes["region"]) in ("string", "str"), kind
        frame = ddf[ddf.region == CODES[0]].compute()
        assert len(frame) == (expected[kind]["region"] == CODES[0]).sum(), kind
        assert len(ddf) == len(expected[kind]), kind


def test_spark_reads_every_table(spark, processed, expected):
    from pyspark.sql import functions as F

    for kind in KINDS:
        sdf = spark.read.parquet(str(processed / kind))
        sdf = sdf.withColumn("year", F.col("year").cast("long")).withColumn(
            "region", F.col("region").cast("string"))  # fmt: skip
        types = dict(sdf.dtypes)
        assert (types["region"], types["year"]) == ("string", "bigint"), kind
        assert sdf.count() == len(expected[kind]), kind
        counts = {r["region"]: r["count"] for r in sdf.groupBy("region").count().collect()}
        assert counts == expected[kind]["region"].value_counts().to_dict(), kind


def test_region_frames_has_one_region_per_folder(processed):
    from tianxin_analysis.scale import region_frames

    long = region_frames(processed)
    assert sorted(long["region"].unique()) == CODES


def test_dask_engine_writes_the_same_files(regions_raw, processed, tmp_path):
    pytest.importorskip("dask", reason="dask comes with the [scale] extra")
    out = tmp_path / "processed"
    run = run_clean(regions_raw, out, progress=False, engine="dask", workers=2)
    assert run.ok
    local = sorted(p.relative_to(processed) for p in processed.rglob("*") if p.is_file())
    dask = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert local == dask
    different = [p for p in local if (processed / p).read_bytes() != (out / p).read_bytes()]
    assert different == []


def _layout(tmp_path, *dirs: str):
    raw = tmp_path / "raw"
    for d in dirs:
        (raw / d).mkdir(parents=True)
        (raw / d / "note.csv").write_text("a\n1\n", encoding="utf-8")
    return raw


@pytest.mark.parametrize(
    ("dirs", "words"),
    [
        (("430101/tech_contracts", "tech_contracts"), "混用"),
        (("430101/tech_contracts", "4301/tech_contracts"), "未知的区域代码"),
        (("430101/tech_contracts", "990101/tech_contracts"), "未知的区域代码"),
        (("430101/tech_contracts", "430102/合同"), "没有任何数据类型"),
    ],
)
def test_layout_mistakes_are_messages_and_change_nothing(tmp_path, capsys, dirs, words):
    raw = _layout(tmp_path, *dirs)
    out = tmp_path / "processed"
    out.mkdir()
    (out / "kept.txt").write_text("published before", encoding="utf-8")
    with pytest.raises(InputFileError):
        run_clean(raw, out, progress=False)
    code = main(["--quiet", "clean", "--raw", str(raw), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err
    assert err.index(words) < err.index("(") or "region" in err.lower()
    assert [p.name for p in out.iterdir()] == ["kept.txt"]


def test_dask_engine_missing_is_a_message(monkeypatch, tmp_path, capsys):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "dask" or name.startswith("dask."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    raw = _layout(tmp_path, "430101/tech_contracts")
    code = main(["--quiet", "clean", "--raw", str(raw), "--out", str(tmp_path / "p"),
                 "--engine", "dask"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "tianxin-analysis[scale]" in err and "Traceback" not in err
    assert not (tmp_path / "p").exists()


def test_forecast_of_a_many_region_folder_uses_the_plans_district_only(tmp_path, regions_raw,
                                                                      processed):  # fmt: skip
    """`tianxin forecast`/`report` on a many-region folder: the plan's district's rows, equal
    to a single-district clean of the same files; never every region summed, and 数据不足 with
    the reason when the plan's district is not among the regions."""
    from dataclasses import replace

    from tianxin_analysis import evaluate_targets, load_targets

    plan = replace(load_targets(2024), district_code=CODES[1])
    raw = tmp_path / "raw"
    shutil.copytree(regions_raw / CODES[1], raw)
    run_clean(raw, tmp_path / "single", progress=False)
    tables = {k: load_processed(k, processed) for k in KINDS}  # the Mapping route as well
    numbers = ["actual_to_date", "point", "p_meet", "status"]
    mine = evaluate_targets(plan, tables, "2024-09", seed=1).table[numbers]
    alone = evaluate_targets(plan, tmp_path / "single", "2024-09", seed=1).table[numbers]
    pd.testing.assert_frame_equal(mine, alone)

    elsewhere = evaluate_targets(replace(plan, district_code="430103"), processed, "2024-09",
                                 seed=1).table  # fmt: skip
    from_tables = [t.data_kind in KINDS for t in plan.targets]
    assert any(from_tables)
    assert (elsewhere.loc[from_tables, "status"] == "insufficient_data").all()
    assert elsewhere.loc[from_tables, "point"].isna().all()
    assert elsewhere.loc[from_tables, "data_note"].str.contains("按地区存放").all()
    assert elsewhere.loc[from_tables, "data_note"].str.contains("430103").all()


@pytest.mark.parametrize("code", ["430117", "430207", "430318"])
def test_region_samples_whose_bad_check_digit_falls_on_a_full_width_code(tmp_path, code):
    """These seeds put the wrong-check-digit defect on a code already made full-width (it
    raised ValueError and stopped the 100-region benchmark); the defect still reaches the
    quarantine as a check-digit error."""
    write_region_sample(tmp_path / "raw", code)
    run = run_clean(tmp_path / "raw", tmp_path / "out", progress=False)
    assert run.ok
    assert "uscc_check_digit" in set(run.quarantine["rule"])
