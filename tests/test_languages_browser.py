"""Issue 18 in a real Chromium: the language switcher of a gallery page, and the timezone
select of the sign-up form (pre-selected from the browser, narrowed by typing)."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.accounts.models import Studio
from app.extensions import db
from tests import factories
from tests.test_languages import compiled_catalogues  # noqa: F401 (the .mo files, when missing)

pytestmark = pytest.mark.browser


def test_the_switcher_changes_a_gallery_pages_language(live_server, browser):
    with live_server.app.app_context():
        owner, gallery = factories.make_studio_on_sale("correct horse battery")
        url = f"{live_server.url}/g/{owner.studio.slug}/{gallery.slug}"
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Register to see the photos")).to_be_visible()

    page.get_by_label("Language").first.select_option("fr")  # the switcher sends itself
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_url(url)
    expect(page.get_by_role("heading", name="Inscrivez-vous pour voir les photos")).to_be_visible()
    # The registration form offers the language of the page.
    expect(page.locator("form.form select[name=language]")).to_have_value("fr")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    context.close()


def test_the_signup_timezone_comes_from_the_browser_and_can_be_searched(live_server, browser):
    context = browser.new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto(live_server.url + "/signup")
    zone = page.locator("select[name=timezone]")
    expect(zone).to_have_value("Asia/Tokyo")

    search = page.get_by_label("Search timezones")
    search.fill("stockholm")
    expect(zone).to_have_value("Europe/Stockholm")
    expect(zone.locator("option")).to_have_count(1)
    search.fill("new york")
    expect(zone).to_have_value("America/New_York")
    search.press("Enter")  # picks the match, does not send the half-filled form
    expect(page).to_have_url(live_server.url + "/signup")
    search.fill("")
    assert zone.locator("option").count() > 300
    expect(zone).to_have_value("America/New_York")

    page.fill("input[name=studio_name]", "Harbour Light")
    page.fill("input[name=name]", "Kim Harbour")
    page.fill("input[name=email]", "kim@example.com")
    page.fill("input[name=password]", "a long unusual passphrase")
    page.fill("input[name=confirm]", "a long unusual passphrase")
    page.get_by_role("button", name="Create my studio").click()
    expect(page).to_have_url(live_server.url + "/admin/galleries/")
    with live_server.app.app_context():
        studio = db.session.scalar(sa.select(Studio).where(Studio.name == "Harbour Light"))
        assert studio.timezone == "America/New_York"
    context.close()
