"""Deliverability headers on the wire: List-Id, Feedback-ID, Auto-Submitted, the EHLO name and
the List-Unsubscribe mailto, as a real SMTP server receives them from the dispatcher."""

from email import message_from_bytes, policy

import flask_mail  # noqa: F401  (imported on purpose: it changes the utf-8 charset process-wide)
import pytest

from app.extensions import db
from app.mailing import return_path
from app.mailing.deliverability import ehlo_name, list_id
from app.mailing.dispatch import dispatch
from app.mailing.models import MailKind
from app.mailing.outbox import queue_message
from tests.conftest import free_port
from tests.factories import NOW
from tests.smtp_helpers import ScriptedHandler


class EhloRecordingHandler(ScriptedHandler):
    """The scripted server, also keeping the name each client gave in EHLO."""

    def __init__(self):
        super().__init__()
        self.ehlo_names = []

    async def handle_DATA(self, server, session, envelope):
        self.ehlo_names.append(session.host_name)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def server(app):
    from aiosmtpd.controller import Controller

    handler = EhloRecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_PORT=controller.port, MAIL_TIMEOUT=5)
    yield handler
    controller.stop()


ENGINE_UNSUBSCRIBE = (
    "<http://localhost/unsubscribe/1-abc.sig>, <mailto:no-reply@proofsheet.local?subject=unsubscribe>"
)


def queue(studio_id, kind, **extra):
    values = dict(
        kind=kind,
        studio_id=studio_id,
        sender="Northlight <no-reply@proofsheet.local>",
        recipient="client@example.com",
        subject="Your photos",
        now=NOW,
        html="<p>Hello</p>",
        text="Hello",
    )
    if kind == MailKind.CAMPAIGN:  # what the engine puts on its rows
        values.update(
            source="workflow_email:12",
            headers={
                "X-Proofsheet-Studio": str(studio_id),
                "List-Unsubscribe": ENGINE_UNSUBSCRIBE,
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
    values.update(extra)
    row = queue_message(**values)
    db.session.commit()
    return row


def sent_message(server, index=0):
    return message_from_bytes(server.received[index][2], policy=policy.default)


def test_campaign_mail_carries_list_id_and_feedback_id(app, owner, server):
    row = queue(owner.studio_id, MailKind.CAMPAIGN)
    assert dispatch(NOW).sent == 1
    message = sent_message(server)
    slug = owner.studio.slug
    assert message["List-Id"] == f'"Northlight Studio" <{slug}.localhost>'
    assert message["Feedback-ID"] == f"12:{owner.studio_id}:campaign:proofsheet"
    assert message["Auto-Submitted"] is None
    assert row.headers["List-Unsubscribe"] == ENGINE_UNSUBSCRIBE  # the row is not rewritten


def test_without_a_receiver_the_unsubscribe_mailto_is_left_out(app, owner, server):
    row = queue(owner.studio_id, MailKind.CAMPAIGN)
    dispatch(NOW)
    message = sent_message(server)
    assert message["List-Unsubscribe"] == f"<http://localhost/unsubscribe/1-abc.sig?m={row.id}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_with_a_receiver_the_mailto_is_the_messages_signed_address(app, owner, server):
    app.config.update(MAIL_BOUNCE_DOMAIN="bounces.proofsheet.test", MAIL_INBOUND_PORT=2525)
    row = queue(owner.studio_id, MailKind.CAMPAIGN)
    dispatch(NOW)
    https, mailto = sent_message(server)["List-Unsubscribe"].split(", ")
    assert https == f"<http://localhost/unsubscribe/1-abc.sig?m={row.id}>"
    address = mailto.removeprefix("<mailto:").removesuffix("?subject=unsubscribe>")
    assert address.startswith(f"unsubscribe+{row.id}-")
    assert address.endswith("@bounces.proofsheet.test")
    assert return_path.read_address(address) == ("unsubscribe", row.id)
    assert return_path.read_address(address.replace(f"+{row.id}-", f"+{row.id + 1}-")) is None


@pytest.mark.parametrize("kind", [MailKind.TRANSACTIONAL, MailKind.NOTIFICATION])
def test_transactional_and_notification_mail_is_auto_submitted(app, owner, server, kind):
    queue(owner.studio_id, kind)
    dispatch(NOW)
    message = sent_message(server)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Id"] is None and message["Feedback-ID"] is None


def test_a_test_send_is_not_auto_submitted(app, owner, server):
    queue(owner.studio_id, MailKind.TEST, headers={"X-Proofsheet-Studio": str(owner.studio_id)})
    dispatch(NOW)
    message = sent_message(server)
    assert message["Auto-Submitted"] is None and message["Feedback-ID"] is None


def test_ehlo_name_is_configurable_and_defaults_to_base_url_host(app, owner, server):
    queue(owner.studio_id, MailKind.TRANSACTIONAL)
    dispatch(NOW)
    app.config["MAIL_EHLO_NAME"] = "mta.proofsheet.test"
    queue(owner.studio_id, MailKind.TRANSACTIONAL, recipient="other@example.com")
    dispatch(NOW)
    assert server.ehlo_names == ["localhost", "mta.proofsheet.test"]


@pytest.mark.no_database
def test_ehlo_name_of_an_address_is_a_literal(app):
    assert ehlo_name({"BASE_URL": "http://127.0.0.1:5000"}) == "[127.0.0.1]"
    assert (
        ehlo_name({"BASE_URL": "https://photos.example.com/", "MAIL_EHLO_NAME": ""}) == "photos.example.com"
    )


def test_list_id_of_a_name_that_is_not_ascii_is_encoded_before_the_brackets(app, owner, server):
    assert list_id('Ann "A" Studio', "ann", "x.test") == '"Ann A Studio" <ann.x.test>'
    owner.studio.name = "Atelier Ćwierć"
    db.session.commit()
    queue(owner.studio_id, MailKind.CAMPAIGN)
    dispatch(NOW)
    raw = server.received[0][2]
    assert b"List-Id: =?utf-8?" in raw
    assert sent_message(server)["List-Id"] == f"Atelier Ćwierć <{owner.studio.slug}.localhost>"
