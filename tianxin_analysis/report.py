"""The briefing pack: one HTML page, the same content as an A4 PDF, an Excel workbook, figures.

``build_briefing(evaluation, out_dir)`` is what ``tianxin report`` calls. It writes

- ``briefing.html``: self-contained (charts as base64 PNG, inline CSS; no external assets),
- ``briefing.pdf``: A4 pages drawn with fpdf2, the CJK font embedded as a TrueType subset
  (fpdf2 reads TrueType collections, ``.ttc``, through ``collection_font_number``), so the
  text is extractable,
- ``targets_summary.xlsx``: status table, watch lists and notes for Excel/WPS users,
- ``figures/``: every chart in both sizes as PNG, SVG and PDF (``charts.export_all_charts``).

All files are written atomically and their bytes depend only on the evaluation.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import html
import io
import zipfile
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import font_manager
from tqdm import tqdm  # plain text bar: no ipywidgets needed in notebooks

from . import __version__ as _VERSION
from ._fs import atomic_path, atomic_write_bytes, atomic_write_text, neutralize_formula_text
from .charts import (
    EMBED_DPI,
    FORMATS,
    STATUS_COLOURS,
    ChartFontError,
    ChartImage,
    chart_png,
    chart_specs,
    cjk_font_family,
    export_figure,
    footer_text,
    watchlist_labelled,
)
from .errors import TianxinError
from .forecast.evaluation import Evaluation
from .formatting import (
    balanced_lines,
    column_widths,
    display_width,
    excel_number_format,
    rounded,
    table_widths,
)
from .labels import (
    BRIEFING_TEXT,
    CANDIDATE_COLUMNS,
    CHART_TEXT,
    PIPELINE_TALLY,
    REPORT_TEXT,
    SCENARIO,
    SUMMARY_COLUMNS,
    SYNTHETIC_LABEL,
    WATCHLIST_COLUMNS,
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

if TYPE_CHECKING:
    from fpdf import FPDF
    from openpyxl import Workbook

# fpdf2 and openpyxl are imported by the PDF and XLSX writers only: `tianxin report --only
# html` and the chart workers do without them (about 12% of this module's import time).

HTML_NAME = "briefing.html"
PDF_NAME = "briefing.pdf"
XLSX_NAME = "targets_summary.xlsx"
DOCX_NAME = "briefing.docx"
FIGURES_DIR = "figures"
WATCH_TOP_N = 15
# What ``build_briefing`` can write (``outputs``); documents in this order.
OUTPUTS = ("html", "pdf", "xlsx", "docx", "figures")
_DOCUMENTS = {"html": HTML_NAME, "pdf": PDF_NAME, "xlsx": XLSX_NAME, "docx": DOCX_NAME}
_Embedded = ChartImage  # the name earlier code used


def _tint(hex_colour: str, amount: float = 0.82) -> str:
    """A light tint of a status colour for cell fills (mix with white)."""
    rgb = np.array(matplotlib.colors.to_rgb(hex_colour))
    mixed = rgb + (1.0 - rgb) * amount
    return matplotlib.colors.to_hex(mixed).upper()


def _target_name(evaluation: Evaluation, tid: str) -> str:
    return evaluation.plan[tid].name_zh if tid in {t.id for t in evaluation.plan.targets} else tid


def _watch_heading(evaluation: Evaluation, tid: str, shown: int, total: int) -> str:
    what = WATCHLIST_TITLES.get(tid, ("关注名单", ""))[0]
    return f"{_target_name(evaluation, tid)}：{what}（按紧迫程度排序，前 {shown} 条，共 {total} 条）"


# ---- figures -------------------------------------------------------------------------------


# Chart export is CPU-bound (a 300-dpi PNG, an SVG and a PDF take about a second per chart and
# size), so the charts are spread over worker processes; each worker receives the evaluation once.
_WORKER_EVALUATION: Evaluation | None = None


def briefing_title(evaluation: Evaluation) -> str:
    """``<plan title>：目标完成情况简报``, with ``（情景测算）`` when targets were changed."""
    title = f"{evaluation.plan.title}：目标完成情况简报"
    return f"{title}（{SCENARIO[0]}）" if evaluation.is_scenario else title


def _run_label(run_id: str | None) -> str:
    """Footer text naming the run (its ``run.json``); empty outside a published run."""
    return f" · {REPORT_TEXT['run_id'][0]} {REPORT_TEXT['run_id'][1]} {run_id}" if run_id else ""


def _init_worker(evaluation: Evaluation) -> None:
    global _WORKER_EVALUATION
    _WORKER_EVALUATION = evaluation


def _draw_spec(
    index: int, out_dir: Path, sizes: Sequence[str], formats: Sequence[str], embed: bool = True,
    evaluation: Evaluation | None = None,
) -> tuple[list[Path], list[ChartImage]]:  # fmt: skip
    """Draw chart ``index`` of ``chart_specs`` in every size; export and keep the A4 PNG."""
    ev = evaluation if evaluation is not None else _WORKER_EVALUATION
    spec = chart_specs(ev)[index]
    written: list[Path] = []
    embedded: list[ChartImage] = []
    keep = embed and not spec.stem.startswith("watchlist_")
    for size in dict.fromkeys([*sizes, *(["a4"] if keep else [])]):
        fig = spec.draw(size)
        if size in sizes and formats:
            written += export_figure(fig, out_dir / FIGURES_DIR, f"{spec.stem}_{size}", formats)
        if size == "a4" and keep:
            embedded.append(ChartImage(spec.stem, spec.title, chart_png(fig, EMBED_DPI)))
    return written, embedded


def draw_charts(
    evaluation: Evaluation,
    out_dir: Path | None = None,
    sizes: Sequence[str] = (),
    formats: Sequence[str] = (),
    *,
    embed: bool = True,
    bar: tqdm | None = None,
    workers: int = 1,
) -> tuple[list[Path], list[ChartImage]]:
    """Export charts to ``out_dir/figures`` (``sizes`` x ``formats``) and/or render the A4
    charts the documents embed (``embed``), in one pass over ``chart_specs``.

    With no ``formats`` only the embedded charts are drawn (watch-list charts are exported,
    never embedded). Results are collected in chart order whatever the number of workers, so
    the outputs are identical for ``workers=1`` and ``workers=2``.
    """
    specs = chart_specs(evaluation)
    todo = [i for i, s in enumerate(specs) if formats or not s.stem.startswith("watchlist_")]
    n = len(todo)
    out = Path(out_dir) if out_dir is not None else Path(".")
    if not formats:
        sizes = ()
    written: list[Path] = []
    embedded: list[ChartImage] = []
    with contextlib.ExitStack() as stack:
        if workers <= 1 or n < 2:
            results = (_draw_spec(i, out, sizes, formats, embed, evaluation) for i in todo)
        else:
            from ._workers import process_pool

            pool = stack.enter_context(process_pool(min(workers, n), _init_worker, (evaluation,)))
            futures = [pool.submit(_draw_spec, i, out, tuple(sizes), tuple(formats), embed)
                       for i in todo]  # fmt: skip
            results = (f.result() for f in futures)
        for w, e in results:
            written += w
            embedded += e
            if bar is not None:
                bar.update(1)
    return written, embedded


# ---- HTML ----------------------------------------------------------------------------------

_CSS = """
.banner.scenario{background:#E8F0FB;border-color:#1F4E89;color:#1F4E89;font-weight:bold}
tr.data-note td{color:#7A4F00;background:#FFF8E6;font-size:.9em}
table.status td.num,table.status td[class^="status-"]{white-space:nowrap}
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;
  color:#222;max-width:1100px;margin:24px auto;padding:0 16px;line-height:1.5}
h1{font-size:26px;margin:0 0 4px} h2{font-size:20px;border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:32px}
h3{font-size:16px;margin:18px 0 4px}
.meta{color:#666;margin:0 0 12px}
.banner{background:#FFF4D6;border:1px solid #D98E04;color:#7A4F00;padding:10px 14px;border-radius:4px;margin:12px 0}
table{border-collapse:collapse;width:100%;font-size:14px;margin:8px 0}
th,td{border:1px solid #ddd;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#E3EAF3} td.num{text-align:right;white-space:nowrap}
ul.delivery li{margin:2px 0} .tally{margin:4px 0;font-weight:bold}
figure{margin:18px 0} figure img{width:100%;height:auto;border:1px solid #eee}
figcaption{color:#666;font-size:13px}
.appendix{color:#444;font-size:14px}
footer{color:#666;font-size:13px;margin-top:32px;border-top:1px solid #ddd;padding-top:8px}
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in r) + "</tr>"
        for r in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(
    evaluation: Evaluation, embedded: Sequence[ChartImage], run_id: str | None = None
) -> str:
    """The briefing as a self-contained HTML document (every data text escaped); ``run_id``
    (of ``run.json``) is shown in the footer."""
    plan = evaluation.plan
    headers, rows, codes = status_display_table(evaluation)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(briefing_title(evaluation))} · {_esc(evaluation.as_of_label)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_esc(briefing_title(evaluation))}</h1>",
        f'<p class="meta">{_esc(plan.district_zh)}（{_esc(plan.district_en)}） · {_esc(plan.document)} · '
        f"{CHART_TEXT['as_of'][0]} {_esc(evaluation.as_of_label)}</p>",
    ]
    if evaluation.synthetic:
        parts.append(
            f'<div class="banner" role="note"><strong>{_esc(SYNTHETIC_LABEL)}</strong> — '
            f"{_esc(REPORT_TEXT['synthetic_banner'][0])} {_esc(REPORT_TEXT['synthetic_banner'][1])}</div>"
        )
    if evaluation.is_scenario:
        parts.append(
            f'<div class="banner scenario" role="note">{_esc(evaluation.scenario_text())}</div>'
        )
    parts.append(f"<h2>{REPORT_TEXT['status_table'][0]}</h2>")
    parts.append(
        '<table class="status"><thead><tr>' + "".join(f"<th>{_esc(h)}</th>" for h in headers)
    )
    parts.append("</tr></thead><tbody>")
    status_col = leader_columns(evaluation).index("status_zh")
    for row, code, note in zip(rows, codes, status_notes(evaluation), strict=True):
        colour = STATUS_COLOURS.get(code, STATUS_COLOURS["unknown"])
        cells = []
        for i, text in enumerate(row):
            if i == status_col:
                cells.append(
                    f'<td class="status-{_esc(code)}" style="background:{_tint(colour)};color:{colour};'
                    f'font-weight:bold">{_esc(text)}</td>'
                )
            elif i == 0:
                cells.append(f"<td>{_esc(text)}</td>")
            else:
                cells.append(f'<td class="num">{_esc(text)}</td>')
        parts.append("<tr>" + "".join(cells) + "</tr>")
        if note:
            parts.append(f'<tr class="data-note"><td colspan="{len(headers)}">{_esc(note)}</td></tr>')
    parts.append("</tbody></table>")
    parts.append(f"<h2>{BRIEFING_TEXT['delivery'][0]}</h2><ul class=\"delivery\">")
    parts += [f"<li><strong>{_esc(n)}</strong>：{_esc(t)}</li>" for n, t in delivery_lines(evaluation)]
    parts.append("</ul>")
    parts.append(f"<h2>{REPORT_TEXT['key_charts'][0]}</h2>")
    for fig in embedded:
        data = base64.b64encode(fig.png).decode("ascii")
        parts.append(
            f'<figure id="{_esc(fig.stem)}"><img alt="{_esc(fig.title)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_esc(fig.title)}</figcaption></figure>"
        )
    if evaluation.candidates:
        parts.append(f"<h2>{BRIEFING_TEXT['pipelines'][0]}</h2>")
        for tid in evaluation.candidates:
            name = _target_name(evaluation, tid)
            parts.append(f"<h3>{_esc(PIPELINE_TALLY['candidates_title'][0].format(name=name))}</h3>")
            parts.append(f'<p class="tally">{_esc(tally_text(evaluation, tid))}</p>')
            parts.append(_html_table(candidates_labelled(evaluation, tid)))
    if evaluation.watch_lists:
        parts.append(f"<h2>{REPORT_TEXT['watch_lists'][0]}</h2>")
        for tid, frame in evaluation.watch_lists.items():
            shown = watchlist_labelled(watch_list_by_urgency(frame), WATCH_TOP_N)
            parts.append(f"<h3>{_esc(_watch_heading(evaluation, tid, len(shown), len(frame)))}</h3>")
            parts.append(_html_table(shown))
    parts.append(f'<h2>{BRIEFING_TEXT["appendix"][0]}</h2><ul class="appendix">')
    parts += [f"<li>{_esc(n)}</li>" for n in method_notes(evaluation)]
    parts.append("</ul>")
    parts.append(f"<footer>{_esc(footer_text(evaluation))} · tianxin-analysis {_esc(_VERSION)}{_esc(_run_label(run_id))}</footer>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ---- PDF -----------------------------------------------------------------------------------


def cjk_font_file() -> tuple[Path, int]:
    """The font file of the chart family and its index inside a TrueType collection."""
    family = cjk_font_family()
    path = Path(
        font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    )
    index = 0
    if path.suffix.lower() == ".ttc":
        from fontTools.ttLib import TTCollection

        with TTCollection(path, lazy=True) as collection:
            for i, face in enumerate(collection.fonts):
                if face["name"].getBestFamilyName() == family:
                    index = i
                    break
    return path, index


def _briefing_pdf(footer: str) -> FPDF:
    """An A4 fpdf2 document whose every page ends with ``footer`` and the page number."""
    from fpdf import FPDF

    class _BriefingPDF(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("cjk", size=7.5)
            self.set_text_color(110, 110, 110)
            self.cell(0, 5, f"{footer}    第 {self.page_no()} 页", align="L")

    return _BriefingPDF(orientation="P", unit="mm", format="A4")


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    r, g, b = matplotlib.colors.to_rgb(hex_colour)
    return round(r * 255), round(g * 255), round(b * 255)


# PDF geometry (mm): A4 with 15 mm margins; a chart is the text width at the charts' 7.5 x 4.5
# in aspect ratio, so two charts and their gaps fill a page.
_PDF_MARGIN = 15
_PDF_BOTTOM = 16
_CHART_GAP = 4


def _pdf_room(pdf: FPDF) -> float:
    return pdf.h - _PDF_BOTTOM - pdf.get_y()


def _pdf_keep(pdf: FPDF, height: float) -> None:
    """Start a new page unless ``height`` mm fit (a heading never ends a page alone)."""
    if _pdf_room(pdf) < height:
        pdf.add_page()


def _pdf_table(pdf: FPDF, frame: pd.DataFrame, font_size: float = 7.0) -> None:
    from fpdf import FontFace

    # widths from the text as shown (cut with "…"): a long name must not take the page
    frame = frame.set_axis([_pdf_text(c) for c in frame.columns], axis=1).map(_pdf_text)
    pdf.set_font("cjk", size=font_size)
    widths = column_widths(frame.columns, frame.itertuples(index=False))
    with pdf.table(
        col_widths=tuple(widths),
        headings_style=FontFace(fill_color=_rgb("#E3EAF3")),
        line_height=font_size * 0.6,
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        head = table.row()
        for c in frame.columns:
            head.cell(_pdf_text(c))
        for values in frame.itertuples(index=False):
            r = table.row()
            for v in values:
                r.cell(_pdf_text(v))


def _pdf_lines(pdf: FPDF, lines: Sequence[str], size: float = 9.0) -> None:
    pdf.set_font("cjk", size=size)
    for line in lines:
        _pdf_keep(pdf, 11)
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT", align="L", wrapmode="CHAR")
        pdf.ln(1)


def render_pdf(
    evaluation: Evaluation, embedded: Sequence[ChartImage], run_id: str | None = None
) -> bytes:
    """The briefing on A4 pages; text is real text in the embedded CJK font.

    Page 1: title, status table, what the rest of the year must deliver. Then the charts two
    to a page, the pipelines' candidate tables, the watch lists, and the method appendix on a
    page of its own. A heading is moved to the next page with what follows it.
    """
    font_path, font_index = cjk_font_file()
    footer = footer_text(evaluation)
    pdf = _briefing_pdf(footer + _run_label(run_id))
    pdf.add_font("cjk", "", str(font_path), collection_font_number=font_index)
    pdf.set_title(f"{briefing_title(evaluation)} {evaluation.as_of_label}")
    pdf.set_author(evaluation.plan.district_zh)
    pdf.set_creator(f"tianxin-analysis {_VERSION}")
    # A fixed date (the end of the as-of month) keeps the bytes stable between runs.
    pdf.set_creation_date((evaluation.as_of + 1).start_time.to_pydatetime().replace(tzinfo=dt.UTC))
    pdf.set_auto_page_break(True, margin=_PDF_BOTTOM)
    pdf.set_margins(_PDF_MARGIN, _PDF_MARGIN, _PDF_MARGIN)
    pdf.add_page()
    _pdf_title(pdf, evaluation)
    _pdf_status_table(pdf, evaluation)
    pdf.ln(3)
    _pdf_keep(pdf, 30)
    _pdf_heading(pdf, BRIEFING_TEXT["delivery"][0])
    _pdf_lines(pdf, [f"• {n}：{t}" for n, t in delivery_lines(evaluation)])
    _pdf_charts(pdf, embedded)
    _pdf_candidates(pdf, evaluation)
    _pdf_watch_lists(pdf, evaluation)
    pdf.add_page()
    _pdf_heading(pdf, BRIEFING_TEXT["appendix"][0])
    _pdf_lines(pdf, [f"• {n}" for n in method_notes(evaluation)])
    pdf.ln(2)
    _pdf_keep(pdf, 20)
    _pdf_heading(pdf, REPORT_TEXT["data_source"][0])
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(0, 5, footer, new_x="LMARGIN", new_y="NEXT", align="L", wrapmode="CHAR")
    return bytes(pdf.output())


def _pdf_title(pdf: FPDF, evaluation: Evaluation) -> None:
    """Title, district / plan / as-of line, the synthetic-data and scenario banners."""
    plan = evaluation.plan
    pdf.set_font("cjk", size=17)
    pdf.multi_cell(0, 9, briefing_title(evaluation), new_x="LMARGIN", new_y="NEXT",
                   align="L", wrapmode="CHAR")  # fmt: skip
    pdf.set_font("cjk", size=10)
    pdf.set_text_color(100, 100, 100)
    pdf.multi_cell(
        0, 6, f"{plan.district_zh} · {plan.document} · {CHART_TEXT['as_of'][0]} {evaluation.as_of_label}",
        new_x="LMARGIN", new_y="NEXT", align="L", wrapmode="CHAR",
    )  # fmt: skip
    pdf.set_text_color(34, 34, 34)
    if evaluation.synthetic:
        pdf.ln(2)
        pdf.set_fill_color(255, 244, 214)
        pdf.set_draw_color(*_rgb("#D98E04"))
        pdf.set_text_color(122, 79, 0)
        pdf.multi_cell(
            0, 6, f"{SYNTHETIC_LABEL} — {REPORT_TEXT['synthetic_banner'][0]}", border=1, fill=True,
            new_x="LMARGIN", new_y="NEXT", align="L", wrapmode="CHAR", padding=2,
        )  # fmt: skip
        pdf.set_text_color(34, 34, 34)
    if evaluation.is_scenario:
        pdf.ln(2)
        pdf.multi_cell(0, 6, evaluation.scenario_text(), border=1, new_x="LMARGIN", new_y="NEXT",
                       align="L", wrapmode="CHAR", padding=2)  # fmt: skip
    pdf.ln(3)


def _pdf_status_table(pdf: FPDF, evaluation: Evaluation) -> None:
    """The status table: names wrap into even lines, every other cell on one line, the status
    cell in its colour, a 数据提示 row under a row that has one."""
    from fpdf import FontFace

    _pdf_heading(pdf, REPORT_TEXT["status_table"][0])
    headers, rows, codes = status_display_table(evaluation)
    pdf.set_font("cjk", size=7.5)
    status_col = leader_columns(evaluation).index("status_zh")
    widths = _pdf_status_widths(pdf, headers, rows)
    with pdf.table(
        col_widths=tuple(widths),
        headings_style=FontFace(fill_color=_rgb("#E3EAF3")),
        line_height=4.6,
        text_align=tuple("LEFT" if i == 0 else "CENTER" if i == status_col else "RIGHT"
                         for i in range(len(headers))),  # fmt: skip
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        head = table.row()
        for h, w in zip(headers, widths, strict=True):
            head.cell(_balanced_lines(pdf, h, w))
        for row, code, note in zip(rows, codes, status_notes(evaluation), strict=True):
            colour = STATUS_COLOURS.get(code, STATUS_COLOURS["unknown"])
            status_style = FontFace(color=_rgb(colour), fill_color=_rgb(_tint(colour)))
            r = table.row()
            r.cell(_balanced_lines(pdf, _pdf_text(row[0]), widths[0]))  # names wrap into even lines
            for i, text in enumerate(row[1:], start=1):
                if i == status_col:
                    r.cell(text, style=status_style)
                else:
                    r.cell(_pdf_text(text))
            if note:
                table.row().cell(_pdf_text(note, width=400.0), colspan=len(row), align="LEFT")


def _pdf_charts(pdf: FPDF, embedded: Sequence[ChartImage]) -> None:
    """The charts two to a page, each the text width."""
    if not embedded:
        return
    width = pdf.epw
    height = width * 4.5 / 7.5
    pdf.add_page()
    _pdf_heading(pdf, REPORT_TEXT["key_charts"][0])
    for fig in embedded:
        if _pdf_room(pdf) < height:
            pdf.add_page()
        pdf.image(io.BytesIO(fig.png), w=width, h=height)
        pdf.ln(_CHART_GAP)


def _pdf_candidates(pdf: FPDF, evaluation: Evaluation) -> None:
    """Each pipeline's tally and table of named candidates."""
    if not evaluation.candidates:
        return
    _pdf_keep(pdf, 60)
    _pdf_heading(pdf, BRIEFING_TEXT["pipelines"][0])
    for tid in evaluation.candidates:
        frame = candidates_labelled(evaluation, tid)
        _pdf_keep(pdf, 30)
        pdf.set_font("cjk", size=10)
        name = _target_name(evaluation, tid)
        pdf.multi_cell(0, 6, PIPELINE_TALLY["candidates_title"][0].format(name=name),
                       new_x="LMARGIN", new_y="NEXT")  # fmt: skip
        pdf.set_font("cjk", size=9)
        pdf.multi_cell(0, 5, tally_text(evaluation, tid), new_x="LMARGIN", new_y="NEXT")
        _pdf_table(pdf, frame)
        pdf.ln(4)


def _pdf_watch_lists(pdf: FPDF, evaluation: Evaluation) -> None:
    """The first ``WATCH_TOP_N`` rows of each watch list, most urgent first."""
    if not evaluation.watch_lists:
        return
    _pdf_keep(pdf, 60)
    _pdf_heading(pdf, REPORT_TEXT["watch_lists"][0])
    for tid, frame in evaluation.watch_lists.items():
        shown = watchlist_labelled(watch_list_by_urgency(frame), WATCH_TOP_N)
        _pdf_keep(pdf, 30)
        pdf.set_font("cjk", size=10)
        pdf.multi_cell(0, 6, _watch_heading(evaluation, tid, len(shown), len(frame)),
                       new_x="LMARGIN", new_y="NEXT")  # fmt: skip
        _pdf_table(pdf, shown)
        pdf.ln(4)


def _pdf_heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("cjk", size=13)
    pdf.set_text_color(31, 78, 137)
    pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT", align="L", wrapmode="CHAR")
    pdf.set_text_color(34, 34, 34)


# ---- XLSX ----------------------------------------------------------------------------------

_VALUE_COLUMNS = (
    "target",
    "actual_to_date",
    "point",
    "lower",
    "upper",
    "lower95",
    "upper95",
    "baseline_point",
)
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


# Excel holds at most this many characters in a cell; the PDF's tables show at most this
# display width of a cell (about 20 CJK characters) and end a longer text with an ellipsis.
_XLSX_CELL_CHARS = 32_767
_PDF_CELL_WIDTH = 40.0


def _xlsx_text(text: str) -> str:
    """Text openpyxl can write: without the control characters XML 1.0 forbids (openpyxl
    raises IllegalCharacterError on them), cut at Excel's cell limit; otherwise in full."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)[:_XLSX_CELL_CHARS]


def _pdf_status_widths(pdf: FPDF, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[float]:
    """Status table column widths in mm, measured with the current font (``table_widths``)."""
    return table_widths(headers, rows, pdf.epw, pdf.get_string_width, pad=2 * pdf.c_margin + 0.8)


def _balanced_lines(pdf: FPDF, text: str, width: float) -> str:
    """``text`` broken into lines of even length when it does not fit ``width`` mm on one
    line (fpdf2 fills lines greedily: 完成概/率, 高新技术企业数/量)."""
    return balanced_lines(text, width - 2 * pdf.c_margin, pdf.get_string_width)


def _pdf_text(value: object, width: float = _PDF_CELL_WIDTH) -> str:
    """A table cell's text for the PDF: control characters removed, and cut with "…" to
    ``width`` display units (a 56-character watch-list name made fpdf2 raise FPDFException:
    its column took the page and left the others no room for one character)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))
    if display_width(text) <= width:
        return text
    out, used = [], 0.0
    for ch in text:
        used += display_width(ch)
        if used > width - 2.0:
            break
        out.append(ch)
    return "".join(out) + "…"


def _cell_value(value: object) -> object:
    """Plain Python value for openpyxl: NaN -> empty, numpy scalars -> Python, text neutralised."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer | int) and not isinstance(value, bool):
        return int(value)  # a year or a count stays a number, not text
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, str):
        return neutralize_formula_text(_xlsx_text(value))
    return neutralize_formula_text(_xlsx_text(str(value)))


# Rows above a sheet's table: title, district/plan/as-of, synthetic note (or source), blank.
_HEADER_ROW = 4
# Status-sheet columns that are codes or English: after the Chinese ones.
_TRAILING_COLUMNS = ("target_id", "name_en", "comparator", "status_en", "method")


def _sheet_heading(ws, evaluation: Evaluation, what: str, width: int) -> None:
    """Title row, district / plan / as-of row and the synthetic-data note (every sheet)."""
    from openpyxl.styles import Alignment, Font, PatternFill

    plan = evaluation.plan
    title = ws.cell(1, 1, _cell_value(what))
    title.font = Font(bold=True, size=14)
    title.alignment = Alignment(wrap_text=True, vertical="top")
    if display_width(what) > 80:
        ws.row_dimensions[1].height = 40
    ws.cell(2, 1, _cell_value(BRIEFING_TEXT["title_row"][0].format(
        district=plan.district_zh, plan=f"{plan.title}（{plan.document}）",
        as_of=evaluation.as_of_label)))  # fmt: skip
    note = (f"{SYNTHETIC_LABEL}：{REPORT_TEXT['synthetic_banner'][0]}" if evaluation.synthetic
            else f"{REPORT_TEXT['data_source'][0]}：{evaluation.data_source}")  # fmt: skip
    cell = ws.cell(3, 1, _cell_value(note))
    if evaluation.synthetic:
        cell.font = Font(bold=True, color="7A4F00")
        cell.fill = PatternFill("solid", fgColor="FFF4D6")
    for r in (1, 2, 3):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=max(width, 1))


def _print_setup(ws) -> None:
    """A4 landscape, fit to one page wide, the header row repeated on every printed page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"
    ws.print_options.horizontalCentered = True


def _write_sheet(ws, frame: pd.DataFrame, evaluation: Evaluation, what: str,
                 formats: dict[str, str] | None = None) -> None:  # fmt: skip
    """``frame`` under the sheet heading: bold tinted header row, frozen, filterable, printable.
    ``formats`` maps a column to an Excel number format (dates get ``yyyy-mm-dd``)."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    _sheet_heading(ws, evaluation, what, len(frame.columns))
    formats = dict(formats or {})
    for j, col in enumerate(frame.columns, start=1):
        cell = ws.cell(_HEADER_ROW, j, _cell_value(col))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E3EAF3")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        if pd.api.types.is_datetime64_any_dtype(frame[col].dtype):
            formats.setdefault(col, "yyyy-mm-dd")
    for i, row in enumerate(frame.itertuples(index=False), start=_HEADER_ROW + 1):
        for j, (col, v) in enumerate(zip(frame.columns, row, strict=True), start=1):
            cell = ws.cell(i, j, _cell_value(v))
            if col in formats:
                cell.number_format = formats[col]
    ws.freeze_panes = f"A{_HEADER_ROW + 1}"
    for i, col in enumerate(frame.columns, start=1):
        sample = frame[col].head(200)
        if pd.api.types.is_datetime64_any_dtype(sample.dtype):
            widest = 10.0
        else:
            widest = max([display_width(v) for v in sample] + [0.0])
        widest = max(widest, min(display_width(col), 16.0))
        ws.column_dimensions[get_column_letter(i)].width = min(max(8.0, widest + 2.0), 60.0)
    if len(frame):
        ws.auto_filter.ref = (f"A{_HEADER_ROW}:{get_column_letter(len(frame.columns))}"
                              f"{_HEADER_ROW + len(frame)}")  # fmt: skip
    _print_setup(ws)


# Status-sheet columns kept to two decimals (probabilities, shares, a rate).
_TWO_DECIMALS = ("p_meet", "schedule_share", "required_run_rate")


def _rounded_column(table: pd.DataFrame, column: str) -> list[object]:
    """``column`` of the evaluation table rounded as every output shows it: a value in its
    unit's rounding (``formatting.rounded``), anything else to two decimals; NaN -> None."""
    if column in _VALUE_COLUMNS:
        return [rounded(v, u) for v, u in zip(table[column], table["unit"], strict=True)]
    return [None if pd.isna(v) else round(float(v), 2) for v in table[column]]


def _status_frame(evaluation: Evaluation) -> tuple[pd.DataFrame, list[str]]:
    """The status sheet: Chinese columns first (codes and English last), values rounded as
    every other output shows them, and the sentence on what the rest of the year must deliver."""
    table = evaluation.table
    cols = [c for c in table.columns if c in SUMMARY_COLUMNS and c not in _TRAILING_COLUMNS]
    cols += [c for c in _TRAILING_COLUMNS if c in table.columns]
    frame = table[cols].astype(object)
    for c in cols:
        if c in _VALUE_COLUMNS or c in _TWO_DECIMALS:
            frame[c] = _rounded_column(table, c)
    sentences = dict((n, t) for n, t in delivery_lines(evaluation))
    at = cols.index("status_zh") + 1 if "status_zh" in cols else len(cols)
    frame.insert(at, "delivery", [sentences.get(n, "") for n in table["name_zh"]])
    labels = {c: SUMMARY_COLUMNS[c][0] for c in cols} | {"delivery": BRIEFING_TEXT["delivery"][0]}
    return frame, [labels[c] for c in frame.columns]


def _sheet_name(text: str) -> str:
    """An Excel sheet name: at most 31 characters, none of ``[]:*?/\\``."""
    for ch in "[]:*?/\\":
        text = text.replace(ch, "-")
    return text[:31]


def _watch_sheet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A watch list for Excel: most urgent first, real dates and numbers, Chinese headers."""
    f = watch_list_by_urgency(frame)
    keep = [c for c in f.columns if c not in ("source_file", "source_sheet", "source_row")]
    f = f[keep]
    return f.rename(columns={c: WATCHLIST_COLUMNS.get(c, (c, c))[0] for c in f.columns})


def _candidates_sheet_frame(evaluation: Evaluation, tid: str) -> pd.DataFrame:
    c = evaluation.candidates[tid]
    cols = [k for k in CANDIDATE_COLUMNS if k in c.columns]
    f = c[cols].copy()
    return f.rename(columns={k: CANDIDATE_COLUMNS[k][0] for k in cols})


def render_xlsx(evaluation: Evaluation, run_id: str | None = None) -> bytes:
    """Status, each pipeline's candidates, each watch list and the notes as an xlsx workbook
    with stable bytes; every sheet carries the title rows and the synthetic note and prints on
    A4 landscape."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = REPORT_TEXT["status_sheet"][0]
    frame, headers = _status_frame(evaluation)
    units = evaluation.table["unit"].tolist()
    statuses = evaluation.table["status"].tolist()
    labelled = frame.set_axis(headers, axis=1)
    _write_sheet(ws, labelled, evaluation, "目标完成情况")
    # Print the Chinese columns; codes and English stay on screen for analysts.
    n_print = sum(c not in _TRAILING_COLUMNS for c in frame.columns)
    ws.print_area = f"A1:{get_column_letter(n_print)}{_HEADER_ROW + len(frame)}"
    for j, c in enumerate(frame.columns, start=1):
        for i in range(len(frame)):
            cell = ws.cell(row=_HEADER_ROW + 1 + i, column=j)
            if c in _VALUE_COLUMNS:
                cell.number_format = excel_number_format(cell.value, units[i])
            elif c in ("p_meet", "schedule_share"):
                cell.number_format = "0%"
            elif c == "required_run_rate":
                cell.number_format = "0.00"
            elif c == "delivery":
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            elif c in ("status_zh", "status_en"):
                colour = STATUS_COLOURS.get(statuses[i], STATUS_COLOURS["unknown"])
                cell.fill = PatternFill("solid", fgColor=_tint(colour).lstrip("#"))
                cell.font = Font(color=colour.lstrip("#"), bold=True)
    ws.column_dimensions[get_column_letter(list(frame.columns).index("delivery") + 1)].width = 60
    for tid in evaluation.candidates:
        name = _target_name(evaluation, tid)
        sheet = wb.create_sheet(_sheet_name(BRIEFING_TEXT["candidates_sheet"][0].format(name=name)))
        _write_sheet(sheet, _candidates_sheet_frame(evaluation, tid), evaluation,
                     f"{PIPELINE_TALLY['candidates_title'][0].format(name=name)}（{tally_text(evaluation, tid)}）",
                     {CANDIDATE_COLUMNS["probability"][0]: "0%"})  # fmt: skip
    for tid, wl in evaluation.watch_lists.items():
        name = _target_name(evaluation, tid)
        sheet = wb.create_sheet(_sheet_name(BRIEFING_TEXT["watch_sheet"][0].format(name=name)))
        what = WATCHLIST_TITLES.get(tid, ("关注名单", ""))[0]
        _write_sheet(sheet, _watch_sheet_frame(wl), evaluation, f"{name}：{what}（按紧迫程度排序）")
    # Notes: what the data is, where it came from, as of when, how the numbers were made.
    ws_notes = wb.create_sheet(REPORT_TEXT["notes_sheet"][0])
    notes = [
        ("简报 briefing", f"{briefing_title(evaluation)}（{evaluation.plan.document}）"),
        *([("情景 scenario", evaluation.scenario_text())] if evaluation.is_scenario else []),
        ("地区 district", f"{evaluation.plan.district_zh} {evaluation.plan.district_en}"),
        ("数据截至 as of", evaluation.as_of_label),
        ("数据性质 data", f"{SYNTHETIC_LABEL}：{REPORT_TEXT['synthetic_banner'][0]}"
         if evaluation.synthetic else "业务系统实际数据 real exports"),
        ("数据来源 source", evaluation.data_source),
        ("生成工具 produced by", f"tianxin-analysis {_VERSION}{_run_label(run_id)}"),
    ]  # fmt: skip
    notes += [("方法 method", n) for n in method_notes(evaluation)]
    notes_frame = pd.DataFrame(notes, columns=["项目 item", "说明 note"])
    _write_sheet(ws_notes, notes_frame, evaluation, "说明")
    ws_notes.column_dimensions["A"].width = 22
    ws_notes.column_dimensions["B"].width = 110
    fixed = (evaluation.as_of + 1).start_time.to_pydatetime()
    wb.properties.creator = "tianxin-analysis"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.lastModifiedBy = "tianxin-analysis"
    return _stable_zip(_workbook_bytes(wb))


def _workbook_bytes(wb: Workbook) -> bytes:
    # ExcelWriter directly: openpyxl's save_workbook stamps `modified` with the current time.
    from openpyxl.writer.excel import ExcelWriter

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    return buf.getvalue()


def _stable_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed member timestamps (zipfile stamps members with the clock).

    Hand-written: neither openpyxl nor zipfile offers a reproducible mode.
    """
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


# ---- the pack ------------------------------------------------------------------------------


def write_html(evaluation: Evaluation, out_dir: str | Path,
               charts: Sequence[ChartImage] | None = None, run_id: str | None = None) -> Path:  # fmt: skip
    """``briefing.html`` (charts drawn unless given; ``run_id`` in the footer)."""
    path = Path(out_dir) / HTML_NAME
    atomic_write_text(path, render_html(evaluation, _charts(evaluation, charts), run_id))
    return path


def write_pdf(evaluation: Evaluation, out_dir: str | Path,
              charts: Sequence[ChartImage] | None = None, run_id: str | None = None) -> Path:  # fmt: skip
    """``briefing.pdf`` (charts drawn unless given; ``run_id`` in the footer)."""
    path = Path(out_dir) / PDF_NAME
    atomic_write_bytes(path, render_pdf(evaluation, _charts(evaluation, charts), run_id))
    return path


def write_xlsx(evaluation: Evaluation, out_dir: str | Path,
               charts: Sequence[ChartImage] | None = None, run_id: str | None = None) -> Path:  # fmt: skip
    """``targets_summary.xlsx`` (no charts; ``run_id`` on the notes sheet)."""
    path = Path(out_dir) / XLSX_NAME
    with atomic_path(path) as tmp:
        tmp.write_bytes(render_xlsx(evaluation, run_id))
    return path


def write_docx(evaluation: Evaluation, out_dir: str | Path,
               charts: Sequence[ChartImage] | None = None, run_id: str | None = None) -> Path:  # fmt: skip
    """``briefing.docx`` (charts drawn unless given)."""
    from .docx_report import render_docx

    path = Path(out_dir) / DOCX_NAME
    data = render_docx(evaluation, _charts(evaluation, charts), tint=_tint)
    with atomic_path(path) as tmp:
        tmp.write_bytes(_stable_zip(data))
    return path


def _charts(evaluation: Evaluation, charts: Sequence[ChartImage] | None) -> Sequence[ChartImage]:
    return draw_charts(evaluation)[1] if charts is None else charts


# What ``build_briefing(only=...)`` / ``tianxin report --only`` can write.
BRIEFING_OUTPUTS = OUTPUTS


def briefing_outputs(only: str | Collection[str] | None) -> tuple[str, ...]:
    """The chosen outputs in pack order from ``"html,pdf"`` or ``["html", "pdf"]`` (None: all).

    Raises :class:`TianxinError` naming the unknown names and listing the valid ones.
    """
    if only is None:
        return BRIEFING_OUTPUTS
    names = only.split(",") if isinstance(only, str) else list(only)
    names = [n.strip().lower() for n in names if n.strip()]
    unknown = [n for n in names if n not in BRIEFING_OUTPUTS]
    if unknown or not names:
        raise TianxinError(
            f"未知的简报输出 (unknown briefing output) {', '.join(unknown) or repr(only)}；"
            f"可选 valid: {', '.join(BRIEFING_OUTPUTS)}（可组合，如 html,xlsx; any subset, e.g. html,xlsx）"
        )
    return tuple(n for n in BRIEFING_OUTPUTS if n in names)


_WRITERS = {"html": write_html, "pdf": write_pdf, "xlsx": write_xlsx, "docx": write_docx}


def build_briefing(
    evaluation: Evaluation,
    out_dir: str | Path,
    progress: bool = True,
    *,
    figure_sizes: Sequence[str] = ("slide", "a4"),
    figure_formats: Sequence[str] = FORMATS,
    workers: int | None = None,
    outputs: Sequence[str] = OUTPUTS,
    only: str | Collection[str] | None = None,
    run_id: str | None = None,
) -> list[Path]:
    """Write the briefing pack into ``out_dir`` and return the paths written.

    ``outputs``: any of ``OUTPUTS`` (html, pdf, xlsx, docx, figures); each document is written
    by its ``write_<format>`` function and the charts are drawn once for all of them.
    ``figure_sizes`` / ``figure_formats`` choose which exports go to ``out_dir/figures``
    (default: every chart, both sizes, PNG/SVG/PDF); HTML, PDF and DOCX embed A4 charts.
    ``workers`` processes draw the charts (default: the machine's cores, at most 4; one when
    no figure files are exported).
    ``only`` (``"html,xlsx"`` or a list; ``tianxin report --only``) chooses the outputs instead,
    checked by :func:`briefing_outputs`; other files already in ``out_dir`` are left as they
    are. ``run_id``: the id of the published set (``publish.Stage.run_id``), in the footers.
    Raises :class:`~tianxin_analysis.charts.ChartFontError` when no CJK font is installed and
    :class:`TianxinError` for an unknown output name.
    """
    documents, embed, export = _pack_plan(briefing_outputs(only) if only is not None else outputs,
                                          figure_formats)  # fmt: skip
    out_dir = Path(out_dir)
    if workers is None:
        workers = _default_workers(export)
    cjk_font_family()  # fail before writing anything when Chinese text cannot render
    n_draws = _chart_count(evaluation, embed, export)
    with tqdm(total=n_draws + len(documents), desc="简报 briefing", unit="步",
              disable=not progress, leave=False) as bar:  # fmt: skip
        written, embedded = [], []
        if n_draws:
            written, embedded = draw_charts(
                evaluation, out_dir, figure_sizes if export else (), figure_formats if export else (),
                embed=embed, bar=bar, workers=workers,
            )  # fmt: skip
        pack = []
        for name in documents:
            bar.set_postfix_str(_DOCUMENTS[name])
            pack.append(_WRITERS[name](evaluation, out_dir, embedded, run_id=run_id))
            bar.update(1)
    if progress:
        print(summary_text(pack, written))
    return pack + written


def _pack_plan(outputs: Sequence[str], figure_formats: Sequence[str]) -> tuple[list[str], bool, bool]:
    """(documents to write in pack order, whether charts are embedded, whether figure files
    are exported); ValueError naming an output that is not one of ``OUTPUTS``."""
    unknown = [o for o in outputs if o not in OUTPUTS]
    if unknown:
        raise ValueError(f"outputs must be among {OUTPUTS}, got {unknown} (未知的输出格式)")
    documents = [o for o in OUTPUTS if o in outputs and o in _WRITERS]
    embed = any(o in ("html", "pdf", "docx") for o in documents)
    return documents, embed, "figures" in outputs and bool(figure_formats)


def _chart_count(evaluation: Evaluation, embed: bool, export: bool) -> int:
    """Charts to draw: every chart when exporting figures, else those the documents embed."""
    if not (embed or export):
        return 0
    return len([s for s in chart_specs(evaluation) if export or not s.stem.startswith("watchlist_")])


def _default_workers(exporting: bool) -> int:
    """Chart processes: the machine's cores (at most 4) when figure files are exported, else
    one. Only the A4 charts the documents embed (about 6 s of CPU for the sample's 15): a
    worker's start-up (spawn, importing pandas/matplotlib/scipy, ~3.5 s of CPU each) costs
    more than it saves (profile of `report --only html`)."""
    import os

    return min(4, os.cpu_count() or 1) if exporting else 1


def summary_text(pack: Sequence[Path], figures: Sequence[Path]) -> str:
    """Short summary of what was written: the documents and the figure folder."""
    lines = ["简报已生成 briefing pack written:"]
    for p in pack:
        lines.append(f"  {p.name:<22} {p.stat().st_size / 1024:>8.0f} KB")
    if figures:
        total = sum(p.stat().st_size for p in figures)
        lines.append(
            # no folder path: inside a published run it is the staging folder, not the destination
            f"  {FIGURES_DIR + '/':<22} {total / 1024:>8.0f} KB in {len(figures)} files"
        )
    return "\n".join(lines)


__all__ = [
    "BRIEFING_OUTPUTS",
    "OUTPUTS",
    "briefing_outputs",
    "briefing_title",
    "ChartFontError",
    "build_briefing",
    "cjk_font_file",
    "draw_charts",
    "method_notes",
    "render_html",
    "render_pdf",
    "render_xlsx",
    "status_display_table",
    "summary_text",
    "write_docx",
    "write_html",
    "write_pdf",
    "write_xlsx",
]
