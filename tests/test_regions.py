"""``tianxin regions``: every region's forecast published by as-of month, the status summary,
the overview page sorted by risk, and a clear message for an engine that is not installed."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from tianxin_analysis import cli, regions, scale
from tianxin_analysis.data import run_clean
from tianxin_analysis.labels import STATUS, SYNTHETIC_LABEL
from tianxin_analysis.paths import RAW_DIR


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    out = tmp_path_factory.mktemp("regions") / "processed"
    run_clean(RAW_DIR, out, progress=False)
    return out


def test_regions_command_publishes_the_month(processed, tmp_path, capsys):
    out = tmp_path / "regions"
    args = ["--quiet", "regions", "--as-of", "2024-09", "--processed", str(processed),
            "--out", str(out)]  # fmt: skip
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "各目标状态的区域数" in printed and "430103" in printed
    part = out / "forecasts" / "as_of=2024-09" / "part-0.parquet"
    got = pd.read_parquet(part)
    expected = scale.forecast_all_regions(
        scale.region_frames(processed, plan=RAW_DIR / "targets" / "2024.yaml"),
        year=2024, as_of_month=9, progress=False,
    )  # fmt: skip
    pd.testing.assert_frame_equal(got, expected)
    assert set(got["region"]) == {"430103"} and (got["as_of_month"] == 9).all()
    page = (out / "overview_2024-09.html").read_text(encoding="utf-8")
    assert SYNTHETIC_LABEL in page and "各区域目标完成风险一览" in page
    assert (out / "run.json").is_file()

    # another month adds its partition; the first month's stays
    assert cli.main([*args[:3], "2024-10", *args[4:]]) == 0
    assert part.is_file() and (out / "forecasts" / "as_of=2024-10" / "part-0.parquet").is_file()
    months = pd.read_parquet(out / "forecasts")  # the dataset, partitioned by month
    assert len(months) == 2 * len(got)


def test_risk_table_sorts_the_most_at_risk_first():
    rows = []
    for region, statuses, p in [
        ("a", ["on_track", "on_track"], [0.9, 0.95]),
        ("b", ["off_track", "at_risk"], [0.1, 0.5]),
        ("c", ["off_track", "on_track"], [0.2, 0.9]),
        ("d", ["off_track", "unknown"], [0.3, np.nan]),
    ]:
        rows += [{"region": region, "target_id": t, "status": s, "p_meet": pm}
                 for t, s, pm in zip(["x", "y"], statuses, p, strict=True)]  # fmt: skip
    result = pd.DataFrame(rows)
    risk = regions.risk_table(result)
    # b: 1 off + 1 at risk; d before c: both 1 off, d's mean p (0.3) below c's (0.55)
    assert list(risk["region"]) == ["b", "d", "c", "a"]
    assert risk.loc[0, "x"] == f"{STATUS['off_track'][0]} 10%"
    assert risk.loc[1, "y"] == STATUS["unknown"][0]  # no probability, no number
    counts = regions.status_counts(result)
    assert counts.loc["x", STATUS["off_track"][0]] == 3
    page = regions.overview_html(result, as_of="2024-09", synthetic=False)
    assert SYNTHETIC_LABEL not in page
    assert page.index(">b<") < page.index(">d<") < page.index(">c<") < page.index(">a<")


@pytest.mark.parametrize(("engine", "module"), [("dask", "dask.dataframe"), ("spark", "pyspark")])
def test_missing_engine_is_a_message(processed, tmp_path, capsys, monkeypatch, engine, module):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as when not installed
    code = cli.main(["--quiet", "regions", "--engine", engine, "--as-of", "2024-09",
                     "--processed", str(processed), "--out", str(tmp_path / "r")])  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0
    assert "tianxin-analysis[scale]" in err and "未安装" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()  # nothing published
