"""A client proving their address the way a person does: the code from the emailed message."""

import re

import sqlalchemy as sa

from app.extensions import db
from app.mailing.models import OutboxMessage

SIGN_IN_SUBJECT = "Your sign-in code for "
CODE = re.compile(r"^\s*(\d{6})\s*$", re.M)  # the code stands on a line of its own


def latest_sign_in_message(email):
    """The newest one-time sign-in message queued for ``email`` (as typed: normalized here)."""
    return db.session.scalar(
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.recipient == email.strip().lower(), OutboxMessage.subject.contains(SIGN_IN_SUBJECT)
        )
        .order_by(OutboxMessage.id.desc())
    )


def code_in(text):
    """The 6-digit code of a sign-in message's text part."""
    return CODE.search(text).group(1)


def latest_sign_in_code(email):
    return code_in(latest_sign_in_message(email).text)


def latest_sign_in_link_path(email):
    """The path of the one-time link in the newest sign-in message to ``email``."""
    text = latest_sign_in_message(email).text
    link = next(word for word in text.split() if "/sign-in/link/" in word)
    return "/" + link.split("/", 3)[3]


def confirm_with_code(client, email):
    """Type the emailed code in ``client``'s browser, as the parent would."""
    return client.post("/sign-in/code", data={"code": latest_sign_in_code(email)})


def wait_for_mail(mail_outbox, email, subject_part, timeout=10):
    """The newest message to ``email`` whose subject contains ``subject_part``, waiting for it."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [
            mail
            for mail in list(mail_outbox.messages)
            if email in mail.rcpt_tos and subject_part in (mail.subject or "")
        ]
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no message to {email} with {subject_part!r} in its subject")


def type_emailed_code(page, mail_outbox, email):
    """On the "check your email" page, type the code of the message that reached ``email``."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    code = code_in(wait_for_mail(mail_outbox, email, SIGN_IN_SUBJECT).text())
    page.fill("input[name=code]", code)
    page.get_by_role("button", name="Continue").click()
