"""Text boxes of a drawn figure, as the renderer places them: overlaps and text off the canvas.

Every text matplotlib draws passes through ``RendererAgg.draw_text``; recording the artists
drawn there (rather than every Text object a figure holds) leaves out tick labels outside the
view limits and empty strings, which are never drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox


@dataclass(frozen=True)
class TextBox:
    text: str
    bbox: Bbox


def drawn_text_boxes(fig: Figure, dpi: float = 100.0) -> list[TextBox]:
    """Every non-empty text drawn when ``fig`` is rendered, with its extent in pixels."""
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    drawn: list[Text] = []
    original = renderer.draw_text

    def recording(gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if mtext is not None and s.strip():
            drawn.append(mtext)
        return original(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    renderer.draw_text = recording
    try:
        fig.draw(renderer)
    finally:
        renderer.draw_text = original
    seen: dict[int, TextBox] = {}
    for t in drawn:
        seen.setdefault(id(t), TextBox(t.get_text(), t.get_window_extent(renderer)))
    return list(seen.values())


def layout_problems(fig: Figure, tolerance_px: float = 1.0) -> list[str]:
    """Pairs of overlapping text boxes and boxes reaching outside the canvas (empty if none)."""
    boxes = drawn_text_boxes(fig)
    width, height = fig.bbox.width, fig.bbox.height
    problems = []
    for b in boxes:
        e = b.bbox
        if e.x0 < -tolerance_px or e.y0 < -tolerance_px or e.x1 > width + tolerance_px or (
            e.y1 > height + tolerance_px
        ):
            problems.append(f"outside the canvas: {b.text!r} {e.bounds}")
    shrunk = [b.bbox.expanded(1.0, 1.0).padded(-tolerance_px) for b in boxes]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if shrunk[i].overlaps(shrunk[j]):
                problems.append(f"overlap: {boxes[i].text!r} and {boxes[j].text!r}")
    return problems
