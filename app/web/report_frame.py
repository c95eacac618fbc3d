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
_THEAD = re.compile(r"<thead>.*?</thead>", re.DOTALL)
_UNSCOPED_TH = re.compile(r"<th(?=[\s>])(?![^>]*\bscope=)")


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
    return ReportParts(
        Markup(title.group(1)), Markup(style.group(1)), Markup(scoped_headers(body.group(1)))
    )


def scoped_headers(html: str) -> str:
    """Every ``<th>`` with a ``scope`` for screen readers: ``col`` in a ``<thead>``, ``row``
    elsewhere (the report's template leaves them out; a header that has one keeps it)."""
    pieces: list[str] = []
    done = 0
    for head in _THEAD.finditer(html):
        pieces.append(_UNSCOPED_TH.sub('<th scope="row"', html[done : head.start()]))
        pieces.append(_UNSCOPED_TH.sub('<th scope="col"', head.group(0)))
        done = head.end()
    pieces.append(_UNSCOPED_TH.sub('<th scope="row"', html[done:]))
    return "".join(pieces)


def inline_svg(svg: str) -> Markup:
    """A chart of ours as inline markup, checked like the report's (no script, nothing
    loaded)."""
    return inline_chart(svg)
