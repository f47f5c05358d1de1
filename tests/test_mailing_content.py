"""Content of the layouts as mail arrives: a hidden preheader (the message's first line), the
color-scheme meta, and "Sent with Proofsheet" only on mail through the platform's server."""

import re

import flask_mail  # noqa: F401  (imported on purpose: it changes the utf-8 charset process-wide)
import pytest

from app.extensions import db
from app.mailing.email_layout import PREHEADER_LENGTH, preheader
from app.mailing.models import StudioMailSettings
from app.mailing.services import send_email, send_now
from app.shop.order_email_content import lay_out
from app.workflows.rendering import prepare
from tests.factories import NOW

PREHEADER = re.compile(r'<div class="preheader" style="display:none;[^"]*">([^<]*)</div>')


def hidden_preview(html):
    match = PREHEADER.search(html)
    return match.group(1).split("\u034f")[0].split("&#847;")[0] if match else None


def own_server(studio_id, port):
    db.session.add(
        StudioMailSettings(
            studio_id=studio_id,
            sender_email="hello@northlight.test",
            smtp_host="127.0.0.1",
            smtp_port=port,
            updated_at=NOW,
        )
    )
    db.session.commit()


def send_plain(studio_id, sensitive=False):
    message = send_email(
        to="client@example.com",
        subject="Your photos",
        template="plain",
        studio_id=studio_id,
        sensitive=sensitive,
        now=NOW,
        paragraphs=["Your photos are ready to view.", "They stay online for a month."],
    )
    db.session.commit()
    send_now([message], NOW)


def test_transactional_mail_has_a_preheader_and_the_color_scheme(app, owner, mail_outbox):
    send_plain(owner.studio_id)
    mail = mail_outbox.wait_for(1)[0]
    html = mail.html()
    assert hidden_preview(html) == "Your photos are ready to view."
    assert '<meta name="color-scheme" content="light">' in html
    assert "Sent with Proofsheet" in html
    assert mail.text().count("Your photos are ready to view.") == 1


def test_mail_through_the_studios_own_server_leaves_the_credit_out(app, owner, smtp_server, mail_outbox):
    own_server(owner.studio_id, smtp_server.port)
    send_plain(owner.studio_id)
    mail = mail_outbox.wait_for(1)[0]
    assert mail.message["From"].addresses[0].addr_spec == "hello@northlight.test"
    assert "Sent with Proofsheet" not in mail.html()
    send_plain(owner.studio_id, sensitive=True)  # through the platform's server: credited
    assert "Sent with Proofsheet" in mail_outbox.wait_for(2)[1].html()


def test_order_emails_follow_the_studios_server_too(app, owner, smtp_server):
    studio = owner.studio
    html, _text = lay_out("Order 1", "<p>Thank you for your order.</p>", studio)
    assert "Sent with Proofsheet" in html
    assert hidden_preview(html) == "Thank you for your order."
    own_server(owner.studio_id, smtp_server.port)
    html, text = lay_out("Order 1", "<p>Thank you for your order.</p>", studio)
    assert "Sent with Proofsheet" not in html
    assert text.count("Thank you for your order.") == 1


@pytest.mark.no_database
def test_campaign_layout_has_the_preheader_with_its_variables(app):
    prepared = prepare("Sale", "<h2>Dear %client_name%,</h2><p>The sale starts.</p>", "en")
    assert hidden_preview(prepared.html) == "Dear %client_name%,"
    assert '<meta name="color-scheme" content="light">' in prepared.html
    assert prepared.text.count("Dear %client_name%,") == 1  # hidden: not in the text part


@pytest.mark.no_database
def test_a_long_first_line_is_cut_at_a_word(app):
    words = "word " * 60
    cut = preheader(f"<p>{words}</p>")
    assert len(cut) <= PREHEADER_LENGTH + 1 and cut.endswith("word…")
    assert preheader("<p></p>") == ""


def test_the_layout_says_which_language_the_message_is_in(app, owner, mail_outbox):
    from flask_babel import force_locale

    send_plain(owner.studio_id)
    with force_locale("sv"):
        send_plain(owner.studio_id)
    first, second = mail_outbox.wait_for(2)
    assert '<html lang="en">' in first.html() and '<html lang="sv">' in second.html()
