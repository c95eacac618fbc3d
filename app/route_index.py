"""The app's routes as its OpenAPI document states them: full templates and their methods.

Routes inside included routers only know their path without the router's prefix, and Starlette
answers a 405 with the methods of the *first* route on a path only. The OpenAPI document (built
once and cached by FastAPI) has the complete picture, so metrics labels and ``Allow`` headers
come from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


@dataclass(frozen=True)
class RouteIndex:
    template_by_operation: dict[str, str]
    patterns: tuple[tuple[re.Pattern[str], frozenset[str]], ...]

    def methods_for(self, path: str) -> frozenset[str]:
        """Every method documented for a concrete path (empty when no template matches)."""
        found: set[str] = set()
        for pattern, methods in self.patterns:
            if pattern.fullmatch(path):
                found |= methods
        return frozenset(found)


def route_index(app: Any) -> RouteIndex:
    index: RouteIndex | None = getattr(app.state, "route_index", None)
    if index is None:
        index = _build(app.openapi())
        app.state.route_index = index
    return index


def _build(document: dict[str, Any]) -> RouteIndex:
    templates: dict[str, str] = {}
    patterns = []
    for template, operations in document.get("paths", {}).items():
        methods = set()
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            methods.add(method.upper())
            if isinstance(operation, dict) and "operationId" in operation:
                templates[operation["operationId"]] = template
        # A path parameter matches one segment, as Starlette's default convertor does.
        regex = "".join(
            "[^/]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", template)
        )
        patterns.append((re.compile(regex), frozenset(methods)))
    return RouteIndex(template_by_operation=templates, patterns=tuple(patterns))
