"""One bad message never stops the others, and failures are classified by SMTP stage: outages
do not use up the 4xx budget, a recipient's refusal fails its message only, hard bounces are
suppressed, and messages that cannot be built or sent (a line break in a name, an
internationalised address) fail alone with their reason. Over real SMTP (aiosmtpd)."""

from datetime import timedelta
from email import message_from_bytes, message_from_string, policy

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.mailing.dispatch import MAX_ATTEMPTS, dispatch, resume_studio, setup_backoff
from app.mailing.models import MailKind, MailState, OutboxMessage, StudioMailState, Suppression
from app.mailing.outbox import message_base, message_row, queue_many_once, queue_message
from app.mailing.transport import SmtpConnection, SmtpSettings
from tests.conftest import free_port
from tests.factories import NOW
from tests.smtp_helpers import start_scripted_server

IDN = "ёлка@пример.рф"


def _server(app, **options):
    controller = start_scripted_server(free_port(), **options)
    app.config.update(MAIL_PORT=controller.port, MAIL_TIMEOUT=2)
    return controller


@pytest.fixture
def scripted(app):
    """A scriptable SMTP server without SMTPUTF8 (aiosmtpd's Controller offers it unless
    told not to); the app sends there."""
    controller = _server(app, enable_SMTPUTF8=False)
    yield controller.handler_ref
    controller.stop()


@pytest.fixture
def utf8_scripted(app):
    """A scriptable SMTP server that offers SMTPUTF8."""
    controller = _server(app, enable_SMTPUTF8=True)
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


def rows_by_recipient():
    db.session.expire_all()
    return {row.recipient: row for row in db.session.scalars(sa.select(OutboxMessage))}


def received_recipients(handler):
    return sorted(rcpt for _, rcpts, _ in handler.received for rcpt in rcpts)


def is_paused(studio_id):
    state = db.session.get(StudioMailState, studio_id)
    return state is not None and state.paused_at is not None


# ------------------------------------------------------------------ outages and the 4xx budget


def test_a_long_outage_does_not_use_up_the_attempts_of_a_later_451(app, owner, scripted):
    """A sink down for more dispatches than MAX_ATTEMPTS, then a 451: still retried, then sent."""
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # nothing listens there: refused
    row = queue(owner.studio_id, recipient="later@example.com")
    later = NOW
    for _ in range(MAX_ATTEMPTS + 2):
        later += timedelta(hours=2)
        assert dispatch(later).retried == 1
    app.config["MAIL_PORT"] = port
    scripted.rcpt_replies["later@example.com"] = ("451 4.3.0 Try again later", 1)
    later += timedelta(hours=2)
    assert dispatch(later).retried == 1
    db.session.refresh(row)
    assert row.state == MailState.QUEUED and row.attempts == 1, row.last_error
    assert "451 4.3.0" in row.last_error
    later += timedelta(hours=2)
    assert dispatch(later).sent == 1
    assert received_recipients(scripted) == ["later@example.com"]


def test_the_wait_after_an_outage_grows_with_the_waiting_and_is_capped(app, owner):
    row = queue(owner.studio_id)
    waits = [
        setup_backoff(row, NOW + timedelta(minutes=minutes)).total_seconds() for minutes in (0, 2, 8, 30, 600)
    ]
    assert 48 <= waits[0] <= 72  # one minute at first
    assert 96 <= waits[1] <= 144 and 384 <= waits[2] <= 576
    assert waits[4] <= 3600 * 1.2 and waits[3] < waits[4]


def test_4xx_replies_still_end_in_failed_after_max_attempts(app, owner, scripted):
    scripted.rcpt_replies["grey@example.com"] = ("451 4.7.1 Greylisted", 1000)
    queue(owner.studio_id, recipient="grey@example.com")
    later = NOW
    for _ in range(MAX_ATTEMPTS):
        later += timedelta(hours=2)
        dispatch(later)
    row = rows_by_recipient()["grey@example.com"]
    assert row.state == MailState.FAILED and row.attempts == MAX_ATTEMPTS


# ------------------------------------------------------------------ classified by stage


def test_a_policy_refusal_of_one_recipient_fails_that_message_only(app, owner, scripted):
    """5.7.1 at RCPT: that message fails, the others go, the studio is not paused (so there is
    no "Resume" that pauses again at once)."""
    for name in ("a", "b", "c"):
        queue(owner.studio_id, recipient=f"{name}@example.com")
    scripted.rcpt_replies["a@example.com"] = "550 5.7.1 Recipient not allowed"
    result = dispatch(NOW)
    assert (result.sent, result.failed, result.deferred) == (2, 1, 0)
    assert not is_paused(owner.studio_id)
    refused = rows_by_recipient()["a@example.com"]
    assert refused.state == MailState.FAILED and "5.7.1 Recipient not allowed" in refused.last_error
    assert db.session.get(Suppression, (owner.studio_id, "a@example.com")) is None
    queue(owner.studio_id, recipient="d@example.com")
    assert dispatch(NOW + timedelta(minutes=1)).sent == 1


def test_a_policy_refusal_of_the_sender_pauses_the_studio_until_resumed(app, owner, scripted):
    queue(owner.studio_id, recipient="a@example.com")
    queue(owner.studio_id, recipient="b@example.com")
    scripted.mail_replies["studio@northlight.test"] = "550 5.7.1 Sender not allowed"
    result = dispatch(NOW)
    assert result.sent == 0 and result.failed == 0 and result.deferred == 2
    state = db.session.get(StudioMailState, owner.studio_id)
    assert state.paused_at == NOW and "5.7.1 Sender not allowed" in state.pause_reason
    assert {row.state for row in rows_by_recipient().values()} == {MailState.QUEUED}
    scripted.mail_replies.clear()
    resume_studio(owner.studio_id)
    db.session.commit()
    assert dispatch(NOW + timedelta(minutes=1)).sent == 2


def test_sensitive_mail_never_pauses_the_studio(app, owner, scripted):
    queue(owner.studio_id, recipient="reset@example.com", is_sensitive=True)
    scripted.mail_replies["studio@northlight.test"] = "550 5.7.1 Sender not allowed"
    dispatch(NOW)
    assert not is_paused(owner.studio_id)
    assert rows_by_recipient()["reset@example.com"].state == MailState.FAILED


def test_a_refusal_after_data_fails_that_message_only(app, owner, scripted):
    for name in ("a", "b"):
        queue(owner.studio_id, recipient=f"{name}@example.com")
    scripted.data_replies["a@example.com"] = "554 5.7.1 Message refused as spam"
    result = dispatch(NOW)
    assert (result.sent, result.failed) == (1, 1)
    assert not is_paused(owner.studio_id)
    rows = rows_by_recipient()
    assert rows["a@example.com"].state == MailState.FAILED
    assert "5.7.1 Message refused as spam" in rows["a@example.com"].last_error
    assert rows["b@example.com"].state == MailState.SENT


def test_a_451_after_data_is_retried(app, owner, scripted):
    scripted.data_replies["a@example.com"] = "451 4.3.0 Local error in processing"
    row = queue(owner.studio_id, recipient="a@example.com")
    assert dispatch(NOW).retried == 1
    db.session.refresh(row)
    assert row.state == MailState.QUEUED and row.attempts == 1
    scripted.data_replies.clear()
    assert dispatch(NOW + timedelta(hours=1)).sent == 1


@pytest.mark.parametrize(
    "reply, at_data, suppressed",
    [
        ("550 5.1.1 No such user", False, True),
        ("550 5.1.1 No such user", True, True),
        ("550 5.2.1 Mailbox disabled", False, True),
        ("550 No such user here", False, True),
        ("551 User not local", False, True),
        ("553 Mailbox name not allowed", False, True),
        ("552 5.2.2 Mailbox full", False, False),
        ("554 Transaction failed", False, False),
        ("550 5.7.1 Refused by policy", False, False),
    ],
)
def test_hard_bounces_suppress_the_address_other_refusals_do_not(
    app, owner, scripted, reply, at_data, suppressed
):
    (scripted.data_replies if at_data else scripted.rcpt_replies)["gone@example.com"] = reply
    queue(owner.studio_id, recipient="Gone@example.com".lower())
    assert dispatch(NOW).failed == 1
    row = rows_by_recipient()["gone@example.com"]
    assert row.state == MailState.FAILED and reply in row.last_error
    bounce = db.session.get(Suppression, (owner.studio_id, "gone@example.com"))
    assert (bounce is not None) == suppressed
    assert not is_paused(owner.studio_id)


def test_a_bounced_cc_is_suppressed_not_the_recipient(app, owner, scripted):
    scripted.rcpt_replies["old-cc@example.com"] = "550 5.1.1 No such user"
    queue(owner.studio_id, recipient="parent@example.com", cc=["old-cc@example.com"])
    assert dispatch(NOW).failed == 1
    assert db.session.get(Suppression, (owner.studio_id, "old-cc@example.com")) is not None
    assert db.session.get(Suppression, (owner.studio_id, "parent@example.com")) is None


# ------------------------------------------------------------------ poison messages


def test_a_line_break_in_a_name_makes_a_failed_row_not_an_exception(app, owner, scripted):
    """What the tick does: rows from message_base/message_row, inserted in bulk."""
    base = message_base(
        kind=MailKind.CAMPAIGN,
        studio_id=owner.studio_id,
        sender="Northlight <studio@northlight.test>",
        now=NOW,
    )
    rows = [
        message_row(
            base,
            recipient=f"p{index}@example.com",
            subject="Hello",
            html="<p>Hi</p>",
            text="Hi",
            recipient_name=name,
            dedup_key=f"test:{index}",
        )
        for index, name in enumerate(["Ann", "Bob\r\nBcc: victim@example.com", "Cy"])
    ]
    assert queue_many_once(rows) == 3
    db.session.commit()
    poisoned = rows_by_recipient()["p1@example.com"]
    assert poisoned.state == MailState.FAILED
    assert "recipient's name contains a line break" in poisoned.last_error
    assert dispatch(NOW).sent == 2
    assert received_recipients(scripted) == ["p0@example.com", "p2@example.com"]
    assert b"victim" not in b"".join(raw for _, _, raw in scripted.received)


def test_a_line_break_in_a_sender_fails_every_row_of_that_base(app, owner):
    base = message_base(
        kind=MailKind.CAMPAIGN,
        studio_id=owner.studio_id,
        sender="Northlight\n <studio@northlight.test>",
        now=NOW,
    )
    row = message_row(base, recipient="p@example.com", subject="Hello", html="", text="")
    assert row["state"] == MailState.FAILED and "sender contains a line break" in row["last_error"]


def test_a_subject_with_a_line_break_is_refused_not_folded(app, owner, scripted):
    row = queue(owner.studio_id, recipient="c@example.com", subject="Hi\r\nBcc: victim@example.com")
    assert row.state == MailState.FAILED and "subject contains a line break" in row.last_error
    assert dispatch(NOW).sent == 0 and scripted.received == []


def test_a_stored_message_that_cannot_be_built_fails_alone(app, owner, other_owner, scripted):
    """Data that got in before the checks (or was edited since): the dispatcher fails that one
    message with its reason and sends the others, this studio's and another's."""
    poisoned = queue(owner.studio_id, recipient="p1@example.com")
    queue(owner.studio_id, recipient="p2@example.com")
    queue(other_owner.studio_id, recipient="other@example.com")
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == poisoned.id)
        .values(recipient_name="Bob\nBcc: victim@example.com")
    )
    db.session.commit()
    result = dispatch(NOW)
    assert (result.sent, result.failed) == (2, 1)
    assert received_recipients(scripted) == ["other@example.com", "p2@example.com"]
    row = rows_by_recipient()["p1@example.com"]
    assert row.state == MailState.FAILED and "line break" in row.last_error


def test_a_poisoned_message_in_the_middle_of_a_batch_keeps_the_conversation_in_step(app, owner, scripted):
    """The next message's bytes are built while the server takes in the current one, and its
    MAIL FROM is announced early: a message that cannot be built must not shift the replies."""
    ids = [queue(owner.studio_id, recipient=f"p{index}@example.com").id for index in range(5)]
    db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id.in_([ids[1], ids[4]])).values(subject="Two\nlines")
    )
    db.session.commit()
    result = dispatch(NOW)
    assert (result.sent, result.failed) == (3, 2)
    assert received_recipients(scripted) == ["p0@example.com", "p2@example.com", "p3@example.com"]
    for _, rcpts, raw in scripted.received:
        assert message_from_bytes(raw, policy=policy.default)["To"] == rcpts[0]


def test_an_internationalised_address_goes_out_with_smtputf8(app, owner, utf8_scripted):
    queue(owner.studio_id, recipient=IDN, recipient_name="Ёлка Иванова")
    queue(owner.studio_id, recipient="plain@example.com")
    assert dispatch(NOW).sent == 2
    assert received_recipients(utf8_scripted) == sorted([IDN, "plain@example.com"])
    raw = next(raw for _, rcpts, raw in utf8_scripted.received if rcpts == [IDN])
    # RFC 6532: the header carries UTF-8 (the bytes parser would read it as ASCII)
    assert raw.isascii() is False and IDN.encode() in raw
    message = message_from_string(raw.decode("utf-8"), policy=policy.default)
    assert message["To"].addresses[0].addr_spec == IDN
    assert message["To"].addresses[0].display_name == "Ёлка Иванова"


def test_an_internationalised_address_fails_alone_where_smtputf8_is_not_offered(
    app, owner, other_owner, client, auth, scripted
):
    queue(owner.studio_id, recipient=IDN)
    queue(owner.studio_id, recipient="plain@example.com")
    queue(other_owner.studio_id, recipient="other@example.com")
    result = dispatch(NOW)
    assert (result.sent, result.failed) == (2, 1)
    assert received_recipients(scripted) == ["other@example.com", "plain@example.com"]
    row = rows_by_recipient()[IDN]
    assert row.state == MailState.FAILED
    assert "cannot deliver to internationalised addresses" in row.last_error
    auth.login(owner)
    page = client.get("/admin/activity/?state=failed")
    assert page.status_code == 200
    assert "cannot deliver to internationalised addresses" in page.get_data(as_text=True)


@pytest.mark.no_database
def test_announcing_before_an_internationalised_message_keeps_the_replies_in_step(app, utf8_scripted):
    settings = SmtpSettings.from_config(app.config)
    with SmtpConnection(settings) as connection:
        connection.send("a@x.test", ["p1@example.com"], b"Subject: 1\r\n\r\none\r\n")
        connection.announce("a@x.test", [IDN])  # not announced: it needs SMTPUTF8
        connection.send("a@x.test", [IDN], b"Subject: 2\r\n\r\ntwo\r\n")
        connection.announce("a@x.test", ["p3@example.com"])
        connection.send("a@x.test", ["p3@example.com"], b"Subject: 3\r\n\r\nthree\r\n")
    assert [rcpts for _, rcpts, _ in utf8_scripted.received] == [
        ["p1@example.com"],
        [IDN],
        ["p3@example.com"],
    ]


def test_a_line_break_in_a_clients_name_never_stops_the_tick(app, owner, other_owner, scripted):
    """The campaign tick with a poisoned name among the recipients: it queues every message,
    that one as failed with its reason; the others and another studio's mail go out."""
    from app.workflows.engine import tick
    from app.workflows.models import Purpose, Trigger
    from tests import factories
    from tests.workflow_factories import assign, make_workflow

    sale_start = NOW + timedelta(days=1)
    gallery = factories.make_gallery(
        owner.studio,
        title="Riverside",
        sale_starts_at=sale_start,
        sale_ends_at=sale_start + timedelta(days=10),
    )
    for index, name in enumerate(["Ann", "Bob\nBcc: victim@example.com", "Cy"]):
        factories.make_client(
            owner.studio, email=f"p{index}@example.com", name=name, gallery=gallery, registered_at=NOW
        )
    workflow = make_workflow(
        owner.studio, emails=[dict(trigger=Trigger.SALE_START, subject="%gallery_title% is open")]
    )
    workflow.emails[0].purpose = Purpose.SERVICE  # no consent needed: every client gets it
    db.session.commit()
    assign(gallery, workflow)
    queue(other_owner.studio_id, recipient="other@example.com", now=sale_start)
    tick(sale_start)
    db.session.commit()
    poisoned = rows_by_recipient()["p1@example.com"]
    assert poisoned.state == MailState.FAILED
    assert "recipient's name contains a line break" in poisoned.last_error
    assert dispatch(sale_start + timedelta(minutes=1)).sent == 3
    assert received_recipients(scripted) == ["other@example.com", "p0@example.com", "p2@example.com"]


def test_a_test_send_refused_for_good_says_failed_not_retried(client, logged_in, scripted):
    from tests.workflow_factories import make_workflow

    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start")])
    email = workflow.emails[0]
    scripted.rcpt_replies["nobody@example.com"] = "550 5.1.1 No such user"
    page = client.post(
        f"/admin/workflows/{workflow.id}/emails/{email.id}/test",
        data={"to": "nobody@example.com"},
        follow_redirects=True,
    )
    text = page.get_data(as_text=True)
    assert "The test email failed: 550 5.1.1 No such user" in text
    assert "will be retried" not in text
    scripted.rcpt_replies["later@example.com"] = ("451 4.3.0 Try again later", 1)
    page = client.post(
        f"/admin/workflows/{workflow.id}/emails/{email.id}/test",
        data={"to": "later@example.com"},
        follow_redirects=True,
    )
    assert "will be retried" in page.get_data(as_text=True)
