"""Batch forecasting over many regions: tianxin_analysis.scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tianxin_analysis import scale
from tianxin_analysis.forecast.annual import annual
from tianxin_analysis.forecast.models import growth_full_year
from tianxin_analysis.forecast.ytd import year_end_from_ytd

YEAR, AS_OF = 2024, 7


@pytest.fixture(scope="module")
def regions() -> list[tuple[str, pd.DataFrame]]:
    return list(scale.synthetic_region_frames(6, seed=11))


def _monthly(pdf: pd.DataFrame, measure: str) -> pd.Series:
    rows = pdf[pdf["measure"] == measure]
    idx = pd.PeriodIndex(
        [pd.Period(f"{y}-{m:02d}", "M") for y, m in zip(rows["year"], rows["month"], strict=True)]
    )
    s = pd.Series(rows["value"].to_numpy(), index=idx)
    return s[s.index <= pd.Period(f"{YEAR}-{AS_OF:02d}", "M")]


@pytest.mark.parametrize("which", [0, 3])
def test_region_frame_equals_direct_calls(regions, which):
    name, pdf = regions[which]
    out = scale.forecast_region_frame(pdf.assign(region=name), year=YEAR, as_of_month=AS_OF)
    got = out.set_index("target_id")
    assert list(out["region"].unique()) == [name]
    target = {
        m: float(pdf.loc[pdf["measure"] == m, "target"].iloc[0]) for m in pdf["measure"].unique()
    }

    for tid, measure in [("tech_contracts_count", "contracts"), ("tech_contracts_value", "contract_value_yi"),
                         ("tech_smes", "sme_registrations")]:  # fmt: skip
        direct = year_end_from_ytd(_monthly(pdf, measure), YEAR, AS_OF, target[measure])
        row = got.loc[tid]
        for col in (
            "point",
            "lower",
            "upper",
            "lower95",
            "upper95",
            "p_meet",
            "actual_to_date",
            "baseline_point",
        ):
            assert row[col] == pytest.approx(getattr(direct, col), rel=1e-12), (tid, col)
        assert row["status"] == direct.status().code

    # growth target: forecast.growth_full_year on the processed value-added table's shape
    va = (
        pdf[pdf["measure"] == "hitech_va_cum_yi"][["year", "month", "value"]]
        .rename(columns={"value": "va_cum_yi"})
        .merge(pdf[pdf["measure"] == "hitech_va_growth_cum_pct"][["year", "month", "value"]]
               .rename(columns={"value": "growth_cum_pct"}), on=["year", "month"])
    )  # fmt: skip
    assert va["month"].min() == 2  # reported from "1-2月" on
    direct = growth_full_year(
        va, YEAR, pd.Period(f"{YEAR}-{AS_OF:02d}", "M"), target["hitech_va_cum_yi"]
    )
    row = got.loc["hitech_va_growth"]
    for col in ("point", "lower", "upper", "p_meet", "actual_to_date"):
        assert row[col] == pytest.approx(getattr(direct, col), rel=1e-12), col
    assert row["lower"] < row["point"] < row["upper"]

    for tid, measure, comparator, tol in [("hitech_enterprises", "hitech_enterprises", ">=", 0.0),
                                          ("rd_intensity", "rd_intensity_pct", "~=", 0.05)]:  # fmt: skip
        rows = pdf[pdf["measure"] == measure]
        series = pd.Series(rows["value"].to_numpy(), index=rows["year"].to_numpy())
        direct = annual(series, horizon=YEAR - int(series.index.max()), target=target[measure],
                        comparator=comparator, tolerance=tol)  # fmt: skip
        row = got.loc[tid]
        assert row["point"] == pytest.approx(direct.point, rel=1e-12)
        assert row["p_meet"] == pytest.approx(direct.p_meet, rel=1e-12)
        assert row["n_obs"] == len(series)


def test_output_shape_and_dtypes(regions):
    name, pdf = regions[1]
    before = pdf.copy()
    out = scale.forecast_region_frame(pdf, year=YEAR, as_of_month=AS_OF)
    pd.testing.assert_frame_equal(pdf, before)  # input not modified
    assert tuple(out.columns) == scale.OUTPUT_COLUMNS
    assert out.dtypes.to_dict() == scale.output_meta().dtypes.to_dict()
    assert out["region"].isna().all()  # no region column, no group key: missing, not ""
    assert list(out["target_id"]) == [t.id for t in scale.DEFAULT_TARGETS]
    for name_ in scale.OUTPUT_COLUMNS:
        assert f"{name_} " in scale.SPARK_SCHEMA


def test_missing_measure_and_bad_input(regions):
    _, pdf = regions[2]
    out = scale.forecast_region_frame(
        pdf[pdf["measure"] != "contracts"], year=YEAR, as_of_month=AS_OF
    )
    row = out.set_index("target_id").loc["tech_contracts_count"]
    assert row["status"] == "unknown" and row["method"] == "no data" and np.isnan(row["point"])
    with pytest.raises(ValueError, match="value"):
        scale.forecast_region_frame(pdf.drop(columns="value"), year=YEAR, as_of_month=AS_OF)
    with pytest.raises(ValueError, match="as_of_month"):
        scale.forecast_region_frame(pdf, year=YEAR, as_of_month=13)
    with pytest.raises(ValueError, match="model"):
        scale.RegionTarget("x", "contracts", "arima")
    with pytest.raises(ValueError, match="growth_measure"):
        scale.RegionTarget("x", "hitech_va_cum_yi", "growth")


def test_ytd_growth_is_a_transform_of_the_year_end_total(regions):
    _, pdf = regions[5]
    flows = pdf[pdf["measure"] == "contracts"]
    spec = scale.RegionTarget("contracts_growth", "contracts", "ytd_growth")
    out = scale.forecast_region_frame(
        flows.assign(target=8.0), year=YEAR, as_of_month=AS_OF, targets=(spec,)
    )
    monthly = _monthly(pdf, "contracts")
    last_total = float(monthly[monthly.index.year == YEAR - 1].sum())
    direct = year_end_from_ytd(monthly, YEAR, AS_OF, last_total * 1.08)
    row = out.iloc[0]
    assert row["p_meet"] == pytest.approx(direct.p_meet, rel=1e-12)
    assert row["upper"] == pytest.approx((direct.upper / last_total - 1) * 100, rel=1e-12)


def test_custom_targets_and_no_target_column(regions):
    _, pdf = regions[4]
    only = (scale.RegionTarget("contracts_only", "contracts", "ytd"),)
    out = scale.forecast_region_frame(
        pdf.drop(columns="target"), year=YEAR, as_of_month=AS_OF, targets=only
    )
    assert list(out["target_id"]) == ["contracts_only"]
    assert out["p_meet"].isna().all() and out["target"].isna().all()
    assert out["point"].notna().all()


def test_workers_do_not_change_results(regions):
    serial = pd.concat(
        scale.forecast_regions(
            regions, year=YEAR, as_of_month=AS_OF, workers=1, chunk_size=2, progress=False
        )
    )
    parallel_chunks = list(
        scale.forecast_regions(
            iter(regions), year=YEAR, as_of_month=AS_OF, workers=2, chunk_size=2, progress=False
        )
    )
    assert len(parallel_chunks) == 3  # streamed per chunk, in input order
    parallel = pd.concat(parallel_chunks)
    pd.testing.assert_frame_equal(serial.reset_index(drop=True), parallel.reset_index(drop=True))
    assert list(serial["region"].unique()) == [name for name, _ in regions]
    assert len(serial) == len(regions) * len(scale.DEFAULT_TARGETS)


def test_forecast_regions_rejects_bad_arguments(regions):
    with pytest.raises(ValueError, match="workers"):
        next(
            scale.forecast_regions(regions, year=YEAR, as_of_month=AS_OF, workers=0, progress=False)
        )


def test_synthetic_regions_are_deterministic_and_varied():
    a = list(scale.synthetic_region_frames(3, seed=5))
    b = list(scale.synthetic_region_frames(3, seed=5))
    c = list(scale.synthetic_region_frames(3, seed=6))
    for (na, fa), (nb, fb) in zip(a, b, strict=True):
        assert na == nb
        pd.testing.assert_frame_equal(fa, fb)
    assert not a[0][1]["value"].equals(c[0][1]["value"])
    # region i depends on (seed, i) only: a longer run starts with the same regions
    longer = list(scale.synthetic_region_frames(5, seed=5))
    pd.testing.assert_frame_equal(longer[2][1], a[2][1])
    sizes = [f.loc[f["measure"] == "contracts", "value"].sum() for _, f in longer]
    assert max(sizes) > 1.5 * min(sizes)
    f = a[0][1]
    needed = {t.measure for t in scale.DEFAULT_TARGETS} | {
        t.growth_measure for t in scale.DEFAULT_TARGETS if t.growth_measure
    }
    assert set(f["measure"]) == needed
    assert f.loc[f["measure"] == "contracts", "month"].between(1, 12).all()


def test_region_comes_from_the_column_or_the_group_key(regions):
    # pandas 3 leaves the key out of each group of groupby().apply (Dask does the same): the
    # region is the group's name then, also after set_index("region").
    long = pd.concat([pdf.assign(region=name) for name, pdf in regions[:3]], ignore_index=True)
    spec = (scale.RegionTarget("contracts_only", "contracts", "ytd"),)

    def one(pdf):
        return scale.forecast_region_frame(pdf, year=YEAR, as_of_month=AS_OF, targets=spec)

    by_key = long.groupby("region", group_keys=False).apply(one)
    by_index = long.set_index("region").groupby("region", group_keys=False).apply(one)
    by_column = pd.concat([one(g) for _, g in long.groupby("region")], ignore_index=True)
    names = [name for name, _ in regions[:3]]
    for out in (by_key, by_index, by_column):
        assert list(out["region"]) == names
    pd.testing.assert_frame_equal(by_key.reset_index(drop=True), by_column)


def test_a_frame_of_several_regions_gives_each_region_its_rows(regions):
    # Dask's map_partitions and the engines' blocks hand one call several whole regions, in
    # any order of rows: the same rows as one call per region (groupby keeps a region's rows
    # in their order), regions sorted.
    long = pd.concat([pdf.assign(region=name) for name, pdf in regions[:4]], ignore_index=True)
    mixed = long.sample(frac=1.0, random_state=3)
    per_region = pd.concat(
        [scale.forecast_region_frame(g, year=YEAR, as_of_month=AS_OF)
         for _, g in mixed.groupby("region", sort=True)], ignore_index=True)  # fmt: skip
    assert list(per_region["region"].unique()) == sorted(name for name, _ in regions[:4])
    by_column = scale.forecast_region_frame(mixed, year=YEAR, as_of_month=AS_OF)
    by_index = scale.forecast_region_frame(mixed.set_index("region"), year=YEAR, as_of_month=AS_OF)
    pd.testing.assert_frame_equal(by_column, per_region, check_exact=True)
    pd.testing.assert_frame_equal(by_index, per_region, check_exact=True)
    # an empty partition gives no rows, with the output's dtypes
    empty = scale.forecast_region_frame(long.iloc[:0], year=YEAR, as_of_month=AS_OF)
    assert empty.empty and empty.dtypes.to_dict() == scale.output_meta().dtypes.to_dict()


def test_region_blocks_hold_whole_regions_in_order(regions):
    long = pd.concat([pdf.assign(region=name) for name, pdf in regions[::-1]], ignore_index=True)
    blocks = scale.region_blocks(long, 4)
    assert list(blocks["region"].unique()) == sorted(name for name, _ in regions)
    assert blocks.groupby("region")["block"].nunique().eq(1).all()
    assert blocks.groupby("block")["region"].nunique().tolist() == [4, 2]
    assert blocks["block"].dtype == np.int64
    for name, pdf in regions:  # each region's rows whole and in their order
        rows = blocks[blocks["region"] == name].drop(columns=["region", "block"])
        pd.testing.assert_frame_equal(rows.reset_index(drop=True), pdf)
    with pytest.raises(ValueError, match="regions_per_block"):
        scale.region_blocks(long, 0)


def test_region_frames_of_the_processed_sample(tmp_path_factory):
    from tianxin_analysis.data import load_processed, run_clean
    from tianxin_analysis.forecast import models
    from tianxin_analysis.paths import RAW_DIR
    from tianxin_analysis.targets import load_targets

    out = tmp_path_factory.mktemp("regions") / "processed"
    run_clean(RAW_DIR, out, progress=False)
    plan = load_targets(2024)
    long = scale.region_frames(out, plan=plan)
    assert long.dtypes.astype(str).to_dict() == scale.LONG_COLUMNS
    assert set(long["region"]) == {plan.district_code} == {"430103"}
    needed = {t.measure for t in scale.DEFAULT_TARGETS} | {"hitech_va_growth_cum_pct"}
    assert set(long["measure"]) == needed
    # the plan year's targets ride along; the 2023 R&D ratio target is not 2024's
    target = long.groupby("measure")["target"].first()
    assert target["contracts"] == plan["tech_contracts_count"].value
    assert target["sme_registrations"] == plan["tech_smes"].value
    assert np.isnan(target["rd_intensity_pct"])

    # the district's flows go in as the forecast layer builds them: same forecast
    res = scale.forecast_region_frame(long, year=2024, as_of_month=9).set_index("target_id")
    tc = load_processed("tech_contracts", out)
    for tid, measure in [
        ("tech_contracts_count", "contracts"),
        ("tech_contracts_value", "value_yi"),
    ]:
        direct = models.contracts_year_end(tc, measure, 2024, "2024-09", plan[tid].value)
        assert res.loc[tid, "point"] == pytest.approx(direct.point, rel=1e-12)
        assert res.loc[tid, "p_meet"] == pytest.approx(direct.p_meet, rel=1e-12)
    assert res.loc["tech_smes", "actual_to_date"] == pytest.approx(
        models.sme_year_end(
            load_processed("tech_sme_registrations", out), 2024, "2024-09"
        ).actual_to_date
    )
    va = load_processed("hitech_value_added", out)
    direct = models.growth_full_year(va, 2024, pd.Period("2024-09", "M"), 11.0)
    assert res.loc["hitech_va_growth", "point"] == pytest.approx(direct.point, rel=1e-12)
    # year-end valid certificates: batches Y-2..Y, revoked / moved-out enterprises left out
    certs = load_processed("hitech_certificates", out)
    removed = set(certs.loc[certs["status"].isin(models.REMOVED_STATUSES), "uscc"])
    held = set(certs.loc[certs["year"].between(2021, 2023), "uscc"]) - removed
    counts = long[long["measure"] == "hitech_enterprises"].set_index("year")["value"]
    assert counts[2023] == len(held)


def test_region_frames_one_region_per_value_of_a_region_column():
    from tianxin_analysis.errors import InputFileError

    contracts = pd.DataFrame({
        "region": ["430102", "430102", "430103"], "year": [2023, 2023, 2023],
        "month": [1, 2, 1], "months_covered": [1, 1, 1], "contracts": [5.0, 7.0, 3.0],
        "value_wan": [1e4, 2e4, 3e4],
    })  # fmt: skip
    long = scale.region_frames({"tech_contracts": contracts})
    assert sorted(set(long["region"])) == ["430102", "430103"]
    got = long[(long["measure"] == "contracts") & (long["region"] == "430102")]
    assert got["value"].tolist() == [5.0, 7.0] and got["month"].tolist() == [1, 2]
    assert long.loc[long["region"] == "430103", "value"].tolist() == [3.0, 3.0]  # 项, 亿元
    with pytest.raises(InputFileError, match="清洗"):
        scale.region_frames({})


def last_december_region(rows: pd.DataFrame, ctx: scale.RegionContext) -> dict[str, object]:
    """A toy region model: the year-end value is last December's flow times twelve."""
    december = rows[(rows["year"] == ctx.year - 1) & (rows["month"] == 12)]["value"]
    row = scale.region_row(None)
    row.update(point=float(december.iloc[0]) * 12, status="toy", method="last December x 12",
               n_obs=len(december))  # fmt: skip
    return row


def test_a_new_target_type_brings_its_region_model_without_an_edit_in_scale(regions):
    from tianxin_analysis.target_types import (
        Source,
        TargetType,
        register_target_type,
        unregister_target_type,
    )
    from tianxin_analysis.targets import Target

    name, pdf = regions[1]
    toy = TargetType("toy_december", ("玩具", "toy"), {"tech_contracts": Source(
        ("tech_contracts",), ("contracts",), "tianxin_analysis.forecast.target_models:tech_contracts",
        region_model=last_december_region)})  # fmt: skip
    register_target_type(toy)
    try:
        target = Target("toy", "玩具", "toy", ">=", 1.0, "项", "contracts", "2024",
                        "toy_december", "tech_contracts", "contracts", "test")  # fmt: skip
        spec = scale.RegionTarget.for_target(target, "contracts")
    finally:
        unregister_target_type("toy_december")
    out = scale.forecast_region_frame(pdf.assign(region=name), year=YEAR, as_of_month=AS_OF,
                                      targets=(spec, *scale.DEFAULT_TARGETS[:1]))  # fmt: skip
    rows = pdf[(pdf["measure"] == "contracts") & (pdf["year"] == YEAR - 1)]
    toy_row, ytd_row = out.iloc[0], out.iloc[1]
    assert (toy_row["model"], toy_row["status"], toy_row["n_obs"]) == ("last_december", "toy", 1)
    assert toy_row["point"] == float(rows["value"].iloc[-1]) * 12
    assert toy_row["region"] == name and toy_row["target"] == float(rows["target"].iloc[0])
    assert ytd_row["model"] == "ytd"
    # a built-in model named as "module:function" is the same model as its short name
    named = scale.RegionTarget(
        "tech_contracts_count", "contracts", "tianxin_analysis.scale:ytd_region"
    )
    pd.testing.assert_frame_equal(
        scale.forecast_region_frame(pdf, year=YEAR, as_of_month=AS_OF, targets=(named,)),
        scale.forecast_region_frame(pdf, year=YEAR, as_of_month=AS_OF,
                                    targets=scale.DEFAULT_TARGETS[:1]), check_exact=True)  # fmt: skip
    with pytest.raises(ValueError, match="module:function"):
        scale.RegionTarget("x", "contracts", "no_such_module:no_such_model")
