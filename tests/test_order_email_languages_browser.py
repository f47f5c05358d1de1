"""Order emails per language in Chromium (issue 18): the wording editor has a tab per client
language; the Russian tab starts from the standard Russian wording, is saved with the rich-text
editor (under the Content-Security-Policy), marked as the studio's own, then reverted after a
confirmation, while the English tab keeps the standard wording."""

import pytest
from playwright.sync_api import expect

from app.accounts import services as accounts
from app.extensions import db
from tests import factories
from tests.browser_fixtures import log_in
from tests.test_order_email_languages import catalogues  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "owner@prism.example.com", "correct horse battery"


@pytest.fixture
def app_config(catalogues):  # noqa: F811
    return {"BABEL_TRANSLATION_DIRECTORIES": str(catalogues)}


def test_the_russian_tab_is_written_saved_and_reverted(live_server, page):
    with live_server.app.app_context():
        owner = accounts.create_studio(
            name="Prism Studio",
            email=EMAIL,
            password=PASSWORD,
            timezone="Europe/Paris",
            currency="EUR",
            language="en",
            now=factories.NOW,
        )
        owner.studio.client_languages = "ru"
        db.session.commit()
    log_in(page, live_server, EMAIL, PASSWORD)
    page.goto(live_server.url + "/admin/shop/order-emails/shipped")
    tabs = page.get_by_test_id("language-tabs")
    expect(tabs.get_by_role("link")).to_have_text(["English", "Русский"])
    expect(tabs.get_by_role("link", name="English")).to_have_attribute("aria-current", "page")

    tabs.get_by_role("link", name="Русский").click()
    expect(page.locator("input[name=subject]")).to_have_value("Заказ %order_number% в пути")
    page.locator("input[name=subject]").fill("Посылка %order_number% уже в пути")
    page.locator(".ql-editor").click()
    page.keyboard.press("End")
    page.keyboard.type(" Спасибо!")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash-success")).to_have_text("Email saved.")
    expect(tabs.get_by_role("link", name="Русский")).to_contain_text("your wording")
    expect(page.get_by_test_id("preview-subject")).to_contain_text("Посылка 2027-00042 уже в пути")
    expect(page.frame_locator("[data-testid=preview-frame]").locator("body")).to_contain_text("Спасибо!")

    tabs.get_by_role("link", name="English").click()
    expect(page.locator("input[name=subject]")).to_have_value("Order %order_number% is on its way")

    tabs.get_by_role("link", name="Русский").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revert to the standard wording").click()
    expect(page.locator(".flash-success")).to_have_text("The standard wording is back.")
    expect(page.locator("input[name=subject]")).to_have_value("Заказ %order_number% в пути")
    expect(tabs.get_by_role("link", name="Русский")).not_to_contain_text("your wording")
