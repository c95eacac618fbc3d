"""Delivery: SMTP through ``smtplib`` when a host is configured, else ``.eml`` files.

Messages are handed over after the request's transaction has committed and go out on a
background thread, so an answer never waits for (or reveals anything through) a mail server:
registering an address that exists and one that does not take the same time. A message that
cannot be delivered is retried a few times, then logged without its content (it holds a code);
the person asks again. Messages still queued at shutdown are waited for (``close``).
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from app.settings import Settings

log = logging.getLogger("paindiary.mail")

RETRY_DELAYS_SECONDS = (1.0, 5.0)
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._pending: set[Future[None]] = set()

    @property
    def uses_smtp(self) -> bool:
        return self._settings.smtp_host is not None

    @property
    def port(self) -> int:
        return self._settings.smtp_port or DEFAULT_PORTS[self._settings.smtp_tls]

    def describe(self) -> str:
        """Where mail goes, for the log line at start-up (no credentials)."""
        s = self._settings
        if self.uses_smtp:
            user = f" as {s.smtp_username}" if s.smtp_username else ""
            return f"SMTP {s.smtp_host}:{self.port} (TLS: {s.smtp_tls}){user}, from {s.mail_from}"
        return f".eml files in {s.mail_dir.resolve()} (no SMTP host configured)"

    def send_later(self, message: EmailMessage) -> None:
        """Queue ``message`` for the background sender; returns at once."""
        self.later(lambda: self.deliver_with_retries(message))

    def later(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the mail thread, after the caller's answer: work whose cost or
        outcome must not show in a response (whether an address has an account) goes here."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail")
            future = self._executor.submit(self._run, job)
            self._pending.add(future)
        future.add_done_callback(self._done)

    @staticmethod
    def _run(job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:  # a background job has nobody to answer; it must not vanish silently
            log.exception("a background mail job failed")

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait until every queued message is delivered or given up; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                pending[0].exception(timeout=remaining)  # delivery errors are logged, not raised
            except TimeoutError:
                return False

    def close(self, timeout: float = 30.0) -> None:
        self.wait(timeout)
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)

    def deliver(self, message: EmailMessage) -> None:
        """Send ``message`` now (the background thread's work; raises on failure)."""
        if "From" not in message:
            message["From"] = self._settings.mail_from
        if self.uses_smtp:
            self._smtp(message)
        else:
            self._file(message)

    def deliver_with_retries(self, message: EmailMessage) -> None:
        for attempt, delay in enumerate((*RETRY_DELAYS_SECONDS, None), start=1):
            try:
                self.deliver(message)
                return
            except (OSError, smtplib.SMTPException) as exc:
                if delay is None:
                    log.error(
                        "gave up sending %r after %d attempts: %s",
                        message["Subject"],
                        attempt,
                        exc.__class__.__name__,
                    )
                    return
                log.warning("sending %r failed (%s); retrying", message["Subject"], exc)
                time.sleep(delay)

    def _smtp(self, message: EmailMessage) -> None:
        s = self._settings
        assert s.smtp_host is not None
        context = ssl.create_default_context(cafile=str(s.smtp_ca_file) if s.smtp_ca_file else None)
        client: smtplib.SMTP
        if s.smtp_tls == "tls":
            client = smtplib.SMTP_SSL(
                s.smtp_host, self.port, timeout=s.smtp_timeout_seconds, context=context
            )
        else:
            client = smtplib.SMTP(s.smtp_host, self.port, timeout=s.smtp_timeout_seconds)
        with client:
            if s.smtp_tls == "starttls":
                client.starttls(context=context)
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                client.login(s.smtp_username, password)
            client.send_message(message)

    def _file(self, message: EmailMessage) -> None:
        folder: Path = self._settings.mail_dir
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        partial = target.with_suffix(".part")
        # Owner-only from the first byte: the message holds a code.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(message.as_bytes())
        partial.rename(target)  # readers never see half a message
