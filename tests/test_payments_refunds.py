"""Refunds of card payments from the admin order page, through the local fake Stripe."""

import sqlalchemy as sa

from app.extensions import db
from app.mailing.models import OutboxMessage
from app.shop.models import Order, Refund
from tests import test_payments as base
from tests.test_payments import card_order, completed, fresh, post_event

# The fixtures of the payment tests (a fake Stripe, a shop with Stripe connected).
app_config, fake_stripe, frozen_now, shop = (base.app_config, base.fake_stripe, base.frozen_now, base.shop)


def paid_card_order(shop, fake_stripe):
    order, payment = card_order(shop)
    assert post_event(shop.client, shop.studio.id, completed(fake_stripe, payment)).json["outcome"] == "paid"
    return fresh(order), fresh(payment)


def test_partial_then_full_refund_through_stripe(shop, fake_stripe, auth, owner):
    order, payment = paid_card_order(shop, fake_stripe)
    auth.login(owner)
    page = shop.client.get(f"/admin/shop/orders/{order.id}").data.decode()
    assert "Refund by card" in page and "At most €13.90" in page
    response = shop.client.post(
        f"/admin/shop/orders/{order.id}/refund", data={"amount": "4.90", "reason": "Print damaged"}
    )
    assert response.status_code == 302
    assert "Refunded €4.90." in shop.client.get(response.location).data.decode()
    sent = fake_stripe.calls("POST", "/v1/refunds")
    assert len(sent) == 1
    assert sent[0].params["payment_intent"] == payment.payment_intent_id
    assert sent[0].params["amount"] == "490"  # minor units
    order = db.session.get(Order, order.id)
    assert order.refunded_minor == 490 and order.status == "paid"
    assert "Refunded €4.90 by card: Print damaged" in order.history[-1].note
    refund = db.session.scalar(sa.select(Refund))
    assert refund.amount_minor == 490 and refund.provider_refund_id.startswith("re_test_")
    emails = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.subject == f"Refund for order {order.number}")
    ).all()
    assert len(emails) == 1 and "€4.90" in emails[0].text
    assert emails[0].recipient == "parent@example.com"

    too_much = shop.client.post(f"/admin/shop/orders/{order.id}/refund", data={"amount": "9.01"})
    assert too_much.status_code == 400 and "At most 9.00 can still be refunded" in (too_much.data.decode())
    assert len(fake_stripe.calls("POST", "/v1/refunds")) == 1
    shop.client.post(f"/admin/shop/orders/{order.id}/refund", data={"amount": "9.00"})
    db.session.expire_all()
    assert db.session.get(Order, order.id).refunded_minor == 1390
    assert "Refund by card" not in shop.client.get(f"/admin/shop/orders/{order.id}").data.decode()


def test_bad_refund_input_gets_a_message(shop, fake_stripe, auth, owner):
    order, _payment = paid_card_order(shop, fake_stripe)
    auth.login(owner)
    for amount, message in (
        ("", "Enter an amount"),
        ("0", "more than zero"),
        ("abc", "Enter an amount like 12.50"),
        ("-3", "cannot be negative"),
    ):
        response = shop.client.post(f"/admin/shop/orders/{order.id}/refund", data={"amount": amount})
        assert response.status_code == 400 and message in response.data.decode()
    assert fake_stripe.calls("POST", "/v1/refunds") == []


def test_an_order_not_paid_by_card_cannot_be_refunded_through_stripe(shop, fake_stripe, auth, owner):
    order, _payment = card_order(shop)  # not paid
    auth.login(owner)
    response = shop.client.post(f"/admin/shop/orders/{order.id}/refund", data={"amount": "1"})
    assert response.status_code == 400
    assert fake_stripe.calls("POST", "/v1/refunds") == []


def test_another_studios_order_cannot_be_refunded(shop, fake_stripe, auth, other_owner):
    order, _payment = paid_card_order(shop, fake_stripe)
    auth.login(other_owner)
    response = shop.client.post(f"/admin/shop/orders/{order.id}/refund", data={"amount": "1"})
    assert response.status_code == 404
    assert fake_stripe.calls("POST", "/v1/refunds") == []
