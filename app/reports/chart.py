"""The trend chart of a treatment series as SVG, drawn with matplotlib's object API.

Only numbers, dates and this module's fixed labels go into the chart, never patient-entered text
(series name, notes, medication names, even though ``TrendResult`` carries the latter): the HTML
report inlines this SVG as trusted markup, which is safe only while that stays true.

pyplot is never used (it keeps global figure state); each call builds its own ``Figure`` with an
SVG canvas. rcParams are process-global, so the settings that make the output self-contained
and deterministic are applied under a lock for the length of one render.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from app.trends import TimeseriesItem, TrendResult, WindowMetrics

ROLLING_DAYS = 7
ROLLING_MIN_OBSERVED_DAYS = 3
INTENSITY_MAX = 10

EPOCH = date(1970, 1, 1)  # x = days since EPOCH; ticks are placed by date_ticks
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
_RENDER_LOCK = threading.Lock()

# Greys and patterns that survive greyscale printing.
BAR_COLOUR = "#6e6e6e"
HATCH_COLOUR = "#9a9a9a"
SESSION_COLOUR = "#000000"
WINDOW_SHADES = {"baseline": "#dcdcdc", "treatment": "#c4c4c4"}
FOLLOW_UP_SHADES = ("#f0f0f0", "#e4e4e4")
INCOMPLETE_DASHES = (0, (3, 2))
COURSE_DASHES = (0, (4, 1.5, 1, 1.5))  # dash-dot: the course's other series
FIGURE_SIZE = (7.4, 3.1)  # inches: the width of an A4 page's text column
MARGINS = {"left": 0.075, "right": 0.93, "bottom": 0.2, "top": 0.86}


@dataclass(frozen=True)
class ChartSession:
    """A session marker: its local day and whether it was completed."""

    day: date
    completed: bool


@dataclass(frozen=True)
class ChartSeries:
    """Another series of the course: its first and last completed session, and its position
    (0 = the course's first series, n = its n-th booster)."""

    start: date
    end: date
    position: int

    @property
    def label(self) -> str:
        return "Induction" if self.position == 0 else f"Booster {self.position}"


def seven_day_mean(daily: Sequence[TimeseriesItem]) -> tuple[float | None, ...]:
    """Attacks per observed day over each day's last 7 days (the day included), in input order.

    ``None`` where those 7 days hold fewer than 3 observed days: missing days are never zeros.
    Days absent from ``daily`` count as unobserved. ``daily`` must hold day buckets.
    """
    by_day = {item.start: item for item in _check_days(daily)}
    means: list[float | None] = []
    for item in daily:
        span = [by_day.get(item.start - timedelta(days=back)) for back in range(ROLLING_DAYS)]
        present = [day for day in span if day is not None]
        observed = sum(day.observed_days for day in present)
        if observed < ROLLING_MIN_OBSERVED_DAYS:
            means.append(None)
        else:
            means.append(sum(day.attacks for day in present) / observed)
    return tuple(means)


def render_trend_chart(
    trend: TrendResult,
    daily: Sequence[TimeseriesItem],
    sessions: Sequence[ChartSession],
    *,
    course: Sequence[ChartSeries] = (),
    baseline_rate: float | None = None,
) -> str:
    """The chart as an SVG document: daily attacks, 7-day mean, intensity, windows, sessions,
    the reference baseline rate B and 0.5 x B as lines, the course's other series marked.

    ``daily``: day buckets from ``app.trends.timeseries`` over every day from the first
    window's start to ``as_of`` (a day without an item is drawn as without diary data). Days
    and sessions after ``trend.as_of`` are not drawn.
    """
    days = sorted(
        (item for item in _check_days(daily) if item.start <= trend.as_of),
        key=lambda item: item.start,
    )
    shown = sorted(
        (session for session in sessions if session.day <= trend.as_of),
        key=lambda session: (session.day, session.completed),
    )
    others = [series for series in course if series.start <= trend.as_of]
    with svg_rendering("paindiary-trend-chart"):
        figure = _draw(trend, days, shown, others, baseline_rate)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata=_NO_METADATA)
    return buffer.getvalue().decode("utf-8")


def _draw(
    trend: TrendResult,
    days: Sequence[TimeseriesItem],
    sessions: Sequence[ChartSession],
    course: Sequence[ChartSeries],
    baseline_rate: float | None,
) -> Figure:
    # Fixed margins rather than a layout engine: the fonts and figure size are fixed, and
    # constrained layout costs a third of the rendering time.
    figure = Figure(figsize=FIGURE_SIZE)
    figure.subplots_adjust(**MARGINS)
    FigureCanvasSVG(figure)
    attacks_axes = figure.add_subplot()
    intensity_axes = attacks_axes.twinx()
    shown_days = [window.start for window in trend.windows] + [trend.as_of]
    shown_days += [item.start for item in days] + [session.day for session in sessions]
    first, last = min(shown_days), max(shown_days)
    _draw_windows(attacks_axes, trend.windows)
    _draw_days(attacks_axes, intensity_axes, days, first, last)
    _draw_sessions(attacks_axes, sessions)
    _draw_course(attacks_axes, course)
    _format_axes(attacks_axes, intensity_axes, days, first, last, baseline_rate)
    _draw_baseline_rate(attacks_axes, baseline_rate)
    _draw_legend(figure, baseline_rate is not None, bool(course))
    return figure


@contextmanager
def svg_rendering(salt: str) -> Iterator[None]:
    """The settings every SVG of ours is drawn under, with ``salt`` as the SVG hash salt.

    rcParams are process-global: every renderer (this chart, the Kaplan-Meier curve) must take
    the same lock for the length of one render.
    """
    with _RENDER_LOCK, _chart_rc(salt):
        yield


def _chart_rc(salt: str = "paindiary-trend-chart") -> AbstractContextManager[None]:
    # Fonts become paths (no font files, nothing to load under the report's CSP); a fixed hash
    # salt makes the clip-path ids, hence the whole file, the same for the same input.
    return matplotlib.rc_context(
        {
            "svg.fonttype": "path",
            "svg.hashsalt": salt,
            "svg.image_inline": True,
            "font.family": "sans-serif",
            "font.sans-serif": ["DejaVu Sans"],
            "font.size": 7.0,
            "axes.linewidth": 0.6,
            "axes.unicode_minus": True,
            "hatch.linewidth": 0.5,
        }
    )


def _check_days(daily: Sequence[TimeseriesItem]) -> Sequence[TimeseriesItem]:
    if any(item.start != item.end for item in daily):
        raise ValueError("the chart needs day buckets")
    if len({item.start for item in daily}) != len(daily):
        raise ValueError("each day may appear only once")
    return daily


def _x(day: date) -> float:
    return float((day - EPOCH).days)


def date_ticks(first: date, last: date) -> list[tuple[date, str]]:
    """Tick days and labels for ``[first, last]``: Mondays up to two months, else months.

    Months are every 1, 2 or 3, aligned on January; the year is added to the first tick and
    wherever the year changes.
    """
    span = (last - first).days
    if span <= 62:
        monday = first + timedelta(days=-first.weekday() % 7)
        days = [monday + timedelta(weeks=week) for week in range((last - monday).days // 7 + 1)]
        labels = [f"{day.day} {MONTHS[day.month - 1]}" for day in days]
    else:
        step = 1 if span <= 200 else 2 if span <= 400 else 3
        month = first.year * 12 + first.month - 1 + (first.day > 1)  # months since year 0
        days = []
        while (day := date(month // 12, month % 12 + 1, 1)) <= last:
            if (day.month - 1) % step == 0:
                days.append(day)
            month += 1
        labels = [MONTHS[day.month - 1] for day in days]
    return [
        (day, f"{label} {day.year}" if index == 0 or days[index - 1].year != day.year else label)
        for index, (day, label) in enumerate(zip(days, labels, strict=True))
    ]


def _window_label(name: str) -> str:
    if name.startswith("follow_up_"):
        return "FU " + name.removeprefix("follow_up_")
    if name == "reference_baseline":
        return "Reference baseline"
    return name.capitalize()


def _window_shade(index: int, name: str) -> str:
    return WINDOW_SHADES.get(name, FOLLOW_UP_SHADES[index % 2])


def _draw_windows(axes: Axes, windows: Sequence[WindowMetrics]) -> None:
    # Labels sit above the plot, alternating between two rows so a short treatment window's
    # label does not run into its neighbours'.
    label_position = blended_transform_factory(axes.transData, axes.transAxes)
    for index, window in enumerate(windows):
        left, right = _x(window.start) - 0.5, _x(window.end) + 0.5
        span = axes.axvspan(
            left, right, facecolor=_window_shade(index, window.name), linewidth=0, zorder=0
        )
        span.set_gid(f"window-{window.name}")
        axes.text(
            (left + right) / 2,
            1.02 if index % 2 == 0 else 1.09,
            _window_label(window.name),
            transform=label_position,
            ha="center",
            va="bottom",
            fontsize=6.5,
        )


def _unobserved_runs(
    days: Sequence[TimeseriesItem], first: date, last: date
) -> list[tuple[date, date]]:
    """Runs of consecutive days in ``[first, last]`` without diary data (or without an item)."""
    observed = {item.start for item in days if item.observed_days}
    runs: list[tuple[date, date]] = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        if day in observed:
            continue
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _draw_days(
    attacks_axes: Axes,
    intensity_axes: Axes,
    days: Sequence[TimeseriesItem],
    first: date,
    last: date,
) -> None:
    # One collection each for the bars and the unobserved bands: hundreds of separate patches
    # would triple the rendering time of a year-long chart.
    full_height = blended_transform_factory(attacks_axes.transData, attacks_axes.transAxes)
    unobserved = PolyCollection(
        [
            _rectangle(_x(run_first) - 0.5, _x(run_last) + 0.5, 1.0)
            for run_first, run_last in _unobserved_runs(days, first, last)
        ],
        transform=full_height,
        facecolors="none",
        edgecolors=HATCH_COLOUR,
        hatch="////",
        linewidths=0,
        zorder=1,
    )
    unobserved.set_gid("unobserved-days")
    attacks_axes.add_collection(unobserved, autolim=False)
    bars = PolyCollection(
        [
            _rectangle(_x(item.start) - 0.4, _x(item.start) + 0.4, item.attacks)
            for item in days
            if item.attacks > 0
        ],
        facecolors=BAR_COLOUR,
        linewidths=0,
        zorder=2,
    )
    bars.set_gid("daily-attacks")
    attacks_axes.add_collection(bars, autolim=False)
    (pain_free,) = attacks_axes.plot(
        [_x(item.start) for item in days if item.observed_days and not item.attacks],
        [0.0 for item in days if item.observed_days and not item.attacks],
        linestyle="none",
        marker="^",
        markersize=2.8,
        color="black",
        clip_on=False,
        zorder=3,
    )
    pain_free.set_gid("no-attack-days")
    xs = [_x(item.start) for item in days]
    (mean,) = attacks_axes.plot(
        xs, [_nan(value) for value in seven_day_mean(days)], color="black", lw=1.5, zorder=4
    )
    mean.set_gid("seven-day-mean")
    (intensity,) = intensity_axes.plot(
        xs,
        [_nan(item.mean_intensity) for item in days],
        linestyle="none",
        marker="o",
        markersize=2.6,
        markerfacecolor="white",
        markeredgecolor="black",
        markeredgewidth=0.6,
        zorder=5,
    )
    intensity.set_gid("mean-intensity")


def _rectangle(left: float, right: float, height: float) -> list[tuple[float, float]]:
    return [(left, 0.0), (left, height), (right, height), (right, 0.0)]


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _draw_sessions(axes: Axes, sessions: Sequence[ChartSession]) -> None:
    for number, session in enumerate(sessions, start=1):
        line = axes.axvline(
            _x(session.day),
            color=SESSION_COLOUR,
            linewidth=0.9,
            linestyle="-" if session.completed else INCOMPLETE_DASHES,
            zorder=6,
        )
        line.set_gid(f"session-{number}-{'completed' if session.completed else 'incomplete'}")


def _draw_course(axes: Axes, course: Sequence[ChartSeries]) -> None:
    """The course's other series: a hatched bar along the top of the plot, labelled."""
    top = blended_transform_factory(axes.transData, axes.transAxes)
    for series in course:
        left, right = _x(series.start) - 0.5, _x(series.end) + 0.5
        band = axes.axvspan(
            left,
            right,
            ymin=0.93,
            ymax=1.0,
            facecolor="none",
            edgecolor=SESSION_COLOUR,
            hatch="\\\\",
            linewidth=0.4,
            zorder=1,
        )
        band.set_gid(f"course-series-{series.position}")
        # Full-height markers at its first and last session, so where it sits against the
        # bars and the B lines reads at a glance.
        for edge, day in (("start", series.start), ("end", series.end)):
            if edge == "end" and series.end == series.start:
                continue
            marker = axes.axvline(
                _x(day),
                color=SESSION_COLOUR,
                linewidth=0.6,
                linestyle=COURSE_DASHES,
                zorder=5,
            )
            marker.set_gid(f"course-series-{series.position}-{edge}")
        axes.text(
            (left + right) / 2,
            0.92,
            series.label,
            transform=top,
            ha="center",
            va="top",
            fontsize=6,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.8},
            zorder=7,
        )


def _draw_baseline_rate(axes: Axes, baseline_rate: float | None) -> None:
    """B and 0.5 x B as labelled horizontal lines: relief means the 7-day mean below 0.5 x B."""
    if baseline_rate is None:
        return
    # Labelled inside the plot, at its right end, so they never meet the right axis' ticks.
    right_end = blended_transform_factory(axes.transAxes, axes.transData)
    for gid, value, label, style in (
        ("baseline-rate", baseline_rate, "B", (0, (6, 2))),
        ("half-baseline-rate", baseline_rate / 2, "0.5 \u00d7 B", (0, (1, 1.5))),
    ):
        line = axes.axhline(value, color="black", linewidth=0.8, linestyle=style, zorder=4)
        line.set_gid(gid)
        axes.text(
            0.995,
            value,
            label,
            transform=right_end,
            ha="right",
            va="bottom",
            fontsize=6,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
            zorder=7,
        )


def _format_axes(
    attacks_axes: Axes,
    intensity_axes: Axes,
    days: Sequence[TimeseriesItem],
    first: date,
    last: date,
    baseline_rate: float | None,
) -> None:
    attacks_axes.set_xlim(_x(first) - 0.5, _x(last) + 0.5)
    highest = max([item.attacks for item in days] + [baseline_rate or 0])
    attacks_axes.set_ylim(0, max(highest, 1) * 1.08)
    attacks_axes.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    attacks_axes.set_ylabel("Attacks per day")
    intensity_axes.set_ylim(0, INTENSITY_MAX)
    intensity_axes.set_yticks(range(0, INTENSITY_MAX + 1, 2))
    intensity_axes.set_ylabel("Mean intensity (NRS 0\u201310)")
    ticks = date_ticks(first, last)
    attacks_axes.set_xticks([_x(day) for day, _ in ticks], [label for _, label in ticks])
    for axes in (attacks_axes, intensity_axes):
        axes.spines["top"].set_visible(False)
        axes.tick_params(length=2.5, width=0.6, pad=2)


def _draw_legend(figure: Figure, with_baseline_rate: bool, with_course: bool) -> None:
    handles = [
        Patch(facecolor=BAR_COLOUR, label="Attacks per day"),
        Line2D([], [], color="black", lw=1.5, label="7-day mean (≥ 3 diary days)"),
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markersize=3,
            markerfacecolor="white",
            markeredgecolor="black",
            label="Mean intensity (right axis)",
        ),
        Line2D(
            [], [], linestyle="none", marker="^", markersize=3, color="black", label="No attacks"
        ),
        Patch(facecolor="white", edgecolor=HATCH_COLOUR, hatch="////", label="No diary data"),
        Line2D([], [], color=SESSION_COLOUR, lw=0.9, label="Session"),
        Line2D(
            [],
            [],
            color=SESSION_COLOUR,
            lw=0.9,
            linestyle=INCOMPLETE_DASHES,
            label="Incomplete session",
        ),
    ]
    if with_course:
        handles.append(
            Line2D(
                [],
                [],
                color=SESSION_COLOUR,
                lw=0.6,
                linestyle=COURSE_DASHES,
                label="Other series of the course (first, last session)",
            )
        )
    if with_baseline_rate:
        handles.append(
            Line2D(
                [],
                [],
                color="black",
                lw=0.8,
                linestyle=(0, (6, 2)),
                label="B, reference baseline rate; dotted 0.5 \u00d7 B",
            )
        )
    figure.legend(handles=handles, loc="lower center", ncols=4, frameon=False, fontsize=6.5)
