"""The series report inside the web app's frame, and charts inlined into pages.

The report (``app/reports/html.py``) is a self-contained document: its own ``<style>`` and a
body whose every patient-entered value Jinja2 escaped. The web page takes those two parts of
that trusted output as they are and puts them in the app's frame (header, navigation), so the
report reads, and prints, exactly as the downloadable one does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup

from app.reports.html import inline_chart

_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)
_BODY = re.compile(r"<body>(.*)</body>", re.DOTALL)


@dataclass(frozen=True)
class ReportParts:
    title: Markup
    style: Markup
    body: Markup


def split_report(html: str) -> ReportParts:
    """The title, stylesheet and body of a document from ``render_report_html``."""
    title, style, body = _TITLE.search(html), _STYLE.search(html), _BODY.search(html)
    if title is None or style is None or body is None:
        raise ValueError("not a report document")
    # Output of our own autoescaping template (see the module docstring).
    return ReportParts(Markup(title.group(1)), Markup(style.group(1)), Markup(body.group(1)))


def inline_svg(svg: str) -> Markup:
    """A chart of ours as inline markup, checked like the report's (no script, nothing
    loaded)."""
    return inline_chart(svg)
