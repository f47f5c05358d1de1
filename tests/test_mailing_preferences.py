"""Unsubscribe records say how and from which message; the client's preferences page shows what
they receive and re-subscribes them after an unsubscribe, never after a bounce or complaint."""

from datetime import timedelta

import pytest

from app.extensions import db
from app.mailing.models import MailKind, MailState, Suppression
from app.mailing.outbox import queue_message
from app.mailing.unsubscribe import suppress, unsubscribe_token
from app.workflows.rendering import prepare
from tests.factories import NOW

EMAIL = "client@example.com"


def sent_campaign(studio_id, recipient=EMAIL, at=NOW):
    row = queue_message(
        kind=MailKind.CAMPAIGN,
        studio_id=studio_id,
        recipient=recipient,
        sender="Northlight <no-reply@proofsheet.local>",
        subject="Sale",
        html="<p>Hi</p>",
        text="Hi",
        now=at,
        source="workflow_email:1",
    )
    row.state, row.sent_at = MailState.SENT, at
    db.session.commit()
    return row.id


def record(studio_id, email=EMAIL):
    db.session.expire_all()
    return db.session.get(Suppression, (studio_id, email))


def test_one_click_post_records_how_and_the_message_of_the_header(app, client, owner):
    first = sent_campaign(owner.studio_id)
    sent_campaign(owner.studio_id, at=NOW + timedelta(days=1))
    token = unsubscribe_token(owner.studio_id, EMAIL)
    response = client.post(f"/unsubscribe/{token}?m={first}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    found = record(owner.studio_id)
    assert (found.reason, found.detail) == ("unsubscribed", f"one-click, message {first}")


def test_the_page_records_the_latest_message_when_the_link_names_none(app, client, owner):
    sent_campaign(owner.studio_id)
    latest = sent_campaign(owner.studio_id, at=NOW + timedelta(days=1))
    token = unsubscribe_token(owner.studio_id, EMAIL)
    page = client.get(f"/unsubscribe/{token}")
    assert b"Unsubscribe?" in page.data and b"/preferences" in page.data
    client.post(f"/unsubscribe/{token}")
    assert record(owner.studio_id).detail == f"page, message {latest}: the latest sent to the address"


def test_a_message_of_another_studio_or_address_is_not_taken_from_the_link(app, client, owner, other_owner):
    elsewhere = sent_campaign(other_owner.studio_id)
    someone_else = sent_campaign(owner.studio_id, recipient="other@example.com")
    token = unsubscribe_token(owner.studio_id, EMAIL)
    client.post(f"/unsubscribe/{token}?m={elsewhere}", data={"List-Unsubscribe": "One-Click"})
    assert record(owner.studio_id).detail == "one-click"
    db.session.delete(record(owner.studio_id))
    db.session.commit()
    client.post(f"/unsubscribe/{token}?m={someone_else}")
    assert record(owner.studio_id).detail == "page"
    client.post(f"/unsubscribe/{token}?m=99999999999999999999999")  # no 500 either
    assert record(other_owner.studio_id) is None


def test_preferences_show_the_subscription_and_re_subscribe(app, client, owner):
    token = unsubscribe_token(owner.studio_id, EMAIL)
    page = client.get(f"/unsubscribe/{token}?page=preferences", follow_redirects=True)
    assert page.request.path == f"/unsubscribe/{token}/preferences"
    assert b"Northlight Studio" in page.data and b'class="subscribed"' in page.data
    assert b"Reminders and offers" in page.data and b"always sent" in page.data
    client.post(f"/unsubscribe/{token}")
    page = client.get(f"/unsubscribe/{token}/preferences")
    assert b"unsubscribed" in page.data and b"Subscribe again" in page.data
    done = client.post(f"/unsubscribe/{token}/preferences", follow_redirects=True)
    assert b"You are subscribed again." in done.data
    assert record(owner.studio_id) is None


@pytest.mark.parametrize(
    "reason, words", [("bounced", b"returned as undeliverable"), ("complained", b"reported as unwanted")]
)
def test_a_bounce_or_complaint_is_never_lifted_by_the_client(app, client, owner, reason, words):
    suppress(owner.studio_id, EMAIL, reason, NOW, detail="bounce, message 1: 5.1.1")
    db.session.commit()
    token = unsubscribe_token(owner.studio_id, EMAIL)
    page = client.get(f"/unsubscribe/{token}/preferences")
    assert b"Subscribe again" not in page.data and b"contact the studio" in page.data
    refused = client.post(f"/unsubscribe/{token}/preferences", follow_redirects=True)
    assert refused.status_code == 200 and words in refused.data
    assert record(owner.studio_id).reason == reason


def test_a_complaint_replaces_an_earlier_unsubscribe(app, owner):
    suppress(owner.studio_id, EMAIL, "unsubscribed", NOW, detail="page")
    suppress(owner.studio_id, EMAIL, "complained", NOW, detail="complaint, message 3: abuse")
    db.session.commit()
    assert record(owner.studio_id).reason == "complained"
    suppress(owner.studio_id, EMAIL, "unsubscribed", NOW, detail="page")
    assert record(owner.studio_id).reason == "complained"


def test_re_subscribing_needs_the_forms_csrf_token(app, client, owner):
    suppress(owner.studio_id, EMAIL, "unsubscribed", NOW)
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    token = unsubscribe_token(owner.studio_id, EMAIL)
    client.post(f"/unsubscribe/{token}/preferences")
    assert record(owner.studio_id) is not None


@pytest.mark.no_database
def test_a_forged_token_has_no_preferences_page(app, client):
    assert client.get("/unsubscribe/1-Zm9v.forged/preferences").status_code == 404


@pytest.mark.no_database
def test_every_campaign_footer_links_to_the_preferences(app):
    html = prepare("Sale", "<p>Hello</p>", "en").html
    assert 'href="%unsubscribe_link%?page=preferences"' in html
    assert "Email preferences" in html
