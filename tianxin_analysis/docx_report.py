"""The briefing as an editable Word document (python-docx), as the office circulates it.

Same content as the HTML and PDF: title, the synthetic-data label, the status table as a real
Word table, what the rest of the year must deliver, the charts, the pipelines' candidate
tables, the watch lists and the method appendix. Opens in Word, WPS and LibreOffice; the bytes
depend only on the evaluation (fixed document dates and zip timestamps).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from . import __version__ as _VERSION
from .charts import STATUS_COLOURS, ChartImage, cjk_font_family, footer_text, watchlist_labelled
from .forecast.evaluation import Evaluation
from .formatting import balanced_lines, column_widths, display_width, table_widths
from .labels import (
    BRIEFING_TEXT,
    CHART_TEXT,
    PIPELINE_TALLY,
    REPORT_TEXT,
    SYNTHETIC_LABEL,
    WATCHLIST_TITLES,
)
from .narrative import (
    candidates_labelled,
    delivery_lines,
    leader_columns,
    method_notes,
    status_display_table,
    status_notes,
    tally_text,
    watch_list_by_urgency,
)

WATCH_TOP_N = 15
TEXT_WIDTH_CM = 17.4  # A4 less 1.8 cm margins
_HEADER_FILL = "E3EAF3"
_FIT_MARGIN_TWIPS = 45  # 0.08 cm


def _shade(cell, hex_fill: str) -> None:
    """Cell background (python-docx has no API for shading)."""
    props = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), hex_fill.lstrip("#"))
    props.append(shd)


def _set_east_asian_font(style, family: str) -> None:
    style.font.name = family
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        fonts.set(qn(attr), family)


def _table(doc, headers: Sequence[str], rows: Sequence[Sequence[str]], *, font_pt: float = 8,
           fills: Sequence[tuple[int, str, str, int]] = (), notes: Sequence[str] = (),
           fit: bool = False) -> None:  # fmt: skip
    """A real Word table: bold shaded header row repeated on each page, ``fills`` = (row, fill,
    text colour, column) for the status cells; ``notes[i]`` (when not empty) is a row under
    row ``i`` spanning every column, as the HTML and PDF status tables show 数据提示.
    ``fit``: narrow cell margins and every cell after the first on one line
    (``formatting.table_widths``), as the PDF status table."""
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    if fit:
        _cell_margins(table, _FIT_MARGIN_TWIPS)
        headers, rows, rel = _fitted(headers, rows, font_pt)
    else:
        rel = column_widths(headers, rows, pad=4.0)  # Word's cell margins are wider
    widths = [Cm(TEXT_WIDTH_CM * w / sum(rel)) for w in rel]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the grid LibreOffice and WPS lay out by
    head = table.rows[0]
    trpr = head._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    trpr.append(repeat)
    for cell, text, width in zip(head.cells, headers, widths, strict=True):
        cell.text = str(text)
        cell.width = width
        _shade(cell, _HEADER_FILL)
        for run in cell.paragraphs[0].runs:
            run.font.bold = True
            run.font.size = Pt(font_pt)
    fill_of = {(r, c): (fill, colour) for r, fill, colour, c in fills}
    for i, values in enumerate(rows):
        cells = table.add_row().cells
        for j, (cell, text) in enumerate(zip(cells, values, strict=True)):
            cell.text = str(text)
            cell.width = widths[j]
            run = cell.paragraphs[0].runs[0] if cell.paragraphs[0].runs else None
            if run is not None:
                run.font.size = Pt(font_pt)
            if (i, j) in fill_of:
                fill, colour = fill_of[(i, j)]
                _shade(cell, fill)
                if run is not None:
                    run.font.bold = True
                    run.font.color.rgb = RGBColor.from_string(colour.lstrip("#"))
        if i < len(notes) and notes[i]:
            _note_row(table, notes[i], font_pt)


def _fitted(headers: Sequence[str], rows: Sequence[Sequence[str]], font_pt: float):
    """Headers, rows and column widths (mm) of a fitted table: every cell after the first on
    one line (``formatting.table_widths``); headers and names that must wrap are broken into
    lines of even length (高新技术产业 / 增加值增速, not 高新技术产业增加值 / 增速), as the PDF."""
    em_mm = font_pt * 25.4 / 72  # a unit of display_width is half an em

    def measure(text: str) -> float:
        return display_width(text) * em_mm / 2

    margins = 2 * _FIT_MARGIN_TWIPS * 25.4 / 1440
    widths = table_widths(headers, rows, TEXT_WIDTH_CM * 10, measure, pad=margins + 1.0)
    # a little room in hand: Word and LibreOffice measure the glyphs, not display_width
    rooms = [w - margins - 0.6 for w in widths]
    headers = [balanced_lines(str(h), room, measure) for h, room in zip(headers, rooms, strict=True)]
    rows = [[balanced_lines(str(r[0]), rooms[0], measure), *r[1:]] for r in rows]
    return headers, rows, widths


def _cell_margins(table, twips: int) -> None:
    """Left and right cell margins of every cell of ``table`` (Table Grid's are 0.19 cm)."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        m = OxmlElement(f"w:{side}")
        m.set(qn("w:w"), str(twips))
        m.set(qn("w:type"), "dxa")
        margins.append(m)
    table._tbl.tblPr.append(margins)


def _note_row(table, text: str, font_pt: float) -> None:
    """A row of one cell across the table holding ``text`` (grey, a little smaller)."""
    cells = table.add_row().cells
    merged = cells[0].merge(cells[-1])
    merged.text = text
    for run in merged.paragraphs[0].runs:
        run.font.size = Pt(font_pt - 0.5)
        run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)


def _frame_table(doc, frame: pd.DataFrame, font_pt: float = 7.5) -> None:
    _table(doc, [str(c) for c in frame.columns],
           [[str(v) for v in r] for r in frame.itertuples(index=False)], font_pt=font_pt)  # fmt: skip


def render_docx(evaluation: Evaluation, charts: Sequence[ChartImage],
                tint=lambda colour: colour) -> bytes:  # fmt: skip
    """The briefing as .docx bytes. ``charts``: A4 chart images in briefing order; ``tint``
    makes a status colour's light cell fill (the HTML/PDF tint)."""
    plan = evaluation.plan
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm((21.0 - TEXT_WIDTH_CM) / 2))
    family = cjk_font_family()
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3"):
        _set_east_asian_font(doc.styles[name], family)
    doc.styles["Normal"].font.size = Pt(10)
    footer = section.footer.paragraphs[0]
    footer.text = footer_text(evaluation)
    for run in footer.runs:
        run.font.size = Pt(7.5)
        run.font.color.rgb = RGBColor(0x6B, 0x6B, 0x6B)

    doc.add_heading(BRIEFING_TEXT["docx_title"][0].format(title=plan.title), level=0)
    meta = doc.add_paragraph(f"{plan.district_zh}（{plan.district_en}） · {plan.document} · "
                             f"{CHART_TEXT['as_of'][0]} {evaluation.as_of_label}")  # fmt: skip
    meta.runs[0].font.color.rgb = RGBColor(0x66, 0x66, 0x66)
    if evaluation.synthetic:
        p = doc.add_paragraph()
        run = p.add_run(f"{SYNTHETIC_LABEL} — {REPORT_TEXT['synthetic_banner'][0]}")
        run.font.bold = True
        run.font.color.rgb = RGBColor(0x7A, 0x4F, 0x00)

    doc.add_heading(REPORT_TEXT["status_table"][0], level=1)
    headers, rows, codes = status_display_table(evaluation)
    status_col = leader_columns(evaluation).index("status_zh")
    fills = []
    for i, code in enumerate(codes):
        colour = STATUS_COLOURS.get(code, STATUS_COLOURS["unknown"])
        fills.append((i, tint(colour), colour, status_col))
    _table(doc, headers, rows, font_pt=7, fills=fills, notes=status_notes(evaluation), fit=True)

    doc.add_heading(BRIEFING_TEXT["delivery"][0], level=1)
    for name, sentence in delivery_lines(evaluation):
        p = doc.add_paragraph(style="List Bullet")
        p.add_run(f"{name}：").bold = True
        p.add_run(sentence)

    if charts:
        doc.add_page_break()
        doc.add_heading(REPORT_TEXT["key_charts"][0], level=1)
        for chart in charts:
            doc.add_picture(io.BytesIO(chart.png), width=Cm(17.0))
            doc.paragraphs[-1].paragraph_format.keep_with_next = False
    if evaluation.candidates:
        doc.add_heading(BRIEFING_TEXT["pipelines"][0], level=1)
        for tid in evaluation.candidates:
            name = plan[tid].name_zh
            doc.add_heading(PIPELINE_TALLY["candidates_title"][0].format(name=name), level=2)
            doc.add_paragraph(tally_text(evaluation, tid))
            _frame_table(doc, candidates_labelled(evaluation, tid))
    if evaluation.watch_lists:
        doc.add_heading(REPORT_TEXT["watch_lists"][0], level=1)
        for tid, frame in evaluation.watch_lists.items():
            shown = watchlist_labelled(watch_list_by_urgency(frame), WATCH_TOP_N)
            name = plan[tid].name_zh if tid in {t.id for t in plan.targets} else tid
            what = WATCHLIST_TITLES.get(tid, ("关注名单", ""))[0]
            doc.add_heading(f"{name}：{what}（按紧迫程度排序，前 {len(shown)} 条，共 {len(frame)} 条）",
                            level=2)  # fmt: skip
            _frame_table(doc, shown, font_pt=7)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_heading(BRIEFING_TEXT["appendix"][0], level=1)
    for note in method_notes(evaluation):
        doc.add_paragraph(note, style="List Bullet")
    doc.add_paragraph(footer_text(evaluation))

    fixed = (evaluation.as_of + 1).start_time.to_pydatetime()
    props = doc.core_properties
    props.title = f"{plan.title} {evaluation.as_of_label}"
    props.author = plan.district_zh
    props.last_modified_by = "tianxin-analysis"
    props.comments = f"tianxin-analysis {_VERSION}"
    props.created = fixed
    props.modified = fixed
    props.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


__all__ = ["render_docx"]
