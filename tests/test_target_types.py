"""Target types as a registry: a new type is one registration, and it flows from a targets
file through ``evaluate_targets`` to its chart; unknown kinds are refused with the list of
registered ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tianxin_analysis.charts import chart_specs, export_figure
from tianxin_analysis.data import load_processed
from tianxin_analysis.errors import TargetsFileError
from tianxin_analysis.forecast import ForecastResult, evaluate_targets
from tianxin_analysis.forecast.target_models import ModelContext, ModelOutput
from tianxin_analysis.scale import DEFAULT_TARGETS, MODELS, RegionTarget
from tianxin_analysis.target_types import (
    TARGET_TYPES,
    Source,
    TargetType,
    UnknownTargetTypeError,
    register_target_type,
    resolve,
    unregister_target_type,
)
from tianxin_analysis.targets import load_targets

AS_OF = pd.Period("2024-09", "M")
PLAN_HEAD = """\
plan:
  year: 2024
  district_zh: 天心区
  district_en: Tianxin District
  title: 测试计划
targets:
"""
TOY_TARGET = """\
  - id: contracts_run_rate
    name_zh: 技术合同按月均推算
    name_en: Technology contracts at this year's monthly pace
    comparator: ">="
    value: {value}
    unit: 项
    unit_en: contracts
    period: "2024"
    kind: {kind}
    data_kind: tech_contracts
    measure: contracts
    clause: 测试用目标
"""


def run_rate(t, load, ctx: ModelContext) -> ModelOutput:
    """The toy model: this year's contracts so far times 12 / months, ±10% (normal)."""
    tc = load("tech_contracts")
    this = tc[(tc["year"] == ctx.year) & (tc["month"] <= ctx.as_of.month)]
    so_far = float(this["contracts"].sum())
    point = so_far * 12 / ctx.as_of.month
    dist = stats.norm(point, 0.1 * point)
    return ModelOutput(ForecastResult(
        point=point, lower=dist.ppf(0.1), upper=dist.ppf(0.9), lower95=dist.ppf(0.025),
        upper95=dist.ppf(0.975), p_meet=float(dist.sf(t.value)), method="toy run rate",
        target=t.value, actual_to_date=so_far,
    ))  # fmt: skip


def _is_whole_hundred(t):
    if t.value % 100 == 0:
        return None
    return ("玩具目标应为整百", "a toy target is a multiple of 100", "value", "整百 (e.g. 4800)")


# The one registration a new type needs (the test registers it per test and removes it after).
TOY = TargetType(
    kind="toy_run_rate",
    label=("月均推算", "monthly run rate"),
    sources={
        "tech_contracts": Source(("tech_contracts",), ("contracts",), run_rate, accumulates=True)
    },  # fmt: skip
    axis_label=("按月均推算", "at the monthly pace"),
    year_end_axis_label=("全年按月均推算", "full year at the monthly pace"),
    check=_is_whole_hundred,
)


@pytest.fixture
def toy():
    register_target_type(TOY)
    yield TOY
    unregister_target_type(TOY.kind)


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("processed")
    res = subprocess.run([sys.executable, "-m", "tianxin_analysis.cli", "--quiet", "clean",
                          "--out", str(out)], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert res.returncode == 0, res.stderr
    return out


def _plan_file(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN_HEAD + "".join(entries), encoding="utf-8")
    return path


def test_toy_type_flows_from_yaml_to_evaluation_and_chart(toy, processed, tmp_path):
    plan = load_targets(_plan_file(tmp_path, TOY_TARGET.format(value=4800, kind=toy.kind)))
    ev = evaluate_targets(plan, processed, AS_OF, seed=1)

    row = ev.table.set_index("target_id").loc["contracts_run_rate"]
    tc = load_processed("tech_contracts", processed)
    so_far = tc.loc[(tc["year"] == 2024) & (tc["month"] <= 9), "contracts"].sum()
    assert row["kind"] == "toy_run_rate"
    assert row["method"] == "toy run rate"
    assert row["actual_to_date"] == pytest.approx(so_far)
    assert row["point"] == pytest.approx(so_far * 12 / 9)
    p = stats.norm(so_far * 12 / 9, 0.1 * so_far * 12 / 9).sf(4800)
    assert row["p_meet"] == pytest.approx(p)
    # accumulates=True: 序时进度 share of the target is computed for it
    assert row["schedule_share"] == pytest.approx(so_far / 4800 / (9 / 12))

    (spec,) = [s for s in chart_specs(ev) if s.stem.endswith("contracts_run_rate")]
    assert spec.stem == "fan_contracts_run_rate"  # the default chart of a type
    fig = spec.draw("slide")
    assert fig.axes[0].get_xlabel() == "全年按月均推算 (项)"  # the type's own axis label
    (png,) = export_figure(fig, tmp_path, spec.stem, formats=("png",))
    assert png.stat().st_size > 10_000


def test_toy_type_check_refuses_an_entry_with_its_message(toy, tmp_path):
    path = _plan_file(tmp_path, TOY_TARGET.format(value=4850, kind=toy.kind))
    with pytest.raises(TargetsFileError) as err:
        load_targets(path)
    msg = str(err.value)
    assert "玩具目标应为整百" in msg and "a toy target is a multiple of 100" in msg
    assert "plan.yaml" in msg and "row=1" in msg and "4850" in msg


def test_unknown_kind_lists_the_registered_kinds(toy, tmp_path):
    path = _plan_file(tmp_path, TOY_TARGET.format(value=4800, kind="speed_of_light"))
    with pytest.raises(TargetsFileError) as err:
        load_targets(path)
    msg = str(err.value)
    assert "未登记" in msg and "unregistered kind" in msg and "speed_of_light" in msg
    for kind in ("stock", "flow", "growth_rate", "ratio", "pipeline_count", "toy_run_rate"):
        assert kind in msg
    assert "月均推算" in msg  # with its zh label


def test_unregistered_type_is_unknown_again(tmp_path):
    register_target_type(TOY)
    unregister_target_type(TOY.kind)
    with pytest.raises(TargetsFileError, match="toy_run_rate"):
        load_targets(_plan_file(tmp_path, TOY_TARGET.format(value=4800, kind=TOY.kind)))


def test_a_kind_is_registered_once(toy):
    with pytest.raises(ValueError, match="already registered"):
        register_target_type(TOY)
    assert register_target_type(TOY, replace=True) is TOY


def test_declaration_errors():
    with pytest.raises(ValueError, match="schedule"):
        TargetType("x", ("x", "x"), TOY.sources, schedule="sideways")
    with pytest.raises(UnknownTargetTypeError, match="tianxin_analysis.charts:no_such_chart"):
        resolve("tianxin_analysis.charts:no_such_chart")
    with pytest.raises(ValueError, match="neither a function"):
        TargetType("x", ("x", "x"), {"d": Source(("d",), ("m",), "no_colon_here")})


def test_builtin_types_resolve_and_speak_the_region_vocabulary():
    for tt in TARGET_TYPES.values():
        assert callable(resolve(tt.chart))
        for source in tt.sources.values():
            assert callable(resolve(source.model))
            assert source.region_model is None or source.region_model in MODELS
    # The plan's targets map to the same region models as scale's own defaults.
    plan = load_targets(2024)
    defaults = {d.id: d for d in DEFAULT_TARGETS}
    matched = 0
    for t in plan.targets:
        d = defaults.get(t.id) or defaults.get(t.id.removesuffix("_2023"))
        if d is None:
            continue
        r = RegionTarget.for_target(t, d.measure, d.growth_measure)
        assert (r.model, r.comparator, r.tolerance) == (d.model, d.comparator, d.tolerance)
        matched += 1
    assert matched == 6


def test_pipeline_counts_must_be_whole(tmp_path):
    entry = """\
  - id: talents
    name_zh: 人才
    name_en: Talents
    comparator: ">="
    value: 7.5
    unit: 名
    unit_en: people
    period: "2024"
    kind: pipeline_count
    data_kind: pipelines
    measure: district_talents
    clause: 测试
"""
    with pytest.raises(TargetsFileError, match="whole number"):
        load_targets(_plan_file(tmp_path, entry))
    assert np.isclose(
        load_targets(_plan_file(tmp_path, entry.replace("7.5", "8"))).targets[0].value, 8
    )


def test_package_exports_load_and_evaluate_lazily():
    import tianxin_analysis
    from tianxin_analysis import forecast, targets

    assert tianxin_analysis.load_targets is targets.load_targets
    assert tianxin_analysis.evaluate_targets is forecast.evaluate_targets
    assert {"load_targets", "evaluate_targets"} <= set(dir(tianxin_analysis))
    with pytest.raises(AttributeError, match="no_such_name"):
        tianxin_analysis.no_such_name  # noqa: B018
    # importing the package alone pulls in neither pandas nor the forecast layer
    code = "import sys, tianxin_analysis; print('pandas' in sys.modules, 'scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
