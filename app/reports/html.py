"""The printable HTML trend report for clinicians: ``render_report_html(ctx) -> str``.

Jinja2 autoescapes every value, so patient-entered text (names, protocol, notes, medication
names) can never become markup. The one exception is the chart: ``render_trend_chart`` draws it
from numbers, dates and its own fixed labels (no patient text goes into it), and
``inline_chart`` checks it once more before marking it safe. The page holds no script and loads
nothing: styles are inline, fonts are the reader's own, the chart is inline SVG.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from app.reports import formatting
from app.reports.context import ReportContext, ReportSession
from app.security.headers import REPORT_CSP  # one policy, defined with the other headers
from app.trends import Comparison, TrendResult, WindowMetrics
from app.trends.assessments import HistoryEntry

# The same policy as a <meta> tag for a saved copy of the page; frame-ancestors is not allowed
# there (browsers ignore it with a warning), the HTTP header carries it.
META_CSP = REPORT_CSP.removesuffix("; frame-ancestors 'none'")

TEMPLATES = Path(__file__).resolve().parent / "templates"

# autoescape=True rather than select_autoescape: every template here is HTML, and escaping must
# not depend on a file name.
_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENVIRONMENT.filters.update(formatting.FILTERS)

_SVG_NS = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_FORBIDDEN_SVG_ELEMENTS = frozenset(
    {"script", "foreignObject", "iframe", "object", "embed", "image", "a", "animate", "set"}
)
_EXTERNAL_URL = re.compile(r"url\(\s*['\"]?(?!#)", re.IGNORECASE)


class UnsafeChart(ValueError):
    """The chart SVG holds something that could run or load: it is not inlined."""


def inline_chart(svg: str) -> Markup:
    """The chart's ``<svg>`` element, without XML prolog, marked safe for the template.

    ``svg`` must come from ``render_trend_chart``. The check here is defence in depth: it
    rejects scripts, event handlers, foreign content and references to anything outside the
    document, so a future change that lets foreign markup into the chart fails loudly.
    """
    start = svg.find("<svg")
    if start < 0:
        raise UnsafeChart("not an SVG document")
    element = svg[start:]
    try:
        root = ET.fromstring(element)
    except ET.ParseError as error:
        raise UnsafeChart(f"the chart is not well-formed XML: {error}") from error
    if root.tag != f"{_SVG_NS}svg":
        raise UnsafeChart("the root element is not <svg>")
    for node in root.iter():
        name = node.tag.rpartition("}")[2]
        if name in _FORBIDDEN_SVG_ELEMENTS:
            raise UnsafeChart(f"<{name}> is not allowed in the chart")
        for attribute, value in node.attrib.items():
            local = attribute.rpartition("}")[2].lower()
            if local.startswith("on"):
                raise UnsafeChart(f"event handler {local} in the chart")
            if attribute in {"href", _XLINK_HREF} and not value.startswith("#"):
                raise UnsafeChart("the chart links outside itself")
            if _EXTERNAL_URL.search(value):
                raise UnsafeChart("the chart references an external url()")
        if (
            name == "style"
            and node.text
            and (_EXTERNAL_URL.search(node.text) or "@import" in node.text.lower())
        ):
            raise UnsafeChart("the chart's stylesheet loads something")
    return Markup(element)  # checked above; see the module docstring


def render_report_html(ctx: ReportContext) -> str:
    """The whole report page, one or two A4 pages when printed."""
    template = _ENVIRONMENT.get_template("report.html")
    return template.render(_view(ctx))


def _view(ctx: ReportContext) -> dict[str, object]:
    trend = ctx.trend
    sessions = sorted(
        (session for session in ctx.sessions if session.day <= trend.as_of),
        key=lambda session: session.day,
    )
    return {
        "ctx": ctx,
        "trend": trend,
        "patient": ctx.patient,
        "diagnosis": ctx.diagnosis,
        "series": ctx.series,
        "sessions": sessions,
        "course": ctx.course,
        "reference": _reference_window(trend),
        "chart": inline_chart(ctx.chart_svg),
        "generated_at": formatting.instant(ctx.generated_at, ctx.patient.timezone),
        "responder": _responder_text(trend),
        "relief": _relief_text(trend),
        "comparison_rows": _comparison_rows(trend.comparisons),
        "trigger_rows": _trigger_rows(trend.windows),
        "adverse_rows": _adverse_rows(trend.adverse_effects, sessions),
        "instant_day": lambda value: formatting.instant_day(value, ctx.patient.timezone),
        "meta_csp": META_CSP,
        "phq9_worsenings": [entry for entry in ctx.questionnaires if entry.worsening],
        "worsening_text": _worsening_text(ctx.questionnaires),
    }


def _worsening_text(history: Sequence[HistoryEntry]) -> Callable[[HistoryEntry], str]:
    """What a flagged PHQ-9 rose over, e.g. "+6 since the previous PHQ-9 (4 on 2026-03-01);
    +7 since the baseline PHQ-9 (3 on 2026-01-10)"."""
    baseline = next((entry for entry in history if entry.baseline), None)

    def text(entry: HistoryEntry) -> str:
        parts = []
        if entry.worse_than_previous and entry.change is not None:
            parts.append(
                f"+{entry.change} since the previous PHQ-9 "
                f"({entry.total - entry.change} on {formatting.day(entry.previous_day)})"
            )
        if entry.worse_than_baseline and baseline is not None:
            parts.append(
                f"+{entry.total - baseline.total} since the baseline PHQ-9 "
                f"({baseline.total} on {formatting.day(baseline.day)})"
            )
        return "; ".join(parts)

    return text


def _reference_window(trend: TrendResult) -> WindowMetrics:
    name = "reference_baseline" if trend.booster else "baseline"
    return next(window for window in trend.windows if window.name == name)


def _responder_text(trend: TrendResult) -> str:
    if trend.responder is True:
        return (
            "Yes: at least 50 % fewer attacks per day in follow-up 1 than in the reference baseline"
        )
    if trend.responder is False:
        return "No: less than a 50 % reduction in attacks per day in follow-up 1"
    follow_up_1_end = trend.end + timedelta(days=28)
    if trend.relief is not None and trend.relief.censor_reason in {
        "next_series",
        "medication_change",
    }:
        return "Not assessable: " + CENSOR_TEXT[trend.relief.censor_reason] + " within 28 days"
    if trend.as_of < follow_up_1_end:
        return f"Pending: follow-up 1 is complete on {follow_up_1_end.isoformat()}"
    return (
        "Not assessable: too few diary days (fewer than 7 observed days in the reference "
        "baseline or in follow-up 1), no baseline attack rate, or the look was cut short"
    )


CENSOR_TEXT = {
    "as_of": "still running on the as-of date",
    "follow_up_end": "the follow-up period ended",
    "next_series": "the next series started",
    "medication_change": "a maintenance medication was started or its dose increased",
    "data_gap": "the diary went silent (no 7-day rate in the last week looked at)",
}


def _relief_text(trend: TrendResult) -> str:
    relief = trend.relief
    if relief is None:
        return "Not assessable: the reference baseline has no attacks or fewer than 7 observed days"
    if relief.status == "no_relief":
        return (
            "No relief: the 7-day attack rate did not stay under half the baseline rate for two "
            "consecutive weeks within three weeks after the series"
        )
    if relief.status == "undetermined":
        reason = CENSOR_TEXT[relief.censor_reason or "data_gap"]
        return f"Not yet determined ({reason}): too little diary after the series to tell"
    depth = formatting.number(relief.depth_pct, 0)
    onset = formatting.day(relief.onset_day)
    if relief.status == "ended":
        return (
            f"{relief.duration_days} days: from onset on {onset} until "
            f"{formatting.day(relief.end_day)}, when attacks came back to half the baseline "
            f"rate for two weeks; attacks {depth} % below baseline during relief"
        )
    seen = formatting.day(relief.last_observed_day)
    if relief.status == "ongoing":
        return (
            f"At least {relief.duration_days} days and still running on "
            f"{trend.as_of.isoformat()}: onset on {onset}, last seen {seen}; attacks {depth} % "
            "below baseline during relief"
        )
    reason = CENSOR_TEXT[relief.censor_reason or "data_gap"]
    return (
        f"At least {relief.duration_days} days (censored: the look stopped because {reason}): "
        f"onset on {onset}, last seen {seen}; attacks {depth} % below baseline during relief"
    )


def _trigger_rows(windows: Sequence[WindowMetrics]) -> list[tuple[str, list[int]]]:
    """``(trigger, attacks per window)`` for every trigger named in any window."""
    names = sorted({name for window in windows for name in window.trigger_counts})
    return [(name, [window.trigger_counts.get(name, 0) for window in windows]) for name in names]


def _comparison_rows(comparisons: tuple[Comparison, ...]) -> list[dict[str, object]]:
    """One row per non-baseline window, with that window's comparison per metric."""
    by_window: dict[str, dict[str, Comparison]] = {}
    for comparison in comparisons:
        by_window.setdefault(comparison.window, {})[comparison.metric] = comparison
    return [{"window": window, "metrics": metrics} for window, metrics in by_window.items()]


def _adverse_rows(
    counts: dict[str, int], sessions: list[ReportSession]
) -> list[tuple[str, int, str]]:
    """``(effect, sessions reporting it, worst severity)`` per effect in the trend's counts."""
    severities: defaultdict[str, list[str]] = defaultdict(list)
    for session in sessions:
        for effect, severity in session.adverse_effects:
            severities[effect].append(severity)
    return [
        (effect, count, formatting.worst_severity(severities[effect]))
        for effect, count in counts.items()
    ]
