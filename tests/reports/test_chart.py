"""The trend chart: what it draws, what it never draws, and that it is the same every time."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from app.reports.chart import (
    ChartSeries,
    ChartSession,
    date_ticks,
    render_trend_chart,
    seven_day_mean,
)
from app.trends import TimeseriesItem, TrendResult, compute_trend, timeseries
from tests.helpers import Api
from tests.trend_data import (
    HOSTILE,
    Report,
    empty,
    induction_and_booster,
    inside_treatment,
    iso,
    no_baseline,
    series_url,
    typical,
)
from tests.trends.builders import daily, day, session, trend_inputs
from tests.trends.test_purity import FORBIDDEN, imported_modules

REPORTS = Path(__file__).resolve().parents[2] / "app" / "reports"

SVG = "{http://www.w3.org/2000/svg}"
SCENARIOS: dict[str, Callable[[Api], Report]] = {
    "typical": typical,
    "no_baseline": no_baseline,
    "inside_treatment": inside_treatment,
    "empty": empty,
}


@dataclass(frozen=True)
class Drawn:
    """What the renderer is given, for its unit tests (built from pure dataclasses)."""

    trend: TrendResult
    daily: tuple[TimeseriesItem, ...]
    sessions: tuple[ChartSession, ...]

    def svg(self) -> str:
        return render_trend_chart(self.trend, self.daily, self.sessions, baseline_rate=4.0)


def small() -> Drawn:
    """Baseline 7 days at 4 attacks, sessions on days 0 and 2 (1 incomplete), as of day 20."""
    inputs = trend_inputs(
        20,
        sessions=(session(0), session(1, completed=False), session(2)),
        episodes=[*daily(range(-7, 0), 4), *daily(range(3, 21), 1)],
        baseline_days=7,
    )
    trend = compute_trend(inputs)
    days = timeseries(inputs.episodes, inputs.checkins, day(-7), day(20), "day")
    sessions = tuple(ChartSession(row.local_day, row.completed) for row in inputs.sessions)
    return Drawn(trend, days, sessions)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def group(root: ET.Element, gid: str) -> ET.Element:
    found = root.find(f".//{SVG}g[@id='{gid}']")
    assert found is not None, gid
    return found


def drawn(element: ET.Element) -> int:
    """Shapes drawn in a group: paths and marker uses, not the definitions they refer to."""
    shapes = 0
    for child in element:
        if child.tag == f"{SVG}defs":
            continue
        if child.tag in {f"{SVG}path", f"{SVG}use"}:
            shapes += 1
        shapes += drawn(child)
    return shapes


def ids_matching(root: ET.Element, pattern: str) -> list[str]:
    return [
        str(node.get("id")) for node in root.iter() if re.fullmatch(pattern, node.get("id", ""))
    ]


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_chart_is_a_self_contained_svg_document(api: Api, name: str) -> None:
    svg = SCENARIOS[name](api).svg()
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert "<script" not in svg.lower()
    assert not re.search(r"href=\"(?!#)", svg)  # only links inside the document
    assert not re.search(r"url\((?!#)", svg)
    assert "<text" not in svg  # glyphs are paths: no font is needed or loaded
    assert "<metadata" not in svg  # no creation date, no library version


@pytest.mark.parametrize(
    ("name", "windows", "completed", "incomplete", "baseline_lines"),
    [
        (
            "typical",
            ["baseline", "treatment", "follow_up_1", "follow_up_2", "follow_up_3"],
            3,
            1,
            True,
        ),
        ("no_baseline", ["baseline", "treatment", "follow_up_1", "follow_up_2"], 1, 0, False),
        # The session on day 5 lies after as_of (day 2): not drawn.
        ("inside_treatment", ["baseline", "treatment"], 2, 1, True),
        ("empty", ["baseline", "treatment", "follow_up_1"], 1, 0, False),
    ],
)
def test_windows_sessions_and_b_are_marked(
    api: Api,
    name: str,
    windows: list[str],
    completed: int,
    incomplete: int,
    baseline_lines: bool,
) -> None:
    root = parse(SCENARIOS[name](api).svg())
    assert ids_matching(root, r"window-.*") == [f"window-{window}" for window in windows]
    assert len(ids_matching(root, r"session-\d+-completed")) == completed
    assert len(ids_matching(root, r"session-\d+-incomplete")) == incomplete
    lines = ids_matching(root, r"(half-)?baseline-rate")
    assert lines == (["baseline-rate", "half-baseline-rate"] if baseline_lines else [])


def test_missing_days_are_hatched_never_drawn_as_zero(api: Api) -> None:
    root = parse(typical(api).svg())
    # Unobserved: days -10..-9, 0, 2..6, and 30, 35, ..., 70 (every fifth day after 27).
    assert drawn(group(root, "unobserved-days")) == 1 + 2 + 9
    # Attack bars: 12 baseline days, day 1, and 27..70 less the nine fifth days.
    assert drawn(group(root, "daily-attacks")) == 12 + 1 + 35
    # Observed days without attacks (check-ins saying so): days 7..26.
    assert drawn(group(root, "no-attack-days")) == 20


def test_every_day_up_to_as_of_is_drawn_from_the_diary(api: Api) -> None:
    """The induction's windows stop at its horizon (day 88, the booster starts on day 90); the
    diary after it is still drawn, and the booster is marked."""
    course = induction_and_booster(api)
    response = course.patient.get(series_url("me", course.induction, "chart.svg"), iso(175))
    root = parse(response.text)
    assert ids_matching(root, r"window-follow_up_\d") == [
        "window-follow_up_1", "window-follow_up_2", "window-follow_up_3",
    ]  # fmt: skip
    # Diary days -28..-1, 5..89 and 92..175 have attacks; only 0..4 and 90..91 have no data.
    assert drawn(group(root, "daily-attacks")) == 28 + 85 + 84
    assert drawn(group(root, "unobserved-days")) == 2
    assert ids_matching(root, r"course-series-\d") == ["course-series-1"]
    booster = course.patient.get(series_url("me", course.booster, "chart.svg"), iso(175))
    root = parse(booster.text)
    assert ids_matching(root, r"course-series-\d") == ["course-series-0"]
    assert ids_matching(root, r"window-reference_baseline") == ["window-reference_baseline"]


def test_a_diary_without_data_draws_one_hatched_band_and_no_bars(api: Api) -> None:
    root = parse(empty(api).svg())
    assert drawn(group(root, "unobserved-days")) == 1
    assert drawn(group(root, "daily-attacks")) == 0
    assert drawn(group(root, "no-attack-days")) == 0


def test_days_without_an_item_count_as_missing() -> None:
    chart = small()
    root = parse(render_trend_chart(chart.trend, (), chart.sessions))
    assert drawn(group(root, "unobserved-days")) == 1
    assert drawn(group(root, "daily-attacks")) == 0
    assert len(ids_matching(root, r"session-.*")) == 3


def test_rendering_is_deterministic_and_thread_safe() -> None:
    chart = small()
    first = chart.svg()
    assert chart.svg() == first
    plain = render_trend_chart(chart.trend, chart.daily, chart.sessions)
    jobs = [chart, chart, chart, chart]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(Drawn.svg, jobs))
    assert results == [first] * 4
    assert plain != first  # the B lines are drawn only when B is given


def test_no_patient_text_reaches_the_chart(api: Api) -> None:
    report = typical(api, text=HOSTILE)
    assert any("alert(1)" in change["name"] for change in report.trend()["medication_changes"])
    assert "alert" not in report.svg()


def test_course_series_are_labelled_by_position_only() -> None:
    assert ChartSeries(day(0), day(4), 0).label == "Induction"
    assert ChartSeries(day(90), day(91), 2).label == "Booster 2"


def test_days_and_sessions_after_as_of_are_not_drawn() -> None:
    chart = small()
    later = (item(21, observed=1, attacks=30), item(22, observed=1, attacks=30))
    sessions = (*chart.sessions, ChartSession(day(21), completed=True))
    course = (ChartSeries(day(22), day(23), 1),)
    svg = render_trend_chart(
        chart.trend, (*chart.daily, *later), sessions, course=course, baseline_rate=4.0
    )
    assert svg == chart.svg()


def test_the_report_modules_keep_to_their_layer() -> None:
    """No pyplot (global figure state, not thread-safe) and no web or database code."""
    for path in sorted(REPORTS.glob("*.py")):
        modules = imported_modules(path.read_text(encoding="utf-8"))
        assert not {module for module in modules if module.startswith("matplotlib.pyplot")}
        assert not {module.split(".")[0] for module in modules} & set(FORBIDDEN), path.name


def test_week_buckets_are_rejected() -> None:
    week = TimeseriesItem(day(0), day(6), 7, 14, 2.0, 5.0, 6, 0)
    with pytest.raises(ValueError, match="day buckets"):
        render_trend_chart(small().trend, (week,), ())


def item(offset: int, observed: int = 1, attacks: int = 0) -> TimeseriesItem:
    rate = attacks / observed if observed else None
    return TimeseriesItem(day(offset), day(offset), observed, attacks, rate, None, None, 0)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        # One observed day at a time: defined from the third, then the last seven.
        (
            [item(d, 1, d + 1) for d in range(8)],
            [None, None, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0],
        ),
        # Unobserved days are skipped, not zeros: day 3 averages days 0, 1 and 3.
        ([item(0, 1, 3), item(1, 1, 6), item(2, 0), item(3, 1, 0)], [None, None, None, 3.0]),
        # Days absent from the input count as unobserved; zero-attack days as 0.
        ([item(0, 1, 0), item(2, 1, 0), item(6, 1, 3), item(7, 1, 0)], [None, None, 1.0, 1.0]),
        # Day 9's window (3..9) holds only days 6 and 9: too few.
        ([item(0, 1, 4), item(1, 1, 4), item(6, 1, 1), item(9, 1, 1)], [None, None, 3.0, None]),
        ([], []),
    ],
)
def test_seven_day_mean(days: list[TimeseriesItem], expected: list[float | None]) -> None:
    assert seven_day_mean(days) == pytest.approx(tuple(expected))


def test_seven_day_mean_rejects_duplicate_days() -> None:
    with pytest.raises(ValueError, match="once"):
        seven_day_mean([item(0), item(0)])


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (
            date(2026, 1, 1),
            date(2026, 1, 31),
            ["5 Jan 2026", "12 Jan", "19 Jan", "26 Jan"],
        ),
        (
            date(2025, 12, 20),
            date(2026, 1, 14),
            ["22 Dec 2025", "29 Dec", "5 Jan 2026", "12 Jan"],
        ),
        (date(2025, 12, 4), date(2026, 4, 11), ["Jan 2026", "Feb", "Mar", "Apr"]),
        (date(2026, 1, 1), date(2026, 10, 28), ["Jan 2026", "Mar", "May", "Jul", "Sep"]),
        (
            date(2025, 10, 3),
            date(2027, 1, 2),
            ["Jan 2026", "Apr", "Jul", "Oct", "Jan 2027"],
        ),
    ],
)
def test_date_ticks(first: date, last: date, expected: list[str]) -> None:
    ticks = date_ticks(first, last)
    assert [label for _, label in ticks] == expected
    assert all(first <= tick <= last for tick, _ in ticks)
