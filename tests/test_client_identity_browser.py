"""Issue 14.1 in a real Chromium, with two browsers: a parent, and someone who knows the
parent's email. The second one never becomes the parent."""

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.client_helpers import SIGN_IN_SUBJECT, type_emailed_code, wait_for_mail

pytestmark = pytest.mark.browser


def _studio_with_gallery(app):
    with app.app_context():
        owner, gallery = factories.make_studio_on_sale("correct horse battery")
        return f"/g/{owner.studio.slug}/{gallery.slug}"


def _register(page, url, name, email):
    page.goto(url)
    page.fill("input[name=name]", name)
    page.fill("input[name=email]", email)
    page.get_by_role("button", name="Register").click()


def test_someone_typing_a_parents_email_gets_no_access(live_server, browser, mail_outbox):
    url = live_server.url + _studio_with_gallery(live_server.app)
    parent_context, other_context = browser.new_context(), browser.new_context()
    parent, other = parent_context.new_page(), other_context.new_page()

    _register(parent, url, "Alex Martin", "alex@example.com")
    type_emailed_code(parent, mail_outbox, "alex@example.com")
    expect(parent.locator(".photo-grid img")).to_have_count(2)

    codes_before = len([m for m in mail_outbox.messages if SIGN_IN_SUBJECT in m.subject])
    _register(other, url, "Not Alex", "Alex@Example.com")
    expect(other.get_by_role("heading", name="Check your email")).to_be_visible()
    # Guessing is no way in: a wrong code is refused, and the gallery stays closed.
    other.fill("input[name=code]", "000000")
    other.get_by_role("button", name="Continue").click()
    expect(other.locator(".error")).to_contain_text("This code is not right")
    other.goto(url)
    expect(other.get_by_role("heading", name="Register to see the photos")).to_be_visible()
    expect(other.locator(".photo-grid img")).to_have_count(0)
    expect(other.get_by_text("Alex Martin")).to_have_count(0)
    # The code went to Alex's inbox, not to the other browser.
    mail = wait_for_mail(mail_outbox, "alex@example.com", SIGN_IN_SUBJECT)
    assert len([m for m in mail_outbox.messages if SIGN_IN_SUBJECT in m.subject]) == (codes_before + 1)
    assert "did not ask for this" in mail.text()
    # Alex, meanwhile, is still signed in and sees the photos.
    parent.reload()
    expect(parent.locator(".photo-grid img")).to_have_count(2)
    parent_context.close()
    other_context.close()
