"""Security headers: the baseline for every response and the strict policies for documents.

The API answers JSON, which a browser never renders, but a response opened directly or
embedded by another site must not run anything: hence ``default-src 'none'`` everywhere.
Documents that do render (the clinician's HTML report, the SVG chart) get a policy of their
own that still allows no script, no remote resource, no framing and no form target.
"""

from __future__ import annotations

# Every response without a policy of its own (JSON, problem+json, metrics).
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

# The printable HTML report: self-contained (inline <style>, the chart inline or as a data:
# image), no script of any kind, nothing fetched from anywhere. Patient-entered text is
# escaped by the template; this policy is the second line should escaping ever fail.
REPORT_CSP = (
    "default-src 'none'; "
    "style-src 'unsafe-inline'; "
    "img-src data:; "
    "base-uri 'none'; "
    "form-action 'none'; "
    "frame-ancestors 'none'"
)

# The SVG chart opened on its own: an SVG document can carry script, ours never does.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def docs_csp(script_hash: str) -> str:
    """Swagger UI (/docs) and ReDoc (/redoc): scripts and styles only from this server (the
    bundles installed with the project), plus the Swagger page's start-up script by its hash;
    requests (the OpenAPI document, "Try it out") only to this server. ReDoc injects its styles
    as <style> elements and runs its search index in a worker built from a blob: URL."""
    return (
        "default-src 'none'; "
        f"script-src 'self' {script_hash}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        "font-src 'self'; "
        "connect-src 'self'; "
        "worker-src 'self' blob:; "
        "base-uri 'none'; "
        "form-action 'none'; "
        "frame-ancestors 'none'"
    )


def report_headers() -> dict[str, str]:
    """Headers for the HTML report response: its CSP, no caching (patient data), no framing."""
    return {
        "Content-Security-Policy": REPORT_CSP,
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
    }


def svg_headers() -> dict[str, str]:
    return {"Content-Security-Policy": SVG_CSP, "Cache-Control": "no-store"}
