"""The journeys of issues 2 and 3 in a real Chromium: a photographer signs up and publishes a
gallery; a parent opens it in another browser; QR cards; ordering and following an order."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app import timeutil
from app.extensions import db
from app.galleries.models import AccessCard
from app.shop.models import DiscountKind, Order
from tests import factories
from tests.browser_fixtures import log_in as browser_log_in
from tests.client_helpers import type_emailed_code, wait_for_mail
from tests.gallery_admin_helpers import jpeg_bytes
from tests.shop_factories import make_coupon, make_price_list, make_promotion, sell_gallery

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


def photos(count, prefix="photo"):
    colors = [(200, 80, 40), (40, 120, 200), (60, 160, 90), (180, 160, 40)]
    return [
        {
            "name": f"{prefix}-{n}.jpg",
            "mimeType": "image/jpeg",
            "buffer": jpeg_bytes(size=(900, 600), color=colors[n % 4]),
        }
        for n in range(count)
    ]


def log_in(page, live_server, email):
    browser_log_in(page, live_server, email, PASSWORD)


def sign_up(page, live_server, studio="Lumen Studio", email="ana@example.com"):
    page.goto(live_server.url + "/signup")
    expect(page.locator("select[name=timezone]")).to_have_value("Europe/Paris")  # the browser's
    page.fill("input[name=studio_name]", studio)
    page.fill("input[name=name]", "Ana Silva")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    page.get_by_role("button", name="Create my studio").click()
    page.wait_for_url(re.compile(r".*/admin/galleries/$"))


def create_gallery(page, title, access="registration", qr=False):
    page.get_by_role("link", name=re.compile("Create your first gallery|New gallery")).first.click()
    page.fill("input[name=title]", title)
    start = (timeutil.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    end = (timeutil.now() + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    page.fill("input[name=sale_starts_at]", start)
    page.fill("input[name=sale_ends_at]", end)
    page.select_option("select[name=access]", access)
    if qr:
        page.check("input[name=is_qr]")
    page.get_by_role("button", name="Create gallery").click()
    expect(page.locator("h1")).to_contain_text(title)


def upload(page, files):
    page.set_input_files("[data-file-input]", files)
    # Each photo is verified, rotated and previewed on the server: on a loaded 2-core CI
    # machine three of them can take longer than expect()'s default 5 s.
    expect(page.locator(".upload-item.is-done")).to_have_count(len(files), timeout=30_000)
    expect(page.locator("[data-photo-grid] figure img")).to_have_count(len(files))


def test_sign_up_publish_and_a_parent_registers_to_see_the_photos(live_server, page, browser, mail_outbox):
    sign_up(page, live_server)
    create_gallery(page, "Riverside Primary")
    upload(page, photos(3))
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("[data-status]")).to_have_text("Published")
    public_url = page.locator("[data-public-url]").get_attribute("href")

    parent = browser.new_context(timezone_id="Europe/Paris").new_page()
    parent.goto(public_url)
    expect(parent.get_by_role("heading", name="Register to see the photos")).to_be_visible()
    expect(parent.locator(".photo-grid img")).to_have_count(0)
    parent.fill("input[name=name]", "Alex Martin")
    parent.fill("input[name=email]", "alex@example.com")
    expect(parent.locator("input[name=marketing_consent]")).not_to_be_checked()
    parent.get_by_role("button", name="Register").click()
    type_emailed_code(parent, mail_outbox, "alex@example.com")
    expect(parent.locator(".flash-success")).to_contain_text("Welcome, Alex Martin")
    grid = parent.locator(".photo-grid img")
    expect(grid).to_have_count(3)
    for index in range(3):
        expect(grid.nth(index)).to_have_js_property("complete", True)
        assert grid.nth(index).evaluate("img => img.naturalWidth") > 0
    assert wait_for_mail(mail_outbox, "alex@example.com", "Your link").subject == (
        "Your link to Riverside Primary"
    )
    parent.context.close()


def test_qr_cards_each_parent_sees_only_their_childs_photos(live_server, page, browser, mail_outbox):
    sign_up(page, live_server, studio="Maple Photo", email="maple@example.com")
    create_gallery(page, "Maple kindergarten", qr=True)
    upload(page, photos(3, prefix="kid"))
    page.get_by_role("button", name="Publish").click()
    page.get_by_role("link", name="QR cards").click()
    page.fill("input[name=create-count]", "2")
    page.fill("input[name=create-prefix]", "Maple class")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("table tbody tr")).to_have_count(2)

    page.get_by_role("link", name="Maple class – 1").click()
    boxes = page.locator("input[name=photo_ids]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="Save the card’s photos").click()
    expect(page.locator(".flash-success")).to_contain_text("2 photos on this card")
    card_url = page.get_by_role("link", name="Open the card’s page").get_attribute("href")
    with live_server.app.app_context():
        card = db.session.scalar(sa.select(AccessCard).where(AccessCard.label == "Maple class – 1"))
        card_photo_ids = sorted(photo.id for photo in card.photos)

    parent = browser.new_context().new_page()
    parent.goto(card_url)  # what scanning the QR code opens
    expect(parent.get_by_text("Photo card: Maple class – 1")).to_be_visible()
    parent.fill("input[name=name]", "Julie Moreau")
    parent.fill("input[name=email]", "julie@example.com")
    parent.get_by_role("button", name="See my photos").click()
    type_emailed_code(parent, mail_outbox, "julie@example.com")
    grid = parent.locator(".photo-grid img")
    expect(grid).to_have_count(2)
    shown = sorted(int(grid.nth(i).get_attribute("data-photo-id")) for i in range(2))
    assert shown == card_photo_ids

    grid.nth(0).click()
    lightbox = parent.locator(".lightbox")
    expect(lightbox).to_be_visible()
    expect(lightbox.locator(".lb-caption")).to_have_text("1 / 2")
    parent.keyboard.press("ArrowRight")
    expect(lightbox.locator(".lb-caption")).to_have_text("2 / 2")
    parent.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()
    parent.context.close()


def prepare_shop(app):
    """A studio with a published registration gallery, a price list, a promotion, a coupon."""
    now = timeutil.now()
    with app.app_context():
        owner, gallery = factories.make_studio_on_sale(PASSWORD, now=now)
        sell_gallery(gallery, make_price_list(owner.studio, allows_pickup=False))
        make_promotion(
            gallery,
            name="Early bird",
            value=1000,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=5),
        )
        make_coupon(owner.studio, code="SPRING5", kind=DiscountKind.FIXED, value=500)
        return f"/g/{owner.studio.slug}/{gallery.slug}"


def test_order_with_promotion_and_coupon_then_follow_its_status(live_server, page, browser, mail_outbox):
    gallery_path = prepare_shop(live_server.app)
    client = browser.new_context().new_page()
    client.goto(live_server.url + gallery_path)
    client.fill("input[name=name]", "Alex Martin")
    client.fill("input[name=email]", "alex@example.com")
    client.get_by_role("button", name="Register").click()
    type_emailed_code(client, mail_outbox, "alex@example.com")
    expect(client.locator("[data-testid=promotion]")).to_contain_text("Early bird: 10% off")

    figures = client.locator(".photo-grid figure")
    figures.nth(0).locator("select[name=product_id]").select_option(label="Print 13 × 18 cm · €9.00")
    figures.nth(0).locator("input[name=quantity]").fill("2")
    figures.nth(0).get_by_role("button", name="Add to cart").click()
    expect(client.locator(".flash-success")).to_contain_text("Print 13 × 18 cm × 2")
    figures = client.locator(".photo-grid figure")
    figures.nth(1).locator("select[name=product_id]").select_option(label="Digital file · €12.00")
    figures.nth(1).get_by_role("button", name="Add to cart").click()
    expect(client.locator(".flash-success")).to_contain_text("Digital file")

    client.get_by_role("link", name="Cart").click()
    expect(client.locator("[data-testid=total]")).to_have_text("€31.90")  # 30 − 3 + 4.90
    client.get_by_role("link", name="Checkout").click()
    client.fill("input[name=address_line1]", "1 Rue des Lilas")
    client.fill("input[name=postal_code]", "75011")
    client.fill("input[name=city]", "Paris")
    client.select_option("select[name=country]", "FR")
    client.fill("input[name=coupon_code]", "spring5")
    client.get_by_role("button", name="Update total").click()
    expect(client.locator("[data-testid=total]")).to_have_text("€26.90")
    client.check("input[name=notify_status_changes]")
    client.get_by_role("button", name="Place order").click()
    expect(client.get_by_role("heading", name="Thank you for your order!")).to_be_visible()
    client.get_by_role("link", name="Follow my orders").click()
    order_card = client.locator("article.order")
    expect(order_card.locator("[data-testid=status]")).to_have_text("New")
    orders_url = client.url
    assert wait_for_mail(mail_outbox, "alex@example.com", "Your order ")
    with live_server.app.app_context():
        order = db.session.scalar(sa.select(Order))
        assert order.total_minor == 2690 and order.notify_status_changes
        order_id = order.id

    log_in(page, live_server, "owner@example.com")
    page.goto(f"{live_server.url}/admin/shop/orders/{order_id}")
    page.select_option("select[name=status]", "paid")
    page.get_by_role("button", name="Update status").click()
    expect(page.locator(".flash-success").first).to_be_visible()
    page.select_option("select[name=status]", "shipped")
    page.select_option("select[name=carrier]", "DHL")
    page.fill("input[name=tracking_number]", "JD014600003")
    page.get_by_role("button", name="Update status").click()
    expect(page.locator(".flash-success").first).to_be_visible()

    client.goto(orders_url)
    order_card = client.locator("article.order")
    expect(order_card.locator("[data-testid=status]")).to_have_text("Shipped")
    expect(order_card).to_contain_text("JD014600003")
    history = order_card.locator("ol.history li")
    expect(history).to_have_count(3)
    expect(history.nth(0)).to_contain_text("New")
    expect(history.nth(1)).to_contain_text("Paid")
    expect(history.nth(2)).to_contain_text("Shipped")
    client.context.close()
