"""The access matrix, generated from the app's own routes.

Every route whose path names a patient (``{pid}``) or any other id, and every ``/admin/`` route,
is called by everyone who must not get through: another patient, a clinician without a grant,
with an expired grant, after revocation, a read-only grantee writing, a partner without the
scope, and patients (and other non-admins) on admin routes. Each must get exactly the contract's
status (404 where existence must not leak, 403 where the caller may read but not do this), as
problem+json, and the victim's data must be unchanged. A new id-bearing route is covered
automatically; one without access control fails here, and one outside ``/patients/{pid}`` and
``/admin/`` fails until someone decides how it is protected.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from starlette.routing import BaseRoute

from app.db import Base
from app.main import create_app
from app.models import AuditEntry, Grant
from app.services.context import AppContext
from app.settings import Settings
from tests.helpers import Account, Api, Partner

PREFIX = "/api/v1"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PARAM = re.compile(r"\{(\w+)\}")
PATIENT_ROUTE = re.compile(r"^/patients/\{pid\}(/|$)")
# Routes for the patient themself: a grantee who may read the patient still gets 403 here.
OWNER_ONLY = frozenset(
    {"/patients/{pid}/grants", "/patients/{pid}/grants/{gid}", "/patients/{pid}/access-log"}
)
# Wherever a partner's token lacks the scope: reads with only diary:write, writes without it.
PARTNER_SCOPE_FOR_READS = "diary:write"
PARTNER_SCOPE_FOR_WRITES = "diary:read reports:read"


@dataclass
class World:
    victim: Account
    other_patient: Account
    no_grant: Account
    expired: Account
    revoked: Account
    reader: Account
    writer: Account
    admin: Account
    partner: Partner
    victim_grant_id: str
    series_id: str = ""
    session_id: str = ""
    partner_headers: dict[str, dict[str, str]] = field(default_factory=dict)


# Real ids of the victim's records, by (route, parameter): a caller must get the same answer
# for a record that exists as for one that does not. Parameters not listed here get a fresh
# uuid4 (today's date for dates) and must be refused all the same, so new routes need no entry.
SERIES_ROUTES = (
    "/patients/{pid}/series/{sid}",
    "/patients/{pid}/series/{sid}/sessions",
    "/patients/{pid}/series/{sid}/sessions/{session_id}",
)
RECORDS: dict[tuple[str, str], Callable[[World], str]] = {
    ("/patients/{pid}/grants/{gid}", "gid"): lambda w: w.victim_grant_id,
    ("/admin/clients/{client_id}", "client_id"): lambda w: w.partner.client_id,
    **{(route, "sid"): (lambda w: w.series_id) for route in SERIES_ROUTES},
    (SERIES_ROUTES[2], "session_id"): lambda w: w.session_id,
}


@dataclass(frozen=True)
class Case:
    method: str
    template: str  # without the /api/v1 prefix
    caller: str
    expected: int


def build_world(api: Api, ctx: AppContext) -> World:
    victim = api.register(name="Victim")
    clinicians = [api.staff("clinician") for _ in range(5)]
    no_grant, expired, revoked, reader, writer = clinicians
    partner = api.partner()
    api.grant(victim, to=expired, access="write", expires_at=_later())
    gone = api.grant(victim, to=revoked, access="write")
    r = api.client.delete(f"{PREFIX}/patients/me/grants/{gone['id']}", headers=victim.headers)
    assert r.status_code == 204
    read_grant = api.grant(victim, to=reader, access="read")
    api.grant(victim, to=writer, access="write")
    api.grant(victim, to=partner, access="write")
    # Let the expiring grant's time run out.
    past = datetime.now(UTC) - timedelta(minutes=1)
    with ctx.db.begin() as session:
        session.execute(
            update(Grant)
            .where(Grant.grantee_user_id == expired.user_id)
            .values(created_at=past - timedelta(hours=1), expires_at=past)
        )
    world = World(
        victim=victim,
        other_patient=api.register(),
        no_grant=no_grant,
        expired=expired,
        revoked=revoked,
        reader=reader,
        writer=writer,
        admin=api.staff("admin"),
        partner=partner,
        victim_grant_id=read_grant["id"],
    )
    _add_treatment(api, world)
    world.partner_headers = {
        scope: api.partner_token(partner, scope)
        for scope in (PARTNER_SCOPE_FOR_READS, PARTNER_SCOPE_FOR_WRITES)
    }
    return world


def _add_treatment(api: Api, world: World) -> None:
    """A real series with a session of the victim's, for the routes that name them."""
    base = f"{PREFIX}/patients/me/series"
    h = world.victim.headers
    r = api.client.post(base, json={"name": "Ketamine", "modality": "ketamine_iv"}, headers=h)
    assert r.status_code == 201, r.text
    world.series_id = r.json()["id"]
    session = {"started_at": "2026-03-02T09:00:00Z", "duration_minutes": 40, "route": "iv"}
    r = api.client.post(f"{base}/{world.series_id}/sessions", json=session, headers=h)
    assert r.status_code == 201, r.text
    world.session_id = r.json()["id"]


def _later() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


def _all_routes(app: FastAPI) -> list[tuple[str, set[str], BaseRoute]]:
    """(full path, methods, route) of every route, however deeply routers are nested."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - FastAPI before nested router contexts
        return [(r.path, set(r.methods or ()), r) for r in app.routes if isinstance(r, APIRoute)]
    return [
        (str(c.path), set(c.methods or ()), c.original_route)
        for c in iter_route_contexts(app.routes)
    ]


def id_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, template) of every route with an id in its path, and every admin route."""
    found = []
    for path, methods, route in _all_routes(app):
        if not isinstance(route, APIRoute) or not path.startswith(PREFIX + "/"):
            continue
        # As documented: "{episode_id:uuid}" (a Starlette convertor) is "{episode_id}".
        template = re.sub(r"\{(\w+):\w+\}", r"{\1}", path.removeprefix(PREFIX))
        if not PARAM.search(template) and not template.startswith("/admin/"):
            continue
        found += [(m, template) for m in sorted(methods - {"HEAD", "OPTIONS"})]
    return sorted(found)


def cases_for(method: str, template: str) -> list[Case]:
    """The callers who must be refused on this route, with the status each must get."""
    if template.startswith("/admin/"):
        return [Case(method, template, c, 403) for c in ("other_patient", "writer", "partner")]
    if not PATIENT_ROUTE.match(template):
        return []  # reported as uncovered by check_routes
    cases = [
        Case(method, template, caller, 404)
        for caller in ("other_patient", "no_grant", "expired", "revoked")
    ]
    if method in WRITE_METHODS or template in OWNER_ONLY:
        cases.append(Case(method, template, "reader", 403))
    if template in OWNER_ONLY:
        cases.append(Case(method, template, "writer", 403))
    cases.append(Case(method, template, "partner", 403))
    return cases


def _url(template: str, world: World) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "pid":
            return str(world.victim.patient_id)
        record = RECORDS.get((template, name))
        if record is not None:
            return record(world)
        return date.today().isoformat() if "date" in name else str(uuid.uuid4())

    return PREFIX + PARAM.sub(value, template)


def _headers(case: Case, world: World) -> dict[str, str]:
    if case.caller == "partner":
        scope = (
            PARTNER_SCOPE_FOR_WRITES if case.method in WRITE_METHODS else PARTNER_SCOPE_FOR_READS
        )
        return world.partner_headers[scope]
    account: Account = getattr(world, case.caller)
    return account.headers


def snapshot(ctx: AppContext, world: World) -> dict[str, list[str]]:
    """Everything of the victim's (bar the audit trail, which records the attempts), and the
    accounts and clients an admin route could create or change."""
    victim = world.victim.patient_id
    state: dict[str, list[str]] = {}
    with ctx.db.session() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == AuditEntry.__tablename__:
                continue
            if table.name == "patients":
                columns = [c for c in table.c if c.name != "audit_seq"]
                query = select(*columns).where(table.c.id == victim)
            elif "patient_id" in table.c:
                query = select(table).where(table.c.patient_id == victim)
            elif table.name in ("users", "partner_clients"):
                query = select(table)
            else:
                continue
            state[table.name] = sorted(str(tuple(row)) for row in session.execute(query))
    return state


def _denied_entries(ctx: AppContext, world: World) -> int:
    with ctx.db.session() as session:
        count = session.scalar(
            select(func.count()).where(
                AuditEntry.patient_id == world.victim.patient_id, AuditEntry.outcome == "denied"
            )
        )
    return int(count or 0)


def run_matrix(client: TestClient, app: FastAPI, ctx: AppContext, world: World) -> list[str]:
    """Every case of every id-bearing route; returns the failures (empty when all hold)."""
    failures = []
    routes = id_routes(app)
    for method, template in routes:
        if not cases_for(method, template):
            failures.append(
                f"{method} {template}: has an id but is neither under /patients/{{pid}} nor"
                " /admin/; decide how it is protected and add it to the access matrix"
            )
    before = snapshot(ctx, world)
    denied_before = _denied_entries(ctx, world)
    patient_requests = 0
    for method, template in routes:
        for case in cases_for(method, template):
            kwargs: dict[str, Any] = {"headers": _headers(case, world)}
            if method in ("POST", "PUT", "PATCH"):
                kwargs["json"] = {}  # access is decided before the body is validated
            r = client.request(method, _url(template, world), **kwargs)
            problem = r.headers.get("content-type", "").startswith("application/problem+json")
            if r.status_code != case.expected or not problem:
                failures.append(
                    f"{method} {template} as {case.caller}: expected {case.expected},"
                    f" got {r.status_code} {r.text[:120]}"
                )
            patient_requests += not template.startswith("/admin/")
    after = snapshot(ctx, world)
    changed = sorted(name for name in before if before[name] != after[name])
    if changed:
        failures.append(f"the victim's data (or accounts/clients) changed: {changed}")
    # Each refused attempt on the victim is on the victim's audit trail.
    if _denied_entries(ctx, world) - denied_before != patient_requests:
        failures.append("not every refused attempt left a 'denied' audit entry")
    return failures


def test_access_matrix_covers_every_id_bearing_route(
    api: Api, client: TestClient, app: FastAPI, ctx: AppContext
) -> None:
    world = build_world(api, ctx)
    routes = id_routes(app)
    cases = [c for m, t in routes for c in cases_for(m, t)]
    print(f"access matrix: {len(routes)} route-methods, {len(cases)} cases")  # noqa: T201
    # The matrix is generated, so make sure it did not quietly shrink.
    templates = {t for _, t in routes}
    assert templates >= OWNER_ONLY
    assert {"/patients/{pid}", "/admin/users", "/admin/clients", *SERIES_ROUTES} <= templates
    assert len(routes) >= 10
    assert run_matrix(client, app, ctx, world) == []


def test_matrix_fails_for_an_unguarded_route(client: TestClient, test_settings: Settings) -> None:
    """The matrix would catch a new route that forgot its access dependency."""
    leaky = create_app(test_settings)

    def peek(pid: str) -> dict[str, str]:
        return {"pid": pid}  # no access check at all

    def widget(wid: str) -> dict[str, str]:
        return {"wid": wid}

    leaky.add_api_route(f"{PREFIX}/patients/{{pid}}/peek", peek, methods=["GET"])
    leaky.add_api_route(f"{PREFIX}/widgets/{{wid}}", widget, methods=["GET"])
    with TestClient(leaky) as leaky_client:
        ctx: AppContext = leaky.state.ctx
        world = build_world(Api(leaky_client, ctx), ctx)
        failures = run_matrix(leaky_client, leaky, ctx, world)
    assert any(
        f.startswith("GET /patients/{pid}/peek as other_patient: expected 404") for f in failures
    )
    assert any(f.startswith("GET /widgets/{wid}: has an id") for f in failures)
    # Only the two new routes fail (the peek also left no audit entries); the real ones hold.
    expected = ("GET /patients/{pid}/peek ", "GET /widgets/{wid}: ", "not every refused attempt")
    assert all(f.startswith(expected) for f in failures), failures
