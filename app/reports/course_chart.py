"""A whole course on one chart: every day from the reference baseline to as_of, each series of
the course marked, and B and 0.5 x B as lines (the web app's patient page).

It draws with the trend chart's own pieces (``app.reports.chart``: bars, unobserved days, the
7-day mean, intensity, the series bands, the B lines and the legend) under the same settings
and render lock (``svg_rendering``), so the two charts read alike. Only numbers, dates and
fixed labels go in, never patient text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from app.reports.chart import (
    _NO_METADATA,
    FIGURE_SIZE,
    MARGINS,
    ChartSeries,
    ChartSession,
    _check_days,
    _draw_baseline_rate,
    _draw_course,
    _draw_days,
    _draw_legend,
    _draw_sessions,
    _format_axes,
    svg_rendering,
)
from app.trends import TimeseriesItem


def render_course_chart(
    daily: Sequence[TimeseriesItem],
    sessions: Sequence[ChartSession],
    series: Sequence[ChartSeries],
    *,
    first: date,
    last: date,
    baseline_rate: float | None,
) -> str:
    """An SVG document of ``[first, last]``: ``daily`` day buckets (a day without one is drawn
    as without diary data), session markers, a labelled band per series of the course."""
    days = sorted(
        (item for item in _check_days(daily) if first <= item.start <= last),
        key=lambda item: item.start,
    )
    shown = sorted(
        (session for session in sessions if first <= session.day <= last),
        key=lambda session: (session.day, session.completed),
    )
    with svg_rendering("paindiary-course-chart"):
        figure = Figure(figsize=FIGURE_SIZE)
        figure.subplots_adjust(**MARGINS)
        FigureCanvasSVG(figure)
        attacks_axes = figure.add_subplot()
        intensity_axes = attacks_axes.twinx()
        _draw_days(attacks_axes, intensity_axes, days, first, last)
        _draw_sessions(attacks_axes, shown)
        _draw_course(attacks_axes, [band for band in series if band.start <= last])
        _format_axes(attacks_axes, intensity_axes, days, first, last, baseline_rate)
        _draw_baseline_rate(attacks_axes, baseline_rate)
        _draw_legend(figure, baseline_rate is not None, True)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata=_NO_METADATA)
    return buffer.getvalue().decode("utf-8")
