"""The one place that holds the Chinese/English labels analysts read.

Chart text, export column headers, status names and messages come from here so that a
wording change is made once. Identifiers stay English; values are ``(zh, en)`` pairs.
"""

from __future__ import annotations

SYNTHETIC_LABEL = "模拟数据 · synthetic sample"
# A what-if evaluation (targets changed on the command line, not in the plan file).
SCENARIO = ("情景测算", "scenario")
SCENARIO_LABEL = f"{SCENARIO[0]} · {SCENARIO[1]}"
DISTRICT = ("天心区", "Tianxin District")
DISTRICT_CODE = "430103"

# Status of a target from the probability of meeting it (thresholds live in forecast.status).
STATUS = {
    "on_track": ("有望完成", "on track"),
    "at_risk": ("存在风险", "at risk"),
    "off_track": ("难以完成", "off track"),
    "met": ("已完成", "met"),
    "unknown": ("无法判断", "no forecast"),
    # the data cannot support an honest answer (no data of the plan year, a failed file):
    # p_meet is NaN and 数据提示 says why
    "insufficient_data": ("数据不足", "insufficient data"),
}

# Kinds of target (targets file `kind`).
TARGET_KIND = {
    "stock": ("年末存量", "year-end stock"),
    "flow": ("年度累计", "annual flow"),
    "growth_rate": ("累计增速", "cumulative growth rate"),
    "ratio": ("比率", "ratio"),
    "pipeline_count": ("储备项目计数", "pipeline count"),
}

# What a target's value axis shows, by target type (charts: "累计值 (项)").
VALUE_AXIS = {
    "cumulative": ("累计值", "cumulative value"),
    "year_end": ("年末值", "year-end value"),
    "growth": ("累计增速", "cumulative growth"),
    "ratio": ("比率", "ratio"),
}

COMPARATOR = {">=": "≥", "<=": "≤", "~=": "≈"}

# Column labels of exported summary tables (evaluate_targets -> xlsx / html / notebooks).
SUMMARY_COLUMNS = {
    "target_id": ("指标代码", "target id"),
    "name_zh": ("指标", "target"),
    "name_en": ("指标(英文)", "target (English)"),
    "comparator": ("比较", "comparator"),
    "target": ("目标值", "target value"),
    "unit": ("单位", "unit"),
    "actual_to_date": ("年内已完成", "actual so far"),
    "point": ("年末预测", "year-end forecast"),
    "lower": ("80%区间下限", "80% lower"),
    "upper": ("80%区间上限", "80% upper"),
    "lower95": ("95%区间下限", "95% lower"),
    "upper95": ("95%区间上限", "95% upper"),
    "p_meet": ("完成概率", "probability of meeting"),
    "status_zh": ("状态", "status"),
    "status_en": ("状态(英文)", "status (English)"),
    "baseline_point": ("序时进度推算", "time-elapsed (序时进度) projection"),
    "schedule_share": ("序时进度完成率", "share of target vs share of year"),
    "required_run_rate": ("剩余月份所需倍率", "required run rate"),
    "method": ("方法", "method"),
    "data_through": ("数据截至", "data through"),
    "history_years": ("历史年数", "past years used"),
    "data_note": ("数据提示", "data note"),
}


def zh(pair: tuple[str, str]) -> str:
    return pair[0]


def bilingual(pair: tuple[str, str]) -> str:
    """``'中文 (English)'`` for places that show both."""
    return f"{pair[0]} ({pair[1]})"


# ---- Charts and briefing pack (charts.py, report.py) ----

# Chart and briefing text that is not a column header.
CHART_TEXT = {
    "as_of": ("数据截至", "data as of"),
    "source": ("数据来源", "source"),
    "actual": ("年内已完成", "actual so far"),
    "forecast": ("年末预测（中位数）", "year-end forecast (median)"),
    "band50": ("50%预测区间", "50% interval"),
    "band80": ("80%预测区间", "80% interval"),
    "band95": ("95%预测区间", "95% interval"),
    "target": ("目标", "target"),
    "baseline": ("序时进度推算", "time-elapsed (序时进度) projection"),
    "naive": ("朴素基准（维持现值）", "naive baseline (last value)"),
    "schedule_line": ("序时进度线", "time-elapsed line to target"),
    # a stock with expiry (高新技术企业): what "so far" and the customary check mean there
    "actual_stock": ("年末已确定有效", "certain to be valid at year end"),
    "baseline_stock": ("现有持证（含今年到期）", "holding a certificate now (incl. expiring)"),
    "past_years": ("往年同期", "past years"),
    "month": ("月份", "month"),
    "pct_of_target": ("占目标值 (%)", "percent of target"),
    "probability": ("概率", "probability"),
    "candidates": ("候选项目数", "candidates"),
    "p_at_least": ("完成数不少于 k 的概率", "P(count ≥ k)"),
    "stage": ("所处阶段", "stage"),
    "overview_title": ("{year}年目标完成情况预测", "{year} targets: forecast vs target"),
    "fan_title": ("{name}：年末预测", "{name}: year-end forecast"),
    "path_title": ("{name}：累计进度", "{name}: cumulative path"),
    "watch_title": ("{name}：关注名单", "{name}: watch list"),
    "pipeline_title": ("{name}：储备项目", "{name}: pipeline"),
}

# Watch lists: what each list is, and the labels of the columns it may carry.
WATCHLIST_TITLES = {
    "hitech_enterprises": (
        "证书今年到期、尚未重新认定的高新技术企业",
        "certificates expiring, not yet renewed",
    ),
    "tech_smes": (
        "去年已入库、今年尚未重新登记的科技型中小企业",
        "last year's registrants not yet registered again",
    ),
}
WATCHLIST_COLUMNS = {
    "rank": ("序号", "rank"),
    "enterprise_name": ("企业名称", "enterprise"),
    "uscc": ("统一社会信用代码", "USCC"),
    "certificate_no": ("证书编号", "certificate no."),
    "issue_date": ("发证日期", "issue date"),
    "year": ("认定年度", "batch year"),
    "expiry_year": ("到期年度", "expiry year"),
    "tech_field": ("技术领域", "technology field"),
    "park": ("所在园区/街道", "park"),
    "status": ("状态", "status"),
    "registration_no": ("登记编号", "registration no."),
    "registration_date": ("登记日期", "registration date"),
    "last_registration_year": ("上次入库年度", "last registration year"),
    "priority": ("优先级", "priority"),
    "score": ("风险评分", "risk score"),
}

# Briefing pack headings.
REPORT_TEXT = {
    "status_table": ("目标状态一览", "status of targets"),
    "key_charts": ("重点图表", "key charts"),
    "watch_lists": ("关注名单", "watch lists"),
    "method_notes": ("方法说明", "method notes"),
    "data_source": ("数据来源", "data source"),
    "synthetic_banner": (
        "本简报使用模拟数据，仅用于演示方法，不代表天心区实际情况。",
        "This briefing uses a synthetic sample; the numbers are not Tianxin's.",
    ),
    "notes_sheet": ("说明", "notes"),
    "status_sheet": ("目标状态", "status"),
    "run_id": ("运行编号", "run id"),
}

# Reasons a row goes to quarantine and what to fix at the source are registered with each
# rule (tianxin_analysis.data.rules: @rule / declare), not here.

# ---- Plain-Chinese briefing text (narrative.py, charts.py, report.py, docx_report.py) ----

# What a target's headline number is, by kind (the status table's 年末预测 column and charts).
VALUE_LABEL = {
    "year_end": ("年末预测", "year-end forecast"),
    "full_year": ("全年预测", "full-year forecast"),
    "published": ("{year}年（已公布）", "{year} (published)"),
    "estimated": ("{year}年（推算）", "{year} (estimated)"),
}

# Columns of a pipeline's table of named candidates (no personal contacts: only the unit).
CANDIDATE_COLUMNS = {
    "candidate": ("名称", "candidate"),
    "category": ("类别", "category"),
    "stage": ("所处阶段", "stage"),
    "expected_date": ("预计认定时间", "expected"),
    "recognized_date": ("认定时间", "recognised"),
    "responsible_unit": ("责任单位", "unit in charge"),
    "probability": ("年内认定可能性", "probability this year"),
}

# The tally of a pipeline target: recognised, expected from pending candidates, gap.
PIPELINE_TALLY = {
    "achieved": ("已认定", "recognised"),
    "expected": ("预计可认定", "expected from pending"),
    "gap": ("缺口", "gap to target"),
    "probability": ("完成概率", "probability of meeting"),
    "title": ("{name}：已认定与预计可认定", "{name}: recognised and expected"),
    "candidates_title": ("{name}：候选名单", "{name}: candidates"),
    "after_year": ("预计明年认定", "expected next year"),
}

# Headings and words of the briefing pack added with the plain-Chinese layout.
BRIEFING_TEXT = {
    "delivery": ("全年还需完成多少", "what the rest of the year must deliver"),
    "appendix": ("附录：方法说明（供业务人员参考）", "appendix: methods (for analysts)"),
    "method_en": ("方法（英文名）", "method (English name)"),
    "pipelines": ("储备项目候选名单", "pipeline candidates"),
    "gap_pp": ("与目标之差（百分点）", "difference from target (percentage points)"),
    "title_row": ("{district} · {plan} · 数据截至 {as_of}", "{district} · {plan} · as of {as_of}"),
    "docx_title": ("{title}：目标完成情况简报", "{title}: status of targets"),
    "watch_sheet": ("关注名单-{name}", "watch list - {name}"),
    "candidates_sheet": ("候选-{name}", "candidates - {name}"),
}

# What a month "delivers" in the sentence on the rest of the year (剩余3个月需月均登记 …), by the
# data a target is measured from (target_types.Source.delivery_verb).
DELIVERY_VERB = {
    "complete": ("完成", "complete"),
    "register": ("登记", "register"),
    "newly_registered": ("新增入库", "newly register"),
}

# A watch-list column computed for the briefing (a certificate is valid three years from issue).
WATCHLIST_COLUMNS["expiry_date"] = ("证书到期日", "certificate expires")

# The customary comparison of a growth target, in words a leader reads on the chart.
CHART_TEXT["baseline_growth"] = ("保持目前累计增速", "cumulative growth so far held")

# The many-regions forecast (`tianxin regions`): its targets (scale.DEFAULT_TARGETS ids) and
# the words of its overview page.
REGION_TARGET = {
    "tech_contracts_count": ("技术合同登记数", "technology contracts"),
    "tech_contracts_value": ("技术合同成交额", "technology contract value"),
    "tech_smes": ("科技型中小企业入库数", "tech-based SME registrations"),
    "hitech_va_growth": ("高新技术产业增加值增速", "growth of high-tech value added"),
    "hitech_enterprises": ("高新技术企业数", "high-tech enterprises"),
    "rd_intensity": ("研发经费投入强度", "R&D intensity"),
}
REGION_TEXT = {
    "title": ("各区域目标完成风险一览 · 数据截至 {as_of}", "regions by risk · as of {as_of}"),
    "rank": ("风险排序", "rank"),
    "region": ("区域代码", "region"),
    "off_track": ("难以完成项数", "targets off track"),
    "at_risk": ("存在风险项数", "targets at risk"),
    "note": ("按难以完成、存在风险的目标数从多到少，再按平均完成概率从低到高排序；格内为状态与完成概率。",
             "sorted by targets off track, then at risk, then mean probability of meeting; "
             "each cell: status and probability of meeting"),  # fmt: skip
    "summary": ("各目标状态的区域数", "regions by status of each target"),
    "target": ("目标", "target"),
}
