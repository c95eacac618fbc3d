"""What the OpenAPI document promises is what the API does (regressions found by the fuzzer)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import PASSWORD, Api, assert_problem, patch_current


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    document = client.get("/openapi.json").json()
    return [
        (path, method, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_documented_422_is_problem_json(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    shared = document["components"]["responses"]
    for path, method, operation in _operations(client):
        response = operation["responses"].get("422")
        if response:
            # Routes refer to the one shared 422 (tests/test_openapi.py checks every error).
            assert response == {"$ref": "#/components/responses/ValidationFailed"}, (path, method)
    assert list(shared["ValidationFailed"]["content"]) == ["application/problem+json"]


def test_undecodable_body_is_422_like_any_malformed_body(api: Api, client: TestClient) -> None:
    account = api.register()
    r = client.patch(
        "/api/v1/patients/me",
        content=b'{"display_name": "\xff\xfe"}',
        headers={**account.headers, "Content-Type": "application/json"},
    )
    body = assert_problem(r, 422)
    assert body["errors"][0]["loc"] == ["body"]
    assert client.get("/api/v1/patients/me", headers=account.headers).json()["version"] == 1


def test_405_allows_every_method_of_the_path(client: TestClient) -> None:
    r = client.delete("/api/v1/patients/me")
    assert_problem(r, 405)
    assert {m.strip() for m in r.headers["allow"].split(",")} == {"GET", "PATCH"}


def test_revoke_needs_a_token_and_answers_without_a_body(client: TestClient) -> None:
    assert_problem(client.post("/api/v1/auth/revoke", data={"token": ""}), 422)
    r = client.post("/api/v1/auth/revoke", data={"token": "not-a-token"})
    assert r.status_code == 200
    assert r.content == b""
    documented = client.get("/openapi.json").json()["paths"]["/api/v1/auth/revoke"]["post"]
    assert "content" not in documented["responses"]["200"]


def test_patch_fields_that_refuse_null_are_documented_without_null(
    api: Api, client: TestClient
) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    patch = schemas["PatientPatch"]["properties"]
    for name in ("display_name", "timezone", "diagnosis"):
        assert "null" not in str(patch[name]), name
        account = api.register()
        r = patch_current(client, "/api/v1/patients/me", json={name: None}, headers=account.headers)
        assert_problem(r, 422)
    assert "null" in str(patch["weight_kg"])  # clearing the weight is allowed
    diagnosis = schemas["DiagnosisPatch"]["properties"]
    assert diagnosis["branches"]["uniqueItems"] is True
    assert "null" not in str(diagnosis["branches"])


def test_special_use_email_domains_are_refused_as_documented(client: TestClient) -> None:
    register = client.get("/openapi.json").json()["components"]["schemas"]["RegisterIn"]
    assert ".test" in register["properties"]["email"]["description"]
    zone = re.compile(register["properties"]["timezone"]["pattern"])
    assert zone.fullmatch("Europe/Berlin")
    assert not zone.fullmatch("0" * 64)
    r = client.post(
        "/api/v1/auth/register",
        json={"email": "a@b.test", "password": PASSWORD, "display_name": "A", "timezone": "UTC"},
    )
    assert_problem(r, 422)
