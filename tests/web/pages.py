"""Steps and checks the browser tests share: signing in, and the accessibility basics every
page must meet."""

from __future__ import annotations

from playwright.sync_api import Page, Response


def sign_in(page: Page, base: str, email: str, password: str) -> Response | None:
    page.goto(base + "/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Sign in").click()
    return navigation.value


def check_basics(page: Page) -> None:
    """``lang``, one ``h1``, every visible form field labelled, every table header scoped."""
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").count() == 1, page.url
    fields = page.locator("input:not([type=hidden]), select, textarea")
    for index in range(fields.count()):
        field = fields.nth(index)
        field_id = field.get_attribute("id")
        labelled = field.get_attribute("aria-label") or (
            field_id is not None and page.locator(f"label[for='{field_id}']").count() == 1
        )
        assert labelled, f"unlabelled field on {page.url}"
    headers = page.locator("th")
    for index in range(headers.count()):
        assert headers.nth(index).get_attribute("scope") in {"col", "row"}, page.url
