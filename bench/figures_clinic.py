"""The clinician's patients page (the web app's landing page) for 50 and for 500 granted patients.

The page is server-rendered HTML behind a web-session cookie: each clinician signs in through
the sign-in form as a browser would (its hidden fields, a CSRF token among them, sent back),
then the page is fetched with the session cookie. Both paths are settings
(``BENCH_CLINIC_PAGE``, ``BENCH_CLINIC_SIGN_IN``), so the figure follows the web app's routes;
when the app has no such page (404) the figure is reported as not measured.

The cookies are carried by hand: the web session's cookie is ``Secure`` outside development,
and a client keeps a ``Secure`` cookie from a plain-HTTP server on this machine to itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from bench.client import PASSWORD, Account
from bench.measure import Call, interleaved
from bench.report import Figure, Target, not_measured
from bench.stats import percentile

PAGE = os.environ.get("BENCH_CLINIC_PAGE", "/clinic/")
SIGN_IN = os.environ.get("BENCH_CLINIC_SIGN_IN", "/clinic/sign-in")
P50_NAME = "clinician patients page p50, {n} granted patients (ms)"
RATIO_NAME = "clinician patients page p50, 500 granted patients ÷ 50"


class NotAvailable(Exception):
    """The web app has no such page or sign-in: the figure is not measured."""


@dataclass
class Form:
    action: str | None = None
    method: str = "get"
    fields: dict[str, str] = field(default_factory=dict)
    email_field: str | None = None
    password_field: str | None = None


class _FormParser(HTMLParser):
    """The first form with a password field: its action, method and inputs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action"), values.get("method", "get").lower()))
            self.inside = True
        elif tag == "input" and self.inside and "name" in values:
            form, name = self.forms[-1], values["name"]
            kind = values.get("type", "text").lower()
            if kind == "password":
                form.password_field = name
            elif kind == "email" or name.lower() in ("email", "username", "login"):
                form.email_field = name
            elif kind not in ("submit", "button", "checkbox", "radio"):
                form.fields[name] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def sign_in_form(html: str) -> Form:
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        if form.password_field is not None and form.email_field is not None:
            return form
    raise NotAvailable("the sign-in page has no form with an e-mail and a password field")


def set_cookies(responses: list[httpx.Response]) -> dict[str, str]:
    """``name -> value`` of every cookie the responses set, later ones winning (an empty
    value or ``Max-Age=0`` deletes)."""
    jar: dict[str, str] = {}
    for response in responses:
        for header in response.headers.get_list("set-cookie"):
            pair, *attributes = header.split(";")
            name, _, value = pair.strip().partition("=")
            expired = any(a.strip().lower() == "max-age=0" for a in attributes)
            if expired or not value:
                jar.pop(name, None)
            else:
                jar[name] = value
    return jar


def cookie_header(jar: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in jar.items())}


def _follow(http: httpx.Client, response: httpx.Response, jar: dict[str, str]) -> httpx.Response:
    """Redirects followed by hand, so each hop's cookies go with the next request."""
    for _ in range(5):
        jar.update(set_cookies([response]))
        if not response.is_redirect:
            return response
        location = urljoin(str(response.url), response.headers["location"])
        response = http.get(location, headers=cookie_header(jar), follow_redirects=False)
    raise NotAvailable("too many redirects after signing in")


def web_session(http: httpx.Client, account: Account) -> dict[str, str]:
    """Sign ``account`` in through the web form; the cookies of its session."""
    page = http.get(SIGN_IN)
    if page.status_code == 404:
        raise NotAvailable(f"GET {SIGN_IN} answered 404: the web app is not in this build")
    if not page.is_success:
        raise NotAvailable(f"GET {SIGN_IN} answered {page.status_code}")
    jar = set_cookies([page])
    form = sign_in_form(page.text)
    assert form.email_field is not None
    assert form.password_field is not None
    data = {**form.fields, form.email_field: account.email, form.password_field: PASSWORD}
    action = urljoin(str(page.url), form.action or SIGN_IN)
    posted = http.post(action, data=data, headers=cookie_header(jar), follow_redirects=False)
    landed = _follow(http, posted, jar)
    if not landed.is_success or urlsplit(str(landed.url)).path == urlsplit(action).path:
        raise NotAvailable(f"signing in through {action} failed ({landed.status_code})")
    return jar


def patients_page(http: httpx.Client, clinicians: dict[int, Account], engine: str) -> list[Figure]:
    """p50 of the page for each clinician, and the ratio 500 ÷ 50."""
    names = [P50_NAME.format(n=n) for n in sorted(clinicians)] + [RATIO_NAME]
    try:
        calls: dict[str, Call] = {}
        for n, account in sorted(clinicians.items()):
            headers = cookie_header(web_session(http, account))
            first = http.get(PAGE, headers=headers)
            if first.status_code == 404:
                raise NotAvailable(f"GET {PAGE} answered 404: the web app is not in this build")
            if not first.is_success:
                raise NotAvailable(f"GET {PAGE} answered {first.status_code} after signing in")
            calls[f"{n} patients"] = _get(http, PAGE, headers)
    except NotAvailable as reason:
        return [not_measured(name, engine, Target.report(), str(reason)) for name in names]
    interleaved(calls, rounds=2, budget=60)  # warm-up
    samples = interleaved(calls, rounds=15, budget=90)
    p50 = {label: percentile(values, 0.5) * 1000 for label, values in samples.items()}
    shown = ", ".join(
        f"p50 {p50[label]:.1f} ms with {label} (n={len(samples[label])})" for label in samples
    )
    commands = [f"sequential httpx client, GET {PAGE} with a web-session cookie, interleaved"]
    figures = [
        Figure(P50_NAME.format(n=n), engine, Target.report(), p50[f"{n} patients"], shown, commands)
        for n in sorted(clinicians)
    ]
    if {50, 500} <= set(clinicians):
        ratio = p50["500 patients"] / p50["50 patients"]
        figures.append(
            Figure(
                RATIO_NAME,
                engine,
                Target.report(),
                ratio,
                shown + " (linear would be 10; the target is set by the clinic-scale issue)",
                commands,
            )
        )
    return figures


def _get(http: httpx.Client, path: str, headers: dict[str, str]) -> Call:
    return lambda: http.get(path, headers=headers, follow_redirects=False)
