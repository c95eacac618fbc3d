"""The series report's clinical sections: the whole questionnaire history with PHQ-9 worsening
flagged, vitals per session, triggers, the course's other series in the chart, and printing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from app.reports.chart import ChartSeries, render_trend_chart
from app.trends import Window
from app.trends.assessments import PHQ9_WORSENING_POINTS, questionnaire_history
from tests.helpers import Api
from tests.reports.test_chart import small
from tests.trend_data import Report, induction_and_booster, iso, series_url, typical
from tests.trends.builders import assessment, day

SVG = "{http://www.w3.org/2000/svg}"
WINDOWS = [Window("baseline", day(-14), day(-1)), Window("treatment", day(0), day(6))]


def history(*rows: tuple[str, int, int]) -> list[tuple[str, int, bool, bool, bool]]:
    """``(instrument, total, baseline, worse than previous, worse than baseline)`` per row."""
    entries = questionnaire_history(
        [assessment(instrument, offset, total) for instrument, offset, total in rows],
        WINDOWS,
        baseline_end=day(-1),
        as_of=day(100),
    )
    return [
        (e.instrument, e.total, e.baseline, e.worse_than_previous, e.worse_than_baseline)
        for e in entries
    ]


def test_a_rise_of_five_phq9_points_over_the_previous_is_a_worsening() -> None:
    assert PHQ9_WORSENING_POINTS == 5
    assert history(("phq9", -5, 8), ("phq9", 10, 12), ("phq9", 20, 17), ("phq9", 30, 13)) == [
        ("phq9", 8, True, False, False),
        ("phq9", 12, False, False, False),  # +4: not yet
        ("phq9", 17, False, True, True),  # +5 over the previous, +9 over the baseline
        ("phq9", 13, False, False, True),  # falling, but still 5 above the baseline
    ]


def test_small_steps_that_add_up_are_flagged_against_the_baseline() -> None:
    assert history(("phq9", -30, 3), ("phq9", -2, 4), ("phq9", 14, 7), ("phq9", 28, 9)) == [
        ("phq9", 3, False, False, False),
        ("phq9", 4, True, False, False),  # the last PHQ-9 before the course's treatment
        ("phq9", 7, False, False, False),
        ("phq9", 9, False, False, True),  # +2 over the previous, +5 over the baseline
    ]


def test_only_phq9_is_flagged_and_history_before_treatment_is_kept() -> None:
    rows = history(
        ("gad7", -90, 2),
        ("phq9", -90, 2),
        ("phq9", -60, 9),  # +7 before any treatment: a worsening all the same
        ("gad7", 10, 14),  # +12 GAD-7: shown, not flagged (the rule is PHQ-9's)
        ("penn_fps_r", 10, 80),
        ("pgic", 20, 6),
    )
    assert rows == [
        ("gad7", 2, False, False, False),
        ("phq9", 2, False, False, False),
        ("phq9", 9, True, True, False),
        ("gad7", 14, False, False, False),
        ("penn_fps_r", 80, False, False, False),
        ("pgic", 6, False, False, False),
    ]


def test_without_a_baseline_phq9_only_consecutive_rises_count() -> None:
    assert history(("phq9", 10, 2), ("phq9", 20, 6), ("phq9", 30, 11)) == [
        ("phq9", 2, False, False, False),
        ("phq9", 6, False, False, False),
        ("phq9", 11, False, True, False),
    ]


def test_results_after_as_of_are_left_out_and_changes_are_per_instrument() -> None:
    entries = questionnaire_history(
        [
            assessment("phq9", 1, 10),
            assessment("gad7", 2, 4),
            assessment("phq9", 3, 6),
            assessment("phq9", 40, 20),
        ],
        WINDOWS,
        baseline_end=day(-1),
        as_of=day(30),
    )
    assert [(e.instrument, e.change, e.previous_day, e.window) for e in entries] == [
        ("phq9", None, None, "treatment"),
        ("gad7", None, None, "treatment"),
        ("phq9", -4, day(1), "treatment"),
    ]


# --- the report page, from the database ------------------------------------------------------


class Tables(HTMLParser):
    """Rows of the tables with a given class, as lists of cell texts; and the h3 headings."""

    def __init__(self, css_class: str) -> None:
        super().__init__(convert_charrefs=True)
        self.css_class = css_class
        self.inside = False
        self.rows: list[list[str]] = []
        self.row_classes: list[str | None] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and self.css_class in classes:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
            self.row_classes.append(dict(attrs).get("class"))
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table(html: str, css_class: str) -> tuple[list[list[str]], list[str | None]]:
    parser = Tables(css_class)
    parser.feed(html)
    return parser.rows, parser.row_classes


def questionnaire_report(api: Api) -> Report:
    """``typical`` (PHQ-9 14 on day -5, in its baseline; PGIC 2 on day 30) with more results:
    PHQ-9 12 on day -40 (before the reference baseline), 16 on day 10, 21 on day 40 (+5: a
    worsening, +7 over the baseline), 19 on day 60; GAD-7 5 on day -5 and 12 on day 40; one
    Penn-FPS-R. Read as of day 70."""
    report = typical(api)
    patient = report.patient
    patient.assessment("phq9", patient.at(-40), [2, 2, 2, 2, 1, 1, 1, 1, 0])
    patient.assessment("gad7", patient.at(-5, 9), [1, 1, 1, 1, 1, 0, 0])
    patient.assessment("phq9", patient.at(10), [2, 2, 2, 2, 2, 2, 2, 1, 1])
    patient.assessment("penn_fps_r", patient.at(20), [5] * 12)
    patient.assessment("phq9", patient.at(40), [3, 3, 3, 3, 3, 2, 2, 1, 1])
    patient.assessment("gad7", patient.at(40, 13), [2, 2, 2, 2, 2, 1, 1])
    patient.assessment("phq9", patient.at(60), [3, 3, 3, 2, 2, 2, 2, 1, 1])
    patient.assessment("phq9", patient.at(80), [3] * 9)  # after as_of: not shown
    return report


def test_the_whole_questionnaire_history_with_the_worsening_flagged(api: Api) -> None:
    html = questionnaire_report(api).html()
    rows, classes = table(html, "questionnaire-history")
    header, *body = rows
    assert header == [
        "Date", "Instrument", "Total", "Severity", "Change since previous", "Window", "Note",
    ]  # fmt: skip
    dated = [(cells[0], cells[1].split(" ")[0], cells[2], cells[4]) for cells in body]
    assert dated == [
        (iso(-40), "PHQ-9", "12", "—"),
        (iso(-5), "GAD-7", "5", "—"),
        (iso(-5), "PHQ-9", "14", "+2"),
        (iso(10), "PHQ-9", "16", "+2"),
        (iso(20), "Penn-FPS-R", "60", "—"),
        (iso(30), "PGIC", "2", "—"),
        (iso(40), "PHQ-9", "21", "+5"),
        (iso(40), "GAD-7", "12", "+7"),
        (iso(60), "PHQ-9", "19", "\u22122"),
    ]
    by_day = {(cells[0], cells[1].split(" ")[0]): cells for cells in body}
    assert by_day[(iso(-5), "PHQ-9")][3] == "moderate"
    assert by_day[(iso(-5), "PHQ-9")][6] == "baseline PHQ-9"
    assert by_day[(iso(40), "PHQ-9")][3] == "severe"
    assert by_day[(iso(40), "GAD-7")][3] == "moderate"
    assert by_day[(iso(30), "PGIC")][3] == "much improved"
    assert by_day[(iso(40), "PHQ-9")][6] == (
        f"▲ worsening: +5 since the previous PHQ-9 (16 on {iso(10)}); "
        f"+7 since the baseline PHQ-9 (14 on {iso(-5)})"
    )
    # Day 60: 19 is still 5 above the baseline's 14, though 2 below day 40.
    assert by_day[(iso(60), "PHQ-9")][6].startswith("▲ worsening: +5 since the baseline PHQ-9")
    assert [cells[0] for cells, css in zip(body, classes[1:], strict=True) if css == "worse"] == [
        iso(40),
        iso(60),
    ]
    warnings = html[
        html.index('<section class="warnings">') : html.index(
            "</section>", html.index('<section class="warnings">')
        )
    ]
    assert warnings.count('class="phq9-worsening"') == 2
    assert f"PHQ-9 21 on {iso(40)}: +5 since the previous PHQ-9" in warnings
    assert "clinically meaningful worsening" in warnings


def test_no_questionnaire_says_so(api: Api) -> None:
    course = induction_and_booster(api)
    html = course.patient.get(series_url("me", course.induction, "report"), iso(175)).text
    assert "No questionnaire results up to the as-of date." in html
    assert 'class="phq9-worsening"' not in html


def test_vitals_by_session(api: Api) -> None:
    html = typical(api).html()
    rows, _ = table(html, "vitals")
    header, *body = rows
    assert header == [
        "Date", "Completed", "Pain before → after", "Highest BP mmHg",
        "Highest heart rate /min", "Lowest SpO₂ %",
    ]  # fmt: skip
    assert body == [
        [iso(0), "yes", "8 → 3", "165/—", "96", "—"],
        [iso(2), "no", "— → —", "182/—", "—", "—"],
        [iso(4), "yes", "7 → 2", "—", "—", "—"],
        [iso(6), "yes", "6 → 2", "—", "—", "—"],
    ]


def test_triggers_by_window(api: Api) -> None:
    html = typical(api).html()
    start = html.index("<h2>Triggers</h2>")
    section = html[start : html.index("</section>", start)]
    # 12 baseline days of 6 attacks, each named "eating"; none later.
    assert re.search(r"<td class=\"text\">eating</td><td>72</td>(<td>0</td>){4}</tr>", section)


def test_the_report_prints_on_a4_with_sensible_breaks(api: Api) -> None:
    html = typical(api).html()
    style = html[html.index("<style>") : html.index("</style>")]
    assert "@page { size: A4;" in style
    media = style[style.index("@media print") :]
    for rule in (
        "h2, h3 { break-after: avoid;",
        ".box, .warnings, figure, .header, dl { break-inside: avoid;",
        "tr, td, th { break-inside: avoid;",
        "thead { display: table-header-group; }",
        ".definitions { break-before: page;",
    ):
        assert rule in media, rule
    assert '<section class="small definitions">' in html


# --- the chart: the course's other series, every day up to as_of -------------------------------


def ids(svg: str) -> list[str]:
    return [str(node.get("id")) for node in ET.fromstring(svg).iter() if node.get("id")]


def test_other_series_get_labelled_vertical_markers() -> None:
    drawn = small()
    svg = render_trend_chart(
        drawn.trend,
        drawn.daily,
        drawn.sessions,
        course=[ChartSeries(day(-30), day(-26), 0), ChartSeries(day(15), day(15), 2)],
        baseline_rate=4.0,
    )
    course = [gid for gid in ids(svg) if gid.startswith("course-series-")]
    # A one-day series gets one marker; a series after as_of (day 20) none.
    assert sorted(course) == [
        "course-series-0",
        "course-series-0-end",
        "course-series-0-start",
        "course-series-2",
        "course-series-2-start",
    ]
    svg_later = render_trend_chart(
        drawn.trend, drawn.daily, drawn.sessions, course=[ChartSeries(day(25), day(27), 1)]
    )
    assert not [gid for gid in ids(svg_later) if gid.startswith("course-series-")]


def test_the_booster_report_chart_marks_the_induction_and_draws_to_as_of(api: Api) -> None:
    course = induction_and_booster(api)
    html = course.patient.get(series_url("me", course.booster, "report"), iso(175)).text
    chart = html[html.index("<svg") : html.index("</svg>") + len("</svg>")]
    found = ids(chart)
    assert {"course-series-0", "course-series-0-start", "course-series-0-end"} <= set(found)
    assert {"baseline-rate", "half-baseline-rate"} <= set(found)
    # The diary is drawn through day 175 although the booster's windows end earlier.
    root = ET.fromstring(chart)
    bars = root.find(f".//{SVG}g[@id='daily-attacks']")
    assert bars is not None
    assert len(list(bars.iter(f"{SVG}path"))) >= 1
    assert "<!-- Other series of the course (first, last session) -->" in chart  # the legend
