"""The HTML report: escaped patient text, every section, no nulls shown, nothing loaded or run."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from fnmatch import fnmatch
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape

from app.reports.chart import ChartSession, render_trend_chart
from app.reports.context import (
    ReportContext,
    ReportDiagnosis,
    ReportPatient,
    ReportSeries,
    ReportSession,
)
from app.reports.html import (
    META_CSP,
    TEMPLATES,
    UnsafeChart,
    inline_chart,
    render_report_html,
)
from app.security.headers import REPORT_CSP
from app.trends import compute_trend, timeseries
from tests.helpers import Api
from tests.trend_data import (
    ATTRIBUTE_BREAKOUT,
    HOSTILE,
    SCRIPT,
    Report,
    empty,
    inside_treatment,
    iso,
    no_baseline,
    trend_patient,
    typical,
)
from tests.trends.builders import daily, day, session, trend_inputs

SECTIONS = [
    "Summary",
    "Warnings",
    "Attacks and intensity by day",
    "Windows",
    "Comparisons with the reference baseline",
    "Triggers",
    "Acute response in sessions",
    "Sessions",
    "Adverse effects",
    "Questionnaires",
    "Medication changes",
    "Definitions: what each number means, and its limits",
]
VOID = frozenset({"br", "col", "hr", "img", "input", "link", "meta", "source", "wbr"})
URL_ATTRIBUTES = frozenset({"src", "href", "xlink:href", "action", "srcset", "poster", "data"})
SCENARIOS: dict[str, Callable[[Api], Report]] = {
    "typical": typical,
    "no_baseline": no_baseline,
    "inside_treatment": inside_treatment,
    "empty": empty,
}


class StrictParser(HTMLParser):
    """Records tags, attributes, visible text and h2 headings; reports unbalanced tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: Counter[str] = Counter()
        self.attributes: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []
        self.headings: list[str] = []
        self.meta: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_startendtag(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attributes.extend((tag, name, value) for name, value in attrs)
        if tag == "meta":
            self.meta.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "style" in self.stack or "svg" in self.stack:
            return
        self.text.append(data)
        if self.stack and self.stack[-1] == "h2":
            self.headings.append(data.strip())


def parse(html: str) -> StrictParser:
    parser = StrictParser()
    parser.feed(html)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    return parser


def test_the_report_renders_with_hostile_text_escaped(api: Api) -> None:
    html = typical(api, text=HOSTILE).html()
    assert SCRIPT not in html
    assert ATTRIBUTE_BREAKOUT not in html
    escaped = str(escape(HOSTILE))
    # The name twice (title, header), series, protocol, four session notes, the two
    # medications' rows (a stop and a start).
    assert html.count(escaped) == 2 + 1 + 1 + 4 + 2
    parsed = parse(html)
    assert parsed.tags["script"] == 0
    assert parsed.tags["img"] == 0
    assert [name for _, name, _ in parsed.attributes if name.startswith("on")] == []
    assert HOSTILE in "".join(parsed.text)  # shown to the reader as the text it is


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_section_is_there_and_no_null_is_printed(api: Api, name: str) -> None:
    parsed = parse(SCENARIOS[name](api).html())
    assert parsed.headings == SECTIONS
    text = " ".join(parsed.text)
    assert not re.search(r"\b(None|nan|NaN|inf|null|undefined)\b", text)
    assert "Treatment series report" in text


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_report_loads_and_runs_nothing(api: Api, name: str) -> None:
    html = SCENARIOS[name](api).html()
    parsed = parse(html)
    for forbidden in ("script", "link", "iframe", "object", "embed", "base", "img", "form"):
        assert parsed.tags[forbidden] == 0, forbidden
    for tag, attribute, value in parsed.attributes:
        assert not attribute.startswith("on"), (tag, attribute)
        if attribute in URL_ATTRIBUTES:
            assert value is not None
            assert value.startswith("#"), (tag, attribute, value)
    assert not re.search(r"url\(\s*['\"]?(?!#)", html)
    assert "@import" not in html
    assert parsed.tags["svg"] == 1  # the chart, inline
    csp = [meta for meta in parsed.meta if meta.get("http-equiv") == "Content-Security-Policy"]
    assert csp == [{"http-equiv": "Content-Security-Policy", "content": META_CSP}]


def test_the_csp_forbids_everything_but_inline_styles_and_data_images() -> None:
    assert REPORT_CSP == (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )
    assert "frame-ancestors" not in META_CSP  # not allowed in a <meta> policy
    assert META_CSP.startswith("default-src 'none'; style-src 'unsafe-inline'")


def test_summary_of_a_responder(api: Api) -> None:
    html = typical(api).html()
    assert "First series of its course: compared with its own baseline" in html
    assert "B = 6.00 attacks per observed day, 12 of 14 days observed (86 %)" in html
    assert "flags: medication change" in html
    assert "Yes: at least 50 % fewer attacks per day in follow-up 1" in html
    # Relief from day 9 (R(7..9) = 0) and still running on day 70: 70 - 6 days at least.
    assert f"At least 64 days and still running on {iso(70)}: onset on {iso(9)}" in html
    assert f"3, first {iso(0)}, last {iso(6)}; total 1.50 mg/kg" in html
    assert "3 completed of 4 planned" in html
    assert "Generated</dt><dd>20" in html
    for window in ("Baseline", "Treatment", "Follow-up 1", "Follow-up 2", "Follow-up 3"):
        assert f"{window}<br>" in html
    assert 'hypertension</td><td>1</td><td class="text">severe' in html
    assert 'nausea</td><td>2</td><td class="text">moderate' in html
    assert "stopped (was 400 mg/day)" in html
    assert "started, 600 mg/day" in html
    assert "A maintenance-medication change falls inside the reference baseline" in html
    assert "highest blood pressure 182/— mmHg, highest heart rate 96/min" in html
    assert '<td class="text">eating</td><td>72</td>' in html  # triggers, counted in attacks
    assert f'14 <span class="small">({iso(-5)}, Baseline)</span>' in html  # PHQ-9
    assert "Latest PGIC since the first session: 2 (much improved)" in html


def test_summary_before_follow_up_and_sessions_after_as_of(api: Api) -> None:
    html = inside_treatment(api).html()
    # as_of is day 2, the last completed session: follow_up_1 runs from day 3 to day 30.
    assert f"Pending: follow-up 1 is complete on {iso(30)}" in html
    assert "Follow-up 1<br>" not in html
    assert iso(5) not in html  # the session on day 5 comes after as_of
    assert html.count('<td class="notes wrap">') == 3


def test_summary_of_a_series_without_relief(api: Api) -> None:
    # 4 attacks a day before and after one session on day 0: the "relief 2 days" is
    # now "no relief".
    patient = trend_patient(api)
    patient.daily(range(-7, 41), 4)
    sid = patient.series(baseline_days=7)
    patient.sessions(sid, [0])
    html = Report(patient, sid, iso(40)).html()
    assert "No: less than a 50 % reduction in attacks per day in follow-up 1" in html
    assert "No relief: the 7-day attack rate did not stay under half the baseline rate" in html


def test_summary_without_a_baseline(api: Api) -> None:
    html = no_baseline(api).html()
    assert "Not assessable: too few diary days" in html
    assert "Relief</dt><dd>Not assessable" in html
    assert "The reference baseline has 0 observed days" in html


def test_the_chart_is_inlined_without_its_xml_prolog(api: Api) -> None:
    report = typical(api)
    html = report.html()
    assert "<?xml" not in html
    assert "<!DOCTYPE svg" not in html
    assert str(inline_chart(report.svg())) in html


def context(generated_at: datetime = datetime(2026, 3, 13, 9, 30, tzinfo=UTC)) -> ReportContext:
    """A report context from pure dataclasses, for the renderer's own checks."""
    inputs = trend_inputs(
        20, sessions=(session(0),), episodes=[*daily(range(-7, 21), 2)], baseline_days=7
    )
    trend = compute_trend(inputs)
    days = timeseries(inputs.episodes, inputs.checkins, day(-7), day(20), "day")
    svg = render_trend_chart(trend, days, [ChartSession(day(0), True)])
    return ReportContext(
        patient=ReportPatient("Anna Example", "Europe/Berlin", 1961),
        diagnosis=ReportDiagnosis("classical", "left", ("V2",), True, None),
        series=ReportSeries("Ketamine IV", "ketamine_iv", 7, 84),
        trend=trend,
        sessions=(ReportSession(day(0), "iv"),),
        chart_svg=svg,
        generated_at=generated_at,
    )


def test_the_renderer_formats_generated_at_in_the_patient_zone() -> None:
    html = render_report_html(context())
    assert "Generated</dt><dd>2026-03-13 10:30 (Europe/Berlin)" in html


NS = 'xmlns="http://www.w3.org/2000/svg"'
XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'


@pytest.mark.parametrize(
    "svg",
    [
        "not a chart",
        "<svg><rect></svg>",
        "<svg/>",  # not in the SVG namespace
        f"<svg {NS}><script>alert(1)</script></svg>",
        f"<svg {NS}><!-- --><script>alert(1)</script><!-- --></svg>",
        f'<svg {NS} onload="alert(1)"/>',
        f'<svg {NS}><rect onclick="alert(1)"/></svg>',
        f"<svg {NS}><foreignObject><div/></foreignObject></svg>",
        f'<svg {NS}><a href="#x"><rect/></a></svg>',
        f'<svg {NS}><image href="data:image/png;base64,AAAA"/></svg>',
        f'<svg {NS} {XLINK}><use xlink:href="https://evil.example/a.svg#a"/></svg>',
        f'<svg {NS}><use href="//evil.example/a.svg#a"/></svg>',
        f'<svg {NS}><rect style="fill: url(https://evil.example/p)"/></svg>',
        f'<svg {NS}><style>@import "https://evil.example/a.css";</style></svg>',
        f"<svg {NS}><style>rect {{ fill: url('https://evil.example/p') }}</style></svg>",
        f"<html><svg {NS}/></html>",
    ],
)
def test_an_unsafe_chart_is_never_inlined(svg: str) -> None:
    with pytest.raises(UnsafeChart):
        inline_chart(svg)


def test_a_safe_svg_is_inlined_as_it_is() -> None:
    svg = f'<svg {NS} {XLINK}><defs><path id="p"/></defs><use xlink:href="#p"/></svg>'
    assert str(inline_chart(f'<?xml version="1.0"?>\n{svg}')) == svg


def test_generated_at_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        context(generated_at=datetime(2026, 3, 13, 9, 30))


def test_a_replaced_chart_is_checked_too() -> None:
    ctx = dataclasses.replace(context(), chart_svg=f"<svg {NS}><script/></svg>")
    with pytest.raises(UnsafeChart):
        render_report_html(ctx)


def test_the_template_ships_with_the_package() -> None:
    pyproject = tomllib.loads(
        (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    )
    patterns = pyproject["tool"]["setuptools"]["package-data"]["app"]
    app_dir = TEMPLATES.parents[1]
    templates = [path.relative_to(app_dir).as_posix() for path in TEMPLATES.iterdir()]
    assert templates == ["reports/templates/report.html"]
    assert all(any(fnmatch(path, pattern) for pattern in patterns) for path in templates)
