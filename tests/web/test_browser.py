"""The clinician web app in a real browser: what a clinician does, and what must never happen."""

from __future__ import annotations

import re
import time

from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from app.models import AuditEntry, Grant, Patient
from app.services.care import grants
from app.services.context import AppContext
from tests.web import world as seeded
from tests.web.conftest import SHORT_ABSOLUTE_SECONDS, SHORT_IDLE_SECONDS, Servers, Watch
from tests.web.pages import check_basics, sign_in


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_sign_in_refuses_a_wrong_password_then_lets_the_clinician_in(
    page: Page, context: BrowserContext, servers: Servers, world: seeded.World
) -> None:
    first = page.goto(servers.base + "/")
    assert first is not None
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    check_basics(page)

    refused = sign_in(page, servers.base, world.clinician_email, "not the password")
    assert refused is not None
    assert refused.status == 400
    expect(page.get_by_role("alert")).to_contain_text("e-mail address or password is wrong")
    assert not [c for c in context.cookies() if c["name"] == "paindiary_clinic"]

    landed = sign_in(page, servers.base, world.clinician_email, world.clinician_password)
    assert landed is not None
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    expect(page.locator(".appbar")).to_contain_text("Signed in as Dr. Demo")
    assert landed.headers["cache-control"] == "no-store"
    (cookie,) = [c for c in context.cookies() if c["name"] == "paindiary_clinic"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is True  # PAINDIARY_ENV=test: only development goes without
    assert cookie["path"] == "/clinic"
    check_basics(page)


def test_the_patients_page_puts_ended_relief_first_and_sorts_by_name(
    page: Page, servers: Servers, world: seeded.World
) -> None:
    sign_in(page, servers.base, world.clinician_email, world.clinician_password)
    names = page.locator("table.patients tbody th a")
    expect(names).to_have_count(3)
    first_row = page.locator("table.patients tbody tr").first
    expect(first_row).to_contain_text(seeded.DEMO_NAME)
    expect(first_row).to_contain_text("relief ended")
    expect(first_row).to_contain_text(re.compile(r"ended on \d{4}-\d{2}-\d{2}"))
    expect(first_row).to_contain_text("right, V2 + V3")
    assert seeded.OTHER_NAME not in page.content()

    page.get_by_role("link", name="Name").click()
    expect(names).to_have_text([seeded.ANNA_NAME, seeded.REVOKED_NAME, seeded.DEMO_NAME])
    check_basics(page)


def test_a_patient_their_report_and_its_print_with_every_view_audited(
    page: Page, servers: Servers, world: seeded.World, web_ctx: AppContext
) -> None:
    sign_in(page, servers.base, world.clinician_email, world.clinician_password)
    page.get_by_role("link", name=seeded.DEMO_NAME).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(seeded.DEMO_NAME)
    series_row = page.locator("tbody tr", has_text=seeded.SERIES_NAME)
    expect(series_row).to_contain_text("ended on")
    expect(series_row).to_contain_text("3.00")  # total mg/kg
    expect(page.locator("figure.chart svg")).to_have_count(1)
    check_basics(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Attacks (CSV)").click()
    assert download.value.suggested_filename.startswith("paindiary-episodes-")

    page.get_by_role("link", name=re.compile("^Report")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Treatment series report")
    expect(page.locator(".appbar")).to_contain_text("Dr. Demo")
    check_basics(page)
    pdf = page.pdf(format="A4")
    assert _pdf_pages(pdf) >= 2

    with web_ctx.db.session() as session:
        seen = {
            (entry.action, entry.resource)
            for entry in session.scalars(
                select(AuditEntry).where(
                    AuditEntry.patient_id == world.demo_id, AuditEntry.outcome == "success"
                )
            )
        }
    assert ("read", "/clinic/") in seen
    assert ("read", "/clinic/patients/{pid}") in seen
    assert ("read", "/clinic/patients/{pid}/series/{sid}/report") in seen
    assert ("export", "/clinic/patients/{pid}/export/episodes.csv") in seen


def test_the_cohort_page_draws_the_relief_curve(
    page: Page, servers: Servers, world: seeded.World
) -> None:
    sign_in(page, servers.base, world.clinician_email, world.clinician_password)
    page.get_by_role("link", name="Cohort").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cohort")
    expect(page.locator("figure.chart svg")).to_have_count(1)
    expect(page.locator("table").first).to_contain_text("First series")
    check_basics(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the table (CSV)").click()
    assert download.value.suggested_filename == "series-outcomes.csv"


def test_a_form_without_its_csrf_token_is_refused_and_with_it_accepted(
    page: Page, servers: Servers, world: seeded.World
) -> None:
    sign_in(page, servers.base, world.clinician_email, world.clinician_password)
    refused = page.request.post(servers.base + "/sign-out", form={}, max_redirects=0)
    assert refused.status == 403
    forged = page.request.post(
        servers.base + "/sign-out", form={"csrf_token": "0" * 64}, max_redirects=0
    )
    assert forged.status == 403
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")  # still signed in

    token = page.locator("input[name=csrf_token]").get_attribute("value")
    assert token
    accepted = page.request.post(
        servers.base + "/sign-out", form={"csrf_token": token}, max_redirects=0
    )
    assert accepted.status == 303
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_a_sign_in_form_not_from_this_site_is_refused(
    page: Page, servers: Servers, world: seeded.World
) -> None:
    refused = page.request.post(
        servers.base + "/sign-in",
        form={"email": world.clinician_email, "password": world.clinician_password},
        max_redirects=0,
    )
    assert refused.status == 403


def test_sign_out_then_back_shows_no_patient_data(
    page: Page, servers: Servers, world: seeded.World
) -> None:
    sign_in(page, servers.base, world.clinician_email, world.clinician_password)
    page.get_by_role("link", name=seeded.DEMO_NAME).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(seeded.DEMO_NAME)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("alert")).to_have_text("You have signed out.")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert "Demo" not in page.locator("main").inner_text()
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert seeded.DEMO_NAME not in page.content()


def test_another_clinicians_patient_and_a_made_up_one_are_the_same_404(
    page: Page, servers: Servers, world: seeded.World
) -> None:
    sign_in(page, servers.base, world.clinician_email, world.clinician_password)
    for pid in (world.other_id, "3f1c9c59-0000-4000-8000-000000000000", "not-a-uuid"):
        response = page.goto(f"{servers.base}/patients/{pid}")
        assert response is not None
        assert response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
        assert seeded.OTHER_NAME not in page.content()
        check_basics(page)
    report = page.goto(f"{servers.base}/patients/{world.other_id}/export/fhir")
    assert report is not None
    assert report.status == 404


def test_patient_entered_markup_shows_as_text_and_never_runs(
    page: Page, servers: Servers, world: seeded.World, watch: Watch
) -> None:
    sign_in(page, servers.base, world.clinician_email, world.clinician_password)
    main = page.locator("main")
    expect(main).to_contain_text(seeded.DEMO_NAME)
    expect(main).to_contain_text(seeded.ANNA_NAME)
    expect(main).to_contain_text(seeded.SERIES_NAME)
    page.get_by_role("link", name=seeded.DEMO_NAME).click()
    expect(main).to_contain_text(seeded.SERIES_NAME)
    page.get_by_role("link", name=re.compile("^Report")).click()
    expect(main).to_contain_text(seeded.NOTE)
    expect(main).to_contain_text(seeded.MEDICATION_NAME)
    page.get_by_role("link", name="Cohort").click()
    expect(main).to_contain_text(seeded.DEMO_NAME)
    for path in ("/", f"/patients/{world.demo_id}", "/cohort"):
        page.goto(servers.base + path)
        assert page.locator("img[src=x]").count() == 0
        assert page.locator("main script").count() == 0
    assert watch.dialogs == []
    assert watch.errors == []


def test_a_revoked_grant_removes_the_patient_on_the_next_page_load(
    page: Page, servers: Servers, world: seeded.World, web_ctx: AppContext
) -> None:
    sign_in(page, servers.base, world.clinician_email, world.clinician_password)
    expect(page.locator("table.patients")).to_contain_text(seeded.REVOKED_NAME)
    with web_ctx.db.session(write=True) as session:
        grant = session.scalars(select(Grant).where(Grant.patient_id == world.revoked_id)).one()
        patient = session.get(Patient, world.revoked_id)
        assert patient is not None
        grants.revoke_grant(session, patient, grant.id)
    page.reload()
    expect(page.locator("table.patients tbody tr")).to_have_count(2)
    assert seeded.REVOKED_NAME not in page.content()
    response = page.goto(f"{servers.base}/patients/{world.revoked_id}")
    assert response is not None
    assert response.status == 404


def test_a_patient_signing_in_is_sent_to_their_app(
    page: Page, context: BrowserContext, servers: Servers, world: seeded.World
) -> None:
    sign_in(page, servers.base, world.patient_email, world.patient_password)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your diary is in the paindiary app")
    check_basics(page)
    assert not [c for c in context.cookies() if c["name"] == "paindiary_clinic"]
    page.goto(servers.base + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_an_idle_session_ends(page: Page, servers: Servers, world: seeded.World) -> None:
    sign_in(page, servers.short, world.clinician_email, world.clinician_password)
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    time.sleep(SHORT_IDLE_SECONDS + 0.5)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_an_active_session_ends_at_its_absolute_limit(
    page: Page, servers: Servers, world: seeded.World
) -> None:
    sign_in(page, servers.short, world.clinician_email, world.clinician_password)
    started = time.monotonic()
    # Never idle for long: a page load every quarter second keeps the idle limit away (even on a
    # loaded machine, where one load may take a second or two).
    while time.monotonic() - started < SHORT_ABSOLUTE_SECONDS - 1.5:
        time.sleep(0.25)
        page.goto(servers.short + "/cohort")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Cohort")
    time.sleep(max(0.0, SHORT_ABSOLUTE_SECONDS + 0.5 - (time.monotonic() - started)))
    page.goto(servers.short + "/cohort")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_keyboard_focus_is_visible(page: Page, servers: Servers) -> None:
    page.goto(servers.base + "/sign-in")
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text("Skip to content")
    outline = focused.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline not in ("none", "")
