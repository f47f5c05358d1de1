"""The plain-text part on the wire: made from the HTML, with no padding on its lines and links
a plain-text reader can follow ("label (https://...)"), for campaign and order emails."""

from datetime import timedelta
from email import message_from_bytes, policy

from app.extensions import db
from app.mailing.dispatch import dispatch
from app.mailing.models import MailKind
from app.mailing.outbox import queue_message
from app.mailing.plain_text import html_to_text
from tests.conftest import free_port
from tests.factories import NOW
from tests.smtp_helpers import start_scripted_server

BODY = (
    "<p>Hello %client_name%, your photos of <b>Riverside</b> are ready: "
    "<a href='https://photos.example.com/g/riverside'>open the gallery</a>.</p>"
    "<ul><li>Prints</li><li>Downloads</li></ul>"
    "<p>Questions? <a href='mailto:studio@northlight.test'>Write to us</a> or see "
    "https://northlight.test/faq.</p>"
)


def _wire_text(app, html, text):
    """Send one message through a real SMTP server; the text part as it arrived."""
    controller = start_scripted_server(free_port())
    app.config.update(MAIL_PORT=controller.port, MAIL_TIMEOUT=2)
    try:
        queue_message(
            kind=MailKind.TRANSACTIONAL,
            studio_id=None,
            sender="s@northlight.test",
            recipient="parent@example.com",
            subject="Photos",
            html=html,
            text=text,
            now=NOW,
        )
        db.session.commit()
        assert dispatch(NOW + timedelta(seconds=1)).sent == 1
        raw = controller.handler_ref.received[0][2]
    finally:
        controller.stop()
    return raw, message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()


def _assert_readable(raw, text):
    lines = text.splitlines()
    assert all(line == line.rstrip() for line in lines), "trailing spaces in the text part"
    assert b"=20\r\n" not in raw  # no quoted-printable padding at line ends either
    assert "open the gallery (https://photos.example.com/g/riverside)" in text
    assert "Write to us (studio@northlight.test)" in text
    assert "https://northlight.test/faq." in text and "](" not in text
    assert "* Prints" in text and "\n\n\n" not in text


def test_campaign_text_part_on_the_wire(app):
    from app.workflows.rendering import personalize, prepare

    with app.test_request_context():
        prepared = prepare("Photos", BODY, "en")
        _, html, text = personalize(
            prepared,
            {"client_name": "Alex", "studio_name": "Northlight", "unsubscribe_link": "https://x.test/u/1"},
        )
    raw, sent_text = _wire_text(app, html, text)
    _assert_readable(raw, sent_text)
    assert "Hello Alex, your photos of Riverside are ready" in sent_text
    assert "(https://x.test/u/1)" in sent_text  # the layout's unsubscribe link


def test_order_email_text_part_on_the_wire(app, owner):
    from app.shop.order_email_content import lay_out

    with app.test_request_context():
        html, text = lay_out("Photos", BODY.replace("%client_name%", "Alex"), owner.studio)
    raw, sent_text = _wire_text(app, html, text)
    _assert_readable(raw, sent_text)


def test_html_to_text_edge_cases():
    assert html_to_text("") == "\n" and html_to_text("  ") == "\n"
    assert html_to_text("<a href='https://a.test/'>https://a.test/</a>") == "https://a.test/\n"
    assert html_to_text("<a href='#top'>Top</a>") == "Top\n"
    assert html_to_text("<a href='%gallery_link%'>Open</a>") == "Open (%gallery_link%)\n"
