"""Payments (issue 17): studio settings, Stripe Checkout against a local fake Stripe, signed
webhooks on the real endpoint, abandoned sessions."""

import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.mailing.models import OutboxMessage
from app.shop.models import (
    Coupon,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    ProcessedWebhookEvent,
    StudioPaymentSettings,
)
from app.shop.payment_settings import save_settings, set_gallery_methods
from tests import factories
from tests.factories import NOW
from tests.fake_stripe import FakeStripeServer, event, sign
from tests.shop_factories import make_coupon, make_price_list, sell_gallery

SECRET_KEY, WEBHOOK_SECRET = "sk_test_51northlight", "whsec_northlight"


@pytest.fixture
def fake_stripe():
    with FakeStripeServer() as fake:
        yield fake


@pytest.fixture
def app_config(fake_stripe):
    return {"STRIPE_API_BASE": fake_stripe.url}


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    return NOW


def connect_stripe(studio, secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET, **extra):
    save_settings(
        studio.id,
        {
            "card_enabled": True,
            "stripe_publishable_key": "pk_test_51n",
            "stripe_secret_key": secret_key,
            "stripe_webhook_secret": webhook_secret,
            **extra,
        },
        NOW,
    )
    db.session.commit()


def sign_in_buyer(client, studio, buyer):
    with client.session_transaction() as session:
        session.setdefault("clients", {})[str(studio.id)] = [buyer.id, 0]


@pytest.fixture
def shop(owner, client, frozen_now, app):
    studio = owner.studio
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    photo = factories.make_photo(gallery)
    buyer = factories.make_client(studio, email="parent@example.com", gallery=gallery)
    sign_in_buyer(client, studio, buyer)
    connect_stripe(studio)
    return type(
        "Shop",
        (),
        dict(
            studio=studio,
            gallery=gallery,
            products=price_list.products,
            photo=photo,
            buyer=buyer,
            client=client,
        ),
    )


def add_print(shop):
    return shop.client.post(
        f"/s/{shop.studio.slug}/cart/add",
        data={
            "gallery_id": shop.gallery.id,
            "photo_id": shop.photo.id,
            "product_id": shop.products[0].id,
            "quantity": 1,
        },
    )


def checkout(shop, **overrides):
    data = {
        "name": "Alex Parent",
        "email": "parent@example.com",
        "delivery_method": "shipping",
        "address_line1": "1 Rue des Lilas",
        "postal_code": "75011",
        "city": "Paris",
        "country": "FR",
        "payment_method": "card",
        "notify_status_changes": "y",
        "place_order": "1",
    }
    data.update(overrides)
    return shop.client.post(f"/s/{shop.studio.slug}/checkout", data=data)


def card_order(shop, **overrides):
    add_print(shop)
    response = checkout(shop, **overrides)
    assert response.status_code == 302, response.data
    order = db.session.scalar(sa.select(Order).order_by(Order.id.desc()))
    return order, db.session.scalar(sa.select(Payment).where(Payment.order_id == order.id))


def post_event(client, studio_id, payload, secret=WEBHOOK_SECRET, signature=None):
    return client.post(
        f"/stripe/webhook/{studio_id}",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature or sign(payload, secret)},
    )


def completed(fake, payment):
    return event("checkout.session.completed", fake.complete(payment.session_id))


def fresh(row):
    db.session.expire_all()
    return db.session.get(type(row), row.id)


# ---------------------------------------------------------------- settings


def test_owner_connects_stripe_secrets_are_encrypted_and_never_shown(client, auth, owner):
    auth.login(owner)
    response = client.post(
        "/admin/shop/payments",
        data={
            "card_enabled": "y",
            "stripe_publishable_key": "pk_test_abc",
            "stripe_secret_key": "sk_test_verysecret",
            "stripe_webhook_secret": "whsec_hush",
            "bank_transfer_enabled": "y",
            "bank_account_holder": "Northlight Studio",
            "bank_iban": "de89 3704 0044 0532 0130 00",
            "bank_bic": "cobadeffxxx",
        },
    )
    assert response.status_code == 302
    row = db.session.get(StudioPaymentSettings, owner.studio_id)
    assert row.bank_iban == "DE89370400440532013000" and row.bank_bic == "COBADEFFXXX"
    assert "verysecret" not in row.stripe_secret_key_encrypted
    assert "hush" not in row.stripe_webhook_secret_encrypted
    page = client.get("/admin/shop/payments").data.decode()
    assert "verysecret" not in page and "whsec_hush" not in page
    assert "Test mode" in page and f"/stripe/webhook/{owner.studio_id}" in page
    # A blank secret keeps the saved one.
    client.post("/admin/shop/payments", data={"card_enabled": "y", "stripe_publishable_key": "pk_test_abc"})
    db.session.expire_all()
    assert db.session.get(StudioPaymentSettings, owner.studio_id).stripe_secret_key_encrypted


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"bank_account_holder": "N", "bank_iban": "DE89370400440532013001"}, "IBAN is not valid"),
        ({"bank_iban": "DE89370400440532013000"}, "needs the account holder"),
        ({"bank_bic": "NOTABIC!"}, "BIC is not valid"),
        ({"card_enabled": "y", "stripe_secret_key": "sk_test_x"}, "webhook signing secret"),
        ({"stripe_publishable_key": "pk_live_x", "stripe_secret_key": "sk_test_x"}, "both be test keys"),
        ({"stripe_secret_key": "hello"}, "starts with sk_test_"),
    ],
)
def test_bad_payment_settings_get_a_message_and_change_nothing(client, auth, owner, data, message):
    auth.login(owner)
    response = client.post("/admin/shop/payments", data=data)
    assert response.status_code == 422 and message in response.data.decode()
    assert db.session.get(StudioPaymentSettings, owner.studio_id) is None


def test_operators_cannot_see_the_payment_settings(client, auth, owner):

    operator = factories.make_operator(owner.studio, email="op@northlight.test")
    auth.login(operator)
    assert client.get("/admin/shop/payments").status_code == 403


def test_a_gallery_may_offer_fewer_methods_than_the_studio(shop):
    add_print(shop)
    page = shop.client.get(f"/s/{shop.studio.slug}/checkout").data.decode()
    assert 'value="card"' in page and 'value="bank_transfer"' in page
    set_gallery_methods(shop.gallery.id, ["bank_transfer"])
    db.session.commit()
    page = shop.client.get(f"/s/{shop.studio.slug}/checkout").data.decode()
    assert 'value="card"' not in page
    refused = checkout(shop, payment_method="card")
    assert refused.status_code == 200 and "Not a valid choice" in refused.data.decode()
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0


def test_gallery_payment_methods_form_on_the_pricing_page(client, auth, owner, shop):
    auth.login(owner)
    assert b"Payment methods" in client.get(f"/admin/shop/galleries/{shop.gallery.id}/pricing").data
    client.post(
        f"/admin/shop/galleries/{shop.gallery.id}/payment-methods",
        data={"mode": "chosen", "methods": ["card"]},
    )
    from app.shop.payment_settings import gallery_choice, offered_methods

    assert gallery_choice(shop.gallery.id) == ["card"]
    assert offered_methods(shop.studio.id, [shop.gallery.id]) == ["card"]
    refused = client.post(
        f"/admin/shop/galleries/{shop.gallery.id}/payment-methods",
        data={"mode": "chosen"},
        follow_redirects=True,
    )
    assert "Choose at least one payment method" in refused.data.decode()


# ---------------------------------------------------------------- checkout


def test_card_checkout_creates_a_session_for_the_exact_total_in_minor_units(shop, fake_stripe):
    order, payment = card_order(shop)
    assert order.status == OrderStatus.NEW and order.total_minor == 1390  # 9.00 + 4.90
    created = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert len(created) == 1
    params, headers = created[0].params, created[0].headers
    assert headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert headers["Idempotency-Key"] == f"order-{order.id}-checkout-1"
    assert params["line_items[0][price_data][unit_amount]"] == "1390"
    assert params["line_items[0][price_data][currency]"] == "eur"
    assert params["line_items[0][quantity]"] == "1" and params["mode"] == "payment"
    assert params["metadata[order_id]"] == str(order.id)
    assert params["success_url"].endswith(
        f"/s/{shop.studio.slug}/orders/{order.number}/thanks?session_id={{CHECKOUT_SESSION_ID}}"
    )
    assert payment.amount_minor == 1390 and payment.currency == "EUR"
    assert payment.status == PaymentStatus.OPEN
    page = shop.client.get(f"/s/{shop.studio.slug}/orders/{order.number}/pay").data.decode()
    assert fake_stripe.sessions[payment.session_id]["url"] in page
    assert "Test mode" in page  # sk_test_ keys


def test_coming_back_to_the_success_url_does_not_make_the_order_paid(shop):
    order, payment = card_order(shop)
    page = shop.client.get(
        f"/s/{shop.studio.slug}/orders/{order.number}/thanks?session_id={payment.session_id}"
    ).data.decode()
    assert "confirming your card payment" in page
    assert fresh(order).status == OrderStatus.NEW and fresh(order).paid_at is None


def test_stripe_down_the_order_waits_and_the_pay_page_retries(shop, fake_stripe, app):
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    order, payment = card_order(shop)
    assert payment is None
    page = shop.client.get(f"/s/{shop.studio.slug}/orders/{order.number}/pay").data.decode()
    assert "Go to the payment page" in page
    app.config["STRIPE_API_BASE"] = fake_stripe.url
    shop.client.post(f"/s/{shop.studio.slug}/orders/{order.number}/pay")
    assert db.session.scalar(sa.select(Payment.status).where(Payment.order_id == order.id)) == (
        PaymentStatus.OPEN
    )


# ---------------------------------------------------------------- webhooks


def test_a_signed_webhook_makes_the_order_paid_once(shop, fake_stripe):
    order, payment = card_order(shop)
    payload = completed(fake_stripe, payment)
    first = post_event(shop.client, shop.studio.id, payload)
    assert first.status_code == 200 and first.json["outcome"] == "paid"
    order = fresh(order)
    assert order.status == OrderStatus.PAID and order.paid_at == NOW
    assert fresh(payment).status == PaymentStatus.PAID
    assert fresh(payment).payment_intent_id.startswith("pi_test_")
    again = post_event(shop.client, shop.studio.id, payload)
    assert again.status_code == 200 and again.json["outcome"] == "duplicate"
    # The same session confirmed again under another event id changes nothing either.
    other_id = json.loads(completed(fake_stripe, payment))
    other_id["id"] = "evt_other"
    assert post_event(shop.client, shop.studio.id, json.dumps(other_id)).json["outcome"] == ("already_paid")
    order = fresh(order)
    assert [change.to_status for change in order.history] == ["new", "paid"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProcessedWebhookEvent)) == 2
    subjects = db.session.scalars(sa.select(OutboxMessage.subject)).all()
    assert subjects.count(f"Payment received for order {order.number}") == 1
    thanks = shop.client.get(f"/s/{shop.studio.slug}/orders/{order.number}/thanks").data
    assert b"Paid: your payment was received" in thanks


@pytest.mark.parametrize("tamper", ["signature", "payload", "secret", "missing", "old"])
def test_a_tampered_webhook_is_refused_and_changes_nothing(shop, fake_stripe, tamper):
    order, payment = card_order(shop)
    payload = completed(fake_stripe, payment)
    signature = sign(payload, WEBHOOK_SECRET)
    if tamper == "signature":
        signature = signature[:-4] + "0000"
    elif tamper == "payload":
        payload = payload.replace('"paid"', '"paid" ')
    elif tamper == "secret":
        signature = sign(payload, "whsec_guess")
    elif tamper == "old":
        signature = sign(payload, WEBHOOK_SECRET, timestamp=1_000_000_000)
    headers = {} if tamper == "missing" else {"Stripe-Signature": signature}
    response = shop.client.post(
        f"/stripe/webhook/{shop.studio.id}", data=payload, content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert fresh(order).status == OrderStatus.NEW
    assert fresh(payment).status == PaymentStatus.OPEN
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProcessedWebhookEvent)) == 0


def test_another_studios_session_changes_nothing(shop, fake_stripe, other_owner):
    connect_stripe(other_owner.studio, webhook_secret="whsec_other")
    order, payment = card_order(shop)
    payload = completed(fake_stripe, payment)
    # The other studio signs an event naming our session, on its own endpoint...
    response = post_event(shop.client, other_owner.studio_id, payload, secret="whsec_other")
    assert response.status_code == 200 and response.json["outcome"] == "unknown_session"
    # ...or sends it to ours, signed with its secret.
    assert post_event(shop.client, shop.studio.id, payload, secret="whsec_other").status_code == 400
    assert fresh(order).status == OrderStatus.NEW
    assert fresh(payment).status == PaymentStatus.OPEN


def test_an_amount_that_does_not_match_the_order_is_not_paid(shop, fake_stripe):
    order, payment = card_order(shop)
    session = fake_stripe.complete(payment.session_id)
    session["amount_total"] = 100
    response = post_event(shop.client, shop.studio.id, event("checkout.session.completed", session))
    assert response.json["outcome"] == "mismatch"
    assert fresh(order).status == OrderStatus.NEW
    session.update(amount_total=1390, currency="usd")
    response = post_event(shop.client, shop.studio.id, event("checkout.session.completed", session))
    assert response.json["outcome"] == "mismatch" and fresh(order).status == OrderStatus.NEW


def test_an_abandoned_session_cancels_the_order_and_frees_the_coupon(shop, fake_stripe):
    coupon = make_coupon(shop.studio, code="ONCE", usage_limit=1, value=100)
    order, payment = card_order(shop, coupon_code="ONCE")
    assert db.session.get(Coupon, coupon.id).times_used == 1
    expired = dict(fake_stripe.sessions[payment.session_id], status="expired")
    response = post_event(shop.client, shop.studio.id, event("checkout.session.expired", expired))
    assert response.json["outcome"] == "cancelled"
    order = fresh(order)
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == "The card payment was not completed."
    db.session.expire_all()
    assert db.session.get(Coupon, coupon.id).times_used == 0
    # Redelivered, or a late completion of the same session: nothing more happens to it.
    assert (
        post_event(shop.client, shop.studio.id, event("checkout.session.expired", expired)).json["outcome"]
        == "ignored"
    )
    assert db.session.get(Coupon, coupon.id).times_used == 0


def test_expiry_after_payment_changes_nothing(shop, fake_stripe):
    order, payment = card_order(shop)
    post_event(shop.client, shop.studio.id, completed(fake_stripe, payment))
    expired = dict(fake_stripe.sessions[payment.session_id], status="expired")
    response = post_event(shop.client, shop.studio.id, event("checkout.session.expired", expired))
    assert response.json["outcome"] == "ignored"
    assert fresh(order).status == OrderStatus.PAID


def test_a_payment_arriving_after_cancellation_is_recorded_for_a_refund(shop, fake_stripe):
    from app.shop.orders import change_status

    order, payment = card_order(shop)
    change_status(order, OrderStatus.CANCELLED, now=NOW, reason="Asked by phone")
    db.session.commit()
    response = post_event(shop.client, shop.studio.id, completed(fake_stripe, payment))
    assert response.json["outcome"] == "late"
    order = fresh(order)
    assert order.status == OrderStatus.CANCELLED
    assert "refund it" in order.history[-1].note
    assert fresh(payment).status == PaymentStatus.PAID
