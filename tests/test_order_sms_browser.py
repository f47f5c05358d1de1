"""Order texts in Chromium: the studio chooses a text for "Shipped", writes its own with the live
count following the typing, ships an order from the order page, and the text arrives on the
Phone page (the local SMS sink) and is listed on the order."""

import re

import pytest
from playwright.sync_api import expect

from app.accounts import services as accounts
from app.extensions import db
from tests import factories
from tests.browser_fixtures import log_in
from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "owner@prism.example.com", "correct horse battery"


def studio_with_an_order(app):
    """A studio with one order from a client who gave a mobile number and agreed to texts."""
    with app.app_context():
        owner = accounts.create_studio(
            name="Prism Studio",
            email=EMAIL,
            password=PASSWORD,
            timezone="Europe/Paris",
            currency="EUR",
            language="en",
            now=factories.NOW,
        )
        db.session.commit()
        gallery = factories.make_gallery(owner.studio, title="Martin family")
        price_list = make_price_list(owner.studio)
        sell_gallery(gallery, price_list)
        buyer = factories.make_client(owner.studio, email="buyer@example.com", gallery=gallery, name="Chloé")
        buyer.phone = "+46701234567"
        buyer.sms_consent_text, buyer.sms_consent_at = "Texts about my orders", factories.NOW
        db.session.commit()
        fill_cart(buyer, gallery, factories.make_photo(gallery), price_list.products[0])
        order = order_now(owner.studio, buyer, notify=False)
        return order.id, order.number


def test_write_a_shipped_text_with_its_live_count_and_receive_it_on_the_phone(live_server, page):
    order_id, number = studio_with_an_order(live_server.app)
    log_in(page, live_server, EMAIL, PASSWORD)

    # Settings → Order emails: "Shipped" texts the clients who agreed to texts.
    page.goto(live_server.url + "/admin/shop/order-emails")
    page.get_by_label("Text message: Shipped").select_option("requested")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text("Order email settings saved.")
    expect(page.get_by_label("Text message: Shipped")).to_have_value("requested")

    # The studio's own text: the count follows the typing, Unicode when an emoji comes in.
    page.goto(live_server.url + "/admin/shop/order-emails/shipped")
    text = page.locator("textarea[name=sms_body]")
    counter = page.locator('[data-sms-counter-for="sms_body"]')
    expect(counter).to_contain_text("Characters: 79 ·")  # the standard text, as typed
    text.fill("Hi %client_name%")
    expect(counter).to_contain_text("Characters: 16 · text messages: 1 (GSM-7)")
    text.press_sequentially(" 📦")
    expect(counter).to_contain_text("(UCS-2)")
    expect(counter).to_contain_text("Unicode because of: 📦")
    text.fill("Hi %client_name%, order %order_number% left the studio: %tracking_link%")
    expect(counter).to_contain_text("Characters: 71 · text messages: 1 (GSM-7)")
    with page.expect_navigation():
        page.get_by_role("button", name="Save text").click()
    expect(page.locator(".flash-success")).to_contain_text("Text message saved.")

    # A refused text says why, and the page keeps what was typed.
    text = page.locator("textarea[name=sms_body]")
    text.fill("Hi %first_name%")
    with page.expect_navigation():  # a loaded CI run once took more than expect()'s 5 s here
        page.get_by_role("button", name="Save text").click()
    expect(page.locator("#text-message .error")).to_contain_text("Unknown variable %first_name%")
    expect(page.locator("textarea[name=sms_body]")).to_have_value("Hi %first_name%")

    # The order page: paid, then shipped with DHL.
    page.goto(f"{live_server.url}/admin/shop/orders/{order_id}")
    page.get_by_label("New status").select_option("paid")
    page.get_by_role("button", name="Update status").click()
    expect(page.locator(".flash-success")).to_contain_text("is now Paid")
    page.get_by_label("New status").select_option("shipped")
    page.get_by_label("Carrier", exact=True).select_option("DHL")
    page.get_by_label("Tracking number").fill("JD0146")
    page.get_by_role("button", name="Update status").click()
    expect(page.locator(".flash-success")).to_contain_text("is now Shipped")
    texts = page.get_by_test_id("order-texts")
    expect(texts).to_contain_text("Sent")
    expect(texts).to_contain_text("To +46 70 123 45 67")

    # The Phone page shows the text as the client's phone got it.
    page.goto(live_server.url + "/admin/sms/phone")
    bubble = page.locator(".phone-text .bubble")
    expect(bubble).to_have_count(1)
    expect(bubble).to_have_text(
        re.compile(rf"^Hi Chloé, order {number} left the studio: https://www\.dhl\.com/")
    )
