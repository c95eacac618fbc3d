"""The texts we mail. Plain text, no links that could be spoofed into phishing templates, no
health information, and never a hint in one message about another account."""

from __future__ import annotations

import textwrap
import uuid
from email.message import EmailMessage
from email.utils import formatdate

PRODUCT = "paindiary"
IGNORE = "If this was not you, ignore this message: nothing changes unless the code is entered."


def _wrap(body: str) -> str:
    """Paragraphs filled to 72 columns (so the message is plain 7-bit text, readable as an .eml
    file too); indented lines, such as the code, stay as they are."""
    paragraphs = body.strip("\n").split("\n\n")
    return (
        "\n\n".join(
            p
            if p.startswith("    ")
            else textwrap.fill(
                " ".join(p.split()), 72, break_on_hyphens=False, break_long_words=False
            )
            for p in paragraphs
        )
        + "\n"
    )


def _message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    # Not email.utils.make_msgid: it draws from the process-wide ``random`` state (and with it
    # the host name), which a mail thread should leave alone.
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{PRODUCT}.invalid>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message.set_content(_wrap(body))
    return message


def _minutes(ttl_seconds: int) -> str:
    minutes = max(1, round(ttl_seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def verification_code(to: str, code: str, ttl_seconds: int) -> EmailMessage:
    return _message(
        to,
        f"Confirm your e-mail address for {PRODUCT}",
        f"""Hello,

someone (we hope you) created a {PRODUCT} account with this e-mail address.
To confirm that the address is yours, enter this code in the app:

    {code}

The code works once, for {_minutes(ttl_seconds)}, and allows 5 tries.

{IGNORE}
""",
    )


def already_registered(to: str) -> EmailMessage:
    return _message(
        to,
        f"You already have a {PRODUCT} account",
        f"""Hello,

someone (we hope you) tried to create a {PRODUCT} account with this e-mail address, but
this address already has one. Nothing was changed.

Sign in with your password as usual. If you forgot it, choose "Forgot password" in the app
(it asks the server at POST /api/v1/auth/password-reset): we mail you a code, and you enter it
together with a new password.
""",
    )


def password_reset_code(to: str, code: str, ttl_seconds: int) -> EmailMessage:
    return _message(
        to,
        f"Reset your {PRODUCT} password",
        f"""Hello,

someone (we hope you) asked to reset the password of the {PRODUCT} account with this e-mail
address. Enter this code in the app together with your new password:

    {code}

The code works once, for {_minutes(ttl_seconds)}, and allows 5 tries. Resetting the password
signs you out everywhere.

{IGNORE}
""",
    )


def no_account(to: str) -> EmailMessage:
    return _message(
        to,
        f"Password reset for {PRODUCT}",
        f"""Hello,

someone (we hope you) asked to reset a {PRODUCT} password for this e-mail address, but no
account uses this address. Perhaps you registered with another one.

If this was not you, ignore this message.
""",
    )
