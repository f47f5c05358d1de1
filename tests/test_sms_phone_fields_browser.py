"""The SMS consent box in a real Chromium: shown once a mobile number is typed, and a number
typed at registration is the client's once the emailed code proves the address."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.galleries.models import Client
from tests import factories
from tests.client_helpers import type_emailed_code

pytestmark = pytest.mark.browser

CONSENT = "Send me text messages about my orders and photos"


def test_the_consent_box_follows_the_number_and_both_are_stored(live_server, page, mail_outbox):
    with live_server.app.app_context():
        owner, gallery = factories.make_studio_on_sale("correct horse battery")
        owner.studio.country = "SE"
        db.session.commit()
        url = f"{live_server.url}/g/{owner.studio.slug}/{gallery.slug}"
    page.goto(url)
    consent = page.get_by_label(CONSENT)
    expect(consent).to_be_hidden()
    page.fill("input[name=phone]", "070-123 45 67")
    expect(consent).to_be_visible()
    consent.check()
    page.fill("input[name=phone]", "")  # emptied: the box goes, unticked
    expect(consent).to_be_hidden()
    expect(consent).not_to_be_checked()
    page.fill("input[name=name]", "Alva")
    page.fill("input[name=email]", "alva@example.com")
    page.fill("input[name=phone]", "070-123 45 67")
    consent.check()
    page.get_by_role("button", name="Register").click()
    type_emailed_code(page, mail_outbox, "alva@example.com")
    expect(page.locator(".photo-grid img")).to_have_count(2)
    with live_server.app.app_context():
        client = db.session.scalar(sa.select(Client).where(Client.email == "alva@example.com"))
        assert client.phone == "+46701234567" and client.sms_consent_text == CONSENT
