"""The clinician web app at ``/clinic/``: server-rendered pages on the same services and the same
access rules as the API (see ``routes``). No JavaScript: every page works with it turned off."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def install_web(app: FastAPI) -> None:
    """Mount the web app's pages at ``/clinic/`` and its stylesheet at ``/clinic/static/``."""
    from app.web.pages import PREFIX, STATIC
    from app.web.routes import router

    # The stylesheet first: the pages' catch-all (an HTML 404 page) must not shadow it.
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="clinic-static")
    app.include_router(router)
