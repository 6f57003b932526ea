"""Report charts as PNG: posts per week per unit, accounts by state, findings by category.

Rendered with matplotlib's Agg canvas on plain ``Figure`` objects (no pyplot: no global figure
registry, safe to run in a worker thread). Chinese labels need a CJK font, and servers rarely
have one, so the project ships its own: WenQuanYi Micro Hei cut down to GB 2312 plus ASCII and
CJK punctuation (``documents/fonts/``, Apache-2.0), renamed so matplotlib always finds this file and
not a system copy. Rarer characters fall back to DejaVu Sans.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from governance.activity import DormancyState
from governance.i18n import N_
from governance.reporting import Report
from governance.vocabulary import ACTIVITY_LABELS, CONTENT_CATEGORIES, category_label

Translate = Callable[[str], str]
FONT_FILE = Path(__file__).parent / "fonts" / "wqy-microhei-gb2312.ttf"
FONT_NAME = "WenQuanYi Micro Hei GB2312"  # renamed: a system copy of the full font never wins
MAX_UNITS = 8
STATE_COLOURS = {
    DormancyState.ACTIVE: "#4caf50",
    DormancyState.WARNING: "#ffb300",
    DormancyState.DORMANT: "#e53935",
    DormancyState.CLOSURE_CANDIDATE: "#6d1b1b",
    DormancyState.UNKNOWN: "#9e9e9e",
}
TITLE_WEEKLY = N_("各单位每周发布数")
TITLE_STATES = N_("账号更新状态")
TITLE_CATEGORIES = N_("问题类别分布")
OTHER_UNITS = N_("其他单位")


def cjk_font() -> font_manager.FontProperties:
    """The shipped CJK font, registered once with matplotlib (idempotent), DejaVu behind it."""
    if not any(f.fname == str(FONT_FILE) for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(FONT_FILE))
    return font_manager.FontProperties(family=[FONT_NAME, "DejaVu Sans"], size=10)


def _identity(text: str) -> str:
    return text


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def _figure(title: str, font: font_manager.FontProperties) -> tuple[Figure, object]:
    figure = Figure(figsize=(8, 4.5))
    axes = figure.add_subplot()
    axes.set_title(title, fontproperties=font, fontsize=13)
    axes.spines[["top", "right"]].set_visible(False)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return figure, axes


def _label_ticks(axes: object, font: font_manager.FontProperties) -> None:
    for label in [*axes.get_xticklabels(), *axes.get_yticklabels()]:  # type: ignore[attr-defined]
        label.set_fontproperties(font)


def weekly_chart(
    weekly: Mapping[str, Sequence[tuple[date, int]]], *, tr: Translate = _identity
) -> bytes:
    """One line per unit (the busiest few; the rest summed as "other units")."""
    font = cjk_font()
    figure, axes = _figure(tr(TITLE_WEEKLY), font)
    ranked = sorted(weekly.items(), key=lambda kv: (-sum(n for _w, n in kv[1]), kv[0]))
    shown, rest = ranked[:MAX_UNITS], ranked[MAX_UNITS:]
    if rest:
        weeks = [w for w, _n in rest[0][1]]
        summed = [sum(series[i][1] for _u, series in rest) for i in range(len(weeks))]
        shown.append((tr(OTHER_UNITS), list(zip(weeks, summed, strict=True))))
    for unit, series in shown:
        axes.plot(  # type: ignore[attr-defined]
            [w.strftime("%m-%d") for w, _n in series],
            [n for _w, n in series],
            marker="o",
            label=unit,
        )
    axes.set_ylabel(tr(N_("发布数")), fontproperties=font)  # type: ignore[attr-defined]
    axes.set_xlabel(tr(N_("周（起始日）")), fontproperties=font)  # type: ignore[attr-defined]
    if shown:
        axes.legend(prop=font, fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))  # type: ignore[attr-defined]
    _label_ticks(axes, font)
    return _png(figure)


def states_chart(states: Mapping[DormancyState, int], *, tr: Translate = _identity) -> bytes:
    font = cjk_font()
    figure, axes = _figure(tr(TITLE_STATES), font)
    order = list(ACTIVITY_LABELS)
    labels = [tr(ACTIVITY_LABELS[s]) for s in order]
    values = [states.get(s, 0) for s in order]
    bars = axes.barh(labels, values, color=[STATE_COLOURS[s] for s in order])  # type: ignore[attr-defined]
    axes.bar_label(bars, fontproperties=font)  # type: ignore[attr-defined]
    axes.invert_yaxis()  # type: ignore[attr-defined]
    axes.set_xlabel(tr(N_("账号数")), fontproperties=font)  # type: ignore[attr-defined]
    _label_ticks(axes, font)
    return _png(figure)


def categories_chart(categories: Mapping[str, int], *, tr: Translate = _identity) -> bytes:
    font = cjk_font()
    figure, axes = _figure(tr(TITLE_CATEGORIES), font)
    labels = [category_label(c, tr) for c in CONTENT_CATEGORIES]
    values = [categories.get(c, 0) for c in CONTENT_CATEGORIES]
    bars = axes.barh(labels, values, color="#1e88e5")  # type: ignore[attr-defined]
    axes.bar_label(bars, fontproperties=font)  # type: ignore[attr-defined]
    axes.invert_yaxis()  # type: ignore[attr-defined]
    axes.set_xlabel(tr(N_("问题数")), fontproperties=font)  # type: ignore[attr-defined]
    _label_ticks(axes, font)
    return _png(figure)


def report_charts(report: Report, *, tr: Translate = _identity) -> list[tuple[str, str, bytes]]:
    """(file name, title, PNG) of every chart of a report."""
    return [
        ("posts-per-week.png", tr(TITLE_WEEKLY), weekly_chart(report.weekly, tr=tr)),
        ("accounts-by-state.png", tr(TITLE_STATES), states_chart(report.states, tr=tr)),
        (
            "findings-by-category.png",
            tr(TITLE_CATEGORIES),
            categories_chart(report.categories, tr=tr),
        ),
    ]
