"""Build a realistic ``Evaluation`` by hand for chart and report tests.

The forecasting layer (``forecast.evaluate_targets``) is tested on its own; charts and report
only need an Evaluation with the shape it produces: ForecastResult objects carrying draws and
quantiles, watch-list frames and monthly cumulative paths. Everything is drawn from a seeded
generator so the outputs are deterministic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tianxin_analysis.forecast.evaluation import TABLE_COLUMNS, Evaluation
from tianxin_analysis.forecast.result import QUANTILE_LEVELS, ForecastResult
from tianxin_analysis.labels import STATUS
from tianxin_analysis.targets import Plan, load_targets

AS_OF = pd.Period("2024-09", freq="M")

# target id -> (actual so far, forecast median, relative spread of the predictive distribution)
_SCENARIO = {
    "hitech_enterprises": (498.0, 531.0, 0.025),
    "hitech_va_growth": (10.4, 10.8, 0.06),
    "tech_smes": (505.0, 552.0, 0.03),
    "rd_intensity_2023": (None, 2.77, 0.02),
    "innovation_platforms": (6.0, 9.0, 0.2),
    "tech_contracts_count": (3120.0, 4390.0, 0.05),
    "tech_contracts_value": (101.5, 152.0, 0.08),
    "innovation_buildings": (3.0, 3.0, 0.0),
    "tech_vice_presidents": (7.0, 11.0, 0.15),
    "district_talents": (0.0, 8.0, 0.12),
}

# Monthly seasonal shares of an annual flow (technology contracts bunch in December).
_FLOW_SHARE = np.array([3, 5, 7, 7, 8, 9, 8, 8, 9, 9, 10, 17], dtype=float)
_FLOW_SHARE = _FLOW_SHARE / _FLOW_SHARE.sum()


def _result(target, actual, median, spread, rng) -> ForecastResult:
    count_like = target.kind == "pipeline_count" or target.unit in ("家", "项", "栋", "人", "名")
    if spread == 0.0:
        draws = np.full(4000, median)
    elif target.kind == "pipeline_count":
        remaining = max(median - (actual or 0.0), 0.5)
        draws = (actual or 0.0) + rng.poisson(remaining, size=4000).astype(float)
    else:
        draws = median * np.exp(rng.normal(0.0, spread, size=4000))
        if count_like:
            draws = np.round(draws)
    q = {lv: float(np.quantile(draws, lv)) for lv in QUANTILE_LEVELS}
    p_meet = float(np.mean(draws >= target.threshold))
    if target.kind == "flow" and actual is not None:
        baseline = actual * 12 / AS_OF.month
    elif target.kind == "growth_rate":
        baseline = actual
    else:
        baseline = None
    details = {}
    if target.kind == "pipeline_count":
        # the keys models.pipeline_count reports
        details.update(achieved=int(actual or 0), pending=12,
                       expected_successes=float(median - (actual or 0.0)),
                       pending_by_stage={"评审中": 3, "申报中": 4, "储备": 5})  # fmt: skip
    return ForecastResult(
        point=q[0.5],
        lower=q[0.1],
        upper=q[0.9],
        lower95=q[0.025],
        upper95=q[0.975],
        p_meet=p_meet,
        method={
            "stock": "续期率 + 新认定 (renewal + new certificates)",
            "flow": "季节份额对数正态 (seasonal-share lognormal)",
            "growth_rate": "累计增速回归 (cumulative growth regression)",
            "ratio": "比率区间 (ratio interval)",
            "pipeline_count": "储备项目二项抽样 (pipeline binomial)",
        }[target.kind],
        baseline_point=baseline,
        target=target.value,
        comparator=target.comparator,
        actual_to_date=actual,
        quantiles=tuple(q.items()),
        draws=draws,
        details=details,
    )


def _path(target, actual, rng) -> pd.DataFrame:
    """Cumulative monthly path in the target's unit: past years whole, plan year to AS_OF."""
    rows = []
    for year in range(2019, 2025):
        last_month = AS_OF.month if year == AS_OF.year else 12
        scale = target.value * (0.62 + 0.08 * (year - 2019)) * rng.uniform(0.95, 1.05)
        if target.kind == "growth_rate":
            level = rng.uniform(7.0, 13.0)
            cum = level + np.cumsum(rng.normal(0.0, 0.4, size=12))
        elif target.kind == "stock":
            cum = scale * (0.9 + 0.1 * np.cumsum(_FLOW_SHARE))
        else:
            cum = scale * np.cumsum(_FLOW_SHARE)
        if year == AS_OF.year and actual is not None:
            cum = cum * actual / cum[AS_OF.month - 1]
        for m in range(1, last_month + 1):
            rows.append({"year": year, "month": m, "cumulative": float(cum[m - 1])})
    return pd.DataFrame(rows).astype({"year": "int64", "month": "int64", "cumulative": "float64"})


def _watch_lists() -> dict[str, pd.DataFrame]:
    expiring = pd.DataFrame(
        {
            "enterprise_name": [
                '=HYPERLINK("http://x")有限公司',
                "长沙天心智造科技有限公司",
                "湖南芙蓉信息技术有限公司",
                "长沙坡子街数据服务有限公司",
                "湖南南托新材料股份有限公司",
            ],
            "uscc": [
                "91430103MA4L000001",
                "91430103MA4L000002",
                "91430103MA4L000003",
                "91430103MA4L000004",
                "91430103MA4L000005",
            ],
            "certificate_no": [
                "GR202143000101",
                "GR202143000102",
                "GR202143000103",
                "GR202143000104",
                "GR202143000105",
            ],  # fmt: skip
            "issue_date": pd.to_datetime(
                ["2021-12-20", "2021-10-08", "2021-11-30", "2021-10-08", "2021-12-01"]
            ),
            "expiry_year": [2024, 2024, 2024, 2024, 2024],
            "tech_field": ["电子信息", "先进制造与自动化", "电子信息", "高技术服务", "新材料"],
            "park": ["天心经开区", "暮云街道", "天心经开区", "坡子街街道", "南托街道"],
        }
    )
    sme = pd.DataFrame(
        {
            "enterprise_name": [
                "长沙湘江软件有限公司",
                "@湖南橘洲检测有限公司",
                "长沙黄兴生物科技有限公司",
            ],
            "uscc": ["91430103MA4M000011", "91430103MA4M000012", "91430103MA4M000013"],
            "registration_no": ["202343010300011", "202343010300012", "202343010300013"],
            "registration_date": pd.to_datetime(["2023-03-15", "2023-05-20", "2023-07-02"]),
        }
    )
    return {"hitech_enterprises": expiring, "tech_smes": sme}


def _candidates(target, actual, rng) -> pd.DataFrame:
    """Named candidates of a pipeline (the columns of models.pipeline_candidates)."""
    stages = ["已认定"] * int(actual or 0) + ["评审中"] * 3 + ["申报中"] * 4 + ["储备"] * 5 + ["未通过"]
    p = {"已认定": 1.0, "评审中": 0.8, "申报中": 0.5, "储备": 0.25, "未通过": 0.0}
    n = len(stages)
    expected = pd.to_datetime("2024-03-01") + pd.to_timedelta(np.sort(rng.integers(0, 300, n)), "D")
    return pd.DataFrame({
        "candidate": [f"长沙{target.name_zh[-4:]}候选{i + 1:02d}" for i in range(n)],
        "category": ["市级" if i % 2 else "省级" for i in range(n)],
        "stage": stages,
        "expected_date": expected,
        "recognized_date": expected.where([s == "已认定" for s in stages]),
        "responsible_unit": ["天心区科技平台服务中心" if i % 3 else "天心区科技人才服务中心" for i in range(n)],
        "achieved": [s == "已认定" for s in stages],
        "pending": [s in ("评审中", "申报中", "储备") for s in stages],
        "probability": [p[s] for s in stages],
    })  # fmt: skip


def make_evaluation(
    synthetic: bool = True, seed: int = 2024, plan: Plan | None = None
) -> Evaluation:
    """A complete Evaluation of the 2024 plan as of September 2024 (all numbers invented)."""
    plan = plan or load_targets(2024)
    rng = np.random.default_rng(seed)
    results: dict[str, ForecastResult] = {}
    paths: dict[str, pd.DataFrame] = {}
    rows = []
    candidates: dict[str, pd.DataFrame] = {}
    cand_rng = np.random.default_rng(seed + 1)  # apart, so the forecasts' draws stay as they were
    for t in plan.targets:
        actual, median, spread = _SCENARIO[t.id]
        res = _result(t, actual, median, spread, rng)
        results[t.id] = res
        if t.kind == "pipeline_count":
            candidates[t.id] = _candidates(t, actual, cand_rng)
        if t.kind in ("flow", "stock", "growth_rate"):
            paths[t.id] = _path(t, actual, rng)
        status = res.status()
        code = (
            "met"
            if t.kind == "pipeline_count" and actual is not None and actual >= t.value
            else status.code
        )
        share = np.nan
        if t.kind in ("flow", "stock") and actual is not None:
            share = (actual / t.value) / (AS_OF.month / 12)
        rows.append(
            {
                "target_id": t.id,
                "name_zh": t.name_zh,
                "name_en": t.name_en,
                "kind": t.kind,
                "comparator": t.comparator,
                "target": t.value,
                "unit": t.unit,
                "actual_to_date": np.nan if actual is None else actual,
                "point": res.point,
                "lower": res.lower,
                "upper": res.upper,
                "lower95": res.lower95,
                "upper95": res.upper95,
                "p_meet": res.p_meet,
                "status": code,
                "status_zh": STATUS[code][0],
                "status_en": STATUS[code][1],
                "baseline_point": np.nan if res.baseline_point is None else res.baseline_point,
                "schedule_share": share,
                "required_run_rate": 1.12 if t.kind == "flow" else np.nan,
                "method": res.method,
                "data_through": f"{AS_OF.year}-{AS_OF.month:02d}",
                "history_years": 0 if t.kind == "pipeline_count" else 5,
                "data_note": "",
            }
        )
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    return Evaluation(
        plan=plan,
        as_of=AS_OF,
        table=table,
        results=results,
        watch_lists=_watch_lists(),
        paths=paths,
        synthetic=synthetic,
        candidates=candidates,
        data_source="天心区科技主管部门业务系统导出（模拟样本）"
        if synthetic
        else "天心区科技主管部门业务系统导出",
    )
