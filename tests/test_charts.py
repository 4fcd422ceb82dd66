"""Charts as a user sees them: Chinese glyphs render, footers say what the data is, exports are
stable files."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from helpers_evaluation import make_evaluation
from matplotlib import font_manager
from pypdf import PdfReader

from tianxin_analysis import charts
from tianxin_analysis.fonts import find_cjk_font
from tianxin_analysis.labels import SYNTHETIC_LABEL

pytestmark = pytest.mark.skipif(
    find_cjk_font() is None, reason="no CJK font installed (make fonts)"
)


@pytest.fixture(scope="module")
def evaluation():
    return make_evaluation(synthetic=True)


@pytest.fixture(scope="module")
def real_evaluation():
    return make_evaluation(synthetic=False)


def _footer(fig) -> str:
    (footer,) = [t for t in fig.texts if t.get_gid() == "footer"]
    return footer.get_text()


def _render_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    return buf.getvalue()


def test_footer_names_source_as_of_and_synthetic(evaluation):
    fig = charts.fan_chart(evaluation, "tech_contracts_value", size="a4")
    footer = _footer(fig)
    assert SYNTHETIC_LABEL in footer
    assert "数据截至 2024年9月" in footer
    assert evaluation.data_source in footer


def test_footer_has_no_synthetic_label_for_real_data(real_evaluation):
    fig = charts.bullet_chart(real_evaluation, size="slide")
    footer = _footer(fig)
    assert SYNTHETIC_LABEL not in footer
    assert "模拟" not in footer
    assert "数据截至 2024年9月" in footer


def test_every_chart_renders_with_the_cjk_font(evaluation):
    size = "slide"  # the a4 size is rendered by test_export_all_charts_names_every_chart
    cjk_file = font_manager.findfont(font_manager.FontProperties(family=find_cjk_font()))
    specs = charts.chart_specs(evaluation)
    assert {s.stem.split("_")[0] for s in specs} == {
        "overview",
        "fan",
        "path",
        "pipeline",
        "watchlist",
    }
    for spec in specs:
        fig = spec.draw(size)
        # A missing glyph warns (pytest makes that an error) while rendering.
        png = _render_png(fig)
        assert png.startswith(b"\x89PNG")
        assert fig.get_size_inches()[0] == pytest.approx(charts.SIZES[size].width)
        (title,) = [t for t in fig.texts if t.get_gid() == "title"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in title.get_text())
        with charts.house_style(size):
            assert font_manager.findfont(title.get_fontproperties()) == cjk_file


def test_house_style_does_not_leak_into_global_state(evaluation):
    before = dict(matplotlib.rcParams)
    charts.path_chart(evaluation, "tech_contracts_count", size="a4")
    after = dict(matplotlib.rcParams)
    assert before == after
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []


def test_bullet_chart_colours_follow_status(evaluation):
    fig = charts.bullet_chart(evaluation, size="a4")
    colours = {matplotlib.colors.to_hex(t.get_color()).upper() for ax in fig.axes for t in ax.texts}
    statuses = set(evaluation.table["status"])
    assert colours == {charts.STATUS_COLOURS[s].upper() for s in statuses}
    names = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert sorted(names) == sorted(evaluation.table["name_zh"])


def test_fan_chart_bands_come_from_result_quantiles(evaluation):
    res = evaluation.results["tech_contracts_value"]
    bands = charts._bands(res)
    assert bands[80] == pytest.approx((res.quantile(0.1), res.quantile(0.9)))
    assert bands[95][0] < bands[80][0] < bands[50][0] < bands[50][1] < bands[80][1] < bands[95][1]
    # Without draws or quantiles the 80/95% fields are used and the 50% band is left out.
    bare = dataclasses.replace(res, draws=None, quantiles=())
    assert charts._bands(bare) == {95: (res.lower95, res.upper95), 80: (res.lower, res.upper)}
    fig = charts.fan_chart(dataclasses.replace(evaluation, results={**evaluation.results, "tech_contracts_value": bare}),
                           "tech_contracts_value", size="a4")  # fmt: skip
    _render_png(fig)


def test_pipeline_chart_shows_achieved_expected_and_gap(evaluation):
    from tianxin_analysis import narrative

    fig = charts.pipeline_chart(evaluation, "innovation_platforms", size="a4")
    ax = fig.axes[0]
    tally = narrative.pipeline_tally(evaluation, "innovation_platforms")
    widths = [round(p.get_width(), 6) for p in ax.patches]
    assert widths[: 1 + (tally.expected > 0)] == [tally.achieved, tally.expected][: 1 + (tally.expected > 0)]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"已认定 {tally.achieved} 家" in legend and "目标 ≥10 家" in legend
    assert not [t for t in _texts(fig) if "k (" in t or "不少于" in t]  # no P(>=k) bars


def test_charts_speak_plain_chinese(evaluation):
    """No model names (English) on any chart; the ratio of a past year says which year."""
    for spec in charts.chart_specs(evaluation):
        fig = spec.draw("a4")
        for text in _texts(fig):
            res_methods = {r.method for r in evaluation.results.values()}
            assert not any(m in text for m in res_methods), (spec.stem, text)
    rd = charts.fan_chart(evaluation, "rd_intensity_2023", size="a4")
    (title,) = [t for t in rd.texts if t.get_gid() == "title"]
    assert "2023年" in title.get_text()


def test_charts_show_the_status_tables_number(evaluation):
    point = float(evaluation.table.set_index("target_id").loc["tech_contracts_count", "point"])
    label = charts.format_value(point, "项")
    for draw in (charts.fan_chart, charts.path_chart):
        fig = draw(evaluation, "tech_contracts_count", size="a4")
        assert any(label in t for t in _texts(fig)), draw.__name__


def test_percent_axes_have_percent_ticks(evaluation):
    fig = charts.path_chart(evaluation, "hitech_va_growth", size="a4")
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    assert ticks and all(t.endswith("%") for t in ticks)
    overview = charts.bullet_chart(evaluation, size="a4")
    assert overview.axes[-1].get_xlabel() == "与目标之差（百分点）"
    assert [t.get_text() for t in overview.axes[-1].get_yticklabels()] == ["高新技术产业增加值增速", "全社会研发经费投入强度"]


def test_path_chart_needs_a_path(evaluation):
    with pytest.raises(ValueError, match="rd_intensity_2023"):
        charts.path_chart(evaluation, "rd_intensity_2023")


def test_watch_list_text_is_not_parsed_as_mathtext(evaluation):
    frame = evaluation.watch_lists["tech_smes"].assign(
        enterprise_name=["$x^2$ 公司", "a$b", "长沙$"]
    )
    ev = dataclasses.replace(evaluation, watch_lists={"tech_smes": frame})
    fig = charts.watchlist_chart(ev, "tech_smes", size="a4")
    _render_png(fig)
    texts = [t.get_text() for t in fig.axes[0].tables[0].get_celld()[(1, 1)].get_text().findobj()]
    assert texts == [r"\$x^2\$ 公司"]


def test_missing_cjk_font_is_a_clear_error(monkeypatch, evaluation):
    monkeypatch.setattr(charts, "find_cjk_font", lambda: None)
    with pytest.raises(charts.ChartFontError, match="未找到中文字体"):
        charts.bullet_chart(evaluation)


def test_format_value():
    assert charts.format_value(4390.4, "项") == "4,390 项"
    assert charts.format_value(151.94, "亿元") == "151.9 亿元"
    assert charts.format_value(145.0, "亿元") == "145 亿元"
    assert charts.format_value(2.769, "%") == "2.77%"
    assert charts.format_value(10.81, "%") == "10.8%"
    assert charts.format_value(float("nan"), "家") == "—"
    assert charts.format_value(None) == "—"


def test_export_figure_writes_three_formats_with_stable_bytes(evaluation, tmp_path):
    fig = charts.fan_chart(evaluation, "tech_contracts_value", size="a4")
    first = charts.export_figure(fig, tmp_path / "a", "fan_tech_contracts_value_a4")
    assert [p.name for p in first] == [
        f"fan_tech_contracts_value_a4.{x}" for x in ("png", "svg", "pdf")
    ]
    fig2 = charts.fan_chart(evaluation, "tech_contracts_value", size="a4")
    second = charts.export_figure(fig2, tmp_path / "b", "fan_tech_contracts_value_a4")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    # 300 dpi PNG of a 7.5 in wide figure.
    png = matplotlib.image.imread(first[0])
    assert png.shape[1] == round(charts.SIZES["a4"].width * charts.PNG_DPI)
    assert not list((tmp_path / "a").glob(".*.tmp"))
    # The PDF embeds the CJK font as Type 3 glyphs with a Unicode map (the text is extractable;
    # a TrueType embedding cost ~1 s of fontTools subsetting per file), and no creation date.
    reader = PdfReader(first[2])
    fonts = [f.get_object() for f in reader.pages[0]["/Resources"]["/Font"].values()]
    cjk = [f for f in fonts if "WenQuanYi" in str(f["/BaseFont"])]
    assert cjk and all(f["/Subtype"] == "/Type3" and "/ToUnicode" in f for f in cjk)
    text = reader.pages[0].extract_text()
    assert "年末预测" in text, text[:200]
    assert "/CreationDate" not in (reader.metadata or {})
    assert b"<dc:date>" not in first[1].read_bytes()


def test_export_all_charts_names_every_chart(evaluation, tmp_path):
    written = charts.export_all_charts(evaluation, tmp_path, sizes=("a4",), formats=("svg",))
    names = {p.name for p in written}
    assert len(names) == len(written) == len(charts.chart_specs(evaluation))
    assert {
        "overview_bullet_a4.svg",
        "fan_tech_contracts_value_a4.svg",
        "path_tech_contracts_value_a4.svg",
        "pipeline_innovation_platforms_a4.svg",
        "watchlist_hitech_enterprises_a4.svg",
    } <= names
    assert all(Path(p).stat().st_size > 1000 for p in written)


def test_charts_accept_a_target_missing_from_paths(evaluation):
    ev = dataclasses.replace(evaluation, paths={}, watch_lists={})
    stems = [s.stem for s in charts.chart_specs(ev)]
    assert not any(s.startswith(("path_", "watchlist_")) for s in stems)
    _render_png(charts.fan_chart(ev, "tech_contracts_count", size="a4"))
    assert isinstance(ev.table, pd.DataFrame)


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text)]


@pytest.mark.parametrize("synthetic", [True, False])
def test_series_chart_footer_and_lines(synthetic):
    frame = pd.DataFrame(
        {"全国": [2.1, 2.2, 2.4], "湖南": [1.8, 2.0, 2.2]}, index=[2020, 2021, 2022]
    )
    fig = charts.series_chart(
        frame, title="研发投入强度", ylabel="%", source="中国科技统计年鉴", synthetic=synthetic,
        highlight=pd.Series([2.5, 2.6], index=[2021, 2022]), highlight_label="本区", size="a4",
    )  # fmt: skip
    ax = fig.axes[0]
    assert len(ax.lines) == 3
    assert ax.lines[2].get_ydata().tolist() == [2.5, 2.6]
    footer = [t for t in _texts(fig) if t.startswith("数据来源")]
    assert footer and ("中国科技统计年鉴" in footer[0])
    assert (SYNTHETIC_LABEL in footer[0]) is synthetic


def test_grouped_bar_chart_one_bar_per_cell():
    frame = pd.DataFrame({"模型": [0.05, 0.02], "序时进度": [0.18, 0.10]}, index=["3月", "9月"])
    fig = charts.grouped_bar_chart(
        frame, title="MAPE", ylabel="MAPE", source="回测", synthetic=False, reference=0.1,
        reference_label="参考", value_format="{:.0%}", size="a4",
    )  # fmt: skip
    ax = fig.axes[0]
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert heights == [0.02, 0.05, 0.1, 0.18]
    assert "18%" in _texts(fig)


def test_exported_charts_are_laid_out_once(evaluation):
    """A chart of ``chart_specs`` keeps the layout its builder computed: saving it (PNG, SVG,
    PDF at any dpi) does not lay it out again, so every format shows the same positions and
    the layout test measures the figure as saved."""
    import io

    spec = next(s for s in charts.chart_specs(evaluation) if s.stem.startswith("path_"))
    fig = spec.draw("a4")
    assert fig.get_layout_engine() is None
    before = [ax.get_position().bounds for ax in fig.axes]
    for fmt in ("png", "svg"):
        fig.savefig(io.BytesIO(), format=fmt, dpi=150)
    assert [ax.get_position().bounds for ax in fig.axes] == before
    built = charts.path_chart(evaluation, spec.stem.removeprefix("path_"), size="a4")
    assert [ax.get_position().bounds for ax in built.axes] == before  # the builder's layout
