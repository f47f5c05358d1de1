"""In Chromium: a photographer creates a price list with two products, sells a gallery from it,
and creates a promotion and a coupon."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.accounts import services as accounts
from app.extensions import db
from app.shop.models import Coupon, GalleryPricing, PriceList, Promotion
from tests import factories
from tests.browser_fixtures import log_in as browser_log_in

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "owner@prism.test", "correct horse battery"


def create_owner_and_gallery(app):
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
        return owner.id, gallery.id


def log_in(page, live_server, _user_id):
    """Log in as the owner made above, through the real form."""
    browser_log_in(page, live_server, EMAIL, PASSWORD)


def test_price_list_products_gallery_pricing_promotion_and_coupon(live_server, page):
    user_id, gallery_id = create_owner_and_gallery(live_server.app)
    log_in(page, live_server, user_id)
    base = live_server.url + "/admin/shop"

    # A price list with shipping and pickup.
    page.goto(base + "/")
    page.get_by_role("link", name="Create a price list").click()
    page.fill("input[name=name]", "Family sessions")
    page.fill("input[name=shipping]", "4.90")  # English admin: a decimal point
    page.check("input[name=allows_pickup]")
    page.fill("textarea[name=pickup_instructions]", "Saturdays at the studio")
    page.get_by_role("button", name="Create price list").click()
    expect(page.locator(".flash-success")).to_contain_text("Price list “Family sessions” created")

    # Two products: a print and a digital download (the form shows only each kind's fields).
    page.get_by_role("link", name="Add a print").click()
    expect(page.locator("select[name=digital_scope]")).to_be_hidden()
    page.fill("input[name=name]", "Print 13 × 18 cm")
    page.fill("input[name=price]", "9.50")
    page.fill("input[name=print_size]", "13 × 18 cm")
    page.fill("input[name=paper]", "lustre")
    page.get_by_role("button", name="Add product").click()
    page.get_by_role("link", name="Add a digital download").click()
    expect(page.locator("input[name=print_size]")).to_be_hidden()
    page.fill("input[name=name]", "Digital file")
    page.fill("input[name=price]", "12")
    page.select_option("select[name=digital_scope]", "photo")
    page.get_by_role("button", name="Add product").click()
    rows = page.locator("tr[data-product-id]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("€9.50")
    expect(rows.nth(1)).to_contain_text("€12.00")

    # The gallery sells from it.
    page.goto(f"{base}/galleries/{gallery_id}/pricing")
    page.select_option("select[name=price_list]", label="Family sessions")
    page.get_by_role("button", name="Save pricing").click()
    expect(page.locator(".flash-success")).to_contain_text("Pricing of “Martin family” saved")

    # A promotion with its mandatory end: leaving the end empty is refused with a clear message.
    page.get_by_role("link", name="Promotions of this gallery").click()
    page.get_by_role("link", name="New promotion").click()
    page.fill("input[name=name]", "Christmas offer")
    page.select_option("select[name=discount_kind]", "percent")
    page.fill("input[name=discount]", "15")
    page.fill("input[name=starts_at]", "2026-12-01T09:00")
    page.get_by_role("button", name="Create promotion").click()
    expect(page.locator(".error")).to_contain_text("Every promotion needs an end")
    page.fill("input[name=ends_at]", "2026-12-24T18:00")
    page.get_by_role("button", name="Create promotion").click()
    expect(page.locator("tr[data-promotion-id]")).to_contain_text("Christmas offer")
    expect(page.locator("tr[data-promotion-id]")).to_contain_text("15%")

    # A coupon, typed in lower case.
    page.locator(".shop-tabs").get_by_role("link", name="Coupons").click()
    page.get_by_role("link", name="Create your first coupon").click()
    page.fill("input[name=code]", "welcome-5")
    page.select_option("select[name=discount_kind]", "fixed")
    page.fill("input[name=discount]", "5")
    page.fill("input[name=usage_limit]", "100")
    page.get_by_role("button", name="Create coupon").click()
    expect(page.locator("tr[data-coupon-id]")).to_contain_text("WELCOME-5")
    expect(page.locator("tr[data-coupon-id]")).to_contain_text("0 of 100")

    with live_server.app.app_context():
        price_list = db.session.scalar(sa.select(PriceList).where(PriceList.name == "Family sessions"))
        assert (price_list.shipping_minor, price_list.allows_pickup) == (490, True)
        assert [(p.kind, p.price_minor) for p in price_list.products] == [("print", 950), ("digital", 1200)]
        assert db.session.get(GalleryPricing, gallery_id).price_list_id == price_list.id
        promotion = db.session.scalar(sa.select(Promotion))
        assert (promotion.gallery_id, promotion.discount_value) == (gallery_id, 1500)
        assert promotion.ends_at == datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
        coupon = db.session.scalar(sa.select(Coupon))
        assert (coupon.code, coupon.discount_kind, coupon.discount_value) == ("WELCOME-5", "fixed", 500)
