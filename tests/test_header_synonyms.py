"""Header synonyms as data (data/raw/header_synonyms.yaml) and grouped headers: a measure
above 本月 | 累计, as the 技术合同 registry's monthly report prints them."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from tianxin_analysis.cli import main
from tianxin_analysis.data import load_processed, run_clean
from tianxin_analysis.data.synonyms import load_header_synonyms
from tianxin_analysis.errors import SchemaError

# month, contracts this month, cumulative, value this month (万元), cumulative
_ROWS = [
    ("1-2月", 257, 257, 66225.8, 66225.8),
    ("3月", 241, 498, 67030.8, 133256.6),
    ("4月", 250, 748, 70000.0, 203256.6),
    ("5月", 260, 999, 71000.0, 274256.6),  # cumulative count typed wrong: 1,008
]


def _grouped_export(
    raw, count_header="技术合同登记数（项）", value_header="技术合同成交额（万元）"
):
    """A 技术合同 monthly report whose header groups each measure over 本月 | 累计."""
    wb = Workbook()
    ws = wb.active
    ws.title = "2024年"
    ws.append(["天心区技术合同登记情况月报（2024年）"])
    ws.append(["月份", count_header, None, value_header, None])
    ws.append([None, "本月", "累计", "本月", "累计"])
    for row in _ROWS:
        ws.append(list(row))
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:C2")
    ws.merge_cells("D2:E2")
    folder = raw / "tech_contracts"
    folder.mkdir(parents=True, exist_ok=True)
    wb.save(folder / "技术合同登记月报_2024.xlsx")


def test_grouped_measure_over_month_and_cumulative_is_read(tmp_path):
    raw = tmp_path / "raw"
    _grouped_export(raw)
    run = run_clean(raw, tmp_path / "out", progress=False)
    assert run.ok, run.failures
    df = load_processed("tech_contracts", tmp_path / "out")
    assert df["month"].tolist() == [2, 3, 4]
    assert df["contracts"].tolist() == [257, 241, 250]
    assert df["value_wan"].tolist() == [66225.8, 67030.8, 70000.0]
    # The 累计 columns were read too: the wrong cumulative count is caught against them.
    assert run.quarantine["rule"].tolist() == ["cumulative_mismatch"]
    assert run.quarantine["column"].tolist() == ["contracts_cum"]


def test_unknown_spelling_fails_listing_every_header_row_then_the_synonyms_file_fixes_it(
    tmp_path,
):
    raw = tmp_path / "raw"
    _grouped_export(raw, count_header="登记技术合同（项）")
    run = run_clean(raw, tmp_path / "out", progress=False)
    assert not run.ok
    message = run.failures[0].message
    assert "第2行" in message and "第3行" in message  # both header rows, as read
    assert "登记技术合同" in message and "本月 | 累计" in message
    assert "header_synonyms.yaml" in message
    assert "FAILED" in run.summary_text()

    (raw / "header_synonyms.yaml").write_text(
        "tech_contracts:\n  contracts: 登记技术合同\n  contracts_cum: [累计/登记技术合同]\n",
        encoding="utf-8",
    )
    run = run_clean(raw, tmp_path / "out", progress=False)
    assert run.ok, run.failures
    df = load_processed("tech_contracts", tmp_path / "out")
    assert df["contracts"].tolist() == [257, 241, 250]
    assert run.quarantine["column"].tolist() == ["contracts_cum"]
    assert run.tables  # and the lineage records the file that was used
    lineage = (tmp_path / "out" / "lineage.json").read_text(encoding="utf-8")
    assert '"header_synonyms"' in lineage and '"path": "header_synonyms.yaml"' in lineage


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("tech_contract:\n  contracts: [x]\n", "tech_contracts"),  # unknown kind: kinds listed
        ("tech_contracts:\n  contract: [x]\n", "contracts_cum"),  # unknown column: columns listed
        ('tech_contracts:\n  contracts: [""]\n', "non-empty text"),
        ("tech_contracts:\n  contracts: [成交额]\n", "names two columns"),  # value_wan's word
        ("tech_contracts: [contracts]\n", "must map column"),
        ("- tech_contracts\n", "must map kind"),
        ("tech_contracts: {contracts: [x\n", "not valid YAML"),
    ],
)
def test_bad_synonyms_file_is_a_clear_error(tmp_path, text, needle):
    path = tmp_path / "header_synonyms.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError, match=needle) as err:
        load_header_synonyms(path)
    assert "header_synonyms.yaml" in str(err.value)


def test_a_bad_synonyms_file_stops_the_clean_before_anything_is_written(tmp_path, capsys):
    raw = tmp_path / "raw"
    _grouped_export(raw)
    (raw / "header_synonyms.yaml").write_text("tech_contract: {}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["--quiet", "clean", "--raw", str(raw), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "header_synonyms.yaml" in err and "unknown kind" in err and "Traceback" not in err
    assert not out.exists()


def test_missing_or_comment_only_file_adds_nothing(tmp_path):
    assert load_header_synonyms(tmp_path / "none.yaml") == {}
    path = tmp_path / "header_synonyms.yaml"
    path.write_text("# 暂无 none yet\n", encoding="utf-8")
    assert load_header_synonyms(path) == {}
