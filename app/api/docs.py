"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from files installed with the project.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, which an air-gapped hospital network
cannot reach. The ``fastapi-offline`` package ships both bundles (and a favicon); they are
served from ``/docs-assets/`` and the pages run under a policy that allows only those files,
the page's own start-up script (by its hash) and requests to this server.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.security.headers import docs_csp

ASSETS = "/docs-assets"
ASSET_DIRECTORY = Path(fastapi_offline.__file__).resolve().parent / "static"
SWAGGER_JS = f"{ASSETS}/swagger-ui-bundle.js"
SWAGGER_CSS = f"{ASSETS}/swagger-ui.css"
REDOC_JS = f"{ASSETS}/redoc.standalone.js"
FAVICON = f"{ASSETS}/favicon.png"


def _swagger_start(openapi_url: str) -> str:
    # validatorUrl null: Swagger UI would otherwise fetch a badge from swagger.io.
    options = {
        "url": openapi_url,
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "showExtensions": True,
        "validatorUrl": None,
    }
    return (
        f"const options = {json.dumps(options)};\n"
        "const bundle = SwaggerUIBundle;\n"
        "options.presets = [bundle.presets.apis, bundle.SwaggerUIStandalonePreset];\n"
        "window.ui = SwaggerUIBundle(options);\n"
    )


def _hash(script: str) -> str:
    digest = hashlib.sha256(script.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


def _page(title: str, head: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<link rel="icon" type="image/png" href="{FAVICON}">\n{head}</head>\n'
        f"<body>\n{body}</body>\n</html>\n"
    )


def install_docs(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    """Serve the assets and the two pages on ``app`` (created with ``docs_url=None`` and
    ``redoc_url=None``)."""
    start = "\n" + _swagger_start(openapi_url)  # the hash covers the element's exact text
    swagger = _page(
        f"{app.title} - Swagger UI",
        f'<link rel="stylesheet" href="{SWAGGER_CSS}">\n',
        f'<div id="swagger-ui"></div>\n<script src="{SWAGGER_JS}"></script>\n'
        f"<script>{start}</script>\n",
    )
    redoc = _page(
        f"{app.title} - ReDoc",
        "<style>body { margin: 0; padding: 0; }</style>\n",
        f'<redoc spec-url="{html.escape(openapi_url)}"></redoc>\n'
        f'<script src="{REDOC_JS}"></script>\n',
    )
    headers = {
        "Content-Security-Policy": docs_csp(_hash(start)),
        "X-Frame-Options": "DENY",
    }

    app.mount(ASSETS, StaticFiles(directory=ASSET_DIRECTORY), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger, headers=headers)

    @app.get("/redoc", include_in_schema=False)
    def redoc_page() -> HTMLResponse:
        return HTMLResponse(redoc, headers=headers)
