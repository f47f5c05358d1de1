"""The outbox and dispatcher over real SMTP: wire format, retries, bounces, pauses, leases,
rates, suppression, and several dispatchers at once."""

import threading
from datetime import timedelta
from email import message_from_bytes, policy

import flask_mail  # noqa: F401  (imported on purpose: it changes the utf-8 charset process-wide)
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.mailing.dispatch import LEASE, MAX_ATTEMPTS, backoff_delay, dispatch, resume_studio
from app.mailing.models import MailKind, MailState, OutboxMessage, StudioMailState, Suppression
from app.mailing.outbox import queue_message
from tests.conftest import free_port
from tests.factories import NOW
from tests.smtp_helpers import start_scripted_server


@pytest.fixture
def scripted(app):
    """A scriptable SMTP server on its own port; the app sends there."""
    port = free_port()
    controller = start_scripted_server(port)
    app.config.update(MAIL_PORT=port, MAIL_TIMEOUT=2)
    yield controller.handler_ref
    controller.stop()


def queue(studio_id, recipient="client@example.com", kind=MailKind.TRANSACTIONAL, now=NOW, **extra):
    values = dict(
        kind=kind,
        studio_id=studio_id,
        sender="Northlight <studio@northlight.test>",
        recipient=recipient,
        subject="Your photos are ready",
        now=now,
        html="<p>Hello</p>",
        text="Hello",
    )
    values.update(extra)
    row = queue_message(**values)
    db.session.commit()
    return row


def states():
    db.session.expire_all()
    return dict(db.session.execute(sa.select(OutboxMessage.recipient, OutboxMessage.state)).all())


def test_every_line_on_the_wire_is_short_and_ends_in_crlf(app, owner, scripted):
    long_html = (
        "<p style='color:#123456'>"
        + "x" * 3000
        + " é ü 😀</p>"
        + "<a href='https://example.com/"
        + "a" * 1500
        + "'>link</a>"
    )
    queue(owner.studio_id, html=long_html, text="y" * 2500 + " ünïcödé")
    assert dispatch(NOW).sent == 1
    raw = scripted.received[0][2]
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 998 for line in lines)
    assert b"\n" not in raw.replace(b"\r\n", b"")  # no bare LF
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Message-ID"] and message["Date"]
    assert message.get_body(("html",)).get_content().count("x") >= 3000
    assert "ünïcödé" in message.get_body(("plain",)).get_content()


def test_message_id_is_fixed_at_queue_time_and_kept_on_retry(app, owner, scripted):
    row = queue(owner.studio_id)
    scripted.rcpt_replies["client@example.com"] = ("451 4.3.0 Try again later", 1)
    assert dispatch(NOW).retried == 1
    db.session.refresh(row)
    assert row.state == MailState.QUEUED and row.attempts == 1
    assert NOW + timedelta(seconds=40) <= row.due_at <= NOW + timedelta(seconds=80)
    assert dispatch(NOW + timedelta(seconds=30)).sent == 0  # not due yet
    assert dispatch(NOW + timedelta(minutes=2)).sent == 1
    sent = message_from_bytes(scripted.received[0][2], policy=policy.default)
    assert sent["Message-ID"] == row.message_id


def test_temporary_refusals_retry_and_permanent_ones_fail_with_the_reply(app, owner, scripted):
    for name in ("a", "b", "c"):
        queue(owner.studio_id, recipient=f"{name}@example.com")
    scripted.rcpt_replies["a@example.com"] = ("451 4.7.1 Greylisted", 2)
    scripted.rcpt_replies["c@example.com"] = "550 5.1.1 No such user"
    first = dispatch(NOW)
    assert (first.sent, first.retried, first.failed) == (1, 1, 1)
    later = NOW
    for _ in range(3):
        later += timedelta(hours=1)
        dispatch(later)
    assert states() == {"a@example.com": "sent", "b@example.com": "sent", "c@example.com": "failed"}
    failed = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == "c@example.com"))
    assert "550 5.1.1 No such user" in failed.last_error
    bounce = db.session.get(Suppression, (owner.studio_id, "c@example.com"))
    assert bounce is not None and bounce.reason == "bounced"


def test_a_server_that_is_down_loses_nothing(app, owner, scripted):
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    for index in range(3):
        queue(owner.studio_id, recipient=f"p{index}@example.com")
    result = dispatch(NOW)
    assert result.sent == 0 and result.retried == 3
    assert set(states().values()) == {"queued"}
    app.config["MAIL_PORT"] = port
    assert dispatch(NOW + timedelta(hours=1)).sent == 3
    assert len(scripted.received) == 3


def test_a_misconfigured_server_never_exhausts_the_attempts(app, owner, scripted):
    """Wrong host or port: the message stays queued with the error, past MAX_ATTEMPTS, until the
    server can be reached; a server's own 4xx replies do end in "failed"."""
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()
    queue(owner.studio_id, recipient="waits@example.com", kind=MailKind.NOTIFICATION)
    later = NOW
    for _ in range(MAX_ATTEMPTS + 3):
        later += timedelta(hours=2)
        dispatch(later)
    row = db.session.scalar(sa.select(OutboxMessage))
    assert row.state == "queued" and row.attempts == 0  # no reply from a server: not counted
    assert "Connection refused" in row.last_error or "Errno" in row.last_error
    app.config["MAIL_PORT"] = port
    scripted.rcpt_replies["greylisted@example.com"] = ("451 4.3.0 Try later", 1000)
    queue(owner.studio_id, recipient="greylisted@example.com", kind=MailKind.NOTIFICATION, now=later)
    for _ in range(MAX_ATTEMPTS):
        later += timedelta(hours=2)
        dispatch(later)
    assert states() == {"waits@example.com": "sent", "greylisted@example.com": "failed"}


def test_policy_refusal_pauses_the_studio_until_resumed(app, owner, scripted):
    """A 5.7.x refusal of the studio's sender (MAIL FROM) pauses it; of one recipient it does
    not (tests/test_mailing_failures.py)."""
    queue(owner.studio_id, recipient="a@example.com")
    queue(owner.studio_id, recipient="b@example.com")
    scripted.mail_replies["studio@northlight.test"] = "550 5.7.1 Relaying denied"
    result = dispatch(NOW)
    assert result.sent == 0 and result.failed == 0
    state = db.session.get(StudioMailState, owner.studio_id)
    assert state.paused_at == NOW and "5.7.1 Relaying denied" in state.pause_reason
    assert dispatch(NOW + timedelta(hours=1)).sent == 0  # paused: nothing is claimed
    scripted.mail_replies.clear()
    resume_studio(owner.studio_id)
    db.session.commit()
    assert dispatch(NOW + timedelta(hours=2)).sent == 2


def test_silence_after_the_final_dot_is_recorded_as_unknown_not_resent(app, owner, scripted):
    app.config["MAIL_TIMEOUT"] = 0.5
    scripted.stall_after_data = 2
    row = queue(owner.studio_id)
    assert dispatch(NOW).unknown == 1
    db.session.refresh(row)
    assert row.state == MailState.UNKNOWN and "may have been delivered" in row.last_error
    scripted.stall_after_data = 0
    assert dispatch(NOW + timedelta(hours=1)).sent == 0


def test_rows_of_a_dispatcher_that_died_are_claimed_again_after_the_lease(app, owner, scripted):
    row = queue(owner.studio_id)
    row.state, row.lease_until, row.leased_by = MailState.SENDING, NOW + LEASE, "dead-worker"
    db.session.commit()
    assert dispatch(NOW + LEASE - timedelta(seconds=1)).sent == 0
    assert dispatch(NOW + LEASE + timedelta(seconds=1)).sent == 1


def test_send_rate_is_shared_and_the_rest_waits_for_the_next_minute(app, owner, scripted):
    app.config["MAIL_STUDIO_RATE_PER_MINUTE"] = 2
    for index in range(5):
        queue(owner.studio_id, recipient=f"p{index}@example.com")
    first = dispatch(NOW)
    assert (first.sent, first.deferred) == (2, 3)
    assert dispatch(NOW + timedelta(seconds=10)).sent == 0  # same minute, budget spent
    assert dispatch(NOW + timedelta(minutes=1)).sent == 2
    assert dispatch(NOW + timedelta(minutes=2)).sent == 1


def test_unsubscribed_address_gets_no_campaign_mail_but_still_transactional(app, owner, scripted):
    db.session.add(
        Suppression(studio_id=owner.studio_id, email="p@example.com", reason="unsubscribed", created_at=NOW)
    )
    db.session.commit()
    campaign = queue(owner.studio_id, recipient="P@example.com", kind=MailKind.CAMPAIGN)
    receipt = queue(owner.studio_id, recipient="p@example.com", subject="Order 2026-00001")
    result = dispatch(NOW)
    assert (result.sent, result.skipped) == (1, 1)
    db.session.refresh(campaign)
    db.session.refresh(receipt)
    assert campaign.state == MailState.SKIPPED and receipt.state == MailState.SENT


def test_expired_mail_is_skipped(app, owner, scripted):
    row = queue(owner.studio_id, expires_at=NOW + timedelta(hours=1))
    assert dispatch(NOW + timedelta(hours=2)).skipped == 1
    db.session.refresh(row)
    assert row.state == MailState.SKIPPED


def test_header_injection_is_refused_when_queueing(app, owner):
    """Refused as a failed message with the reason (not an exception: the value comes from
    stored data, and raising would stop a request or a tick for everyone)."""
    row = queue_message(
        kind=MailKind.TEST,
        studio_id=owner.studio_id,
        sender="a@b.test",
        recipient="c@d.test",
        subject="Hi\r\nBcc: victim@example.com",
        html="",
        text="",
        now=NOW,
    )
    assert row.state == MailState.FAILED and "line break" in row.last_error


def test_several_dispatchers_at_once_send_each_message_exactly_once(app, owner, scripted):
    for index in range(60):
        queue(owner.studio_id, recipient=f"p{index}@example.com")
    barrier = threading.Barrier(4)

    def run(worker):
        with app.app_context():
            barrier.wait()
            for _ in range(5):
                dispatch(NOW, worker=worker, limit=7)
            db.session.remove()

    threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    recipients = [rcpt for _, rcpts, _ in scripted.received for rcpt in rcpts]
    assert sorted(recipients) == sorted(f"p{index}@example.com" for index in range(60))
    assert set(states().values()) == {"sent"}


def test_backoff_grows_and_is_capped():
    delays = [backoff_delay(attempt).total_seconds() for attempt in range(1, 12)]
    assert 48 <= delays[0] <= 72 and 96 <= delays[1] <= 144
    assert max(delays) <= 3600 * 1.2 and max(delays) >= 3600 * 0.8


def test_send_email_queues_renders_and_delivers_through_the_outbox(app, owner, mail_outbox):
    from app.mailing.services import send_email, send_now

    with app.test_request_context():
        row = send_email(
            to="parent@example.com",
            subject="Your gallery link",
            template="plain",
            studio_id=owner.studio_id,
            sender_name="Northlight",
            paragraphs=["Here is your link."],
            now=NOW,
        )
        db.session.commit()
        send_now([row], NOW)
    received = mail_outbox.wait_for(1)[0]
    assert received.subject == "Your gallery link"
    assert received.message["X-Proofsheet-Studio"] == str(owner.studio_id)
    assert "Northlight" in received.message["From"]
    db.session.refresh(row)
    assert row.state == MailState.SENT


def test_announcing_the_next_sender_keeps_the_conversation_in_step(app, owner, scripted):
    """MAIL FROM of the next message goes out before the previous outcome is committed; a
    refusal of that MAIL or a different sender must not shift the replies."""
    from app.mailing.transport import SmtpConnection, SmtpSettings

    settings = SmtpSettings.from_config(app.config)
    with SmtpConnection(settings) as connection:
        connection.send("a@x.test", ["p1@example.com"], b"Subject: 1\r\n\r\none\r\n")
        connection.announce("b@x.test")
        connection.send("c@x.test", ["p2@example.com"], b"Subject: 2\r\n\r\ntwo\r\n")
        connection.announce("d@x.test")
        connection.send("d@x.test", ["p3@example.com"], b"Subject: 3\r\n\r\nthree\r\n")
    assert [(sender, rcpts) for sender, rcpts, _ in scripted.received] == [
        ("a@x.test", ["p1@example.com"]),
        ("c@x.test", ["p2@example.com"]),
        ("d@x.test", ["p3@example.com"]),
    ]
