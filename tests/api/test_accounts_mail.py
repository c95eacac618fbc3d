"""Registration that reveals nothing, confirming an address, and a way back in - end to end
through a real SMTP server (aiosmtpd) started by the test, on every engine.

The app under test requires confirmed addresses (PAINDIARY_EMAIL_VERIFICATION=required, the
production default) and sends through SMTP; the suite's shared app (verification off, mail as
files) covers the development setup.
"""

from __future__ import annotations

import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.services.context import AppContext
from app.trends.days import utcnow
from tests.conftest import make_settings
from tests.helpers import PASSWORD, assert_problem
from tests.mailbox import (
    CODE,
    Inbox,
    code_in,
    self_signed_certificate,
    server_tls_context,
    smtp_server,
    text_of,
)
from tests.servers import free_port

API = "/api/v1"
NEW_PASSWORD = "a brand new pass phrase"


@dataclass
class MailApp:
    client: TestClient
    ctx: AppContext
    inbox: Inbox

    def post(self, path: str, body: dict[str, Any], ip: str = "198.51.100.1") -> httpx.Response:
        client = TestClient(self.client.app, client=(ip, 50000))
        response: httpx.Response = client.post(API + path, json=body)
        return response

    def register(self, email: str, password: str = PASSWORD) -> httpx.Response:
        body = {"email": email, "password": password, "display_name": "Alex", "timezone": "UTC"}
        return self.post("/auth/register", body)

    def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        response: httpx.Response = self.client.post(
            API + "/auth/token",
            data={"grant_type": "password", "username": email, "password": password},
        )
        return response

    def settle(self) -> None:
        """Wait until the app has sent everything it queued."""
        assert self.ctx.mailer.wait(30)


@pytest.fixture
def mail_app(db_url: str, client: TestClient) -> Iterator[MailApp]:
    with smtp_server() as smtp:
        settings = make_settings(
            db_url,
            email_verification="required",
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_tls="none",
            mail_from="paindiary <no-reply@paindiary.example>",
        )
        app = create_app(settings)
        with TestClient(app) as test_client:
            mail = MailApp(test_client, app.state.ctx, smtp.inbox)
            yield mail
            mail.settle()


def _register_and_confirm(mail: MailApp, email: str) -> None:
    assert mail.register(email).status_code == 202
    code = code_in(mail.inbox.wait_for(email)[0])
    assert mail.post("/auth/verify", {"email": email, "code": code}).status_code == 204


def _same_answer(a: httpx.Response, b: httpx.Response) -> None:
    assert (a.status_code, a.content) == (b.status_code, b.content)
    varying = {"date", "x-request-id"}
    assert {k: v for k, v in a.headers.items() if k not in varying} == {
        k: v for k, v in b.headers.items() if k not in varying
    }


def test_accounts_reveal_themselves_registration_answers_alike(
    mail_app: MailApp, ctx: AppContext
) -> None:
    """Finding 4: POST /auth/register answered 409 for an existing e-mail (case variants too),
    and in a TN diary having an account is itself health information."""
    first = mail_app.register("alex@example.org")
    hashed: list[str] = []
    original = mail_app.ctx.passwords.hash

    def spy(password: str) -> str:
        hashed.append(password)
        return original(password)

    object.__setattr__(mail_app.ctx.passwords, "hash", spy)
    try:
        taken = mail_app.register("ALEX@Example.org", "someone else's password")
        new = mail_app.register("kim@example.org", "kim's own password")
    finally:
        object.__delattr__(mail_app.ctx.passwords, "hash")
    _same_answer(taken, new)
    _same_answer(first, new)
    assert taken.status_code == 202
    assert taken.json() == {"detail": registration_detail()}
    # The same work either way: one password hash each.
    assert hashed == ["someone else's password", "kim's own password"]

    # The difference goes to the mailboxes only.
    welcome, notice = mail_app.inbox.wait_for("alex@example.org", 2)
    confirm = {"email": "alex@example.org", "code": code_in(welcome)}
    assert mail_app.post("/auth/verify", confirm).status_code == 204
    assert notice["Subject"] == "You already have a paindiary account"
    assert "/api/v1/auth/password-reset" in text_of(notice)
    assert not CODE.search(text_of(notice))  # no code in it
    welcome = mail_app.inbox.wait_for("kim@example.org")[0]
    assert welcome["Subject"] == "Confirm your e-mail address for paindiary"
    # Plain text a person (or a developer reading var/mail) can read as it is.
    assert welcome["Content-Transfer-Encoding"] == "7bit"
    assert notice["Content-Transfer-Encoding"] == "7bit"
    assert welcome["From"] == "paindiary <no-reply@paindiary.example>"
    assert len(code_in(welcome)) == 6
    # Nothing about the existing account changed.
    assert mail_app.sign_in("alex@example.org").status_code == 200
    assert_problem(mail_app.sign_in("alex@example.org", "someone else's password"), 400)


def registration_detail() -> str:
    return "If the address can receive mail, a message is on its way to it with what to do next."


def test_register_then_verify_by_mail_then_sign_in(mail_app: MailApp) -> None:
    email = "sam@example.org"
    assert mail_app.register(email).status_code == 202
    first = code_in(mail_app.inbox.wait_for(email)[0])

    # Not confirmed yet: the right password fails exactly like a wrong one ...
    unconfirmed = mail_app.sign_in(email)
    wrong = mail_app.sign_in(email, "not the password")
    for response in (unconfirmed, wrong):
        assert assert_problem(response, 400)["error"] == "invalid_grant"
    assert unconfirmed.content == wrong.content
    # ... and only the mailbox learns why: a fresh code, which replaces the first.
    reminder = mail_app.inbox.wait_for(email, 2)[1]
    assert reminder["Subject"] == "Confirm your e-mail address for paindiary"
    fresh = code_in(reminder)
    if fresh != first:
        assert_problem(mail_app.post("/auth/verify", {"email": email, "code": first}), 400)

    assert mail_app.post("/auth/verify", {"email": email, "code": fresh}).status_code == 204
    tokens = mail_app.sign_in(email)
    assert tokens.status_code == 200, tokens.text
    me = mail_app.client.get(
        API + "/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}
    )
    assert me.json()["email"] == email
    # Single use: the same code again is refused, like any wrong code.
    again = mail_app.post("/auth/verify", {"email": email, "code": fresh})
    assert assert_problem(again, 400)["type"].endswith("/invalid-code")


def test_password_reset_by_mail_ends_every_session(mail_app: MailApp) -> None:
    email = "robin@example.org"
    _register_and_confirm(mail_app, email)
    first, second = mail_app.sign_in(email).json(), mail_app.sign_in(email).json()
    old_headers = [{"Authorization": f"Bearer {t['access_token']}"} for t in (first, second)]
    assert all(mail_app.client.get(API + "/me", headers=h).status_code == 200 for h in old_headers)

    known = mail_app.post("/auth/password-reset", {"email": email.upper()})
    unknown = mail_app.post("/auth/password-reset", {"email": "nobody@example.org"})
    _same_answer(known, unknown)
    assert known.status_code == 202
    message = mail_app.inbox.wait_for(email, 2)[1]
    assert message["Subject"] == "Reset your paindiary password"
    nobody = mail_app.inbox.wait_for("nobody@example.org")[0]
    assert "no account uses this address" in " ".join(text_of(nobody).split())

    confirm = {"email": email, "code": code_in(message), "new_password": NEW_PASSWORD}
    assert mail_app.post("/auth/password-reset/confirm", confirm).status_code == 204
    # Every sign-in ended: access tokens at once, refresh tokens for good.
    for headers in old_headers:
        assert_problem(mail_app.client.get(API + "/me", headers=headers), 401)
    refreshed = mail_app.client.post(
        API + "/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert assert_problem(refreshed, 400)["error"] == "invalid_grant"
    assert assert_problem(mail_app.sign_in(email), 400)["error"] == "invalid_grant"
    assert mail_app.sign_in(email, NEW_PASSWORD).status_code == 200
    # The code was used up.
    assert_problem(mail_app.post("/auth/password-reset/confirm", confirm), 400)


def test_a_reset_confirms_an_unconfirmed_address(mail_app: MailApp) -> None:
    email = "lee@example.org"
    assert mail_app.register(email).status_code == 202
    mail_app.inbox.wait_for(email)
    assert mail_app.post("/auth/password-reset", {"email": email}).status_code == 202
    code = code_in(mail_app.inbox.wait_for(email, 2)[1])
    confirm = {"email": email, "code": code, "new_password": NEW_PASSWORD}
    assert mail_app.post("/auth/password-reset/confirm", confirm).status_code == 204
    assert mail_app.sign_in(email, NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize("purpose", ["verify", "reset"])
def test_a_code_dies_after_five_wrong_tries(mail_app: MailApp, purpose: str) -> None:
    email = f"{purpose}-tries@example.org"
    if purpose == "verify":
        assert mail_app.register(email).status_code == 202
        path, extra = "/auth/verify", {}
    else:
        _register_and_confirm(mail_app, email)
        assert mail_app.post("/auth/password-reset", {"email": email}).status_code == 202
        path, extra = "/auth/password-reset/confirm", {"new_password": NEW_PASSWORD}
    messages = mail_app.inbox.wait_for(email, 1 if purpose == "verify" else 2)
    code = code_in(messages[-1])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = [mail_app.post(path, {"email": email, "code": wrong, **extra}) for _ in range(5)]
    for answer in answers:
        assert assert_problem(answer, 400)["type"].endswith("/invalid-code")
    # Dead now: the right code is refused too, with the very same answer.
    right = mail_app.post(path, {"email": email, "code": code, **extra})
    assert right.content == answers[0].content
    # And an unknown address gets that answer as well.
    stranger = mail_app.post(path, {"email": "nobody@example.org", "code": code, **extra})
    assert stranger.content == answers[0].content
    if purpose == "reset":
        assert mail_app.sign_in(email, NEW_PASSWORD).status_code == 400
        assert mail_app.sign_in(email).status_code == 200


def test_an_expired_code_is_refused(mail_app: MailApp, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services.identity import registration

    email = "late@example.org"
    assert mail_app.register(email).status_code == 202
    code = code_in(mail_app.inbox.wait_for(email)[0])

    def later(by: timedelta) -> None:
        monkeypatch.setattr(registration, "utcnow", lambda: utcnow() + by)

    later(timedelta(minutes=15, seconds=1))
    assert_problem(mail_app.post("/auth/verify", {"email": email, "code": code}), 400)
    later(timedelta(minutes=14, seconds=50))  # an expired try used none of the tries
    assert mail_app.post("/auth/verify", {"email": email, "code": code}).status_code == 204


def test_mail_to_one_address_is_limited_without_telling(mail_app: MailApp) -> None:
    email = "flooded@example.org"
    _register_and_confirm(mail_app, email)
    answers = [
        mail_app.post("/auth/password-reset", {"email": email}, ip=f"198.51.100.{n}")
        for n in range(10)
    ]
    for answer in answers[1:]:
        _same_answer(answers[0], answer)
    mail_app.settle()
    # The registration mail and four reset codes fill the hour's five; the rest send nothing.
    assert len(mail_app.inbox.to(email)) == 5
    latest = code_in(mail_app.inbox.to(email)[-1])
    confirm = {"email": email, "code": latest, "new_password": NEW_PASSWORD}
    assert mail_app.post("/auth/password-reset/confirm", confirm).status_code == 204


def test_code_tries_are_limited_per_address(
    mail_app: MailApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mail_app.ctx.settings, "code_attempts_per_ip", 3)
    for n in range(3):
        body = {"email": f"guess{n}@example.org", "code": "123456"}
        assert_problem(mail_app.post("/auth/verify", body, ip="192.0.2.77"), 400)
    limited = mail_app.post("/auth/verify", {"email": "x@example.org", "code": "1"}, "192.0.2.77")
    assert_problem(limited, 422)  # a malformed code is refused before it is counted
    limited = mail_app.post(
        "/auth/verify", {"email": "x@example.org", "code": "123456"}, "192.0.2.77"
    )
    assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) > 0
    assert_problem(mail_app.post("/auth/verify", {"email": "x@example.org", "code": "123456"}), 400)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a@example.org", "code": "12345"},
        {"email": "a@example.org", "code": "12345a"},
        {"email": "a@example.org", "code": "1234567"},
        {"email": "not an address", "code": "123456"},
        {"email": "a@example.org"},
        {"email": "a@example.org", "code": "123456", "extra": 1},
    ],
)
def test_verify_refuses_malformed_bodies(client: TestClient, body: dict[str, Any]) -> None:
    assert_problem(client.post(API + "/auth/verify", json=body), 422)
    short = {"email": "a@example.org", "code": "123456", "new_password": "short"}
    assert_problem(client.post(API + "/auth/password-reset/confirm", json=short), 422)


def test_without_smtp_mail_is_written_as_files(
    db_url: str, client: TestClient, tmp_path: Path
) -> None:
    """Development and tests: messages become .eml files in PAINDIARY_MAIL_DIR, owner-only."""
    folder = tmp_path / "mail"
    app = create_app(make_settings(db_url, mail_dir=folder))
    ctx: AppContext = app.state.ctx
    assert ctx.mailer.describe() == f".eml files in {folder} (no SMTP host configured)"
    with TestClient(app) as test_client:
        r = test_client.post(
            API + "/auth/register",
            json={"email": "dev@example.org", "password": PASSWORD, "display_name": "D",
                  "timezone": "UTC"},
        )  # fmt: skip
        assert r.status_code == 202
        assert ctx.mailer.wait(30)
        files = list(folder.glob("*.eml"))
        assert len(files) == 1
        assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
        text = files[0].read_text()
        assert "To: dev@example.org" in text
        code = next(line.strip() for line in text.splitlines() if line.strip().isdigit())
        r = test_client.post(API + "/auth/verify", json={"email": "dev@example.org", "code": code})
        assert r.status_code == 204
        # Verification is off outside production: the account could sign in all along.
        token = test_client.post(
            API + "/auth/token",
            data={"grant_type": "password", "username": "dev@example.org", "password": PASSWORD},
        )
        assert token.status_code == 200


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_smtp_over_tls_with_a_private_ca_and_login(tmp_path: Path, mode: str) -> None:
    from app.services.mail.messages import verification_code
    from app.services.mail.sender import Mailer

    cert_file, key_file = self_signed_certificate(tmp_path)
    context = server_tls_context(cert_file, key_file)
    with smtp_server(
        tls_context=context, implicit_tls=mode == "tls", login=("mailer", "s3cret")
    ) as smtp:
        settings = make_settings(
            "sqlite://",
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_tls=mode,
            smtp_username="mailer",
            smtp_password="s3cret",
            smtp_ca_file=cert_file,
        )
        mailer = Mailer(settings)
        assert "as mailer" in mailer.describe()
        assert "s3cret" not in mailer.describe()
        mailer.deliver(verification_code("tls@example.org", "123456", 900))
        assert code_in(smtp.inbox.wait_for("tls@example.org")[0]) == "123456"
        assert smtp.inbox.logins == [("mailer", "s3cret")]
        # Without the private CA the server's certificate is not trusted: nothing is sent.
        untrusting = Mailer(settings.model_copy(update={"smtp_ca_file": None}))
        with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
            untrusting.deliver(verification_code("tls@example.org", "654321", 900))
        assert len(smtp.inbox.to("tls@example.org")) == 1


def test_undeliverable_mail_is_retried_then_given_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from app.services.mail import sender
    from app.services.mail.messages import verification_code

    monkeypatch.setattr(sender, "RETRY_DELAYS_SECONDS", (0.01, 0.01))
    settings = make_settings("sqlite://", smtp_host="127.0.0.1", smtp_port=free_port())
    mailer = sender.Mailer(settings)
    started = time.monotonic()
    mailer.send_later(verification_code("gone@example.org", "123456", 900))
    assert time.monotonic() - started < 0.5  # the caller never waits for the mail server
    assert mailer.wait(30)
    mailer.close()
    given_up = [r for r in caplog.records if r.name == "paindiary.mail"]
    assert "after 3 attempts" in given_up[-1].getMessage()
    assert "123456" not in caplog.text  # the code never reaches the log


def test_production_needs_smtp_and_requires_confirmed_addresses(db_url: str) -> None:
    base = {"env": "production", "secret_key": "p" * 40}
    with pytest.raises(RuntimeError, match="PAINDIARY_SMTP_HOST"):
        create_app(make_settings(db_url, **base))
    production = make_settings(db_url, **base, smtp_host="mail.example.org")
    assert production.verification_required
    off = make_settings(db_url, **base, email_verification="off")
    assert not off.verification_required
    assert off.mail_problem() is None  # then mail may go to files, for an operator to read
    assert not make_settings(db_url).verification_required  # tests and development: off
    assert make_settings(db_url, email_verification="required").verification_required
