"""Every exported figure, measured as drawn: no two text boxes overlap, no text leaves the
canvas (matplotlib's renderer gives each text's extent)."""

from __future__ import annotations

import pytest
from helpers_evaluation import make_evaluation
from layout_check import drawn_text_boxes, layout_problems
from matplotlib.figure import Figure

from tianxin_analysis import charts
from tianxin_analysis.fonts import find_cjk_font

pytestmark = pytest.mark.skipif(
    find_cjk_font() is None, reason="no CJK font installed (make fonts)"
)

EVALUATION = make_evaluation(synthetic=True) if find_cjk_font() else None
SPECS = charts.chart_specs(EVALUATION) if EVALUATION is not None else []


@pytest.mark.slow
@pytest.mark.parametrize("size", sorted(charts.SIZES))
@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_exported_figure_has_no_text_collisions(spec, size):
    fig = spec.draw(size)
    assert len(drawn_text_boxes(fig)) >= 3  # title, footer and at least one label were measured
    assert layout_problems(fig) == []


def test_the_check_finds_overlaps_and_text_off_the_canvas():
    with charts.house_style("a4"):
        fig = Figure(figsize=(4, 3))
        fig.text(0.5, 0.5, "重叠的文字")
        fig.text(0.52, 0.5, "重叠的文字")
        fig.text(0.98, 0.1, "伸出画布的文字")
        problems = layout_problems(fig)
    assert any(p.startswith("overlap") for p in problems)
    assert any(p.startswith("outside the canvas") for p in problems)


def test_pdf_status_table_cells_do_not_wrap():
    """Every cell of the PDF status table after the name column is drawn on one line: the
    published R&D cell ``2.81%（2023年已公布）`` wrapped its last character onto a second line,
    status words broke as 难以完 / 成 (issue 18). A cell that wraps is not found whole in the
    page's text; names may wrap (their column gives way first)."""
    import dataclasses
    import io

    from pypdf import PdfReader

    from tianxin_analysis import narrative, report

    res = EVALUATION.results["rd_intensity_2023"]
    published = dataclasses.replace(res, details={**res.details, "complete": True})
    ev = dataclasses.replace(EVALUATION, results={**EVALUATION.results, "rd_intensity_2023": published})
    headers, rows, _ = narrative.status_display_table(ev)
    assert any("（2023年已公布）" in c for r in rows for c in r)
    page = PdfReader(io.BytesIO(report.render_pdf(ev, []))).pages[0].extract_text()
    wrapped = [cell for r in rows for cell in r[1:] if cell not in page]
    assert wrapped == []
