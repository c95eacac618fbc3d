"""POST /me/import against finding 6 of the security review: the 409 before the body is read, a
rate limit and body limit of its own, plausible dates, and errors that stay bounded."""

from __future__ import annotations

import copy
import json
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message

from tests.api.test_data_rights import IMPORT, _minimal, export, normalise
from tests.diary import episode, episode_url, new_id
from tests.helpers import Account, Api, assert_problem

MIB = 1024 * 1024


def _post_counting_reads(
    app: FastAPI, who: Account, body: bytes | None, *, declared: int
) -> tuple[int, int]:
    """POST /me/import straight into the ASGI app, the body offered in 64 KiB pieces only as
    the app asks for them: (status, body bytes the app read). ``body=None`` offers ``declared``
    bytes of whitespace (a 32 MiB upload in progress)."""
    read = 0

    async def receive() -> Message:
        nonlocal read
        source = body if body is not None else b" " * declared
        chunk = source[read : read + 64 * 1024]
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": read < len(source)}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": IMPORT,
        "raw_path": IMPORT.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {who.access_token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(declared).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    anyio.run(app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], read


def test_import_into_a_non_empty_account_is_refused_before_the_body_is_read(
    api: Api, client: TestClient, app: FastAPI
) -> None:
    """Finding 6: the "account not empty" 409 comes before a byte of a 32 MiB upload is read
    (it used to come after parsing all of it)."""
    bob = api.register()
    r = client.put(episode_url(eid=new_id()), json=episode(), headers=bob.headers)
    assert r.status_code == 201
    status, read = _post_counting_reads(app, bob, None, declared=32 * MIB)
    assert (status, read) == (409, 0)
    # The same harness does see a body being read: an empty account's import reads it all.
    alice = api.register()
    doc = json.dumps(_minimal()).encode() + b" " * (3 * 64 * 1024)
    status, read = _post_counting_reads(app, alice, doc, declared=len(doc))
    assert (status, read) == (200, len(doc))


def test_import_has_a_rate_limit_of_its_own(api: Api, client: TestClient, app: FastAPI) -> None:
    """Finding 6: each attempt (a failed one too) counts; past the limit a 429 with
    Retry-After comes before the body is read, and other patients are not affected."""
    alice, bob = api.register(), api.register()
    bad = _minimal()
    bad["episodes"][0]["intensity"] = 11
    limit = client.app.state.ctx.settings.import_max_per_patient  # type: ignore[attr-defined]
    for _ in range(limit):
        assert_problem(client.post(IMPORT, json=bad, headers=alice.headers), 422)
    r = client.post(IMPORT, json=_minimal(), headers=alice.headers)
    assert_problem(r, 429)
    assert int(r.headers["retry-after"]) > 0
    status, read = _post_counting_reads(app, alice, None, declared=32 * MIB)
    assert (status, read) == (429, 0)
    assert client.post(IMPORT, json=_minimal(), headers=bob.headers).status_code == 200


def test_import_body_limit(api: Api, client: TestClient) -> None:
    alice = api.register()
    limit = client.app.state.ctx.settings.max_import_body_bytes  # type: ignore[attr-defined]
    doc = json.dumps(_minimal()).encode()
    body = doc[:-1] + b', "access_log": ["' + b"x" * limit + b'"]}'
    r = client.post(
        IMPORT, content=body, headers={**alice.headers, "Content-Type": "application/json"}
    )
    assert_problem(r, 413)
    assert export(client, alice)["episodes"] == []


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = _minimal()
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "loc"),
    [
        (
            _with(("episodes", 0, "created_at"), "2999-01-01T00:00:00Z"),
            ["episodes", 0, "created_at"],
        ),
        (
            _with(("episodes", 0, "updated_at"), "2999-01-01T00:00:00Z"),
            ["episodes", 0, "updated_at"],
        ),
        (
            _with(("sessions", 0, "deleted_at"), "2026-02-01T00:00:00Z"),
            ["sessions", 0, "deleted_at"],
        ),
        (
            _with(("episodes", 0, "created_at"), "9999-12-31T23:59:59-23:59"),
            ["episodes", 0, "created_at"],
        ),
        (
            _with(("assessments", 0, "deleted_at"), "0001-01-01T00:00:00+23:59"),
            ["assessments", 0, "deleted_at"],
        ),
        (
            _with(("sessions", 0, "started_at"), "9999-12-31T23:59:59-23:59"),
            ["sessions", 0, "started_at"],
        ),
    ],
    ids=[
        "created-2999",
        "updated-2999",
        "deleted-before-created",
        "extreme-offset-created",
        "extreme-offset-deleted",
        "extreme-offset-started",
    ],
)
def test_import_refuses_implausible_dates(
    api: Api, client: TestClient, doc: dict[str, Any], loc: list[Any]
) -> None:
    """Finding 6: ``created_at`` in 2999, ``deleted_at`` before ``created_at`` and offsets that
    overflow on conversion are each a 422 naming the path, and nothing is written."""
    alice = api.register()
    before = export(client, alice)
    body = assert_problem(client.post(IMPORT, json=doc, headers=alice.headers), 422)
    assert body["errors"][0]["loc"] == ["body", *loc]
    assert body["detail"].startswith(".".join(map(str, ["body", *loc])) + ": ")
    assert normalise(export(client, alice)) == normalise(before)


@pytest.mark.parametrize(
    ("body", "loc", "type_"),
    [
        (b"", ["body"], "json_invalid"),
        (b'{"format": "paindiary-export",', ["body"], "json_invalid"),
        (b"[]", ["body"], "dict_type"),
        (json.dumps(_minimal()).encode() + b" {}", ["body"], "json_invalid"),
        (
            json.dumps({**_minimal(), "surprise": {"x": [1] * 10}}).encode(),
            ["body", "surprise"],
            "extra_forbidden",
        ),
        (
            json.dumps({**_minimal(), "grants": {"not": "a list"}}).encode(),
            ["body", "grants"],
            "list_type",
        ),
        (json.dumps({**_minimal(), "episodes": None}).encode(), ["body", "episodes"], "list_type"),
        (
            json.dumps({**_minimal(), "episodes": [7]}).encode(),
            ["body", "episodes", 0],
            "model_attributes_type",
        ),
    ],
    ids=[
        "empty",
        "cut-short",
        "array",
        "trailing",
        "unknown",
        "grants-type",
        "null-list",
        "scalar",
    ],
)
def test_a_body_that_is_no_document_is_a_422(
    api: Api, client: TestClient, body: bytes, loc: list[Any], type_: str
) -> None:
    alice = api.register()
    r = client.post(
        IMPORT, content=body, headers={**alice.headers, "Content-Type": "application/json"}
    )
    problem = assert_problem(r, 422)
    assert (problem["errors"][0]["loc"], problem["errors"][0]["type"]) == (loc, type_)
    assert export(client, alice)["episodes"] == []


def test_errors_are_listed_in_document_order_and_capped(api: Api, client: TestClient) -> None:
    alice = api.register()
    doc = _minimal()
    good = doc["episodes"][0]
    doc["episodes"] = [{**copy.deepcopy(good), "id": new_id(), "intensity": 11} for _ in range(300)]
    doc["patient"]["timezone"] = "Mars/Olympus"
    body = assert_problem(client.post(IMPORT, json=doc, headers=alice.headers), 422)
    assert len(body["errors"]) == 51  # the profile's, then the first 50 records'
    assert body["errors"][0]["loc"] == ["body", "patient", "timezone"]
    assert [e["loc"] for e in body["errors"][1:3]] == [
        ["body", "episodes", 0, "intensity"],
        ["body", "episodes", 1, "intensity"],
    ]


def test_sections_in_any_order_and_references_before_their_series(
    api: Api, client: TestClient
) -> None:
    """Sessions and assessments may come before the series they refer to (and the members in
    any order): the series are written first."""
    alice = api.register()
    doc = _minimal()
    reordered = {key: doc[key] for key in ("sessions", "assessments", "episodes", "series")}
    reordered |= {key: value for key, value in doc.items() if key not in reordered}
    r = client.post(
        IMPORT,
        content=json.dumps(reordered),
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    imported = export(client, alice)
    (series,) = imported["series"]
    assert imported["sessions"][0]["series_id"] == series["id"]
    assert imported["assessments"][0]["series_id"] == series["id"]
