"""Touches to the generated OpenAPI document, so that it describes what the API really sends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from app.api.responses import problems

_FASTAPI_422_SCHEMAS = ("HTTPValidationError", "ValidationError")


def install_openapi(app: FastAPI) -> None:
    """FastAPI documents a JSON ``HTTPValidationError`` 422 for every route with parameters;
    ours is problem+json (app/errors.py). Replace it everywhere, including on routes that do
    not declare their 422 themselves, so clients and the fuzzer see the real shape."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            problem_422 = problems(422)[422]
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    responses = (
                        operation.get("responses", {}) if isinstance(operation, dict) else {}
                    )
                    if "422" in responses and "application/json" in responses["422"].get(
                        "content", {}
                    ):
                        responses["422"] = problem_422
            schemas = document.get("components", {}).get("schemas", {})
            for name in _FASTAPI_422_SCHEMAS:
                schemas.pop(name, None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
