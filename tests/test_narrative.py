"""Plain-Chinese words for leaders: computed from the evaluation, one number per target."""

from __future__ import annotations

import dataclasses

import pytest
from helpers_evaluation import make_evaluation

from tianxin_analysis import narrative
from tianxin_analysis.formatting import (
    excel_number_format,
    format_points,
    format_target,
    format_value,
    rounded,
)


@pytest.fixture(scope="module")
def evaluation():
    return make_evaluation(synthetic=True)


def _with_details(ev, tid, **details):
    res = ev.results[tid]
    new = dataclasses.replace(res, details={**res.details, **details})
    return dataclasses.replace(ev, results={**ev.results, tid: new})


def test_format_value_rounding_is_shared_with_the_workbook():
    assert format_value(4530.57, "项") == "4,531 项" and rounded(4530.57, "项") == 4531
    assert format_value(148.385, "亿元") == "148.4 亿元" and rounded(148.385, "亿元") == 148.4
    assert format_value(145.0, "亿元") == "145 亿元" and excel_number_format(145.0, "亿元") == "#,##0"
    assert excel_number_format(148.385, "亿元") == "#,##0.0"
    assert format_value(2.8103, "%") == "2.81%" and rounded(2.8103, "%") == 2.81
    assert format_value(11.547, "%") == "11.5%" and excel_number_format(11.547, "%") == "0.0"
    assert format_value(float("nan"), "家") == "—" and rounded(None, "家") is None
    assert format_points(-0.87) == "−0.9 个百分点" and format_points(0.4) == "+0.4 个百分点"
    assert format_target("~=", 2.8, "%") == "≈2.8%" and format_target(">=", 4500, "项") == "≥4500 项"


def test_flow_sentence_gives_monthly_need_against_past_years(evaluation):
    ev = _with_details(evaluation, "tech_contracts_count", past_remaining_mean=1200.0)
    row = ev.table.set_index("target_id").loc["tech_contracts_count"]
    need = row["target"] - row["actual_to_date"]  # 4500 - 3120 = 1380 over Oct-Dec
    text = narrative.delivery_sentence(ev, "tech_contracts_count")
    assert text == (f"剩余3个月需月均登记 {format_value(need / 3, '项')}（共 {format_value(need, '项')}），"
                    f"为往年同期月均的 {need / 1200:.2f} 倍。")  # fmt: skip
    # without past years the sentence says so instead of inventing a comparison
    bare = narrative.delivery_sentence(evaluation, "tech_contracts_count")
    assert "往年同期数据不足" in bare


def test_growth_sentence_is_in_percent_and_points(evaluation):
    ev = _with_details(evaluation, "hitech_va_growth", months_elapsed=9,
                       required_rest_of_year_growth_pct=9.03, mean_rest_minus_ytd_pp=-0.87)  # fmt: skip
    text = narrative.delivery_sentence(ev, "hitech_va_growth")
    assert "剩余3个月需同比增长 9.03%" in text and "低 0.9 个百分点" in text


def test_published_ratio_says_which_year(evaluation):
    ev = _with_details(evaluation, "rd_intensity_2023", complete=True)
    assert narrative.value_label(ev, "rd_intensity_2023") == "2023年（已公布）"
    assert narrative.delivery_sentence(ev, "rd_intensity_2023").startswith("2023年数据已公布")
    headers, rows, _ = narrative.status_display_table(ev)
    row = rows[list(ev.table["target_id"]).index("rd_intensity_2023")]
    assert row[headers.index("年末预测")].endswith("（2023年已公布）")
    assert row[headers.index("完成概率")] == "已公布"
    assert narrative.value_label(evaluation, "rd_intensity_2023") == "2023年（推算）"


def test_pipeline_tally_adds_up_to_the_target(evaluation):
    tally = narrative.pipeline_tally(evaluation, "innovation_platforms")  # 6 + 3 expected, of 10
    assert (tally.achieved, tally.expected, tally.gap) == (6, 3, 1)
    text = narrative.delivery_sentence(evaluation, "innovation_platforms")
    assert text == "已认定 6 家，还需 4 家；在推进的 12 个候选预计可认定约 3 家，缺口约 1 家。"
    enough = narrative.delivery_sentence(evaluation, "tech_vice_presidents")  # 7 + 4 of 10
    assert enough == "已认定 7 人，还需 3 人；在推进的 12 个候选预计可认定约 4 人，可以补足。"


def test_candidates_table_has_no_personal_contacts(evaluation):
    frame = evaluation.candidates["innovation_platforms"]
    frame = frame.assign(contact_person="王*明", phone="139-0000-0000")
    ev = dataclasses.replace(evaluation, candidates={"innovation_platforms": frame})
    table = narrative.candidates_labelled(ev, "innovation_platforms")
    assert list(table.columns) == ["名称", "类别", "所处阶段", "预计认定时间", "认定时间", "责任单位",
                                   "年内认定可能性"]  # fmt: skip
    assert not table.isin(["王*明", "139-0000-0000"]).any().any()
    assert table["年内认定可能性"].iloc[0] == "100%"


def test_status_table_shows_columns_added_to_the_evaluation(evaluation, monkeypatch):
    """A labelled column a later change adds to the evaluation table appears without code here."""
    from tianxin_analysis import labels

    monkeypatch.setitem(labels.SUMMARY_COLUMNS, "history_years", ("历史年数", "years of history"))
    ev = dataclasses.replace(evaluation, table=evaluation.table.assign(history_years=5.0))
    headers, rows, _ = narrative.status_display_table(ev)
    assert headers[-1] == "历史年数" and rows[0][-1] == "5"
    assert "方法" not in headers and "指标代码" not in headers


def test_watch_list_by_urgency_puts_the_earliest_expiry_first(evaluation):
    out = narrative.watch_list_by_urgency(evaluation.watch_lists["hitech_enterprises"])
    assert list(out["expiry_date"]) == sorted(out["expiry_date"])
    assert (out["expiry_date"] - out["issue_date"]).dt.days.between(1095, 1096).all()


def test_terminal_summary_writes_numbers_as_the_status_table(evaluation):
    """``tianxin forecast`` prints Evaluation.summary_text: the forecast, its 80% interval and
    the probability read exactly as in the status table (one rounding per unit, with units)."""
    import re

    ev = _with_details(evaluation, "rd_intensity_2023", complete=True)
    headers, rows, _ = narrative.status_display_table(ev)
    lines = ev.summary_text().splitlines()[1:]
    assert len(lines) == len(rows)
    col = {h: headers.index(h) for h in ("指标", "目标值", "年末预测", "80%预测区间", "完成概率")}
    for line, row, tid in zip(lines, rows, ev.table["target_id"], strict=True):
        assert line.split()[0] == row[col["指标"]]
        assert f"目标 {row[col['目标值']]}" in line
        point = row[col["年末预测"]].split("（")[0]
        assert f"{narrative.value_label(ev, tid)} {point}" in line, line
        if tid == "rd_intensity_2023":  # a published actual has no interval or probability
            assert "80%" not in line and "完成概率" not in line
            continue
        assert f"（80%: {row[col['80%预测区间']]}）" in line, line
        assert f"完成概率 {row[col['完成概率']]}" in line
        # no raw float: every number has the decimals formatting.value_decimals gives it
        assert not re.search(r"\d\.\d{3,}", line), line


def test_a_target_type_brings_its_own_delivery_sentence(evaluation):
    """The sentence on the rest of the year is the target type's (a source's overrides its
    type's): a new type needs no change in narrative.py."""
    from tianxin_analysis import target_types as tt

    flow, stock = tt.target_type("flow"), tt.target_type("stock")
    certificates = stock.sources["hitech_certificates"]
    own_source = dataclasses.replace(certificates, delivery=lambda ev, tid: f"证书口径 {tid}")
    try:
        tt.register_target_type(dataclasses.replace(flow, delivery=lambda ev, tid: f"自定义 {tid}"),
                                replace=True)  # fmt: skip
        tt.register_target_type(dataclasses.replace(
            stock, delivery=lambda ev, tid: "类型口径",
            sources={**stock.sources, "hitech_certificates": own_source}), replace=True)  # fmt: skip
        assert narrative.delivery_sentence(evaluation, "tech_contracts_count") == "自定义 tech_contracts_count"
        assert narrative.delivery_sentence(evaluation, "hitech_enterprises") == "证书口径 hitech_enterprises"
        assert narrative.delivery_sentence(evaluation, "tech_smes") == "类型口径"
    finally:
        tt.register_target_type(flow, replace=True)
        tt.register_target_type(stock, replace=True)
    assert "月均登记" in narrative.delivery_sentence(evaluation, "tech_contracts_count")
    with pytest.raises(ValueError, match="module:function"):
        dataclasses.replace(flow, delivery="no_colon_here")
