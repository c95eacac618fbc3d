"""Write the OpenAPI document to ``openapi.json`` at the repository root (``make openapi``).

Partners generate their clients from the committed file, and tests/test_openapi.py fails as soon
as the live document drifts from it, so an API change always shows up in review as a change of
this file. The document depends on the code only, never on settings or the database engine
(the test proves it): the app is built here with throwaway settings and never connects.

    python tools/openapi_snapshot.py           # rewrite openapi.json
    python tools/openapi_snapshot.py --check   # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from app.api.openapi import render_openapi
from app.main import create_app
from app.settings import Settings

SNAPSHOT = Path(__file__).resolve().parent.parent / "openapi.json"


def current_document() -> str:
    """The document as ``render_openapi`` prints it, from an app nobody serves."""
    with tempfile.TemporaryDirectory(prefix="paindiary-openapi-") as tmp:
        settings = Settings(
            env="test",
            database_url=f"sqlite:///{Path(tmp) / 'never-opened.db'}",
            secret_key="openapi-snapshot-only-never-signs-a-real-token",
        )
        app = create_app(settings)
        try:
            return render_openapi(app)
        finally:
            app.state.ctx.db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    document = current_document()
    committed = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else None
    if args.check:
        if committed != document:
            print(f"{SNAPSHOT.name} is out of date: run `make openapi` and commit it.")
            return 1
        print(f"{SNAPSHOT.name} is up to date ({len(document.encode())} bytes).")
        return 0
    SNAPSHOT.write_text(document, encoding="utf-8")
    state = "unchanged" if committed == document else "written"
    print(f"{SNAPSHOT.name} {state} ({len(document.encode())} bytes).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
