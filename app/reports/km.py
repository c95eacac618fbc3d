"""The Kaplan-Meier relief curve of a cohort as SVG: first series and boosters.

Input is what the cohort summary counts: per group, one ``(duration_days, ended)`` pair per
patient (``app.services.outcomes.cohort.relief_pairs`` gives them for a cohort result). Ended
reliefs are events; ongoing and censored ones are right-censored and drawn as tick marks on
the curve. The maths is SciPy's (``app.trends.survival.relief_curve``).

Only numbers and this module's fixed labels are drawn. Drawn like the trend chart (matplotlib's
object API, no pyplot, fonts as paths, a fixed hash salt) under the same lock, so the same
input gives the same bytes. A ``<title>`` and ``<desc>`` state the numbers in words for screen
readers (and tests: the drawn text is paths).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape

from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, PercentFormatter

from app.reports.chart import svg_rendering
from app.trends.survival import ReliefCurve, relief_curve, relief_survival

FIGURE_SIZE = (6.4, 3.4)  # inches
MARGINS = {"left": 0.1, "right": 0.97, "bottom": 0.14, "top": 0.9}
_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
LineStyle = Literal["-"] | tuple[float, tuple[float, float]]
TITLE = "Kaplan\u2013Meier relief curve"


@dataclass(frozen=True)
class _Group:
    gid: str
    label: str
    colour: str
    style: LineStyle
    curve: ReliefCurve
    median: float | None
    events: int


def _group(
    gid: str,
    label: str,
    colour: str,
    style: LineStyle,
    pairs: Sequence[tuple[int, bool]],
) -> _Group:
    reliefs = [(int(days), bool(ended)) for days, ended in pairs]
    summary = relief_survival(reliefs)
    return _Group(
        gid, label, colour, style, relief_curve(reliefs), summary.median_days, summary.events
    )


def render_relief_km(
    first_series: Sequence[tuple[int, bool]], boosters: Sequence[tuple[int, bool]]
) -> str:
    """The curve as an SVG document: the share of patients still in relief against days since
    relief began, a step curve per group with its censored reliefs ticked, and a legend
    "First series" / "Boosters" with each group's n, events and median."""
    groups = (
        _group("first-series", "First series", "#000000", "-", first_series),
        _group("boosters", "Boosters", "#6e6e6e", (0, (4.0, 2.0)), boosters),
    )
    with svg_rendering("paindiary-km-curve"):
        figure = _draw(groups)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata=_NO_METADATA)
    return _with_title(buffer.getvalue().decode("utf-8"), groups)


def _days(value: float) -> str:
    return f"{value:g} days"


def _summary(group: _Group) -> str:
    if group.curve.n == 0:
        return f"{group.label}: no relief to show"
    median = "not reached" if group.median is None else _days(group.median)
    return f"{group.label}: n = {group.curve.n}, {group.events} ended, median {median}"


def _draw(groups: Sequence[_Group]) -> Figure:
    figure = Figure(figsize=FIGURE_SIZE)
    figure.subplots_adjust(**MARGINS)
    FigureCanvasSVG(figure)
    axes = figure.add_subplot()
    longest = max((group.curve.last_day for group in groups), default=0.0)
    for group in groups:
        _draw_group(axes, group)
    median = axes.axhline(0.5, color="#9a9a9a", linewidth=0.6, linestyle=(0, (1, 1.5)), zorder=1)
    median.set_gid("median-line")
    axes.set_xlim(0, max(longest, 7.0) * 1.04)
    axes.set_ylim(0, 1.04)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    axes.set_xlabel("Days since relief began")
    axes.set_ylabel("Still in relief")
    axes.set_title(TITLE, fontsize=8)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(length=2.5, width=0.6, pad=2)
    if not any(group.curve.n for group in groups):
        axes.text(
            0.5, 0.5, "No relief to show yet", transform=axes.transAxes, ha="center", va="center"
        )
    handles = [
        Line2D([], [], color=group.colour, linestyle=group.style, lw=1.4, label=_legend(group))
        for group in groups
    ]
    handles.append(
        Line2D([], [], color="black", linestyle="none", marker="|", markersize=5, label="Censored")
    )
    axes.legend(
        handles=handles,
        loc="lower left",
        frameon=True,
        framealpha=0.9,
        edgecolor="none",
        fontsize=6.5,
    )
    return figure


def _legend(group: _Group) -> str:
    if group.curve.n == 0:
        return f"{group.label} (none)"
    median = "not reached" if group.median is None else f"{group.median:g} d"
    return f"{group.label} (n = {group.curve.n}, median {median})"


def _draw_group(axes: Axes, group: _Group) -> None:
    curve = group.curve
    if curve.n == 0:
        return
    xs = [0.0, *curve.times]
    ys = [1.0, *curve.survival]
    if curve.last_day > xs[-1]:  # the curve is known, flat, up to the longest follow-up
        xs.append(curve.last_day)
        ys.append(ys[-1])
    (line,) = axes.plot(
        xs,
        ys,
        drawstyle="steps-post",
        color=group.colour,
        linestyle=group.style,
        linewidth=1.4,
        zorder=3,
    )
    line.set_gid(f"km-{group.gid}")
    if curve.censored:
        (ticks,) = axes.plot(
            [day for day, _ in curve.censored],
            [share for _, share in curve.censored],
            linestyle="none",
            marker="|",
            markersize=5,
            markeredgewidth=0.9,
            color=group.colour,
            zorder=4,
            clip_on=False,
        )
        ticks.set_gid(f"km-{group.gid}-censored")


def _with_title(svg: str, groups: Sequence[_Group]) -> str:
    """``<title>`` and ``<desc>`` as the first children of the root element."""
    root = svg.index("<svg")
    opening_end = svg.index(">", root) + 1
    described = ". ".join(_summary(group) for group in groups) + "."
    extra = f"\n <title>{escape(TITLE)}</title>\n <desc>{escape(described)}</desc>"
    return svg[:opening_end] + extra + svg[opening_end:]
