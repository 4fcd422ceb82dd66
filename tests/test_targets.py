from __future__ import annotations

import pytest

from tianxin_analysis.errors import TargetsFileError
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
