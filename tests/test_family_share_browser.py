"""Share with family in a real Chromium at a phone's size: a parent with a QR card invites
grandma, who registers on her own phone with the emailed code and sees the card's photos."""

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.galleries import cards
from tests import factories
from tests.client_helpers import type_emailed_code, wait_for_mail

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def _school_with_two_cards(app):
    """A QR gallery of three photos: two on Ada's card, one on Ben's. Returns Ada's code."""
    with app.app_context():
        _owner, gallery = factories.make_studio_on_sale("correct horse battery", title="School day", photos=3)
        gallery.is_qr = True
        photos = sorted(gallery.photos, key=lambda photo: photo.position)
        ada, ben = cards.create_cards(gallery, ["Ada", "Ben"], factories.NOW)
        cards.assign_photos(ada, [photos[0].id, photos[1].id])
        cards.assign_photos(ben, [photos[2].id])
        db.session.commit()
        return ada.code


def _no_horizontal_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"


def _phone(browser):
    context = browser.new_context(viewport=PHONE, locale="en-US", timezone_id="Europe/Paris", has_touch=True)
    context.set_default_timeout(15_000)
    return context, context.new_page()


def test_a_parent_shares_the_cards_photos_with_grandma_on_a_phone(live_server, browser, mail_outbox):
    code = _school_with_two_cards(live_server.app)
    parent_context, parent = _phone(browser)
    grandma_context, grandma = _phone(browser)

    parent.goto(f"{live_server.url}/c/{code}")
    parent.fill("input[name=name]", "Alex Parent")
    parent.fill("input[name=email]", "alex@example.com")
    parent.get_by_role("button", name="See my photos").click()
    type_emailed_code(parent, mail_outbox, "alex@example.com")
    expect(parent.locator(".photo-grid img[data-photo-id]")).to_have_count(2)

    parent.get_by_text("Share with family").click()
    parent.fill("#family-email", "grandma@example.com")
    _no_horizontal_scroll(parent)
    parent.get_by_role("button", name="Send the invitation").click()
    expect(parent.get_by_text("Invitation sent to grandma@example.com.")).to_be_visible()

    invitation = wait_for_mail(mail_outbox, "grandma@example.com", "shares School day with you")
    link = re.search(r"https?://\S+/family/\S+", invitation.text()).group(0)
    grandma.goto(link)
    expect(grandma.get_by_text("Alex Parent shares these photos with you.")).to_be_visible()
    expect(grandma.locator("input[name=email]")).to_have_value("grandma@example.com")
    _no_horizontal_scroll(grandma)
    grandma.fill("input[name=name]", "Grandma")
    grandma.get_by_role("button", name="See the photos").click()
    type_emailed_code(grandma, mail_outbox, "grandma@example.com")

    expect(grandma.locator(".photo-grid img[data-photo-id]")).to_have_count(2)  # Ada's, not Ben's
    expect(grandma.get_by_text("Welcome, Grandma!")).to_be_visible()
    _no_horizontal_scroll(grandma)
    parent_context.close()
    grandma_context.close()
