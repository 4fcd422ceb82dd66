"""evaluate_targets on constructed frames with the data-contract columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tianxin_analysis.forecast import TABLE_COLUMNS, UnsupportedTargetError, evaluate_targets
from tianxin_analysis.targets import load_targets


def _frames(seed: int = 1) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    profile = np.array([0.5, 0.5, 0.8, 0.8, 0.9, 1.2, 0.9, 0.9, 1.0, 1.0, 1.3, 2.2])
    rows = []
    for y in range(2019, 2025):
        lvl = 1.08 ** (y - 2019)
        for m in range(2, 13):
            if y == 2024 and m > 9:
                break
            k = 2 if m == 2 else 1
            share = profile[:2].sum() if m == 2 else profile[m - 1]
            rows.append(
                {
                    "year": y,
                    "month": m,
                    "months_covered": k,
                    "contracts": 300 * lvl * share * rng.uniform(0.9, 1.1),
                    "value_wan": 1e5 * lvl * share * rng.uniform(0.9, 1.1),
                }
            )
    contracts = pd.DataFrame(rows)
    certs = []
    for b in range(2018, 2025):
        for i in range(150):
            u = f"U{(b % 3)}{i:04d}"  # the same enterprises renew every 3 years
            d = pd.Timestamp(f"{b}-11-15") if b < 2024 else pd.Timestamp("2024-08-20")
            if b == 2024 and i >= 60:
                continue
            certs.append(
                {
                    "enterprise_name": f"企业{u}",
                    "uscc": u,
                    "certificate_no": f"GR{b}{i:04d}",
                    "issue_date": d,
                    "year": b,
                    "expiry_year": b + 3,
                    "tech_field": "电子信息",
                    "park": "园区A",
                    "status": "有效",
                }
            )
    for i in range(20):
        certs.append(
            {
                "enterprise_name": f"新企{i}",
                "uscc": f"N{i:05d}",
                "certificate_no": f"GRN{i}",
                "issue_date": pd.Timestamp("2023-11-15"),
                "year": 2023,
                "expiry_year": 2026,
                "tech_field": "新材料",
                "park": "园区B",
                "status": "有效",
            }
        )
    certs = pd.DataFrame(certs)
    regs = []
    for y in range(2020, 2025):
        for i in range(400 + 20 * (y - 2020)):
            mth = min(12, 3 + i % 9)
            if y == 2024 and mth > 9:
                continue
            regs.append(
                {
                    "registration_no": f"R{y}{i}",
                    "enterprise_name": f"中小{i}",
                    "uscc": f"S{i:05d}",
                    "registration_date": pd.Timestamp(f"{y}-{mth:02d}-10"),
                    "year": y,
                    "batch": 1,
                }
            )
    regs = pd.DataFrame(regs).astype({"batch": "Int64"})
    va = []
    for y in range(2019, 2025):
        for m in range(2, 13):
            if y == 2024 and m > 8:
                break
            va.append(
                {
                    "year": y,
                    "month": m,
                    "va_cum_yi": 10 * m * 1.1 ** (y - 2019),
                    "growth_cum_pct": 10 + rng.normal(0, 1),
                }
            )
    va = pd.DataFrame(va)
    rd = pd.DataFrame(
        [
            {
                "unit_name": f"单位{i}",
                "uscc": f"D{i}",
                "unit_type": "企业",
                "year": y,
                "rd_expenditure_wan": 1000.0 * (1 + 0.05 * (y - 2018)),
            }
            for y in range(2018, 2024)
            for i in range(40)
        ]
    )
    gdp = pd.DataFrame({"year": range(2018, 2024), "gdp_yi": [150.0 + 5 * k for k in range(6)]})
    stages = ["已认定"] * 4 + ["评审中"] * 4 + ["申报中"] * 4 + ["储备"] * 3 + ["未通过"]
    pipes = []
    for p in (
        "innovation_platforms",
        "innovation_buildings",
        "tech_vice_presidents",
        "district_talents",
    ):
        for j, s in enumerate(stages):
            pipes.append(
                {
                    "pipeline": p,
                    "candidate": f"{p}-{j}",
                    "category": "市级",
                    "stage": s,
                    "expected_date": pd.Timestamp("2024-11-30"),
                    "recognized_date": pd.Timestamp("2024-05-01") if s == "已认定" else pd.NaT,
                    "year": 2024,
                }
            )
    return {
        "tech_contracts": contracts,
        "hitech_certificates": certs,
        "tech_sme_registrations": regs,
        "hitech_value_added": va,
        "rd_expenditure": rd,
        "district_gdp": gdp,
        "pipelines": pd.DataFrame(pipes),
    }


def test_every_target_has_a_status_and_numbers():
    plan = load_targets(2024)
    ev = evaluate_targets(plan, _frames(), "2024-09")
    assert list(ev.table.columns) == list(TABLE_COLUMNS)
    assert list(ev.table["target_id"]) == [t.id for t in plan.targets]
    assert ev.table["status"].isin(["on_track", "at_risk", "off_track", "met"]).all()
    assert ev.table["point"].notna().all() and ev.table["p_meet"].between(0, 1).all()
    assert (ev.table["lower"] <= ev.table["point"]).all() and (
        ev.table["point"] <= ev.table["upper"]
    ).all()
    assert set(ev.watch_lists) == {"hitech_enterprises", "tech_smes"}
    assert {"tech_contracts_count", "tech_contracts_value", "tech_smes", "hitech_va_growth"} <= set(
        ev.paths
    )
    # value target in 亿元 from 万元: yearly ~ 1e5 * 12 * 1.08^5 万元 ~ 176 亿元
    val = ev.results["tech_contracts_value"]
    assert 120 < val.point < 260
    assert ev.synthetic is True
    assert "模拟" in ev.summary_text()


def test_as_of_truncation_ignores_later_rows():
    plan = load_targets(2024)
    frames = _frames()
    tc = frames["tech_contracts"]
    extra = pd.DataFrame(
        [{"year": 2024, "month": 10, "months_covered": 1, "contracts": 1e6, "value_wan": 1e9}]
    )
    frames2 = {**frames, "tech_contracts": pd.concat([tc, extra], ignore_index=True)}
    a = evaluate_targets(plan, frames, "2024-09").table
    b = evaluate_targets(plan, frames2, "2024-09").table
    pd.testing.assert_frame_equal(a, b)


def test_deterministic():
    plan = load_targets(2024)
    a = evaluate_targets(plan, _frames(), "2024-09")
    b = evaluate_targets(plan, _frames(), "2024-09")
    pd.testing.assert_frame_equal(a.table, b.table)
    np.testing.assert_array_equal(
        a.results["hitech_enterprises"].draws, b.results["hitech_enterprises"].draws
    )


def test_unknown_kind_is_a_clear_error():
    from dataclasses import replace

    plan = load_targets(2024)
    bad = replace(plan, targets=(replace(plan.targets[0], data_kind="patents"),))
    with pytest.raises(UnsupportedTargetError, match="patents"):
        evaluate_targets(bad, _frames(), "2024-09")


def test_thresholds_configurable():
    plan = load_targets(2024)
    default = evaluate_targets(plan, _frames(), "2024-09").table
    strict = evaluate_targets(plan, _frames(), "2024-09", thresholds=(0.99, 0.98)).table
    changed = default["status"].ne(strict["status"])
    assert changed.any()
    assert default.loc[changed, "p_meet"].lt(0.99).all()


def test_a_scenario_is_flagged_and_evaluated_against_its_values():
    from tianxin_analysis.targets import with_target_values

    plan = load_targets(2024)
    base = evaluate_targets(plan, _frames(), "2024-09", seed=1)
    what_if = evaluate_targets(
        with_target_values(plan, {"tech_contracts_count": 100_000}), _frames(), "2024-09", seed=1
    )
    assert not base.is_scenario and base.scenario_text() == ""
    assert "情景测算" not in base.summary_text()
    assert what_if.is_scenario
    row = what_if.table.set_index("target_id").loc["tech_contracts_count"]
    assert row["target"] == 100_000 and row["p_meet"] < 0.01
    text = what_if.summary_text()
    assert "情景测算" in text and "4,500 → 100,000 项" in text
    # Targets the scenario did not touch are judged as before.
    other = what_if.table.set_index("target_id").drop(index="tech_contracts_count")
    pd.testing.assert_frame_equal(
        other, base.table.set_index("target_id").drop(index="tech_contracts_count")
    )
