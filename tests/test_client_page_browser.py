"""The client page in Chromium: a photographer finds a client from the menu and sees their
mail, then revokes their links (confirming the dialog)."""

import pytest
from playwright.sync_api import expect

from app import timeutil
from app.extensions import db
from app.mailing.models import MailKind, MailState
from app.mailing.outbox import queue_message
from tests import factories
from tests.browser_fixtures import log_in

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


def _studio_with_a_client(app):
    now = timeutil.now()
    with app.app_context():
        owner, gallery = factories.make_studio_on_sale(PASSWORD, title="Maple class", photos=0, now=now)
        parent = factories.make_client(
            owner.studio, email="julie@example.com", name="Julie Moreau", gallery=gallery
        )
        factories.make_client(owner.studio, email="paul@example.com", name="Paul Martin")
        queue_message(
            kind=MailKind.TRANSACTIONAL,
            studio_id=owner.studio.id,
            sender="s@example.com",
            recipient=parent.email,
            subject="Your order N-1001",
            html="<p>x</p>",
            text="x",
            now=now,
            state=MailState.SENT,
        )
        db.session.commit()
        return parent.id


def test_find_a_client_see_their_mail_and_revoke_their_links(live_server, page):
    client_id = _studio_with_a_client(live_server.app)
    log_in(page, live_server, "owner@example.com", PASSWORD)
    page.get_by_role("link", name="Clients").click()
    page.fill("input[name=q]", "julie")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Julie Moreau").click()
    expect(page.get_by_role("heading", name="Julie Moreau")).to_be_visible()
    expect(page.locator("[data-testid=client-received]")).to_contain_text("Your order N-1001")
    expect(page.locator("[data-testid=client-summary]")).to_contain_text("Maple class")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke the client’s private links").click()
    expect(page.locator(".flash-success")).to_contain_text("no longer work")
    with live_server.app.app_context():
        from app.galleries.models import Client

        assert db.session.get(Client, client_id).links_revoked_at is not None
