"""The app's routes: the template of a concrete path, and every method of a path.

Route templates (metrics labels, the audit's resources) are rebuilt from the URL and its path
parameters: a route inside an included router only knows its path without the router's prefix.
Starlette answers a 405 with the methods of the *first* route on a path only; the OpenAPI
document (built once and cached by FastAPI) has the complete picture, so ``Allow`` headers come
from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_API_VERSION = re.compile(r"^/api/v\d+")


def route_template(path: str, params: Mapping[str, object]) -> str:
    """``/api/v1/patients/1b2…/episodes/9f…`` → ``/api/v1/patients/{pid}/episodes/{id}``.

    Each parameter names the segment that holds its value; parameters are matched right to left
    to whole segments, so a value that is also a literal segment further left stays literal.
    """
    segments = path.split("/")
    end = len(segments)
    for name, value in reversed(list(params.items())):
        for index in range(end - 1, -1, -1):
            if segments[index] == str(value):
                segments[index], end = "{" + name + "}", index
                break
    return "/".join(segments)


def below_api_version(template: str) -> str:
    """``/api/v1/patients/{pid}`` → ``/patients/{pid}``."""
    return _API_VERSION.sub("", template)


@dataclass(frozen=True)
class RouteIndex:
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


_UUID = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


def _segment(schema: dict[str, Any]) -> str:
    """What one path parameter matches: its documented pattern, a UUID for ``format: uuid``
    (the routes' ``uuid`` convertor), else any one segment as Starlette's default convertor."""
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        return "(?:" + pattern.removeprefix("^").removesuffix("$") + ")"
    if schema.get("format") == "uuid":
        return _UUID
    return "[^/]+"


def _build(document: dict[str, Any]) -> RouteIndex:
    patterns = []
    for template, operations in document.get("paths", {}).items():
        methods = set()
        segments: dict[str, str] = {}
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            methods.add(method.upper())
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path":
                    segments[parameter["name"]] = _segment(parameter.get("schema", {}))
        # So "/episodes/batch" is not also "/episodes/{episode_id}": an id matches only what
        # the document says an id looks like.
        regex = "".join(
            segments.get(part[1:-1], "[^/]+") if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", template)
        )
        patterns.append((re.compile(regex), frozenset(methods)))
    return RouteIndex(patterns=tuple(patterns))
