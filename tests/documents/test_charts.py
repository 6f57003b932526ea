"""Report charts: valid PNGs, drawn with the shipped CJK font (no missing glyphs, no tofu)."""

from __future__ import annotations

import io
import warnings
from datetime import date

import numpy as np
from matplotlib import font_manager
from PIL import Image

from documents.charts import (
    FONT_FILE,
    FONT_NAME,
    categories_chart,
    cjk_font,
    states_chart,
    weekly_chart,
)
from governance.activity import DormancyState

WEEKS = [date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)]


def _png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.verify()
    return Image.open(io.BytesIO(data))


def test_the_shipped_font_is_the_one_matplotlib_uses() -> None:
    assert FONT_FILE.stat().st_size < 2_000_000
    prop = cjk_font()
    assert prop.get_family()[0] == FONT_NAME
    assert font_manager.findfont(prop, fallback_to_default=False) == str(FONT_FILE)
    cjk_font()  # registering twice adds nothing
    assert sum(f.fname == str(FONT_FILE) for f in font_manager.fontManager.ttflist) == 1


def test_charts_are_pngs_with_every_chinese_glyph_present() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would fail here
        weekly = weekly_chart(
            {f"第{i}街道办事处": [(w, i + n) for n, w in enumerate(WEEKS)] for i in range(10)}
        )
        states = states_chart({DormancyState.ACTIVE: 5, DormancyState.DORMANT: 2})
        categories = categories_chart({"typo": 3, "gambling": 1})
    for data in (weekly, states, categories):
        image = _png(data)
        assert image.width > 400 and image.height > 200
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 20  # drawn, not blank


def test_chinese_text_is_drawn_with_glyphs_not_boxes() -> None:
    """A missing glyph renders as the same empty box for every character; real glyphs differ."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def render(text: str, family: str) -> np.ndarray:
        figure = Figure(figsize=(1, 1), dpi=100)
        FigureCanvasAgg(figure)
        prop = font_manager.FontProperties(family=[family], size=40)
        figure.text(0.1, 0.2, text, fontproperties=prop)
        figure.canvas.draw()
        return np.asarray(figure.canvas.buffer_rgba())[:, :, 0] < 128  # type: ignore[attr-defined]

    cjk_font()
    zombie, corpse = render("僵", FONT_NAME), render("尸", FONT_NAME)
    assert zombie.sum() > 100 and (zombie != corpse).any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DejaVu Sans has no CJK glyphs: it draws boxes
        assert (render("僵", "DejaVu Sans") == render("尸", "DejaVu Sans")).all()
