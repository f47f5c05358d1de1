"""Order status transitions, their history and the domain event."""

from datetime import timedelta

import pytest

from app.extensions import db
from app.shop.checkout import Delivery
from app.shop.models import OrderStatus
from app.shop.orders import (
    TRANSITIONS,
    TransitionRefused,
    allowed_next_statuses,
    change_status,
    order_status_changed,
    tracking_url,
)
from tests import factories
from tests.factories import NOW
from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery

S = OrderStatus


@pytest.fixture
def order(owner):
    studio = owner.studio
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    photo = factories.make_photo(gallery)
    client = factories.make_client(studio, gallery=gallery)
    fill_cart(client, gallery, photo, price_list.products[0])
    return order_now(studio, client)


def test_happy_path_records_who_and_when_and_emits_one_event_per_change(order, owner):
    events = []
    with order_status_changed.connected_to(lambda sender, event: events.append(event)):
        change_status(order, S.PAID, now=NOW + timedelta(hours=1), user=owner)
        change_status(order, S.IN_PRODUCTION, now=NOW + timedelta(hours=2), user=owner)
        change_status(
            order,
            S.SHIPPED,
            now=NOW + timedelta(days=1),
            user=owner,
            carrier="DHL",
            tracking_number="JD0123456789",
        )
        change_status(order, S.DELIVERED, now=NOW + timedelta(days=3), user=owner)
    db.session.commit()
    assert [(e.old_status, e.new_status) for e in events] == [
        ("new", "paid"),
        ("paid", "in_production"),
        ("in_production", "shipped"),
        ("shipped", "delivered"),
    ]
    assert events[0].order_id == order.id and events[0].at == NOW + timedelta(hours=1)
    assert [(h.from_status, h.to_status, h.changed_by_id) for h in order.history] == [
        (None, "new", None),
        ("new", "paid", owner.id),
        ("paid", "in_production", owner.id),
        ("in_production", "shipped", owner.id),
        ("shipped", "delivered", owner.id),
    ]
    assert order.paid_at == NOW + timedelta(hours=1)
    assert order.tracking_number == "JD0123456789"
    assert tracking_url(order).endswith("tracking-id=JD0123456789")


@pytest.mark.parametrize(
    ("path", "refused", "message"),
    [
        ([], S.SHIPPED, "cannot become Shipped"),
        ([], S.DELIVERED, "cannot become Delivered"),
        ([S.PAID, S.SHIPPED], S.PAID, "cannot become Paid"),
        ([S.CANCELLED], S.PAID, "cannot become Paid"),
        ([S.PAID], S.PAID, "already Paid"),
        ([S.PAID], S.READY_FOR_PICKUP, "cannot become Ready for pickup"),  # a shipping order
    ],
)
def test_invalid_transitions_are_refused_with_a_clear_message(order, path, refused, message):
    for status in path:
        extra = {"carrier": "UPS", "tracking_number": "1Z"} if status == S.SHIPPED else {}
        extra |= {"reason": "asked"} if status == S.CANCELLED else {}
        change_status(order, status, now=NOW, **extra)
    before = (order.status, len(order.history))
    with pytest.raises(TransitionRefused, match=message):
        change_status(order, refused, now=NOW)
    assert (order.status, len(order.history)) == before


def test_shipping_needs_carrier_and_tracking_number_and_cancelling_needs_a_reason(order):
    change_status(order, S.PAID, now=NOW)
    with pytest.raises(TransitionRefused, match="carrier and a tracking number"):
        change_status(order, S.SHIPPED, now=NOW, carrier="DHL", tracking_number="  ")
    with pytest.raises(TransitionRefused, match="reason"):
        change_status(order, S.CANCELLED, now=NOW)
    change_status(order, S.CANCELLED, now=NOW, reason="Duplicate order")
    assert order.cancel_reason == "Duplicate order"


def test_pickup_orders_become_ready_for_pickup_not_shipped(owner):
    studio = owner.studio
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio, allows_pickup=True)
    sell_gallery(gallery, price_list)
    client = factories.make_client(studio, gallery=gallery)
    fill_cart(client, gallery, factories.make_photo(gallery), price_list.products[0])
    order = order_now(studio, client, delivery=Delivery(method="pickup"))
    assert order.shipping_minor == 0
    change_status(order, S.PAID, now=NOW)
    assert S.SHIPPED not in allowed_next_statuses(order)
    change_status(order, S.READY_FOR_PICKUP, now=NOW)
    change_status(order, S.DELIVERED, now=NOW)


def test_every_status_has_its_transitions_declared():
    assert set(TRANSITIONS) == set(OrderStatus)
    assert TRANSITIONS[S.DELIVERED] == set() and TRANSITIONS[S.CANCELLED] == set()
