"""Partner clients: registered by admins, client-credentials tokens, scopes limit what they do."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote_plus

from fastapi.testclient import TestClient
from jose import jwt
from sqlalchemy import select

from app.deps import ReportablePatient
from app.main import create_app
from app.models import PartnerClient
from app.services.context import AppContext
from app.settings import Settings
from tests.conftest import TEST_SECRET
from tests.helpers import Api, assert_problem, patch_current

TOKEN_URL = "/api/v1/auth/token"


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def test_admin_registers_a_client_and_the_secret_is_shown_once(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    admin, patient, doctor = api.staff("admin"), api.register(), api.staff()
    payload = {"name": "EHR bridge", "scopes": ["reports:read", "diary:read"]}
    for outsider in (patient, doctor):
        assert_problem(
            client.post("/api/v1/admin/clients", json=payload, headers=outsider.headers), 403
        )
    assert_problem(client.post("/api/v1/admin/clients", json=payload), 401)
    r = client.post("/api/v1/admin/clients", json=payload, headers=admin.headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"client_id", "client_secret", "name", "scopes"}
    assert body["scopes"] == ["diary:read", "reports:read"]
    assert len(body["client_secret"]) >= 43  # 256 random bits

    listed = client.get("/api/v1/admin/clients", headers=admin.headers).json()["items"]
    assert [c["client_id"] for c in listed] == [body["client_id"]]
    assert "client_secret" not in listed[0]
    assert body["client_secret"] not in str(listed)
    # Stored hashed, never in clear.
    with ctx.db.session() as session:
        stored = session.scalars(select(PartnerClient)).one()
    assert stored.secret_hash == hashlib.sha256(body["client_secret"].encode()).hexdigest()

    for bad in (
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["diary:delete"]},
        {"name": "x", "scopes": ["diary:read", "diary:read"]},
        {"name": "", "scopes": ["diary:read"]},
        {"name": "x", "scopes": ["diary:read"], "client_secret": "mine"},
    ):
        assert_problem(client.post("/api/v1/admin/clients", json=bad, headers=admin.headers), 422)
    assert len(client.get("/api/v1/admin/clients", headers=admin.headers).json()["items"]) == 1


def test_client_credentials_in_the_form_or_as_http_basic(api: Api, client: TestClient) -> None:
    partner = api.partner(("diary:read", "reports:read"))
    form = {
        "grant_type": "client_credentials",
        "client_id": partner.client_id,
        "client_secret": partner.client_secret,
    }
    r = client.post(TOKEN_URL, data=form)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["scope"] == "diary:read reports:read"
    assert body["expires_in"] == 900
    assert "refresh_token" not in body
    claims = jwt.get_unverified_claims(body["access_token"])
    assert claims["knd"] == "client"
    assert claims["sub"] == partner.client_id
    assert "sid" not in claims

    r = client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials", "scope": "reports:read"},
        headers=_basic(partner.client_id, partner.client_secret),
    )
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "reports:read"
    token = r.json()["access_token"]
    assert jwt.decode(token, TEST_SECRET, audience="paindiary-api")["scope"] == "reports:read"


def test_client_credentials_errors(api: Api, client: TestClient) -> None:
    partner = api.partner(("diary:read",))
    good = {
        "grant_type": "client_credentials",
        "client_id": partner.client_id,
        "client_secret": partner.client_secret,
    }
    unknown_id = "00000000-0000-0000-0000-000000000000"
    for data, headers in [
        ({**good, "client_secret": "wrong"}, {}),
        ({**good, "client_id": unknown_id}, {}),
        ({**good, "client_id": "not-a-uuid"}, {}),
        ({"grant_type": "client_credentials"}, {}),
        ({"grant_type": "client_credentials", "client_id": partner.client_id}, {}),
        ({"grant_type": "client_credentials"}, _basic(partner.client_id, "wrong")),
        ({"grant_type": "client_credentials"}, {"Authorization": "Basic !!!"}),
        ({"grant_type": "client_credentials"}, {"Authorization": "Basic bm9jb2xvbg=="}),
    ]:
        r = client.post(TOKEN_URL, data=data, headers=headers)
        assert assert_problem(r, 401)["error"] == "invalid_client", (data, headers)
        assert r.headers["www-authenticate"].startswith("Basic")
    r = client.post(TOKEN_URL, data={**good, "scope": "diary:read diary:write"})
    assert assert_problem(r, 400)["error"] == "invalid_scope"
    r = client.post(TOKEN_URL, data={**good, "scope": "everything"})
    assert assert_problem(r, 400)["error"] == "invalid_scope"
    # Two ways of authenticating at once is ambiguous.
    r = client.post(TOKEN_URL, data=good, headers=_basic(partner.client_id, partner.client_secret))
    assert assert_problem(r, 400)["error"] == "invalid_request"


def test_scopes_limit_a_partner_even_where_a_grant_exists(api: Api, client: TestClient) -> None:
    patient = api.register(name="Pat")
    partner = api.partner()
    api.grant(patient, to=partner, access="write")
    url = f"/api/v1/patients/{patient.patient_id}"
    read_only = api.partner_token(partner, "diary:read")
    write_only = api.partner_token(partner, "diary:write")
    reports_only = api.partner_token(partner, "reports:read")

    assert client.get(url, headers=read_only).json()["display_name"] == "Pat"
    r = patch_current(client, url, json={"weight_kg": 80}, headers=read_only)
    assert_problem(r, 403)
    assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
    assert 'scope="diary:write"' in r.headers["www-authenticate"]
    assert_problem(client.get(url, headers=write_only), 403)
    assert_problem(client.get(url, headers=reports_only), 403)
    assert client.get(url, headers=patient.headers).json()["weight_kg"] is None
    r = patch_current(client, url, json={"weight_kg": 80}, headers=write_only)
    assert r.status_code == 200, r.text
    assert client.get(url, headers=patient.headers).json()["weight_kg"] == 80
    # The patient's own routes stay the patient's.
    assert_problem(client.get(f"{url}/grants", headers=partner.headers), 403)
    assert_problem(client.get(f"{url}/access-log", headers=partner.headers), 403)
    # No grant, no patient: whatever the scopes.
    stranger = api.register()
    assert_problem(
        client.get(f"/api/v1/patients/{stranger.patient_id}", headers=partner.headers), 404
    )
    listed = client.get("/api/v1/patients", headers=partner.headers).json()["items"]
    assert [p["id"] for p in listed] == [str(patient.patient_id)]
    # Partners have no user account.
    assert_problem(client.get("/api/v1/me", headers=partner.headers), 403)


def test_a_partner_with_only_reports_read_gets_no_profiles_from_the_patient_list(
    api: Api, client: TestClient
) -> None:
    """Issue 15: with only ``reports:read`` a partner got full profiles from GET /patients
    although GET /patients/{pid} refused it. The list needs ``diary:read`` like the profile."""
    patient = api.register(name="Pat")
    partner = api.partner()
    api.grant(patient, to=partner)
    reports_only = api.partner_token(partner, "reports:read")
    assert_problem(client.get(f"/api/v1/patients/{patient.patient_id}", headers=reports_only), 403)
    r = client.get("/api/v1/patients", headers=reports_only)
    assert_problem(r, 403)
    assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
    assert 'scope="diary:read"' in r.headers["www-authenticate"]
    assert "Pat" not in r.text
    # What reports:read does allow still works, and diary:read lists the profile.
    bundle = client.get(f"/api/v1/patients/{patient.patient_id}/export/fhir", headers=reports_only)
    assert bundle.status_code == 200
    listed = client.get("/api/v1/patients", headers=api.partner_token(partner, "diary:read"))
    assert [p["display_name"] for p in listed.json()["items"]] == ["Pat"]
    # Nothing was listed, so nothing is on the patient's access log as read by the list.
    log = client.get("/api/v1/patients/me/access-log", headers=patient.headers).json()["items"]
    listings = [e for e in log if e["resource"] == "/patients" and e["actor_role"] == "partner"]
    assert len(listings) == 1


def test_read_grant_caps_a_partner_with_write_scope(api: Api, client: TestClient) -> None:
    patient, partner = api.register(), api.partner()
    api.grant(patient, to=partner, access="read")
    url = f"/api/v1/patients/{patient.patient_id}"
    assert client.get(url, headers=partner.headers).status_code == 200
    assert_problem(patch_current(client, url, json={"weight_kg": 80}, headers=partner.headers), 403)
    log = client.get("/api/v1/patients/me/access-log", headers=patient.headers).json()["items"]
    by_partner = [(e["actor_role"], e["actor_name"], e["action"], e["outcome"]) for e in log[1:3]]
    assert by_partner == [
        ("partner", "Clinic bridge", "update", "denied"),
        ("partner", "Clinic bridge", "read", "success"),
    ]
    assert log[1]["actor_id"] == partner.client_id


def test_disabling_a_client_ends_its_access_at_once(api: Api, client: TestClient) -> None:
    patient, admin = api.register(), api.staff("admin")
    partner = api.partner()
    api.grant(patient, to=partner, access="read")
    url = f"/api/v1/patients/{patient.patient_id}"
    assert client.get(url, headers=partner.headers).status_code == 200
    r = client.delete(f"/api/v1/admin/clients/{partner.client_id}", headers=admin.headers)
    assert r.status_code == 204
    assert_problem(client.get(url, headers=partner.headers), 401)
    r = client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": partner.client_id,
            "client_secret": partner.client_secret,
        },
    )
    assert assert_problem(r, 401)["error"] == "invalid_client"
    listed = client.get("/api/v1/admin/clients", headers=admin.headers).json()["items"]
    assert listed[0]["disabled_at"] is not None
    # A disabled client cannot be granted anew; unknown clients are 404 for the admin.
    r = client.post(
        "/api/v1/patients/me/grants",
        json={"client_id": partner.client_id, "access": "read"},
        headers=patient.headers,
    )
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "client_id"]
    r = client.delete(
        "/api/v1/admin/clients/00000000-0000-0000-0000-000000000000", headers=admin.headers
    )
    assert_problem(r, 404)


def test_openapi_declares_both_oauth2_flows(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    flows = schemes["OAuth2"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert set(flows["clientCredentials"]["scopes"]) == {
        "diary:read",
        "diary:write",
        "reports:read",
    }


def test_report_routes_need_reports_read_and_are_exports(
    api: Api, client: TestClient, test_settings: Settings
) -> None:
    """ReportablePatient, for the report and export routes to come: its scope and its action."""
    app = create_app(test_settings)

    def export(patient: ReportablePatient) -> dict[str, str]:
        return {"id": str(patient.id)}

    app.add_api_route("/api/v1/patients/{pid}/export/test.csv", export, methods=["GET"])
    with TestClient(app) as own:
        api = Api(own, app.state.ctx)
        patient, partner = api.register(), api.partner()
        api.grant(patient, to=partner, access="read")
        url = f"/api/v1/patients/{patient.patient_id}/export/test.csv"
        assert_problem(own.get(url, headers=api.partner_token(partner, "diary:read")), 403)
        assert own.get(url, headers=api.partner_token(partner, "reports:read")).status_code == 200
        log = own.get("/api/v1/patients/me/access-log", headers=patient.headers).json()["items"]
    assert [(e["action"], e["outcome"], e["resource"]) for e in log[1:3]] == [
        ("export", "success", "/patients/{pid}/export/test.csv"),
        ("export", "denied", "/patients/{pid}/export/test.csv"),
    ]
