"""Bounces, complaints and unsubscribe mails round-trip through the inbound receiver: a message
is sent through the app to the test SMTP server with its VERP envelope sender, then a DSN, an
ARF report or a plain mail is delivered to the receiver over SMTP on 127.0.0.1."""

import smtplib
from email import message_from_bytes, policy

import flask_mail  # noqa: F401  (imported on purpose: it changes the utf-8 charset process-wide)
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.mailing import return_path
from app.mailing.dispatch import dispatch
from app.mailing.feedback import read_bounce
from app.mailing.inbound import start_inbound
from app.mailing.models import MailKind, MailState, OutboxMessage, Suppression
from app.mailing.outbox import queue_message
from tests.conftest import free_port
from tests.factories import NOW

DOMAIN = "bounces.proofsheet.test"


@pytest.fixture
def app_config():
    return {"MAIL_BOUNCE_DOMAIN": DOMAIN, "MAIL_INBOUND_PORT": free_port(), "MAIL_INBOUND_HOST": "127.0.0.1"}


@pytest.fixture
def receiver(app):
    controller = start_inbound(app)
    yield controller
    controller.stop()


def send_campaign(studio_id, mail_outbox, recipient="client@example.com"):
    """Queue a campaign message as the engine does, send it, return (row id, what arrived)."""
    row = queue_message(
        kind=MailKind.CAMPAIGN,
        studio_id=studio_id,
        sender="Northlight <no-reply@proofsheet.local>",
        recipient=recipient,
        subject="Spring sale",
        now=NOW,
        html="<p>Hello</p>",
        text="Hello",
        source="workflow_email:3",
        headers={
            "X-Proofsheet-Studio": str(studio_id),
            "List-Unsubscribe": "<http://localhost/unsubscribe/x>, <mailto:no-reply@proofsheet.local>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    db.session.commit()
    row_id = row.id
    assert dispatch(NOW).sent == 1
    return row_id, mail_outbox.wait_for(1)[-1]


def deliver(app, rcpt, raw, mail_from=""):
    """Hand ``raw`` to the inbound receiver over SMTP, as a remote MTA would."""
    with smtplib.SMTP("127.0.0.1", app.config["MAIL_INBOUND_PORT"], timeout=10) as smtp:
        smtp.sendmail(mail_from, [rcpt], raw)


def dsn(original, recipient, action, status, diagnostic):
    """A delivery status notification (RFC 3464) of the kind Postfix writes."""
    return (
        "From: MAILER-DAEMON@mx.example.com\r\nTo: " + original.mail_from + "\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Return-Path: <{original.mail_from}>\r\nSubject: Spring sale\r\n\r\n--B--\r\n"
    ).encode("utf-8")


def arf(original, feedback_type="abuse"):
    """An abuse report (RFC 5965) quoting the message as the provider received it."""
    quoted = f"Return-Path: <{original.mail_from}>\r\n".encode() + original.raw
    return (
        b"From: feedback@isp.example\r\nTo: complaints@" + DOMAIN.encode() + b"\r\n"
        b"Subject: FW: Spring sale\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=feedback-report; boundary="R"\r\n\r\n'
        b"--R\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n"
        b"--R\r\nContent-Type: message/feedback-report\r\n\r\n"
        b"Feedback-Type: " + feedback_type.encode() + b"\r\nUser-Agent: ISP-FBL/1.0\r\n"
        b"Version: 1\r\n\r\n"
        b"--R\r\nContent-Type: message/rfc822\r\n\r\n" + quoted + b"\r\n--R--\r\n"
    )


def suppressions():
    db.session.rollback()  # see what the receiver's thread committed
    return {row.email: (row.reason, row.detail) for row in db.session.scalars(sa.select(Suppression))}


def outbox_row(row_id):
    db.session.rollback()
    return db.session.get(OutboxMessage, row_id, populate_existing=True)


def test_the_envelope_sender_is_the_messages_signed_bounce_address(app, owner, mail_outbox):
    row_id, sent = send_campaign(owner.studio_id, mail_outbox)
    assert sent.mail_from.startswith(f"bounce+{row_id}-") and sent.mail_from.endswith(DOMAIN)
    assert return_path.read_address(sent.mail_from) == ("bounce", row_id)
    assert sent.message["From"] == "Northlight <no-reply@proofsheet.local>"  # From unchanged


def test_a_hard_bounce_suppresses_the_address_and_fails_the_message(app, owner, mail_outbox, receiver):
    row_id, sent = send_campaign(owner.studio_id, mail_outbox)
    deliver(
        app,
        sent.mail_from,
        dsn(sent, "client@example.com", "failed", "5.1.1", "550 5.1.1 <client@example.com>: User unknown"),
    )
    reason, detail = suppressions()["client@example.com"]
    assert reason == "bounced" and detail.startswith(f"bounce, message {row_id}: 5.1.1")
    row = outbox_row(row_id)
    assert row.state == MailState.FAILED
    assert row.last_error.startswith("bounced: 5.1.1 smtp; 550 5.1.1")


def test_a_soft_bounce_is_counted_and_suppresses_nothing(app, owner, mail_outbox, receiver):
    row_id, sent = send_campaign(owner.studio_id, mail_outbox)
    report = dsn(sent, "client@example.com", "delayed", "4.2.2", "452 4.2.2 Mailbox full")
    deliver(app, sent.mail_from, report)
    deliver(app, sent.mail_from, report)
    assert suppressions() == {}
    row = outbox_row(row_id)
    assert row.state == MailState.SENT
    assert row.last_error.startswith("soft bounce 2: 4.2.2 smtp; 452 4.2.2 Mailbox full")


def test_a_complaint_suppresses_the_address(app, owner, mail_outbox, receiver):
    row_id, sent = send_campaign(owner.studio_id, mail_outbox)
    deliver(app, f"complaints@{DOMAIN}", arf(sent), mail_from="feedback@isp.example")
    reason, detail = suppressions()["client@example.com"]
    assert (reason, detail) == ("complained", f"complaint, message {row_id}: abuse")
    row = outbox_row(row_id)
    assert row.state == MailState.SENT and row.last_error.startswith("complained: abuse")


def test_a_not_spam_report_changes_nothing(app, owner, mail_outbox, receiver):
    _row_id, sent = send_campaign(owner.studio_id, mail_outbox)
    deliver(app, f"complaints@{DOMAIN}", arf(sent, "not-spam"), mail_from="feedback@isp.example")
    assert suppressions() == {}


def test_mail_to_the_unsubscribe_address_unsubscribes_the_recipient(app, owner, mail_outbox, receiver):
    row_id, sent = send_campaign(owner.studio_id, mail_outbox)
    mailto = sent.message["List-Unsubscribe"].split(", ")[1]
    address = mailto.removeprefix("<mailto:").removesuffix("?subject=unsubscribe>")
    deliver(
        app,
        address,
        b"From: Client <client@example.com>\r\nSubject: unsubscribe\r\n\r\n",
        mail_from="client@example.com",
    )
    reason, detail = suppressions()["client@example.com"]
    assert reason == "unsubscribed"
    assert detail == f"mailto, message {row_id}: from client@example.com"


def test_a_forged_bounce_changes_nothing(app, owner, mail_outbox, receiver):
    row_id, sent = send_campaign(owner.studio_id, mail_outbox)
    forged = f"bounce+{row_id}-{'0' * 20}@{DOMAIN}"
    report = dsn(sent, "client@example.com", "failed", "5.1.1", "550 User unknown")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        deliver(app, forged, report)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        deliver(app, f"postmaster@{DOMAIN}", report)
    # a complaint quoting a message with a forged return path names none of ours (the real
    # message's List-Unsubscribe would name it: the quote is the forger's own text)
    sent.mail_from, sent.raw = forged, b"Subject: Spring sale\r\n\r\nHello\r\n"
    deliver(app, f"complaints@{DOMAIN}", arf(sent), mail_from="feedback@isp.example")
    assert suppressions() == {}
    assert outbox_row(row_id).state == MailState.SENT


def test_a_bounce_signed_with_a_key_of_another_platform_is_refused(app, owner, mail_outbox, receiver):
    row_id, sent = send_campaign(owner.studio_id, mail_outbox)
    other = return_path.address_for("bounce", row_id, DOMAIN, secret_key="another-secret")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        deliver(app, other, dsn(sent, "client@example.com", "failed", "5.1.1", "550 no"))
    assert suppressions() == {}


def test_without_the_receiver_mail_keeps_the_from_address_as_envelope(app, owner, mail_outbox):
    app.config["MAIL_INBOUND_PORT"] = 0
    _row_id, sent = send_campaign(owner.studio_id, mail_outbox)
    assert sent.mail_from == "no-reply@proofsheet.local"


@pytest.mark.no_database
def test_read_bounce_uses_flufl_for_reports_without_a_status(app):
    """A qmail-style bounce (no DSN fields): flufl.bounce's heuristics find the address."""
    raw = (
        b"From: MAILER-DAEMON@mx.example.com\r\nSubject: failure notice\r\n\r\n"
        b"Hi. This is the qmail-send program at mx.example.com.\r\n"
        b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
        b"This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
        b"<gone@example.com>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
        b"--- Below this line is a copy of the message.\r\n"
    )
    bounce = read_bounce(message_from_bytes(raw))
    assert bounce is not None and bounce.permanent and bounce.address == "gone@example.com"
    assert read_bounce(message_from_bytes(b"Subject: I am on holiday\r\n\r\nBack soon.")) is None
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == "failure notice"
