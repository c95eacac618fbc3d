"""Touches to the generated OpenAPI document, so that it describes what the API really sends."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.openapi.models import Schema
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.api.responses import PROBLEM_SCHEMA, RESPONSE_NAMES, problem_response

_FASTAPI_422_SCHEMAS = ("HTTPValidationError", "ValidationError")
# Every operation under the API prefix reads or writes the database, so each one may answer
# 503 with Retry-After during an outage (app/errors.py); the root probes document their own.
_DATABASE_BACKED = "/api/"
_SCHEMA_REF = "#/components/schemas/{model}"
# Models of request bodies that endpoints read themselves (see json_request_body).
_RAW_BODY_MODELS: list[type[BaseModel]] = []


def json_request_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for an endpoint that reads its JSON body itself (to decide what it can
    before reading it, or to read it piece by piece): documents ``model`` as the required
    request body exactly as FastAPI would for a body parameter."""
    _RAW_BODY_MODELS.append(model)
    schema = {"$ref": _SCHEMA_REF.format(model=model.__name__)}
    return {"requestBody": {"content": {"application/json": {"schema": schema}}, "required": True}}


def document_model(model: type[BaseModel]) -> None:
    """Put ``model`` into the document's components, for a schema that refers to it by name
    without FastAPI seeing it (the batch's items, read raw: app/schemas/diary.py)."""
    if model not in _RAW_BODY_MODELS:
        _RAW_BODY_MODELS.append(model)


def install_openapi(app: FastAPI) -> None:
    """FastAPI documents a JSON ``HTTPValidationError`` 422 for every route with parameters;
    ours is problem+json (app/errors.py). Replace it everywhere, including on routes that do
    not declare their 422 themselves, so clients and the fuzzer see the real shape. Add the
    shared ``Problem`` schema the error responses refer to, and the outage 503."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            components = document.setdefault("components", {})
            shared: dict[str, Any] = {}
            for path, operations in document.get("paths", {}).items():
                for method, operation in operations.items():
                    if isinstance(operation, dict):
                        if method == "patch":
                            _require_if_match(operation)
                        responses = operation.setdefault("responses", {})
                        _fix_responses(path, responses)
                        _share_responses(responses, shared)
            _add_links(document)
            if shared:
                components["responses"] = shared
            schemas = components.setdefault("schemas", {})
            if _RAW_BODY_MODELS:
                _, definitions = models_json_schema(
                    [(model, "validation") for model in _RAW_BODY_MODELS],
                    ref_template=_SCHEMA_REF,
                )
                for name, schema in definitions.get("$defs", {}).items():
                    # The same round trip FastAPI gives its own schemas (floats, no nulls).
                    normal = jsonable_encoder(Schema(**schema), by_alias=True, exclude_none=True)
                    schemas.setdefault(name, normal)
            for name in _FASTAPI_422_SCHEMAS:
                schemas.pop(name, None)
            schemas["Problem"] = PROBLEM_SCHEMA
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _require_if_match(operation: dict[str, Any]) -> None:
    """Every PATCH requires If-Match (``RequiredIfMatch``, a dependency, which FastAPI documents
    as optional): say so, with the 428 its absence gets."""
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and parameter.get("name") == "If-Match":
            parameter["required"] = True
            parameter["schema"] = {"type": "string", "minLength": 1, "title": "If-Match"}
            operation.setdefault("responses", {}).setdefault("428", problem_response(428))


_ITEM_METHODS = ("get", "put", "patch", "delete")
_LINK_NAMES = {"get": "read", "put": "replace", "patch": "update", "delete": "delete"}


def _add_links(document: dict[str, Any]) -> None:
    """OpenAPI links from every operation that creates a record (a POST to a collection, a PUT
    to an item answering 201) to the read, update and delete operations of that record: the
    new id from the response body (or the PUT's path), the path's other parameters from the
    request, and ``If-Match`` from the response's ETag. Clients and stateful fuzzers follow
    them to the record just made."""
    paths: dict[str, Any] = document.get("paths", {})
    schemas = document.get("components", {}).get("schemas", {})
    for path, operations in paths.items():
        for method, operation in operations.items():
            created = operation.get("responses", {}).get("201")
            if method not in ("post", "put") or not isinstance(created, dict):
                continue
            item_path = path if method == "put" else _item_path(paths, path)
            if item_path is None:
                continue
            own = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            body = _response_properties(created, schemas)
            links = {}
            for target_method in _ITEM_METHODS:
                target = paths[item_path].get(target_method)
                if target is None or target is operation or "operationId" not in target:
                    continue
                parameters = {}
                for parameter in target.get("parameters", []):
                    name = parameter["name"]
                    if parameter["in"] == "path":
                        if name in own:
                            parameters[name] = f"$request.path.{name}"
                        elif "id" in body or name in body:
                            parameters[name] = f"$response.body#/{'id' if 'id' in body else name}"
                    elif parameter["in"] == "header" and name.lower() == "if-match":
                        parameters[f"header.{name}"] = "$response.header.ETag"
                links[f"{_LINK_NAMES[target_method]}-{target['operationId']}"] = {
                    "operationId": target["operationId"],
                    "parameters": parameters,
                }
            if links:
                created["links"] = links


def _item_path(paths: dict[str, Any], collection: str) -> str | None:
    """``/x/{pid}/episodes`` → ``/x/{pid}/episodes/{episode_id}`` (the one item path below)."""
    for path in paths:
        rest = path.removeprefix(collection + "/")
        if rest != path and rest.startswith("{") and rest.endswith("}") and "/" not in rest:
            return path
    return None


def _response_properties(response: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = schemas.get(ref.rsplit("/", 1)[1], {})
    return set(schema.get("properties", {}))


def _fix_responses(path: str, responses: dict[str, Any]) -> None:
    if "422" in responses and "application/json" in responses["422"].get("content", {}):
        responses["422"] = problem_response(422)
    if path.startswith(_DATABASE_BACKED) and "503" not in responses:
        responses["503"] = problem_response(503)


def _share_responses(responses: dict[str, Any], shared: dict[str, Any]) -> None:
    """A route's standard error response becomes a reference to its one shared copy; those
    with an example or description of their own stay inline."""
    for code, response in responses.items():
        name = RESPONSE_NAMES.get(int(code)) if code.isdigit() else None
        if name is not None and response == problem_response(int(code)):
            shared[name] = response
            responses[code] = {"$ref": f"#/components/responses/{name}"}


def render_openapi(app: FastAPI) -> str:
    """The document as committed in ``openapi.json`` (``make openapi``): sorted keys, so the
    text changes only when the API does."""
    return json.dumps(app.openapi(), sort_keys=True, indent=2) + "\n"
