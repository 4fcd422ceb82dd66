"""The briefing pack as a user sees it: open the HTML (parsed and in a real browser), the PDF
and the workbook, and check what is in them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import shutil
import subprocess

import docx
import matplotlib.image
import numpy as np
import openpyxl
import pytest
from helpers_evaluation import make_evaluation
from lxml import html as lxml_html
from pypdf import PdfReader

from tianxin_analysis import narrative, report
from tianxin_analysis.charts import STATUS_COLOURS
from tianxin_analysis.fonts import find_cjk_font
from tianxin_analysis.formatting import format_value
from tianxin_analysis.labels import SYNTHETIC_LABEL

pytestmark = pytest.mark.skipif(
    find_cjk_font() is None, reason="no CJK font installed (make fonts)"
)


@pytest.fixture(scope="module")
def evaluation():
    return make_evaluation(synthetic=True)


@pytest.fixture(scope="module")
def pack(evaluation, tmp_path_factory):
    """One build for the module; figure export is covered by tests/test_charts.py and by
    test_progress_and_summary_are_printed (skipped here to keep the suite fast)."""
    out = tmp_path_factory.mktemp("reports")
    written = report.build_briefing(evaluation, out, progress=False, figure_formats=())
    return out, written


def test_build_briefing_writes_the_pack(pack, evaluation):
    out, written = pack
    assert [p.name for p in written] == [
        "briefing.html", "briefing.pdf", "targets_summary.xlsx", "briefing.docx"
    ]
    assert all(p.is_file() and p.stat().st_size > 0 for p in written)
    assert not list(out.rglob(".*.tmp"))


def test_progress_and_summary_are_printed(evaluation, tmp_path, capsys, monkeypatch):
    # Figures are covered by the pack fixture; here only the messages matter.
    all_specs = report.chart_specs
    monkeypatch.setattr(report, "chart_specs", lambda ev: all_specs(ev)[:1])
    report.build_briefing(
        evaluation, tmp_path, progress=True, figure_sizes=("a4",), figure_formats=("svg",)
    )
    captured = capsys.readouterr()
    assert "简报已生成 briefing pack written" in captured.out
    assert "briefing.pdf" in captured.out and "KB" in captured.out
    assert "简报 briefing" in captured.err  # the tqdm bar


def test_html_is_self_contained_and_shows_the_table(pack, evaluation):
    out, _ = pack
    text = (out / "briefing.html").read_text(encoding="utf-8")
    doc = lxml_html.fromstring(text)
    imgs = doc.xpath("//img")
    assert len(imgs) >= len(evaluation.plan.targets)
    assert all(img.get("src").startswith("data:image/png;base64,") for img in imgs)
    assert not doc.xpath("//script[@src] | //link[@href] | //iframe")
    assert "http://" not in text.replace("HYPERLINK(&quot;http://x&quot;)", "")
    table = doc.xpath("//table[@class='status']")[0]
    headers = [th.text_content() for th in table.xpath(".//th")]
    assert headers[:4] == ["指标", "目标值", "年内已完成", "年末预测"]
    body = [[td.text_content() for td in tr.xpath("./td")] for tr in table.xpath(".//tbody/tr")]
    assert [r[0] for r in body] == list(evaluation.table["name_zh"])
    row = body[list(evaluation.table["target_id"]).index("tech_contracts_count")]
    assert row[1] == "≥4500 项" and row[3] == "4,390 项" and row[6] == "难以完成"
    status_cell = table.xpath(".//td[contains(@class,'status-off_track')]")[0]
    assert STATUS_COLOURS["off_track"] in status_cell.get("style")
    assert SYNTHETIC_LABEL in doc.xpath("//div[@class='banner']")[0].text_content()
    assert "数据截至 2024年9月" in text


def test_html_escapes_text_from_data(evaluation, tmp_path):
    frame = evaluation.watch_lists["tech_smes"].assign(
        enterprise_name=["<script>alert(1)</script>", "a&b", "x"]
    )
    ev = dataclasses.replace(evaluation, watch_lists={"tech_smes": frame}, data_source="<b>源</b>")
    text = report.render_html(ev, [])
    assert (
        "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    )
    assert "<b>源</b>" not in text and "a&amp;b" in text


def test_html_without_synthetic_data_has_no_banner(evaluation):
    text = report.render_html(dataclasses.replace(evaluation, synthetic=False), [])
    assert SYNTHETIC_LABEL not in text and 'class="banner"' not in text


@pytest.mark.browser
@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="chromium not installed (make browser)"
)
def test_html_renders_in_headless_chromium(pack, tmp_path):
    out, _ = pack
    shot = tmp_path / "shot.png"
    cmd = [
        shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
        "--window-size=1280,2000", (out / "briefing.html").as_uri(),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    assert shot.is_file()
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    # Not blank: text, table fills and charts give many distinct grey levels and real spread.
    grey = pixels[..., :3].mean(axis=2)
    assert grey.std() > 0.05
    assert len(np.unique(np.round(grey, 2))) > 50
    # The status colours of the table are on screen (amber fill of 存在风险 tint or text).
    assert (np.abs(pixels[..., :3] - np.array([0xD9, 0x8E, 0x04]) / 255).sum(axis=2) < 0.1).any()


def test_pdf_has_pages_embedded_cjk_font_and_extractable_text(pack, evaluation):
    out, _ = pack
    reader = PdfReader(out / "briefing.pdf")
    assert 4 <= len(reader.pages) <= 20
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptors = [
        f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        for f in fonts.values()
    ]
    assert any("/FontFile2" in d and "WenQuanYi" in str(d["/FontName"]) for d in descriptors)
    first = reader.pages[0].extract_text()
    assert "技术合同交易额" in first
    assert "数据截至 2024年9月" in first
    assert "synthetic sample" in first
    last = reader.pages[-1].extract_text()
    assert "附录：方法说明" in last
    # the appendix names the methods; the pages before it do not
    assert evaluation.table["method"].iloc[0] in "".join(p.extract_text() for p in reader.pages[-2:])
    assert not any(evaluation.table["method"].iloc[0] in p.extract_text() for p in reader.pages[:2])


def test_pdf_and_xlsx_bytes_are_stable(evaluation):
    assert report.render_xlsx(evaluation) == report.render_xlsx(evaluation)
    assert report.render_pdf(evaluation, []) == report.render_pdf(evaluation, [])


def test_xlsx_reopens_with_sheets_values_formats_and_safe_text(pack, evaluation):
    out, _ = pack
    wb = openpyxl.load_workbook(out / "targets_summary.xlsx")
    assert wb.sheetnames[0] == "目标状态" and wb.sheetnames[-1] == "说明"
    assert "关注名单-科技型中小企业数" in wb.sheetnames
    assert "候选-新增市级以上科技创新平台" in wb.sheetnames
    ws = wb["目标状态"]
    assert ws.freeze_panes == "A5"
    header = [c.value for c in ws[4]]
    assert header[0] == "指标" and header[-5:] == ["指标代码", "指标(英文)", "比较", "状态(英文)", "方法"]
    assert all(c.font.bold for c in ws[4])
    col = {h: i + 1 for i, h in enumerate(header)}
    r = 5 + list(evaluation.table["target_id"]).index("tech_contracts_value")
    assert ws.cell(r, col["指标"]).value == "技术合同交易额"
    assert ws.cell(r, col["目标值"]).value == 145
    # the cell holds the value as every other output rounds it, with a format that shows it so
    point = float(evaluation.table.set_index("target_id").loc["tech_contracts_value", "point"])
    assert ws.cell(r, col["年末预测"]).value == round(point, 1)
    assert ws.cell(r, col["年末预测"]).number_format == "#,##0.0"
    assert ws.cell(r, col["完成概率"]).number_format == "0%"
    assert ws.cell(r + 1, col["年末预测"]).number_format == "#,##0"  # 新增创新创业楼宇, 栋
    status = ws.cell(r, col["状态"])
    assert status.value == "存在风险"
    assert status.fill.fgColor.rgb.endswith(report._tint(STATUS_COLOURS["at_risk"]).lstrip("#"))
    assert "剩余3个月需月均登记" in ws.cell(r, col["全年还需完成多少"]).value
    sheets = [wb["关注名单-高新技术企业数量"], wb["关注名单-科技型中小企业数"]]
    assert all(w.freeze_panes == "A5" for w in sheets)
    values = [c.value for w in sheets for c in w["A"][3:]]  # 企业名称 first: no 序号 in Excel
    assert values[0] == "企业名称"
    assert '\'=HYPERLINK("http://x")有限公司' in values
    assert "'@湖南橘洲检测有限公司" in values
    assert not any(
        isinstance(v, str) and v.startswith(("=", "@", "+", "-"))
        for w in sheets
        for row in w.values
        for v in row
    )
    notes = " ".join(str(c.value) for row in wb["说明"] for c in row)
    assert SYNTHETIC_LABEL in notes and "2024年9月" in notes and evaluation.data_source in notes
    assert wb.properties.modified.year == 2024


# ---- fast refresh (--only) and what-if (情景测算) --------------------------------------------


def test_only_names_are_checked_and_listed():
    assert report.briefing_outputs(None) == report.BRIEFING_OUTPUTS
    assert report.briefing_outputs("pdf, HTML") == ("html", "pdf")
    assert report.briefing_outputs(["figures", "xlsx"]) == ("xlsx", "figures")
    for bad in ("html,word", "", ","):
        with pytest.raises(report.TianxinError, match="html, pdf, xlsx, docx, figures"):
            report.briefing_outputs(bad)


def test_only_writes_the_chosen_outputs_and_draws_only_what_they_need(
    evaluation, tmp_path, monkeypatch
):
    drawn = []
    real = report._draw_spec

    def spy(index, *args, **kwargs):
        drawn.append(index)
        return real(index, *args, **kwargs)

    monkeypatch.setattr(report, "_draw_spec", spy)
    (tmp_path / "briefing.pdf").write_bytes(b"kept")  # an earlier output stays as it was
    written = report.build_briefing(evaluation, tmp_path, progress=False, only="xlsx", workers=1)
    assert [p.name for p in written] == ["targets_summary.xlsx"] and drawn == []
    written = report.build_briefing(evaluation, tmp_path, progress=False, only="html", workers=1)
    assert [p.name for p in written] == ["briefing.html"]
    stems = [s.stem for s in report.chart_specs(evaluation)]
    assert sorted(stems[i] for i in drawn) == sorted(
        s for s in stems if not s.startswith("watchlist_")
    )
    assert (tmp_path / "briefing.pdf").read_bytes() == b"kept"
    assert not (tmp_path / "figures").exists()


def test_a_scenario_briefing_says_so_in_title_and_notes(evaluation):
    from tianxin_analysis.targets import with_target_values

    plan = with_target_values(evaluation.plan, {"tech_contracts_count": 4800})
    what_if = dataclasses.replace(evaluation, plan=plan)
    assert report.briefing_title(what_if).endswith("（情景测算）")
    assert "情景测算" not in report.briefing_title(evaluation)
    page = lxml_html.fromstring(report.render_html(what_if, []))
    assert "情景测算" in page.findtext(".//h1") and "情景测算" in page.findtext(".//title")
    banner = page.find_class("scenario")[0].text_content()
    assert "4,500 → 4,800 项" in banner
    text = "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(report.render_pdf(what_if, []))).pages
    )
    assert "情景测算" in text
    notes = openpyxl.load_workbook(io.BytesIO(report.render_xlsx(what_if))).worksheets[-1]
    assert any("4,800" in str(c.value) for row in notes.iter_rows() for c in row)


def test_xlsx_is_ready_for_the_office(pack, evaluation):
    """Title rows and the synthetic note on every sheet, A4 landscape fit to width with the
    header row repeated; watch lists one to a sheet, most urgent first, real dates and years."""
    out, _ = pack
    wb = openpyxl.load_workbook(out / "targets_summary.xlsx")
    for ws in wb.worksheets:
        assert ws["A1"].value and ws["A1"].font.bold, ws.title
        assert "天心区" in ws["A2"].value and "2024年9月" in ws["A2"].value, ws.title
        assert SYNTHETIC_LABEL in ws["A3"].value, ws.title
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$4:$4", ws.title
    hitech = wb["关注名单-高新技术企业数量"]
    header = [c.value for c in hitech[4]]
    rows = [[c.value for c in r] for r in hitech.iter_rows(min_row=5)]
    expiry = [r[header.index("证书到期日")] for r in rows]
    assert all(isinstance(d, dt.datetime) for d in expiry) and expiry == sorted(expiry)
    assert all(isinstance(r[header.index("到期年度")], int) for r in rows)
    assert hitech.cell(5, header.index("发证日期") + 1).number_format == "yyyy-mm-dd"


def test_one_number_per_target_in_every_output(pack, evaluation):
    """The forecast a leader reads is the same rounding of the same value in the HTML table,
    the workbook and the Word table."""
    out, _ = pack
    headers, rows, _ = report.status_display_table(evaluation)
    doc = docx.Document(out / "briefing.docx")
    word = [[c.text.replace("\n", "") for c in r.cells] for r in doc.tables[0].rows]  # wrapped
    assert word[0] == headers and word[1:] == rows
    wb = openpyxl.load_workbook(out / "targets_summary.xlsx")
    ws = wb["目标状态"]
    col = [c.value for c in ws[4]].index("年末预测") + 1
    for i, r in enumerate(evaluation.table.itertuples(index=False)):
        shown = rows[i][headers.index("年末预测")].split("（")[0]
        cell = ws.cell(5 + i, col)
        assert shown == format_value(cell.value, r.unit), r.target_id
        assert shown == format_value(r.point, r.unit)


def test_docx_has_title_table_charts_and_synthetic_label(pack, evaluation):
    out, _ = pack
    doc = docx.Document(out / "briefing.docx")
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "天心区2024年科技创新工作要点：目标完成情况简报" in text
    assert SYNTHETIC_LABEL in text and "全年还需完成多少" in text and "附录：方法说明" in text
    charts = [s for s in report.chart_specs(evaluation) if not s.stem.startswith("watchlist_")]
    assert len(doc.inline_shapes) == len(charts)
    names = [r.cells[0].text.replace("\n", "") for r in doc.tables[0].rows][1:]
    assert names == list(evaluation.table["name_zh"])
    candidates = [t for t in doc.tables if t.rows[0].cells[0].text == "名称"]
    assert len(candidates) == len(evaluation.candidates)
    assert not any("联系" in c.text for t in doc.tables for c in t.rows[0].cells)
    assert SYNTHETIC_LABEL in doc.sections[0].footer.paragraphs[0].text
    first = report.write_docx(evaluation, out / "a", []).read_bytes()
    assert report.write_docx(evaluation, out / "b", []).read_bytes() == first  # stable bytes


def test_pipeline_candidates_are_named_in_the_html(pack, evaluation):
    out, _ = pack
    doc = lxml_html.fromstring((out / "briefing.html").read_text(encoding="utf-8"))
    text = doc.text_content()
    assert "新增市级以上科技创新平台：候选名单" in text
    tally = narrative.pipeline_tally(evaluation, "innovation_platforms")
    assert f"已认定 {tally.achieved} 家 · 预计可认定 {tally.expected} 家 · 缺口 {tally.gap} 家" in text
    tables = [t for t in doc.xpath("//table") if t.xpath(".//th")[0].text_content() == "名称"]
    assert len(tables) == len(evaluation.candidates)
    stages = [tr.xpath("./td")[2].text_content() for tr in tables[0].xpath(".//tbody/tr")]
    order = ["已认定", "评审中", "申报中", "储备", "未通过"]
    assert [order.index(s) for s in stages] == sorted(order.index(s) for s in stages)
    assert "责任单位" in [th.text_content() for th in tables[0].xpath(".//th")]


def test_build_briefing_writes_only_what_is_asked(evaluation, tmp_path):
    written = report.build_briefing(evaluation, tmp_path, progress=False, outputs=("xlsx",))
    assert [p.name for p in written] == ["targets_summary.xlsx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["targets_summary.xlsx"]
    with pytest.raises(ValueError, match="outputs"):
        report.build_briefing(evaluation, tmp_path, progress=False, outputs=("pptx",))


def test_docx_status_table_shows_the_data_notes_under_their_targets(evaluation, tmp_path):
    """The Word status table carries the same 数据提示 rows as the HTML and PDF tables: one
    merged row under each target with a note, none under the others."""
    table = evaluation.table.copy()
    notes = {"rd_intensity_2023": "2024年数据按惯例于2025-09发布（滞后9个月）",
             "innovation_buildings": "台账截至2024-09-30"}  # fmt: skip
    for tid, note in notes.items():
        table.loc[table["target_id"] == tid, "data_note"] = note
    noted = dataclasses.replace(evaluation, table=table)
    doc = docx.Document(report.write_docx(noted, tmp_path, []))
    rows = doc.tables[0].rows
    headers, body, _ = report.status_display_table(noted)
    assert [c.text.replace("\n", "") for c in rows[0].cells] == headers
    shown = [[c.text.replace("\n", "") for c in r.cells] for r in rows[1:]]
    expected = []
    for r, (tid, name) in zip(body, zip(table["target_id"], table["name_zh"], strict=True),
                              strict=True):  # fmt: skip
        expected.append(r)
        if tid in notes:
            expected.append([f"数据提示：{notes[tid]}"] * len(headers))  # one merged cell
        assert r[0] == name
    assert shown == expected
    html_page = lxml_html.fromstring(report.render_html(noted, []))
    html_notes = [td.text_content() for td in html_page.xpath("//tr[@class='data-note']/td")]
    assert html_notes == [row[0] for row in expected if row[0].startswith("数据提示")]


def test_html_only_refresh_draws_in_process(evaluation, tmp_path, monkeypatch):
    """``report --only html`` draws its embedded charts without worker processes: starting
    one (spawn + imports, ~3.5 s of CPU) cost more than the 15 A4 charts it would share."""
    from tianxin_analysis import _workers

    def no_pool(*args, **kwargs):
        raise AssertionError("a worker pool was started for an HTML-only refresh")

    monkeypatch.setattr(_workers, "process_pool", no_pool)
    written = report.build_briefing(evaluation, tmp_path, progress=False, only="html")
    assert [p.name for p in written] == ["briefing.html"]


def test_html_status_cells_keep_to_one_line(evaluation):
    """Seen in headless Chromium: the browser squeezed the status column (难以完/成) to widen
    the forecast column; number and status cells are kept on one line, names wrap."""
    page = lxml_html.fromstring(report.render_html(evaluation, []))
    css = " ".join(page.xpath("//style/text()"))
    assert 'table.status td.num,table.status td[class^="status-"]{white-space:nowrap}' in css
    row = page.xpath("//table[@class='status']//tbody/tr")[0]
    cells = row.xpath("./td")
    assert all("num" in (c.get("class") or "") or (c.get("class") or "").startswith("status-")
               for c in cells[1:])  # fmt: skip


def test_docx_status_table_wraps_names_and_headers_evenly(evaluation, tmp_path):
    """A name or header too wide for its column is broken into lines of even length (高新技术
    产业 / 增加值增速, 完成 / 概率), not filled greedily with one or two characters left on the
    last line; cells after the name column stay on one line (issue 18, looked at page 1)."""
    doc = docx.Document(report.write_docx(evaluation, tmp_path, []))
    rows = doc.tables[0].rows
    wrapped = [c.text for c in rows[0].cells] + [r.cells[0].text for r in rows[1:]]
    assert any("\n" in t for t in wrapped)  # the sample's long names do wrap
    for text in wrapped:
        lengths = [len(line) for line in text.split("\n")]
        assert max(lengths) - min(lengths) <= 1, text
    assert not any("\n" in c.text for r in rows[1:] for c in r.cells[1:])
