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
import datetime as dt
import html
import io
import zipfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from fpdf import FPDF, FontFace
from matplotlib import font_manager
from matplotlib.figure import Figure
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter
from tqdm import tqdm  # plain text bar: no ipywidgets needed in notebooks

from . import __version__ as _VERSION
from ._fs import atomic_write_bytes, neutralize_formula_text
from .charts import (
    FORMATS,
    STATUS_COLOURS,
    ChartFontError,
    chart_specs,
    cjk_font_family,
    export_figure,
    format_probability,
    format_value,
    watchlist_labelled,
)
from .errors import TianxinError
from .forecast.evaluation import Evaluation
from .forecast.result import AT_RISK_THRESHOLD, ON_TRACK_THRESHOLD
from .labels import (
    CHART_TEXT,
    COMPARATOR,
    REPORT_TEXT,
    SCENARIO,
    STATUS,
    SUMMARY_COLUMNS,
    SYNTHETIC_LABEL,
    WATCHLIST_TITLES,
)

HTML_NAME = "briefing.html"
PDF_NAME = "briefing.pdf"
XLSX_NAME = "targets_summary.xlsx"
FIGURES_DIR = "figures"
EMBED_DPI = 150
WATCH_TOP_N = 15

# Columns of the status table in HTML and PDF (the xlsx carries every column).
_DISPLAY_COLUMNS = ("name_zh", "target", "actual_to_date", "point", "interval80", "p_meet", "status_zh",
                    "schedule_share", "baseline_point", "data_through", "history_years")  # fmt: skip


def _tint(hex_colour: str, amount: float = 0.82) -> str:
    """A light tint of a status colour for cell fills (mix with white)."""
    rgb = np.array(matplotlib.colors.to_rgb(hex_colour))
    mixed = rgb + (1.0 - rgb) * amount
    return matplotlib.colors.to_hex(mixed).upper()


def method_notes(evaluation: Evaluation) -> list[str]:
    """Method notes an analyst reads under the table (Chinese, with the English terms)."""
    notes = [
        f"状态判定 (status)：完成概率 ≥ {ON_TRACK_THRESHOLD:.0%} 为“{STATUS_TEXT['on_track']}”，"
        f"{AT_RISK_THRESHOLD:.0%}–{ON_TRACK_THRESHOLD:.0%} 为“{STATUS_TEXT['at_risk']}”，"
        f"低于 {AT_RISK_THRESHOLD:.0%} 为“{STATUS_TEXT['off_track']}”；年内已达到目标的记为“{STATUS_TEXT['met']}”。",
        "完成概率与预测区间来自各指标模型的预测分布 (predictive distribution)；扇形图的 50%/80%/95% "
        "色带是年末值的预测区间，从最近一个观测月线性展开到 12 月，仅为示意。",
        "序时进度 (time-elapsed baseline)：年内累计值 × 12 ÷ 已过月数，是惯用的对照，不考虑季节性"
        "（技术合同等指标年底集中登记，序时进度往往低估全年）。序时进度完成率 = 完成目标的比例 ÷ 时间过去的比例。",
    ]
    for row in evaluation.table.itertuples(index=False):
        notes.append(f"{row.name_zh}：{row.method}")
    return notes


STATUS_TEXT = {k: v[0] for k, v in STATUS.items()}


def briefing_title(evaluation: Evaluation) -> str:
    """``<plan title>：目标完成情况简报``, with ``（情景测算）`` when targets were changed."""
    title = f"{evaluation.plan.title}：目标完成情况简报"
    return f"{title}（{SCENARIO[0]}）" if evaluation.is_scenario else title


def status_display_table(evaluation: Evaluation) -> tuple[list[str], list[list[str]], list[str]]:
    """The status table as text: Chinese headers, formatted rows (units), status codes."""
    table = evaluation.table
    labelled = evaluation.labelled_table("zh")
    source_cols = [c for c in table.columns if c in SUMMARY_COLUMNS]
    header_of = dict(zip(source_cols, labelled.columns, strict=True))
    header_of["interval80"] = CHART_TEXT["band80"][0]
    headers = [header_of[c] for c in _DISPLAY_COLUMNS]
    rows = []
    for r in table.itertuples(index=False):
        unit = r.unit
        rows.append(
            [
                str(r.name_zh),
                f"{COMPARATOR.get(r.comparator, r.comparator)}{r.target:g}{'' if unit == '%' else ' '}{unit}",
                format_value(r.actual_to_date, unit),
                format_value(r.point, unit),
                f"{format_value(r.lower, unit, with_unit=False)}–{format_value(r.upper, unit)}",
                format_probability(r.p_meet),
                str(r.status_zh),
                format_probability(r.schedule_share),
                format_value(r.baseline_point, unit),
                str(r.data_through) if isinstance(r.data_through, str) and r.data_through else "—",
                "—" if pd.isna(r.history_years) else f"{int(r.history_years)}",
            ]
        )
    return headers, rows, [str(s) for s in table["status"]]


def status_notes(evaluation: Evaluation) -> list[str]:
    """Per row of the status table, the 数据提示 shown under it ("" when there is none)."""
    label = SUMMARY_COLUMNS["data_note"][0]
    notes = evaluation.table["data_note"]
    return [f"{label}：{n}" if isinstance(n, str) and n else "" for n in notes]


# ---- figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Embedded:
    stem: str
    title: str
    png: bytes


def _png_bytes(fig: Figure, dpi: int = EMBED_DPI) -> bytes:
    buf = io.BytesIO()
    with matplotlib.rc_context({"axes.unicode_minus": False}):
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


# Chart export is CPU-bound (a 300-dpi PNG, an SVG and a PDF take about a second per chart and
# size), so the charts are spread over worker processes; each worker receives the evaluation once.
_WORKER_EVALUATION: Evaluation | None = None


def _init_worker(evaluation: Evaluation) -> None:
    global _WORKER_EVALUATION
    _WORKER_EVALUATION = evaluation


def _draw_spec(
    index: int, out_dir: Path, sizes: Sequence[str], formats: Sequence[str],
    evaluation: Evaluation | None = None,
) -> tuple[list[Path], list[_Embedded]]:  # fmt: skip
    """Draw chart ``index`` of ``chart_specs`` in every size; export and keep the A4 PNG."""
    ev = evaluation if evaluation is not None else _WORKER_EVALUATION
    spec = chart_specs(ev)[index]
    written: list[Path] = []
    embedded: list[_Embedded] = []
    for size in dict.fromkeys([*sizes, "a4"]):
        fig = spec.draw(size)
        if size in sizes and formats:
            written += export_figure(fig, out_dir / FIGURES_DIR, f"{spec.stem}_{size}", formats)
        if size == "a4" and not spec.stem.startswith("watchlist_"):
            embedded.append(_Embedded(spec.stem, spec.title, _png_bytes(fig)))
    return written, embedded


def _figures(
    evaluation: Evaluation,
    out_dir: Path,
    sizes: Sequence[str],
    formats: Sequence[str],
    bar: tqdm,
    workers: int = 1,
) -> tuple[list[Path], list[_Embedded]]:
    """Export every chart and keep the A4 versions of the key ones as PNG for embedding.

    With no ``formats`` only the embedded charts are drawn (watch-list charts are exported,
    never embedded). Results are collected in chart order whatever the number of workers, so
    the outputs are identical for ``workers=1`` and ``workers=2``.
    """
    specs = chart_specs(evaluation)
    todo = [i for i, s in enumerate(specs) if formats or not s.stem.startswith("watchlist_")]
    n = len(todo)
    written: list[Path] = []
    embedded: list[_Embedded] = []
    if workers <= 1 or n < 2:
        results = (_draw_spec(i, out_dir, sizes, formats, evaluation) for i in todo)
        for w, e in results:
            written += w
            embedded += e
            bar.update(1)
        return written, embedded
    from ._workers import process_pool

    with process_pool(min(workers, n), _init_worker, (evaluation,)) as pool:
        futures = [pool.submit(_draw_spec, i, out_dir, tuple(sizes), tuple(formats)) for i in todo]
        for fut in futures:
            w, e = fut.result()
            written += w
            embedded += e
            bar.update(1)
    return written, embedded


# ---- HTML ----------------------------------------------------------------------------------

_CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;
  color:#222;max-width:1100px;margin:24px auto;padding:0 16px;line-height:1.5}
h1{font-size:26px;margin:0 0 4px} h2{font-size:20px;border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:32px}
.meta{color:#666;margin:0 0 12px}
.banner{background:#FFF4D6;border:1px solid #D98E04;color:#7A4F00;padding:10px 14px;border-radius:4px;margin:12px 0}
.banner.scenario{background:#E8F0FB;border-color:#1F4E89;color:#1F4E89;font-weight:bold}
table{border-collapse:collapse;width:100%;font-size:14px;margin:8px 0}
th,td{border:1px solid #ddd;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#E3EAF3} td.num{text-align:right;white-space:nowrap}
tr.data-note td{color:#7A4F00;background:#FFF8E6;font-size:.9em}
figure{margin:18px 0} figure img{width:100%;height:auto;border:1px solid #eee}
figcaption{color:#666;font-size:13px}
footer{color:#666;font-size:13px;margin-top:32px;border-top:1px solid #ddd;padding-top:8px}
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def render_html(
    evaluation: Evaluation, embedded: Sequence[_Embedded], run_id: str | None = None
) -> str:
    """The one-page briefing as a self-contained HTML document (every data text escaped);
    ``run_id`` (of ``run.json``) is shown in the footer."""
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
    if evaluation.is_scenario:
        parts.append(
            f'<div class="banner scenario" role="note">{_esc(evaluation.scenario_text())}</div>'
        )
    if evaluation.synthetic:
        parts.append(
            f'<div class="banner" role="note"><strong>{_esc(SYNTHETIC_LABEL)}</strong> — '
            f"{_esc(REPORT_TEXT['synthetic_banner'][0])} {_esc(REPORT_TEXT['synthetic_banner'][1])}</div>"
        )
    parts.append(f"<h2>{REPORT_TEXT['status_table'][0]}</h2>")
    parts.append(
        '<table class="status"><thead><tr>' + "".join(f"<th>{_esc(h)}</th>" for h in headers)
    )
    parts.append("</tr></thead><tbody>")
    status_col = _DISPLAY_COLUMNS.index("status_zh")
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
    parts.append(f"<h2>{REPORT_TEXT['key_charts'][0]}</h2>")
    for fig in embedded:
        data = base64.b64encode(fig.png).decode("ascii")
        parts.append(
            f'<figure id="{_esc(fig.stem)}"><img alt="{_esc(fig.title)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_esc(fig.title)}</figcaption></figure>"
        )
    if evaluation.watch_lists:
        parts.append(f"<h2>{REPORT_TEXT['watch_lists'][0]}</h2>")
        for tid, frame in evaluation.watch_lists.items():
            name = evaluation.plan[tid].name_zh if tid in {t.id for t in plan.targets} else tid
            what = WATCHLIST_TITLES.get(tid, ("关注名单", ""))[0]
            shown = watchlist_labelled(frame, WATCH_TOP_N)
            parts.append(
                f"<h3>{_esc(name)}：{_esc(what)}（前 {len(shown)} 条，共 {len(frame)} 条）</h3>"
            )
            parts.append(
                "<table><thead><tr>" + "".join(f"<th>{_esc(c)}</th>" for c in shown.columns)
            )
            parts.append("</tr></thead><tbody>")
            for r in shown.itertuples(index=False):
                parts.append("<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in r) + "</tr>")
            parts.append("</tbody></table>")
    parts.append(f"<h2>{REPORT_TEXT['method_notes'][0]}</h2><ul>")
    parts += [f"<li>{_esc(n)}</li>" for n in method_notes(evaluation)]
    parts.append("</ul>")
    parts.append(
        f"<footer>{REPORT_TEXT['data_source'][0]}：{_esc(evaluation.data_source)} · "
        f"{CHART_TEXT['as_of'][0]} {_esc(evaluation.as_of_label)}"
        + (f" · {_esc(SYNTHETIC_LABEL)}" if evaluation.synthetic else "")
        + f" · tianxin-analysis {_esc(_VERSION)}{_esc(_run_label(run_id))}</footer>"
    )
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


class _BriefingPDF(FPDF):
    def __init__(self, footer: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._footer_text = footer

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", size=7.5)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"{self._footer_text}    第 {self.page_no()} 页", align="L")


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    r, g, b = matplotlib.colors.to_rgb(hex_colour)
    return round(r * 255), round(g * 255), round(b * 255)


def render_pdf(
    evaluation: Evaluation, embedded: Sequence[_Embedded], run_id: str | None = None
) -> bytes:
    """The briefing on A4 pages; text is real text in the embedded CJK font."""
    plan = evaluation.plan
    font_path, font_index = cjk_font_file()
    footer = f"{REPORT_TEXT['data_source'][0]}：{evaluation.data_source} · {CHART_TEXT['as_of'][0]} {evaluation.as_of_label}"
    if evaluation.synthetic:
        footer += f" · {SYNTHETIC_LABEL}"
    pdf = _BriefingPDF(footer + _run_label(run_id))
    pdf.add_font("cjk", "", str(font_path), collection_font_number=font_index)
    pdf.set_title(f"{briefing_title(evaluation)} {evaluation.as_of_label}")
    pdf.set_author(plan.district_zh)
    pdf.set_creator(f"tianxin-analysis {_VERSION}")
    # A fixed date (the end of the as-of month) keeps the bytes stable between runs.
    pdf.set_creation_date((evaluation.as_of + 1).start_time.to_pydatetime().replace(tzinfo=dt.UTC))
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    pdf.set_font("cjk", size=17)
    pdf.multi_cell(
        0,
        9,
        briefing_title(evaluation),
        new_x="LMARGIN",
        new_y="NEXT",
        align="L",
        wrapmode="CHAR",
    )
    pdf.set_font("cjk", size=10)
    pdf.set_text_color(100, 100, 100)
    pdf.multi_cell(
        0, 6, f"{plan.district_zh} · {plan.document} · {CHART_TEXT['as_of'][0]} {evaluation.as_of_label}",
        new_x="LMARGIN", new_y="NEXT", align="L", wrapmode="CHAR",
    )  # fmt: skip
    pdf.set_text_color(34, 34, 34)
    if evaluation.is_scenario:
        pdf.ln(2)
        pdf.multi_cell(0, 6, evaluation.scenario_text(), border=1, new_x="LMARGIN", new_y="NEXT",
                       align="L", wrapmode="CHAR", padding=2)  # fmt: skip
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
    pdf.ln(3)
    _pdf_heading(pdf, REPORT_TEXT["status_table"][0])
    headers, rows, codes = status_display_table(evaluation)
    pdf.set_font("cjk", size=7.5)
    status_col = _DISPLAY_COLUMNS.index("status_zh")
    with pdf.table(
        col_widths=(30, 18, 17, 17, 22, 12, 14, 14, 16, 12, 8),
        headings_style=FontFace(fill_color=_rgb("#E3EAF3")),
        line_height=4.6,
        text_align=(
            "LEFT",
            "RIGHT",
            "RIGHT",
            "RIGHT",
            "RIGHT",
            "RIGHT",
            "CENTER",
            "RIGHT",
            "RIGHT",
            "RIGHT",
            "RIGHT",
        ),
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        head = table.row()
        for h in headers:
            head.cell(h)
        for row, code, note in zip(rows, codes, status_notes(evaluation), strict=True):
            colour = STATUS_COLOURS.get(code, STATUS_COLOURS["unknown"])
            r = table.row()
            for i, text in enumerate(row):
                if i == status_col:
                    r.cell(text, style=FontFace(color=_rgb(colour), fill_color=_rgb(_tint(colour))))
                else:
                    r.cell(text)
            if note:
                table.row().cell(note, colspan=len(row), align="LEFT")
    pdf.ln(3)
    # The overview chart goes under the table; two more charts per page after it.
    _pdf_heading(pdf, REPORT_TEXT["key_charts"][0])
    width = pdf.epw
    height = width * 4.5 / 7.5
    for fig in embedded:
        if pdf.get_y() + height > pdf.h - 18:
            pdf.add_page()
        pdf.image(io.BytesIO(fig.png), w=width, h=height)
        pdf.ln(3)
    if evaluation.watch_lists:
        pdf.add_page()
        _pdf_heading(pdf, REPORT_TEXT["watch_lists"][0])
        for tid, frame in evaluation.watch_lists.items():
            name = evaluation.plan[tid].name_zh if tid in {t.id for t in plan.targets} else tid
            what = WATCHLIST_TITLES.get(tid, ("关注名单", ""))[0]
            shown = watchlist_labelled(frame, WATCH_TOP_N)
            shown = shown.set_axis([_pdf_text(c) for c in shown.columns], axis=1).map(_pdf_text)
            pdf.set_font("cjk", size=10)
            pdf.multi_cell(
                0,
                6,
                f"{name}：{what}（前 {len(shown)} 条，共 {len(frame)} 条）",
                new_x="LMARGIN",
                new_y="NEXT",
            )
            pdf.set_font("cjk", size=7)
            widths = [
                max([_display_width(c)] + [_display_width(v) for v in shown[c]])
                for c in shown.columns
            ]
            with pdf.table(
                col_widths=tuple(widths),
                headings_style=FontFace(fill_color=_rgb("#E3EAF3")),
                line_height=4.2,
                borders_layout="HORIZONTAL_LINES",
            ) as table:
                head = table.row()
                for c in shown.columns:
                    head.cell(str(c))
                for values in shown.itertuples(index=False):
                    r = table.row()
                    for v in values:
                        r.cell(str(v))
            pdf.ln(4)
    _pdf_heading(pdf, REPORT_TEXT["method_notes"][0])
    pdf.set_font("cjk", size=9)
    for note in method_notes(evaluation):
        pdf.multi_cell(0, 5, f"• {note}", new_x="LMARGIN", new_y="NEXT", align="L", wrapmode="CHAR")
        pdf.ln(1)
    pdf.ln(2)
    _pdf_heading(pdf, REPORT_TEXT["data_source"][0])
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(0, 5, footer, new_x="LMARGIN", new_y="NEXT", align="L", wrapmode="CHAR")
    return bytes(pdf.output())


def _pdf_heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("cjk", size=13)
    pdf.set_text_color(31, 78, 137)
    pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT", align="L", wrapmode="CHAR")
    pdf.set_text_color(34, 34, 34)


# ---- XLSX ----------------------------------------------------------------------------------

_COUNT_UNITS = ("家", "项", "栋", "人", "名", "个")
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
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:_XLSX_CELL_CHARS]


def _pdf_text(value: object, width: float = _PDF_CELL_WIDTH) -> str:
    """A table cell's text for the PDF: control characters removed, and cut with "…" to
    ``width`` display units (a 56-character watch-list name made fpdf2 raise FPDFException:
    its column took the page and left the others no room for one character)."""
    text = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))
    if _display_width(text) <= width:
        return text
    out, used = [], 0.0
    for ch in text:
        used += _display_width(ch)
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
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, str):
        return neutralize_formula_text(_xlsx_text(value))
    return neutralize_formula_text(_xlsx_text(str(value)))


def _display_width(text: object) -> float:
    s = "" if text is None else str(text)
    return sum(2.0 if ord(ch) > 0x2E80 else 1.1 for ch in s)


def _write_sheet(ws, frame: pd.DataFrame) -> None:
    ws.append([_cell_value(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        ws.append([_cell_value(v) for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E3EAF3")
        cell.alignment = Alignment(vertical="center", wrap_text=False)
    ws.freeze_panes = "A2"
    for i, col in enumerate(frame.columns, start=1):
        widest = max([_display_width(col)] + [_display_width(v) for v in frame[col].head(200)])
        ws.column_dimensions[get_column_letter(i)].width = min(max(8.0, widest + 2.0), 60.0)
    if len(frame):
        ws.auto_filter.ref = ws.dimensions


def render_xlsx(evaluation: Evaluation, run_id: str | None = None) -> bytes:
    """Status table, watch lists and notes as an xlsx workbook with stable bytes."""
    wb = Workbook()
    ws = wb.active
    ws.title = REPORT_TEXT["status_sheet"][0]
    labelled = evaluation.labelled_table("zh")
    source_cols = [c for c in evaluation.table.columns if c in SUMMARY_COLUMNS]
    _write_sheet(ws, labelled)
    fmt_of = {}
    for c in source_cols:
        if c in ("p_meet", "schedule_share"):
            fmt_of[c] = "0%"
        elif c == "required_run_rate":
            fmt_of[c] = "0.00"
    units = evaluation.table["unit"].tolist()
    statuses = evaluation.table["status"].tolist()
    for j, c in enumerate(source_cols, start=1):
        for i in range(len(evaluation.table)):
            cell = ws.cell(row=i + 2, column=j)
            if c in _VALUE_COLUMNS:
                unit = units[i]
                cell.number_format = (
                    "#,##0" if unit in _COUNT_UNITS else ("0.00" if unit == "%" else "#,##0.0")
                )
            elif c in fmt_of:
                cell.number_format = fmt_of[c]
            elif c in ("status_zh", "status_en"):
                colour = STATUS_COLOURS.get(statuses[i], STATUS_COLOURS["unknown"])
                cell.fill = PatternFill("solid", fgColor=_tint(colour).lstrip("#"))
                cell.font = Font(color=colour.lstrip("#"), bold=True)
    # Watch lists: one long table, the target named in the first column (filterable).
    ws_watch = wb.create_sheet(REPORT_TEXT["watch_lists"][0])
    frames = []
    for tid, frame in evaluation.watch_lists.items():
        name = (
            evaluation.plan[tid].name_zh if tid in {t.id for t in evaluation.plan.targets} else tid
        )
        shown = watchlist_labelled(frame)
        frames.append(
            shown.assign(**{SUMMARY_COLUMNS["name_zh"][0]: name})[
                [SUMMARY_COLUMNS["name_zh"][0], *shown.columns]
            ]
        )
    watch = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"关注名单": []})
    _write_sheet(ws_watch, watch.astype(object).where(watch.notna(), None))
    # Notes: what the data is, where it came from, as of when, how the numbers were made.
    ws_notes = wb.create_sheet(REPORT_TEXT["notes_sheet"][0])
    notes = [
        ("项目 item", "说明 note"),
        ("简报 briefing", f"{briefing_title(evaluation)}（{evaluation.plan.document}）"),
        *([("情景 scenario", evaluation.scenario_text())] if evaluation.is_scenario else []),
        ("地区 district", f"{evaluation.plan.district_zh} {evaluation.plan.district_en}"),
        ("数据截至 as of", evaluation.as_of_label),
        (
            "数据性质 data",
            f"{SYNTHETIC_LABEL}：{REPORT_TEXT['synthetic_banner'][0]}"
            if evaluation.synthetic
            else "业务系统实际数据 real exports",
        ),
        ("数据来源 source", evaluation.data_source),
        ("生成工具 produced by", f"tianxin-analysis {_VERSION}{_run_label(run_id)}"),
    ]
    notes += [("方法 method", n) for n in method_notes(evaluation)]
    for row in notes:
        ws_notes.append([_cell_value(v) for v in row])
    ws_notes["A1"].font = Font(bold=True)
    ws_notes["B1"].font = Font(bold=True)
    ws_notes.freeze_panes = "A2"
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


def _run_label(run_id: str | None) -> str:
    """Footer text naming the run (its ``run.json``); empty outside a published run."""
    return f" · {REPORT_TEXT['run_id'][0]} {REPORT_TEXT['run_id'][1]} {run_id}" if run_id else ""


# What ``build_briefing(only=...)`` / ``tianxin report --only`` can write. ``figures`` is the
# exported chart files; the documents embed their own A4 charts whatever is chosen.
BRIEFING_OUTPUTS = ("html", "pdf", "xlsx", "docx", "figures")


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


def build_briefing(
    evaluation: Evaluation,
    out_dir: str | Path,
    progress: bool = True,
    *,
    only: str | Collection[str] | None = None,
    figure_sizes: Sequence[str] = ("slide", "a4"),
    figure_formats: Sequence[str] = FORMATS,
    workers: int | None = None,
    run_id: str | None = None,
) -> list[Path]:
    """Write the briefing pack into ``out_dir`` and return the paths written.

    ``only`` chooses a subset of :data:`BRIEFING_OUTPUTS` (``"html,xlsx"`` or a list; default
    all) for a fast refresh; other files already in ``out_dir`` are left as they are.
    ``figure_sizes`` / ``figure_formats`` choose which exports go to ``out_dir/figures``
    (default: every chart, both sizes, PNG/SVG/PDF); HTML and PDF always embed A4 charts.
    ``workers`` processes draw the charts (default: the machine's cores, at most 4).
    ``run_id``: the id of the published set (``publish.Stage.run_id``), shown in the footers.
    Raises :class:`~tianxin_analysis.charts.ChartFontError` when no CJK font is installed and
    :class:`TianxinError` for an unknown output name.
    """
    import os

    chosen = briefing_outputs(only)
    if only is None:  # everything this version writes
        chosen = tuple(n for n in chosen if n in _WRITERS or n == "figures")
    if "docx" in chosen and "docx" not in _WRITERS:
        raise TianxinError(
            "本版本尚不能生成 Word 简报 (this version cannot write briefing.docx)；"
            f"可用 available: {', '.join(n for n in BRIEFING_OUTPUTS if n != 'docx')}"
        )
    documents = [n for n in chosen if n in _WRITERS]
    if "figures" not in chosen:
        figure_sizes, figure_formats = (), ()
    out_dir = Path(out_dir)
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    cjk_font_family()  # fail before writing anything when Chinese text cannot render
    # Charts are drawn when a document embeds them or figures are exported (xlsx alone: none).
    specs = chart_specs(evaluation)
    embeds = any(n in ("html", "pdf", "docx") for n in documents)
    n_draws = 0
    if figure_formats:
        n_draws = len(specs)
    elif embeds:  # the watch-list charts are exported, never embedded
        n_draws = sum(not s.stem.startswith("watchlist_") for s in specs)
    with tqdm(
        total=n_draws + len(documents), desc="简报 briefing", unit="步", disable=not progress,
        leave=False,
    ) as bar:  # fmt: skip
        written, embedded = [], []
        if n_draws:
            written, embedded = _figures(
                evaluation, out_dir, figure_sizes, figure_formats, bar, workers=workers
            )
        pack = []
        for name in documents:
            file_name, render = _WRITERS[name]
            bar.set_postfix_str(file_name)
            atomic_write_bytes(out_dir / file_name, render(evaluation, embedded, run_id))
            pack.append(out_dir / file_name)
            bar.update(1)
    if progress:
        print(summary_text(pack, written))
    return pack + written


# Output name -> (file name, renderer) of each document, in pack order. A new format is one
# renderer and one line here (and its name in BRIEFING_OUTPUTS).
# Each renderer takes the evaluation, the embedded charts and the run id (None outside a run).
_WRITERS: dict[
    str, tuple[str, Callable[[Evaluation, Sequence[_Embedded], str | None], bytes]]
] = {
    "html": (HTML_NAME, lambda ev, emb, run_id: render_html(ev, emb, run_id).encode("utf-8")),
    "pdf": (PDF_NAME, render_pdf),
    "xlsx": (XLSX_NAME, lambda ev, emb, run_id: render_xlsx(ev, run_id)),
}


def summary_text(pack: Sequence[Path], figures: Sequence[Path]) -> str:
    """Short summary of what was written: the three documents and the figure folder."""
    lines = ["简报已生成 briefing pack written:"]
    if not pack and not figures:
        lines.append("  （无文件 nothing written）")
    for p in pack:
        lines.append(f"  {p.name:<22} {p.stat().st_size / 1024:>8.0f} KB")
    if figures:
        total = sum(p.stat().st_size for p in figures)
        lines.append(f"  {FIGURES_DIR + '/':<22} {total / 1024:>8.0f} KB in {len(figures)} files")
    return "\n".join(lines)


__all__ = [
    "BRIEFING_OUTPUTS",
    "ChartFontError",
    "briefing_outputs",
    "briefing_title",
    "build_briefing",
    "cjk_font_file",
    "method_notes",
    "render_html",
    "render_pdf",
    "render_xlsx",
    "status_display_table",
    "status_notes",
    "summary_text",
]
