"""The briefing of the bundled sample as the office receives it: the PDF's pages (two charts to
a page, no half-empty pages, no orphaned last lines) and the Word document opened by
LibreOffice (headless), its first page rendered to PNG and read back."""

from __future__ import annotations

import shutil
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest
from pypdf import PdfReader

from tianxin_analysis import report
from tianxin_analysis.fonts import find_cjk_font
from tianxin_analysis.forecast import evaluate_targets
from tianxin_analysis.labels import SYNTHETIC_LABEL
from tianxin_analysis.targets import load_targets

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_cjk_font() is None, reason="no CJK font installed (make fonts)"),
]
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOPPM = shutil.which("pdftoppm")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    processed = root / "processed"
    res = subprocess.run([sys.executable, "-m", "tianxin_analysis.cli", "--quiet", "clean",
                          "--out", str(processed)], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert res.returncode == 0, res.stderr
    ev = evaluate_targets(load_targets(2024), processed, "2024-09", seed=2024)
    out = root / "reports"
    report.build_briefing(ev, out, progress=False, outputs=("pdf", "docx"), workers=2)
    return ev, out


def _page_fill(png) -> float:
    """How far down the page its content reaches (0..1), the footer band left out."""
    grey = matplotlib.image.imread(png)[..., :3].mean(axis=2)
    body = grey[: int(grey.shape[0] * 0.93)]
    rows = np.flatnonzero((body < 0.8).any(axis=1))
    return float(rows.max() / grey.shape[0]) if len(rows) else 0.0


def test_pdf_packs_two_charts_a_page_without_orphans(sample, tmp_path):
    ev, out = sample
    reader = PdfReader(out / "briefing.pdf")
    images = [len(p.images) for p in reader.pages]
    n_charts = sum(not s.stem.startswith("watchlist_") for s in report.chart_specs(ev))
    assert sum(images) == n_charts
    chart_pages = [n for n in images if n]
    assert all(n == 2 for n in chart_pages[:-1]), images
    assert len(reader.pages) <= 1 + (n_charts + 1) // 2 + 4, images
    # the last page carries the appendix's end, not one stray line
    assert len(reader.pages[-1].extract_text().splitlines()) >= 5
    if PDFTOPPM is None:
        pytest.skip("pdftoppm not installed (make office): page fill not measured")
    subprocess.run([PDFTOPPM, "-r", "30", "-png", str(out / "briefing.pdf"), str(tmp_path / "p")],
                   check=True, timeout=120)  # fmt: skip
    fills = [_page_fill(p) for p in sorted(tmp_path.glob("p-*.png"))]
    assert len(fills) == len(reader.pages)
    # every page but the appendix's is at least 55% full; chart pages about 80%
    assert min(fills[:-1]) >= 0.55, [round(f, 2) for f in fills]
    assert all(f >= 0.75 for f, n in zip(fills, images, strict=True) if n == 2)


@pytest.mark.skipif(SOFFICE is None or PDFTOPPM is None,
                    reason="LibreOffice or poppler not installed (make office)")  # fmt: skip
def test_docx_opens_in_libreoffice_with_text_and_the_status_table(sample, tmp_path):
    ev, out = sample
    cmd = [SOFFICE, "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
           "--convert-to", "pdf", "--outdir", str(tmp_path), str(out / "briefing.docx")]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    pdf = tmp_path / "briefing.pdf"
    assert pdf.is_file()
    first = "".join(PdfReader(pdf).pages[0].extract_text().split())
    assert "目标完成情况简报" in first and "目标状态一览" in first
    assert SYNTHETIC_LABEL.replace(" ", "") in first
    for name in ev.table["name_zh"]:  # in the table's first column (wrapped: first characters)
        assert name[:4] in first, name
    subprocess.run([PDFTOPPM, "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "d")],
                   check=True, timeout=120)  # fmt: skip
    (png,) = tmp_path.glob("d-*.png")
    grey = matplotlib.image.imread(png)[..., :3].mean(axis=2)
    assert grey.std() > 0.05  # not blank
    # the table: many long dark horizontal rules (the grid of a real Word table)
    rules = ((grey < 0.5).mean(axis=1) > 0.5).sum()
    assert rules >= len(ev.table) + 1, rules
    # the status colours fill their cells (the amber tint of 存在风险)
    tint = np.array([int(report._tint("#D98E04")[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    assert (np.abs(matplotlib.image.imread(png)[..., :3] - tint).sum(axis=2) < 0.06).any()
