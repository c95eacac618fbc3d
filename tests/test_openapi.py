"""The OpenAPI document partners generate clients from: its quality, and the committed snapshot.

Quality: every operation is named, tagged, summarised and described; every request body has an
example the API accepts; every error is documented as problem+json, including the ones the access
rules and outages can cause; both OAuth2 flows are declared. Snapshot: ``openapi.json`` at the
repository root is exactly the live document (``make openapi`` rewrites it), on every engine and
whatever the settings.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import json
import pkgutil
import re
from functools import cache
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

import app.schemas
from app.api.openapi import render_openapi
from app.deps import PARTNER_SCOPES, TOKEN_URL
from app.problems import PROBLEM_BASE, PROBLEM_JSON
from tools.openapi_snapshot import SNAPSHOT, current_document

OPERATION_ID = re.compile(r"^[a-z][A-Za-z0-9]+$")
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
Operation = tuple[str, str, dict[str, Any]]


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(current_document())
    return document


@pytest.fixture
def document() -> dict[str, Any]:
    return _document()


def _operations(document: dict[str, Any]) -> list[Operation]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_the_document_covers_the_whole_api(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    assert len(_operations(document)) >= 60


def test_every_operation_is_named_tagged_summarised_and_described(
    document: dict[str, Any],
) -> None:
    declared_tags = {tag["name"] for tag in document["tags"]}
    seen: dict[str, str] = {}
    for method, path, operation in _operations(document):
        where = f"{method} {path}"
        operation_id = operation.get("operationId", "")
        assert OPERATION_ID.fullmatch(operation_id), (where, operation_id)
        assert operation_id not in seen, (where, seen.get(operation_id))
        seen[operation_id] = where
        assert operation.get("tags"), where
        assert set(operation["tags"]) <= declared_tags, where
        assert operation.get("summary", "").strip(), where
        description = operation.get("description", "").strip()
        assert description, f"{where}: give the endpoint a docstring"
        assert description != operation["summary"], where


def _examples(document: dict[str, Any], media: dict[str, Any]) -> list[Any]:
    """The examples of a request body: on the media type, else on its component schema."""
    found = [media["example"]] if "example" in media else []
    found += [example["value"] for example in media.get("examples", {}).values()]
    if not found:
        schema = _resolve(document, media.get("schema", {}))
        found = list(schema.get("examples", [])) + (
            [schema["example"]] if "example" in schema else []
        )
    return found


def test_every_request_body_has_an_example(document: dict[str, Any]) -> None:
    bodies = 0
    for method, path, operation in _operations(document):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            bodies += 1
            assert _examples(document, media), f"{method} {path} {media_type}: no example"
    assert bodies >= 25


@cache
def _models() -> dict[str, list[type[BaseModel]]]:
    """Every pydantic model of app.schemas by class name (the name FastAPI gives its schema)."""
    found: dict[str, list[type[BaseModel]]] = {}
    for module_info in pkgutil.iter_modules(app.schemas.__path__, "app.schemas."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                found.setdefault(name, []).append(value)
    return found


def test_body_examples_are_accepted_by_the_api_models(document: dict[str, Any]) -> None:
    """An example that the API would refuse teaches partners the wrong thing."""
    checked = 0
    for method, path, operation in _operations(document):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            ref = media.get("schema", {}).get("$ref", "")
            schema = _resolve(document, media.get("schema", {}))
            for example in _examples(document, media):
                where = f"{method} {path} {media_type}"
                if media_type == "application/json":
                    (model,) = _models()[ref.rsplit("/", 1)[-1]]
                    model.model_validate_json(json.dumps(example))
                else:  # a form: only its fields, every required one
                    assert set(example) <= set(schema["properties"]), where
                    assert set(schema.get("required", [])) <= set(example), where
                checked += 1
    assert checked >= 25


def test_every_error_response_is_problem_json(document: dict[str, Any]) -> None:
    assert "Problem" in document["components"]["schemas"]
    for method, path, operation in _operations(document):
        for code, declared in operation["responses"].items():
            if not code.startswith(("4", "5")):
                continue
            where = f"{method} {path} {code}"
            response = _resolve(document, declared)
            assert response.get("description"), where
            assert list(response.get("content", {})) == [PROBLEM_JSON], where
            media = response["content"][PROBLEM_JSON]
            assert media["schema"] == {"$ref": "#/components/schemas/Problem"}, where
            # One example, or several named ones (e.g. each RFC 6749 error of the token endpoint).
            examples = [media["example"]] if "example" in media else []
            examples += [named["value"] for named in media.get("examples", {}).values()]
            assert examples, where
            for example in examples:
                assert example["status"] == int(code), where
                assert example["type"].startswith(PROBLEM_BASE), where
                assert example["title"], where
                assert example["detail"], where
            if code in ("429", "503"):
                assert "Retry-After" in response["headers"], where


def test_errors_the_access_rules_and_outages_cause_are_documented(
    document: dict[str, Any],
) -> None:
    for method, path, operation in _operations(document):
        where = f"{method} {path}"
        documented = set(operation["responses"])
        if operation.get("security"):
            assert "401" in documented, where
        if "{pid}" in path:
            # Another patient's record is a 404; a read-only grantee writing, a grantee on
            # the patient's own routes and a partner without the scope get 403.
            assert {"403", "404"} <= documented, where
        if path.startswith("/api/"):
            assert "503" in documented, where  # the database is away: retry later
        if "requestBody" in operation or operation.get("parameters"):
            assert "422" in documented, where


def test_every_success_response_with_a_body_is_typed(document: dict[str, Any]) -> None:
    """Generated clients need the shape of each success body (both of a PUT's 200 and 201)."""
    for method, path, operation in _operations(document):
        for code, response in operation["responses"].items():
            if not code.startswith("2") or code == "204":
                continue
            if operation["operationId"] == "revokeToken":
                continue  # RFC 7009: 200 without a body
            content = _resolve(document, response).get("content", {})
            assert content, f"{method} {path} {code}: no content"
            assert all("schema" in media for media in content.values()), (method, path, code)


def test_both_oauth2_flows_and_the_partner_scopes_are_declared(
    document: dict[str, Any],
) -> None:
    (scheme,) = document["components"]["securitySchemes"].values()
    assert scheme["type"] == "oauth2"
    flows = scheme["flows"]
    assert set(flows) == {"password", "clientCredentials"}
    assert flows["password"]["tokenUrl"] == flows["clientCredentials"]["tokenUrl"] == TOKEN_URL
    assert set(flows["clientCredentials"]["scopes"]) == set(PARTNER_SCOPES)
    assert set(PARTNER_SCOPES) == {"diary:read", "diary:write", "reports:read"}


# --- the committed snapshot -------------------------------------------------------------------


def _drift(live: str, committed: str) -> str:
    diff = difflib.unified_diff(
        committed.splitlines(), live.splitlines(), "openapi.json", "live", lineterm="", n=2
    )
    return "\n".join(list(diff)[:60])


def test_the_committed_snapshot_is_the_live_document(app: FastAPI, client: TestClient) -> None:
    """Runs on every engine: the document must not depend on it."""
    committed = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""
    live = render_openapi(app)
    if live != committed:
        pytest.fail(
            "openapi.json differs from the live OpenAPI document: run `make openapi` and commit "
            f"it.\n{_drift(live, committed)}",
            pytrace=False,
        )
    assert client.get("/openapi.json").json() == json.loads(committed)


def test_the_document_does_not_depend_on_settings(app: FastAPI) -> None:
    """The snapshot tool builds the app with other settings (secret, limits, database) than
    the tests do; both documents must be the same, or `make openapi` would not be stable."""
    assert current_document() == render_openapi(app)
