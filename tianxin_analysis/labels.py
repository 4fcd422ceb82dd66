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

# Reasons a row goes to quarantine (data pipelines: `rule` -> reason_zh, reason_en).
REASONS = {
    "missing_required": ("必填项为空", "required value is missing"),
    "invalid_number": ("数值无法识别", "not a number"),
    "negative_amount": ("金额为负数", "amount is negative"),
    "out_of_range": ("数值超出合理范围", "value outside the plausible range"),
    "invalid_date": ("日期无法识别", "not a date"),
    "future_date": ("日期晚于数据截止日", "date is after the data's as-of date"),
    "invalid_month": ("月份无法识别或不在1-12月", "not a month 1-12"),
    "invalid_period": ("统计期间无法识别", "reporting period not recognised"),
    "uscc_missing": ("统一社会信用代码为空", "USCC is missing"),
    "uscc_length": ("统一社会信用代码不是18位", "USCC is not 18 characters"),
    "uscc_charset": ("统一社会信用代码含非法字符", "USCC has characters outside its alphabet"),
    "uscc_check_digit": ("统一社会信用代码校验位错误", "USCC check digit is wrong"),
    "uscc_admin_code": (
        "统一社会信用代码行政区划码无效",
        "USCC administrative division code is invalid",
    ),
    "duplicate_conflict": (
        "同一统一社会信用代码对应不同企业名称",
        "one USCC with different enterprise names",
    ),
    "unknown_category": ("类别不在允许的取值中", "category not in the allowed values"),
    "footnote_row": ("表注或落款行，非数据行", "footnote or signature row, not data"),
    "formula_cell": ("单元格为公式文本，未取得数值", "cell holds formula text, not a value"),
    # raised by the data pipelines' kind-level checks (tianxin_analysis.data)
    "duplicate_row": ("与前一行完全重复", "exact duplicate of an earlier row"),
    "duplicate_key": ("同一主键对应不同记录", "another row has the same key with different values"),
    "cumulative_mismatch": (
        "本月数与累计数不一致",
        "monthly value disagrees with the cumulative column",
    ),
    "total_row": ("合计行，非数据行", "total row, not data"),
    "name_several_uscc": (
        "同一企业名称对应多个信用代码（一家企业重复计数，或两家企业同名）",
        "one enterprise name under several credit codes (counted twice, or two namesakes)",
    ),
    "cumulative_falls": (
        "累计值在年内回落（与本年其他月份的累计数不一致）",
        "cumulative value falls within the year (disagrees with the year's other months)",
    ),
    "growth_fraction": (
        "增速列为百分比，但数值像小数（0.121 应为 12.1%）",
        "growth column is in percent but the value looks like a fraction (0.121 for 12.1%)",
    ),
}

# What an analyst should ask the source system to fix, per quarantine rule (notebook 02).
SOURCE_FIX = {
    "footnote_row": (
        "无需处理：表注、落款行不是数据",
        "nothing: notes and signatures are not data",
    ),
    "total_row": ("无需处理：合计行由程序重新计算", "nothing: totals are recomputed"),
    "uscc_check_digit": (
        "请登记系统核对统一社会信用代码",
        "ask the registry to correct the credit code",
    ),
    "uscc_length": (
        "请登记系统核对统一社会信用代码",
        "ask the registry to correct the credit code",
    ),
    "uscc_charset": (
        "请登记系统核对统一社会信用代码",
        "ask the registry to correct the credit code",
    ),
    "uscc_missing": ("请补录统一社会信用代码", "ask the registry to fill in the credit code"),
    "uscc_admin_code": ("请核对企业注册地", "check the enterprise's place of registration"),
    "duplicate_row": ("导出时去除重复记录", "export without duplicate rows"),
    "duplicate_key": (
        "核对同一企业同年的多条记录",
        "reconcile several records of one enterprise-year",
    ),
    "duplicate_conflict": (
        "核对同一代码下的不同企业名称",
        "reconcile different names under one code",
    ),
    "missing_required": ("补录必填项", "fill in the required field"),
    "invalid_number": ("数值列只填数字", "numbers only in numeric columns"),
    "negative_amount": ("核对负数金额", "check the negative amount"),
    "out_of_range": ("核对单位（万元/亿元）与数量级", "check the unit (万元/亿元) and magnitude"),
    "invalid_date": ("日期统一为 YYYY-MM-DD", "write dates as YYYY-MM-DD"),
    "future_date": ("核对日期录入", "check the date entry"),
    "invalid_month": ("月份填写 1-12", "months 1 to 12"),
    "invalid_period": ("统计期间写作“1-2月”或“3月”", "write periods as '1-2月' or '3月'"),
    "unknown_category": ("使用规定的类别名称", "use the prescribed category names"),
    "cumulative_mismatch": ("核对本月数与累计数", "reconcile the monthly and cumulative columns"),
    "formula_cell": ("导出为数值而非公式", "export values, not formulas"),
    "name_several_uscc": (
        "向市场监管部门核实该名称的信用代码，只保留正确的一个",
        "check the name's credit code with the market regulator; keep the right one",
    ),
    "cumulative_falls": (
        "核对该月及上月的累计数（是否录入错误或口径调整）",
        "check this and the previous month's cumulative figures (typo or revised scope?)",
    ),
    "growth_fraction": (
        "按百分数填写增速（12.1 或 12.1%），或将单元格设为百分比格式",
        "enter growth in percent (12.1 or 12.1%), or format the cells as percent",
    ),
}

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
