from __future__ import annotations

import pytest
import yaml

from tianxin_analysis.errors import Location, TargetsFileError
from tianxin_analysis.targets import load_targets

EXPECTED = {
    "hitech_enterprises": (">=", 520, "stock"),
    "hitech_va_growth": (">=", 11, "growth_rate"),
    "tech_smes": (">=", 540, "stock"),
    "rd_intensity_2023": ("~=", 2.8, "ratio"),
    "innovation_platforms": (">=", 10, "pipeline_count"),
    "tech_contracts_count": (">=", 4500, "flow"),
    "tech_contracts_value": (">=", 145, "flow"),
    "innovation_buildings": (">=", 3, "pipeline_count"),
    "tech_vice_presidents": (">=", 10, "pipeline_count"),
    "district_talents": (">=", 8, "pipeline_count"),
}


def test_2024_plan_has_every_target_of_the_work_plan():
    plan = load_targets(2024)
    assert plan.year == 2024 and plan.district_code == "430103"
    got = {t.id: (t.comparator, t.value, t.kind) for t in plan.targets}
    assert got == EXPECTED
    assert plan["rd_intensity_2023"].reference_year == 2023
    assert plan["hitech_enterprises"].reference_year == 2024


def test_clauses_quote_the_plan():
    from tianxin_analysis.paths import PROJECT_ROOT

    seed = PROJECT_ROOT.parent / "shared" / "seed" / "tianxin-2024-sti-work-plan.txt"
    if not seed.is_file():
        pytest.skip("../shared/seed not present")
    text = seed.read_text(encoding="utf-8").replace(" ", "")
    for t in load_targets(2024).targets:
        assert t.clause.replace(" ", "") in text, t.id


def test_about_comparator_uses_tolerance():
    t = load_targets(2024)["rd_intensity_2023"]
    assert t.threshold == pytest.approx(2.75)
    assert t.is_met(2.76) and t.is_met(3.1) and not t.is_met(2.74)


def test_to_frame_one_row_per_target():
    frame = load_targets(2024).to_frame()
    assert len(frame) == 10 and frame["id"].is_unique


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("targets: 3", None),
        ("plan: {year: 2024}\ntargets:\n  - {id: x}\n", "name_zh"),
        (
            "plan: {year: 2024}\ntargets:\n  - {id: x, name_zh: a, name_en: a, comparator: '>', value: 1,"
            " unit: a, unit_en: a, period: '2024', kind: flow, data_kind: a, measure: a, clause: a}\n",
            "comparator",
        ),
        (
            "plan: {year: 2024}\ntargets:\n  - {id: x, name_zh: a, name_en: a, comparator: '>=', value: many,"
            " unit: a, unit_en: a, period: '2024', kind: flow, data_kind: a, measure: a, clause: a}\n",
            "value",
        ),
        ("plan: [\n", None),
    ],
)
def test_bad_targets_file_gives_clear_error(tmp_path, text, column):
    path = tmp_path / "2030.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TargetsFileError) as err:
        load_targets(path)
    msg = str(err.value)
    assert "2030.yaml" in msg
    if column:
        assert column in msg


def test_missing_targets_file(tmp_path):
    with pytest.raises(TargetsFileError, match="not found"):
        load_targets(tmp_path / "1999.yaml")


# ---- what-if values (情景测算) ----------------------------------------------------------


def test_target_values_make_a_scenario_without_touching_the_plan():
    from tianxin_analysis.targets import with_target_values

    plan = load_targets(2024)
    what_if = with_target_values(plan, {"tech_contracts_count": 4800, "hitech_va_growth": -1.0})
    assert what_if["tech_contracts_count"].value == 4800
    assert what_if["hitech_va_growth"].value == -1.0  # a growth target may be negative
    assert [c.id for c in what_if.scenario] == ["hitech_va_growth", "tech_contracts_count"]
    assert what_if.scenario[1].planned == 4500 and what_if.scenario[1].unit == "项"
    # A second change of the same target keeps the plan's value as "planned".
    again = with_target_values(what_if, {"tech_contracts_count": 5000})
    assert again.scenario[1].planned == 4500 and again.scenario[1].value == 5000
    assert plan["tech_contracts_count"].value == 4500 and not plan.scenario
    assert with_target_values(plan, {}) is plan


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"tech_contract": 4800}, "tech_contracts_count"),  # unknown id: the valid ids listed
        ({"tech_smes": -5}, "not negative"),
        ({"tech_smes": float("nan")}, "finite"),
        ({"tech_smes": "many"}, "finite"),
    ],
)
def test_bad_target_values_are_refused_with_the_reason(values, needle):
    from tianxin_analysis.targets import with_target_values

    with pytest.raises(TargetsFileError, match=needle):
        with_target_values(load_targets(2024), values, source="whatif.yaml")


def test_target_value_from_the_command_line():
    from tianxin_analysis.targets import parse_target_value

    assert parse_target_value("tech_contracts_count=4,800") == ("tech_contracts_count", 4800.0)
    assert parse_target_value(" hitech_va_growth = 12.5") == ("hitech_va_growth", 12.5)
    for bad in ("tech_contracts_count", "=4800", "tech_contracts_count=lots", "x=inf"):
        with pytest.raises(TargetsFileError, match="id=value"):
            parse_target_value(bad)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("tech_smes: 560\ntech_contracts_count: [1]\n", "tech_contracts_count"),
        ("- tech_smes\n", "non-empty mapping"),
        ("tech_smes: [unclosed\n", "not valid YAML"),
    ],
)
def test_target_values_file_is_validated(tmp_path, text, needle):
    from tianxin_analysis.targets import load_target_values

    path = tmp_path / "whatif.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TargetsFileError, match=needle) as err:
        load_target_values(path)
    assert "whatif.yaml" in str(err.value)
    ok = tmp_path / "ok.yaml"
    ok.write_text("tech_smes: 560\ntech_contracts_value: 150.5\n", encoding="utf-8")
    assert load_target_values(ok) == {"tech_smes": 560.0, "tech_contracts_value": 150.5}


_ENTRY = {
    "id": "hitech_enterprises", "name_zh": "高新技术企业数量", "name_en": "High-tech enterprises",
    "comparator": ">=", "value": 520, "unit": "家", "unit_en": "enterprises",
    "period": "2024-12-31", "kind": "stock", "data_kind": "hitech_certificates",
    "measure": "valid_enterprises", "clause": "力争到 2024 年底，高新技术企业数量达 520 家以上",
}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "column", "zh", "en", "expected"),
    [
        ({"clause": ""}, "clause", "缺少字段", "lacks a field", "字段 clause"),
        ({"kind": "speed"}, "kind", "类型 kind 未登记", "unregistered kind", "stock（"),
        ({"value": True}, "value", "数值无效", "non-numeric value", "有限数值"),
        ({"tolerance": float("nan")}, "tolerance", "数值无效", "non-numeric tolerance", "有限"),
        ({"value": -1}, "value", "数值应为正数", "value that is not positive", "正数"),
        ({"tolerance": -1}, "tolerance", "数值应为正数", "tolerance that is not positive", "正数"),
        ({"data_kind": "registry"}, "data_kind", "data_kind 无效", "unknown data_kind",
         "stock: hitech_certificates"),
        ({"data_kind": ["a", "b"]}, "data_kind", "data_kind 无效", "unknown data_kind", "stock:"),
        ({"measure": "all"}, "measure", "measure 无效", "unknown measure", "valid_enterprises"),
        ({"period": "2024-02-30"}, "period", "期间无效", "invalid period", "2024-12-31"),
        ({"period": "2021"}, "period", "期间无效", "invalid period", "two years earlier"),
        ({"comparator": "~="}, "tolerance", "未给容差", "'~=' without a tolerance", "正数容差"),
        ({"publication_lag_months": 37}, "publication_lag_months", "发布滞后月数无效",
         "invalid publication_lag_months", "0-36"),
        ({"kind": "pipeline_count", "data_kind": "pipelines", "measure": "district_talents",
          "value": 7.5}, "value", "计数目标应为整数", "a count target is a whole number", "整数"),
    ],
)  # fmt: skip
def test_each_field_of_an_entry_is_checked_with_its_message(
    tmp_path, change, column, zh, en, expected
):
    # the first problem of the entry is reported, naming the file, the entry and the field
    doc = {"plan": {"year": 2024}, "targets": [{"id": "ok", **_ENTRY}, {**_ENTRY, **change}]}
    path = tmp_path / "2024.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TargetsFileError) as err:
        load_targets(path)
    e = err.value
    assert e.location == Location(file=str(path), row=2, column=column)
    assert zh in e.zh and en in e.en and "hitech_enterprises" in e.zh
    assert expected in str(e.expected)


def test_a_valid_entry_parses_to_its_target(tmp_path):
    doc = {"plan": {"year": 2024}, "targets": [{**_ENTRY, "publication_lag_months": 6}]}
    path = tmp_path / "2024.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    (t,) = load_targets(path).targets
    assert (t.id, t.value, t.tolerance, t.period, t.publication_lag_months) == (
        "hitech_enterprises", 520.0, 0.0, "2024-12-31", 6,
    )  # fmt: skip
