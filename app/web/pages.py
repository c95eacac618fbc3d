"""Rendering the web app's pages: one Jinja2 environment (autoescaping everything), the headers
every page carries, and the HTML error page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.reports import formatting

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
PREFIX = "/clinic"

# No script at all; the stylesheet is ours; charts are inline SVG (matplotlib writes style
# attributes, hence 'unsafe-inline' for styles only). Forms post to this site only.
WEB_CSP = (
    "default-src 'none'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "form-action 'self'; "
    "base-uri 'none'; "
    "frame-ancestors 'none'"
)
# Pages carry patient data: never stored by the browser or a proxy, so Back after sign-out
# asks the server again (and gets the sign-in page).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Content-Security-Policy": WEB_CSP,
    "X-Frame-Options": "DENY",
}

_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENVIRONMENT.filters.update(formatting.FILTERS)
_ENVIRONMENT.globals["prefix"] = PREFIX


def page(
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    html = _ENVIRONMENT.get_template(template).render(context)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS | (headers or {}))


def error_page(status: int, title: str, detail: str, caller: object | None) -> HTMLResponse:
    return page(
        "error.html",
        {"caller": caller, "title": title, "detail": detail, "status": status},
        status=status,
    )
