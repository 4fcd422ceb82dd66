"""Honest answers on data shaped the way offices send it (issue 15, "Done when").

Each scenario builds its variant of the bundled sample, runs the ``tianxin`` command as an
analyst would (clean, then forecast) and reads what the analyst reads: the exit code, the
terminal, ``forecast_summary.csv`` (status, 完成概率, 数据截至, 历史年数, 数据提示).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tianxin_analysis.cli import main
from tianxin_analysis.labels import SUMMARY_COLUMNS
from tianxin_analysis.paths import RAW_DIR

ZH = {k: v[0] for k, v in SUMMARY_COLUMNS.items()}
CONTRACTS = "tech_contracts/技术合同登记月报_2019-2024.xlsx"
PIPELINES = (
    "innovation_platforms",
    "innovation_buildings",
    "tech_vice_presidents",
    "district_talents",
)


def _raw_copy(tmp: Path) -> Path:
    raw = tmp / "raw"
    shutil.copytree(RAW_DIR, raw)
    return raw


def _clean(raw: Path, out: Path) -> int:
    return main(["--quiet", "clean", "--raw", str(raw), "--out", str(out)])


def _forecast(
    raw: Path, processed: Path, reports: Path, capsys, *args: str
) -> tuple[int, pd.DataFrame | None, str]:
    capsys.readouterr()
    code = main(["--quiet", "forecast", "--raw", str(raw), "--processed", str(processed),
                 "--reports", str(reports), *args])  # fmt: skip
    out = capsys.readouterr()
    csv = reports / "forecast_summary.csv"
    table = None
    if code == 0:
        table = pd.read_csv(csv, encoding="utf-8-sig", dtype={ZH["data_through"]: str},
                            keep_default_na=False, na_values=[""])  # fmt: skip
        table = table.set_index(ZH["target_id"])
        csv.unlink()
        _status_agrees_with_p_meet(table)
    return code, table, out.out + out.err


def _status_agrees_with_p_meet(table: pd.DataFrame) -> None:
    """In every scenario: 已完成 only with p 1, 数据不足 only without p, the others by threshold."""
    for status, p in zip(table[ZH["status_zh"]], table[ZH["p_meet"]], strict=True):
        if status == "数据不足":
            assert pd.isna(p)
        elif status == "已完成":
            assert p == 1.0
        else:
            lo, hi = {"有望完成": (0.8, 1.0), "存在风险": (0.5, 0.8), "难以完成": (0.0, 0.5)}[
                status
            ]
            assert lo <= p <= hi and (p < hi or status == "有望完成")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, Path]:
    """The bundled sample, cleaned once: (raw folder, processed folder)."""
    tmp = tmp_path_factory.mktemp("sample")
    raw = _raw_copy(tmp)
    assert _clean(raw, tmp / "processed") == 0
    return raw, tmp / "processed"


def _row(table: pd.DataFrame, target_id: str) -> pd.Series:
    return table.loc[target_id]


def test_sample_as_of_september_every_target_has_its_coverage(sample, tmp_path, capsys):
    raw, processed = sample
    code, t, _ = _forecast(raw, processed, tmp_path, capsys, "--as-of", "2024-09")
    assert code == 0
    assert t[ZH["data_through"]].str.fullmatch(r"\d{4}-\d{2}").all()
    assert (t[ZH["history_years"]] >= 0).all()
    assert t.loc["tech_contracts_count", ZH["history_years"]] == 5
    assert t.loc["rd_intensity_2023", ZH["data_through"]] == "2023-12"
    # nothing to say on the complete sample
    assert t[ZH["data_note"]].isna().all()


def _only_this_years_report(raw: Path) -> None:
    """What an office sends in October: one workbook, the 1-9月 report of this year."""
    src = openpyxl.load_workbook(raw / CONTRACTS)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2024年"
    for row in src["2024年"].iter_rows(values_only=True):
        if (
            isinstance(row[0], str)
            and row[0].endswith("月")
            and row[0][:-1].isdigit()
            and int(row[0][:-1]) > 9
        ):
            continue
        ws.append(list(row))
    (raw / CONTRACTS).unlink()
    wb.save(raw / "tech_contracts" / "技术合同登记月报_2024年1-9月.xlsx")


def test_only_this_years_contract_report(sample, tmp_path, capsys):
    _, full = sample
    raw = _raw_copy(tmp_path)
    _only_this_years_report(raw)
    assert _clean(raw, tmp_path / "p") == 0
    code, t, out = _forecast(raw, tmp_path / "p", tmp_path, capsys, "--as-of", "2024-09")
    _, before, _ = _forecast(raw, full, tmp_path, capsys, "--as-of", "2024-09")
    assert code == 0
    for tid in ("tech_contracts_count", "tech_contracts_value"):
        r = _row(t, tid)
        assert r[ZH["history_years"]] == 0 and r[ZH["data_through"]] == "2024-09"
        assert "仅有2024年数据" in r[ZH["data_note"]] and "序时进度" in r[ZH["data_note"]]
        assert (
            tid in before.index and r[ZH["actual_to_date"]] == before.loc[tid, ZH["actual_to_date"]]
        )
        # the fallback's interval is honestly wide (no 难以完成 1% from the time-elapsed pace)
        assert r[ZH["upper"]] / r[ZH["lower"]] > 1.3
        assert 0.1 < r[ZH["p_meet"]] < 0.9
        assert r[ZH["upper"]] - r[ZH["lower"]] > 2 * (
            before.loc[tid, ZH["upper"]] - before.loc[tid, ZH["lower"]]
        )
    assert "仅有2024年数据" in out  # a warning line in the terminal


def test_next_years_plan_without_its_data(sample, tmp_path, capsys):
    raw, processed = sample
    raw = _raw_copy(tmp_path)
    text = (RAW_DIR / "targets" / "2024.yaml").read_text(encoding="utf-8")
    text = text.replace("year: 2024", "year: 2025").replace('period: "2024', 'period: "2025')
    text = text.replace('period: "2023"', 'period: "2024"')
    (raw / "targets" / "2025.yaml").write_text(text, encoding="utf-8")
    code, t, out = _forecast(raw, processed, tmp_path, capsys, "--as-of", "2025-06")  # no --year
    assert code == 0 and "2025 年目标评估" in out
    for tid in (
        "tech_smes",
        "tech_contracts_count",
        "tech_contracts_value",
        "hitech_va_growth",
        *PIPELINES,
    ):
        r = _row(t, tid)
        assert r[ZH["status_zh"]] == "数据不足", tid
        assert pd.isna(r[ZH["p_meet"]]) and pd.isna(r[ZH["point"]])
        assert "2025年" in r[ZH["data_note"]] and "innovation_" not in r[ZH["data_note"]]
    assert _row(t, "tech_smes")[ZH["data_through"]] == "2024-12"
    # the stock of certificates is mostly known from earlier batches: forecast, with a note
    hitech = _row(t, "hitech_enterprises")
    assert hitech[ZH["status_zh"]] != "数据不足"
    assert "数据截至2024年12月，早于截至月份2025年6月" in hitech[ZH["data_note"]]
    # R&D 2024 is published in September 2025: not yet, so a trend with its note
    assert "于2025-09发布" in _row(t, "rd_intensity_2023")[ZH["data_note"]]
    assert out.count("数据提示") == t[ZH["data_note"]].notna().sum()


def test_a_revised_month_in_a_newer_report(sample, tmp_path, capsys):
    raw, full = sample
    raw = _raw_copy(tmp_path)
    monthly = [
        (188, 54887.5),
        (159, 45532.3),
        (308, 100050.1),
        (293, 94517.8),
        (317, 105855.8),
        (466, 145893.7),
        (352, 99224.0),
        (336, 93505.1),
        (358, 126727.1),
    ]  # July: 322 -> 352
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2024年"
    ws.append(["天心区技术合同登记情况月报（2024年1-9月）"])
    ws.append(["单位：项、万元"])
    ws.append(["月份", "本月", None, "累计", None])
    ws.append([None, "合同数（项）", "成交额（万元）", "合同数（项）", "成交额（万元）"])
    count = value = 0.0
    for month, (n, v) in enumerate(monthly, 1):
        count, value = count + n, round(value + v, 1)
        ws.append([f"{month}月", n, v, count, value])
    wb.save(raw / "tech_contracts" / "技术合同登记月报_2024年1-9月_2024-10-15.xlsx")
    received = time.mktime(
        (2024, 9, 20, 0, 0, 0, 0, 0, -1)
    )  # the older export, no date in its name
    os.utime(raw / CONTRACTS, (received, received))
    assert _clean(raw, tmp_path / "p") == 0
    revisions = pd.read_csv(tmp_path / "p" / "revisions.csv", encoding="utf-8-sig", dtype=str)
    assert set(revisions["column"]) == {"contracts", "value_wan"}
    assert set(revisions["period"]) == {"2024-07"}
    july = revisions.set_index("column").loc["contracts"]
    assert (july["old_value"], july["new_value"]) == ("322.0", "352.0")
    assert july["old_file"] == CONTRACTS and july["new_report_date"] == "2024-10-15"
    rec = pd.read_csv(tmp_path / "p" / "reconciliation.csv", encoding="utf-8-sig")
    assert rec["rows_revised"].sum() == 1 and rec["balanced"].all()
    code, t, out = _forecast(raw, tmp_path / "p", tmp_path, capsys, "--as-of", "2024-09")
    _, before, _ = _forecast(raw, full, tmp_path, capsys, "--as-of", "2024-09")
    r = _row(t, "tech_contracts_count")
    assert r[ZH["actual_to_date"]] == before.loc["tech_contracts_count", ZH["actual_to_date"]] + 30
    assert r[ZH["status_zh"]] in ("存在风险", "有望完成") and r[ZH["p_meet"]] > 0.5
    assert "7月数据以2024-10-15报表修订值为准" in r[ZH["data_note"]]


def test_a_stale_pipeline_ledger(sample, tmp_path, capsys):
    raw, processed = sample
    _, sep, _ = _forecast(raw, processed, tmp_path, capsys, "--as-of", "2024-09")
    _, dec, out = _forecast(raw, processed, tmp_path, capsys, "--as-of", "2024-12")
    _, mar, _ = _forecast(raw, processed, tmp_path, capsys, "--as-of", "2025-03", "--year", "2024")
    for tid in PIPELINES:
        assert "台账截至2024-09-30，早于截至月份2024-12" in _row(dec, tid)[ZH["data_note"]]
        assert "台账截至2024-09-30，早于计划年末2024-12" in _row(mar, tid)[ZH["data_note"]]
        for t in (dec, mar):  # judged as of the ledger's date, not as if nothing happened since
            assert _row(t, tid)[ZH["data_through"]] == "2024-09"
            assert _row(t, tid)[ZH["point"]] == _row(sep, tid)[ZH["point"]]
            assert _row(t, tid)[ZH["p_meet"]] == pytest.approx(_row(sep, tid)[ZH["p_meet"]])
    assert out.count("台账截至2024-09-30") == len(PIPELINES)


def test_as_of_without_year_uses_that_years_plan(sample, tmp_path, capsys):
    raw, processed = sample
    code, t, out = _forecast(raw, processed, tmp_path, capsys, "--as-of", "2025-03")
    assert code == 2 and t is None
    assert "2025.yaml" in out and "targets file not found" in out and "Traceback" not in out


def _only_sme_2024_replaced(raw: Path, content: bytes) -> Path:
    path = raw / "tech_sme_registrations" / "科技型中小企业入库名单_2024.csv"
    path.write_bytes(content)
    return path


def test_a_failed_file_marks_only_its_targets(tmp_path, capsys):
    raw = _raw_copy(tmp_path)
    _only_sme_2024_replaced(raw, b"<html><body>502 Bad Gateway</body></html>\n")
    assert _clean(raw, tmp_path / "p") == 1
    code, t, out = _forecast(raw, tmp_path / "p", tmp_path, capsys, "--as-of", "2024-09")
    assert code == 0
    sme = _row(t, "tech_smes")
    assert sme[ZH["status_zh"]] == "数据不足" and pd.isna(sme[ZH["p_meet"]])
    assert "科技型中小企业入库名单_2024.csv" in sme[ZH["data_note"]]
    assert "--use-last-good" in sme[ZH["data_note"]]
    others = t.drop(index="tech_smes")
    assert (others[ZH["status_zh"]] != "数据不足").all()
    assert "先运行 tianxin clean" not in out
    # The analyst may choose to use the last good table, and is told so. (``clean`` keeps a
    # kind's last good table when its file fails, with the failure in lineage.json: here the
    # good sample's tables beside the failed run's lineage.)
    good = tmp_path / "good"
    assert _clean(RAW_DIR, good) == 0
    shutil.copy(tmp_path / "p" / "lineage.json", good / "lineage.json")
    code, t, _ = _forecast(raw, good, tmp_path, capsys, "--as-of", "2024-09")
    assert _row(t, "tech_smes")[ZH["status_zh"]] == "数据不足"
    code, t, _ = _forecast(raw, good, tmp_path, capsys, "--as-of", "2024-09", "--use-last-good")
    sme = _row(t, "tech_smes")
    assert sme[ZH["status_zh"]] != "数据不足" and pd.notna(sme[ZH["p_meet"]])
    assert "沿用此前一次成功清洗的数据表" in sme[ZH["data_note"]]


def test_an_empty_workbook_marks_only_its_targets(tmp_path, capsys):
    raw = _raw_copy(tmp_path)
    (raw / CONTRACTS).unlink()
    openpyxl.Workbook().save(raw / "tech_contracts" / "技术合同登记月报_2024.xlsx")
    _clean(raw, tmp_path / "p")  # an empty workbook: reported by clean (its exit code is clean's)
    code, t, out = _forecast(raw, tmp_path / "p", tmp_path, capsys, "--as-of", "2024-09")
    assert code == 0
    for tid in ("tech_contracts_count", "tech_contracts_value"):
        assert _row(t, tid)[ZH["status_zh"]] == "数据不足"
        assert "技术合同登记月报" in _row(t, tid)[ZH["data_note"]]
    assert (
        t.drop(index=["tech_contracts_count", "tech_contracts_value"])[ZH["status_zh"]]
        != "数据不足"
    ).all()
    assert "先运行 tianxin clean" not in out


def test_a_reported_december_at_exactly_the_target(tmp_path, capsys):
    raw = _raw_copy(tmp_path)
    path = raw / "hitech_value_added" / "高新技术产业增加值_2019-2024.xlsx"
    wb = openpyxl.load_workbook(path)
    for row in wb["2024年"].iter_rows():
        if row[0].value == "2024年1-12月":
            row[2].value = 11.0
    wb.save(path)
    assert _clean(raw, tmp_path / "p") == 0
    code, t, _ = _forecast(
        raw, tmp_path / "p", tmp_path, capsys, "--as-of", "2025-01", "--year", "2024"
    )
    g = _row(t, "hitech_va_growth")
    assert (g[ZH["status_zh"]], g[ZH["p_meet"]], g[ZH["point"]]) == ("已完成", 1.0, 11.0)
    assert g[ZH["upper"]] == g[ZH["lower"]] == 11.0 and g[ZH["data_through"]] == "2024-12"


def test_a_growth_target_as_of_january(sample, tmp_path, capsys):
    raw, processed = sample
    code, t, _ = _forecast(raw, processed, tmp_path, capsys, "--as-of", "2024-01")
    g = _row(t, "hitech_va_growth")
    assert g[ZH["status_zh"]] in ("有望完成", "存在风险", "难以完成")  # a status, not 无法判断
    assert 0 < g[ZH["p_meet"]] < 1
    assert "往年全年增速趋势（百分点）" in g[ZH["data_note"]] and g[ZH["data_through"]] == "2023-12"
    assert g[ZH["history_years"]] == 5
    # around the recent full-year growth (8.6-12.9% in 2019-2023), as wide as it varied
    assert 8 < g[ZH["point"]] < 13 and 2 < g[ZH["upper"]] - g[ZH["lower"]] < 12


def test_all_passes_its_month_and_folders_to_the_notebooks(tmp_path, capsys, monkeypatch):
    import tianxin_analysis.notebook_runner as runner
    import tianxin_analysis.report as report

    seen = {}

    def executed(out_dir, *, in_place=False, progress=True, parameters=None, **kw):
        seen.update(parameters or {})
        yield "ok"

    monkeypatch.setattr(runner, "execute_notebooks", executed)
    monkeypatch.setattr(report, "build_briefing", lambda *a, **k: [])
    raw = _raw_copy(tmp_path)
    code = main(["--quiet", "all", "--raw", str(raw), "--processed", str(tmp_path / "p"),
                 "--reports", str(tmp_path / "r"), "--as-of", "2024-06"])  # fmt: skip
    assert code == 0
    assert seen == {"YEAR": 2024, "AS_OF": "2024-06", "RAW_DIR": str(raw.resolve()),
                    "PROCESSED_DIR": str((tmp_path / "p").resolve())}  # fmt: skip
    # each notebook gets only the parameters its parameters cell declares
    nb02 = next(p for p in runner.notebook_paths() if p.name.startswith("02"))
    assert runner._declared(nb02, seen) == {"PROCESSED_DIR": seen["PROCESSED_DIR"]}
