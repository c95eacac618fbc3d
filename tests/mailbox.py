"""A real SMTP server (aiosmtpd) started by a test, and what arrives in it."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import re
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.servers import free_port

CODE = re.compile(r"^ {4}(\d{6})\r?$", re.M)


@dataclass
class Inbox:
    """Every message the server accepted, by envelope recipient."""

    messages: list[tuple[str, EmailMessage]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._arrived:
            for recipient in envelope.rcpt_tos:
                self.messages.append((recipient.lower(), message))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self._arrived:
            return [m for rcpt, m in self.messages if rcpt == address.lower()]

    def wait_for(self, address: str, count: int = 1, timeout: float = 15) -> list[EmailMessage]:
        """The first ``count`` messages to ``address``, waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = [m for rcpt, m in self.messages if rcpt == address.lower()]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"no mail #{count} to {address}: {found}"
                self._arrived.wait(remaining)


def code_in(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = CODE.search(body.get_content())
    assert found, body.get_content()
    return found.group(1)


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content: str = body.get_content()
    return content.replace("\r\n", "\n")


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox


@contextmanager
def smtp_server(
    *,
    tls_context: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    login: tuple[str, str] | None = None,
) -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1: plain, STARTTLS (``tls_context``) or TLS from the first byte
    (``implicit_tls``); with ``login`` it requires SMTP AUTH with those credentials."""
    inbox = Inbox()
    kwargs: dict[str, Any] = {}
    if tls_context is not None and not implicit_tls:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    if implicit_tls:
        # aiosmtpd counts only STARTTLS as TLS when it decides whether AUTH may be offered;
        # with TLS from the first byte the connection is encrypted all the same.
        kwargs.update(ssl_context=tls_context, auth_require_tls=False)
    if login is not None:

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            assert isinstance(data, LoginPassword)
            given = (data.login.decode(), data.password.decode())
            inbox.logins.append(given)
            return AuthResult(success=given == login)

        # (Required outright only with STARTTLS: aiosmtpd warns when it must also offer AUTH
        # before what it counts as TLS, see above; the credentials are checked either way.)
        kwargs.update(authenticator=authenticate, auth_required=not implicit_tls)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServer(port=port, inbox=inbox)
    finally:
        controller.stop()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA: (certificate file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "paindiary test mail")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def server_tls_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context
