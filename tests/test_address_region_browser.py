"""The checkout's region field in Chromium on a phone (360 px): it follows the chosen country,
a state list for the United States, nothing for Sweden, and a chosen state passes the checks."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app import timeutil
from app.accounts import services as accounts
from app.extensions import db
from app.galleries import clients
from app.galleries.models import GalleryAccess
from tests import factories
from tests.shop_factories import fill_cart, make_price_list, sell_gallery

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True, "locale": "en-US"}


@pytest.fixture
def checkout_link(live_server):
    """(sign-in link, checkout URL) of a client of a Swedish studio with a print to ship in the cart."""
    now = timeutil.now()
    with live_server.app.app_context():
        owner = accounts.create_studio(
            name="Nordljus",
            email="owner@example.com",
            password="correct horse battery",
            timezone="Europe/Stockholm",
            currency="SEK",
            language="en",
            now=now,
        )
        owner.studio.country = "SE"
        db.session.commit()
        gallery = factories.make_gallery(
            owner.studio,
            access=GalleryAccess.REGISTRATION,
            sale_starts_at=now - timedelta(days=1),
            sale_ends_at=now + timedelta(days=10),
            archives_at=now + timedelta(days=40),
        )
        photo = factories.make_photo(gallery)
        price_list = make_price_list(owner.studio, allows_pickup=False)
        sell_gallery(gallery, price_list)
        parent = factories.make_client(owner.studio, email="kim@example.com", gallery=gallery)
        fill_cart(parent, gallery, photo, price_list.products[0], now=now)
        return clients.sign_in_url(parent, gallery), f"{live_server.url}/s/{owner.studio.slug}/checkout"


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_the_region_follows_the_country_on_a_phone(checkout_link, phone):
    sign_in, checkout = checkout_link
    phone.goto(sign_in)
    phone.goto(checkout)
    expect(phone.get_by_role("heading", name="Checkout")).to_be_visible()
    country = phone.locator("select[name=country]")
    region_box = phone.locator("[data-region-for]")
    expect(country).to_have_value("SE")
    expect(region_box).to_be_hidden()  # Sweden's addresses have no region

    country.select_option("US")
    state = phone.get_by_label("State")
    expect(state).to_be_visible()
    assert state.evaluate("element => element.tagName") == "SELECT"
    state.select_option(label="California")
    expect(state).to_have_value("CA")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll

    country.select_option("RU")
    oblast = phone.get_by_label("Oblast")
    expect(oblast).to_be_visible()
    expect(oblast.locator("option", has_text="Moskovskaya oblast'")).to_have_count(1)

    country.select_option("SE")
    expect(region_box).to_be_hidden()
    expect(phone.locator("[name=region]")).to_be_disabled()  # a hidden region is not sent


def test_a_state_is_asked_for_and_kept_on_the_page_after_a_refusal(checkout_link, phone):
    sign_in, checkout = checkout_link
    phone.goto(sign_in)
    phone.goto(checkout)
    phone.locator("select[name=country]").select_option("US")
    phone.fill("input[name=name]", "Kim Client")
    phone.fill("input[name=email]", "kim@example.com")
    phone.fill("input[name=address_line1]", "1600 Amphitheatre Pkwy")
    phone.fill("input[name=postal_code]", "94043")
    phone.fill("input[name=city]", "Mountain View")
    phone.get_by_role("button", name="Place order").click()
    field = phone.locator("[data-region-for]")
    expect(field.locator(".error")).to_have_text(
        "Please fill in “State”: addresses in United States need it."
    )
    expect(phone.get_by_label("State")).to_be_visible()
    phone.get_by_label("State").select_option(label="California")
    phone.get_by_role("button", name="Place order").click()
    expect(phone.get_by_role("heading", name="Thank you for your order!")).to_be_visible()
