"""The card payment journey in Chromium: cart → checkout → card → the fake Stripe's hosted page →
its signed webhook → the thanks page says paid → the "payment received" email."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app import timeutil
from app.accounts import services as accounts
from app.extensions import db
from app.galleries.models import GalleryAccess
from app.shop.models import Order, OrderStatus, Payment
from app.shop.payment_settings import save_settings
from tests import factories
from tests.client_helpers import type_emailed_code, wait_for_mail
from tests.fake_stripe import FakeStripeServer
from tests.shop_factories import make_price_list, sell_gallery

pytestmark = pytest.mark.browser

WEBHOOK_SECRET = "whsec_browser"


@pytest.fixture
def fake_stripe():
    with FakeStripeServer() as fake:
        yield fake


@pytest.fixture
def app_config(fake_stripe):
    return {"STRIPE_API_BASE": fake_stripe.url}


def prepare_card_shop(live_server, fake_stripe):
    """A studio taking cards through the fake Stripe, with a gallery on sale."""
    now = timeutil.now()
    with live_server.app.app_context():
        owner = accounts.create_studio(
            name="Northlight",
            email="owner@example.com",
            password="correct horse battery",
            timezone="Europe/Paris",
            currency="EUR",
            language="en",
            now=now,
        )
        db.session.commit()
        gallery = factories.make_gallery(
            owner.studio,
            title="Spring portraits",
            access=GalleryAccess.REGISTRATION,
            sale_starts_at=now - timedelta(days=1),
            sale_ends_at=now + timedelta(days=10),
            archives_at=now + timedelta(days=40),
        )
        factories.make_photo(gallery)
        sell_gallery(gallery, make_price_list(owner.studio, allows_pickup=False))
        save_settings(
            owner.studio_id,
            {
                "card_enabled": True,
                "stripe_publishable_key": "pk_test_browser",
                "stripe_secret_key": "sk_test_browser",
                "stripe_webhook_secret": WEBHOOK_SECRET,
            },
            now,
        )
        db.session.commit()
        fake_stripe.webhook_url = f"{live_server.url}/stripe/webhook/{owner.studio_id}"
        fake_stripe.webhook_secret = WEBHOOK_SECRET
        return f"/g/{owner.studio.slug}/{gallery.slug}"


def test_card_payment_journey(live_server, browser, fake_stripe, mail_outbox):
    gallery_path = prepare_card_shop(live_server, fake_stripe)
    parent = browser.new_context().new_page()
    parent.goto(live_server.url + gallery_path)
    parent.fill("input[name=name]", "Alex Martin")
    parent.fill("input[name=email]", "alex@example.com")
    parent.get_by_role("button", name="Register").click()
    type_emailed_code(parent, mail_outbox, "alex@example.com")
    figure = parent.locator(".photo-grid figure").nth(0)
    figure.locator("select[name=product_id]").select_option(label="Digital file · €12.00")
    figure.get_by_role("button", name="Add to cart").click()
    expect(parent.locator(".flash-success")).to_contain_text("Digital file")

    parent.get_by_role("link", name="Cart").click()
    parent.get_by_role("link", name="Checkout").click()
    parent.check("input[name=payment_method][value=card]")
    parent.check("input[name=notify_status_changes]")
    parent.get_by_role("button", name="Place order").click()
    pay_link = parent.get_by_role("link", name="Pay €12.00 by card")
    expect(pay_link).to_be_visible()
    pay_link.click()

    # The fake Stripe's hosted page: paying there sends the signed webhook, then comes back.
    expect(parent.get_by_role("heading", name="Pay 1200 EUR (minor units)")).to_be_visible()
    parent.get_by_role("button", name="Pay").click()
    parent.wait_for_url(re.compile(r".*/thanks\?session_id=cs_test_.*"))
    expect(parent.get_by_role("heading", name="Thank you for your order!")).to_be_visible()
    expect(parent.locator("[data-testid=payment-state]")).to_contain_text("Paid")
    assert fake_stripe.webhook_replies == [200]

    with live_server.app.app_context():
        order = db.session.scalar(sa.select(Order))
        payment = db.session.scalar(sa.select(Payment))
        assert order.status == OrderStatus.PAID and order.total_minor == 1200
        assert payment.amount_minor == 1200 and payment.status == "paid"
        number = order.number
    created = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert [call.params["line_items[0][price_data][unit_amount]"] for call in created] == ["1200"]
    assert wait_for_mail(mail_outbox, "alex@example.com", f"Payment received for order {number}")
    parent.context.close()
