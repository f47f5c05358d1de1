"""Cart and checkout services: validation, totals, coupons, order numbers, concurrency."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.galleries.models import AccessCard, CardClaim, GalleryStatus
from app.shop import cart as carts
from app.shop.cart import CartError
from app.shop.checkout import CheckoutError, find_coupon, quote_cart
from app.shop.models import Cart, Coupon, DiscountKind, Order, OrderStatus
from app.shop.orders import order_placed
from tests import factories
from tests.factories import NOW
from tests.shop_factories import (
    fill_cart,
    make_coupon,
    make_price_list,
    make_promotion,
    order_now,
    sell_gallery,
)


@pytest.fixture
def shop(owner):
    studio = owner.studio
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    photo = factories.make_photo(gallery)
    client = factories.make_client(studio, gallery=gallery)
    small, large, digital = price_list.products
    return type(
        "Shop",
        (),
        dict(
            studio=studio,
            gallery=gallery,
            price_list=price_list,
            photo=photo,
            client=client,
            small=small,
            large=large,
            digital=digital,
        ),
    )


def test_first_item_opens_the_cart_and_later_additions_are_recorded(shop):
    fill_cart(shop.client, shop.gallery, shop.photo, shop.small, now=NOW)
    later = NOW + timedelta(hours=3)
    cart = fill_cart(shop.client, shop.gallery, shop.photo, shop.small, quantity=2, now=later)
    assert cart.first_item_at == NOW and cart.last_item_at == later
    assert [(item.product_id, item.quantity) for item in cart.items] == [(shop.small.id, 3)]


def test_emptying_the_cart_closes_it_and_the_next_item_opens_a_new_one(shop):
    cart = fill_cart(shop.client, shop.gallery, shop.photo, shop.small)
    carts.remove_item(cart, cart.items[0].id, NOW + timedelta(minutes=5))
    db.session.commit()
    assert cart.closed_reason == "emptied" and cart.closed_at == NOW + timedelta(minutes=5)
    new_cart = fill_cart(shop.client, shop.gallery, shop.photo, shop.large, now=NOW + timedelta(hours=1))
    assert new_cart.id != cart.id and new_cart.first_item_at == NOW + timedelta(hours=1)


@pytest.mark.parametrize("quantity", [0, -1, 100, "two", None])
def test_bad_quantities_are_refused_and_change_nothing(shop, quantity):
    with pytest.raises(CartError, match="quantity between 1 and 99"):
        carts.add_to_cart(
            shop.client,
            gallery_id=shop.gallery.id,
            photo_id=shop.photo.id,
            product_id=shop.small.id,
            quantity=quantity,
            now=NOW,
        )
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Cart.id))) == 0


def test_product_outside_the_gallery_price_list_is_refused(shop):
    other_list = make_price_list(shop.studio, name="Weddings")
    with pytest.raises(CartError, match="not available in this gallery"):
        carts.add_to_cart(
            shop.client,
            gallery_id=shop.gallery.id,
            photo_id=shop.photo.id,
            product_id=other_list.products[0].id,
            quantity=1,
            now=NOW,
        )


def test_photo_of_another_gallery_is_refused(shop):
    other = factories.make_gallery(shop.studio, title="Other")
    foreign_photo = factories.make_photo(other)
    with pytest.raises(CartError, match="not available to you"):
        carts.add_to_cart(
            shop.client,
            gallery_id=shop.gallery.id,
            photo_id=foreign_photo.id,
            product_id=shop.small.id,
            quantity=1,
            now=NOW,
        )


@pytest.mark.parametrize(
    "change",
    [
        dict(sale_starts_at=NOW + timedelta(days=1)),
        dict(sale_ends_at=NOW - timedelta(minutes=1), sale_starts_at=NOW - timedelta(days=3)),
        dict(status=GalleryStatus.DRAFT),
        dict(status=GalleryStatus.ARCHIVED),
    ],
)
def test_gallery_outside_its_sale_window_takes_no_orders(shop, change):
    for name, value in change.items():
        setattr(shop.gallery, name, value)
    db.session.commit()
    with pytest.raises(CartError, match="not open"):
        carts.add_to_cart(
            shop.client,
            gallery_id=shop.gallery.id,
            photo_id=shop.photo.id,
            product_id=shop.small.id,
            quantity=1,
            now=NOW,
        )


def test_qr_gallery_photo_must_be_on_a_card_the_client_holds(shop):
    shop.gallery.is_qr = True
    card = AccessCard(gallery_id=shop.gallery.id, label="Emma", code="ABCDEFGHJK", created_at=NOW)
    db.session.add(card)
    db.session.commit()
    with pytest.raises(CartError):
        carts.add_to_cart(
            shop.client,
            gallery_id=shop.gallery.id,
            photo_id=shop.photo.id,
            product_id=shop.small.id,
            quantity=1,
            now=NOW,
        )
    db.session.rollback()
    card.photos.append(shop.photo)
    db.session.add(CardClaim(client_id=shop.client.id, card_id=card.id, claimed_at=NOW))
    db.session.commit()
    item = carts.add_to_cart(
        shop.client,
        gallery_id=shop.gallery.id,
        photo_id=shop.photo.id,
        product_id=shop.small.id,
        quantity=1,
        now=NOW,
    )
    assert item.id is not None


def test_client_cannot_touch_another_clients_cart_line(shop):
    fill_cart(shop.client, shop.gallery, shop.photo, shop.small)
    other = factories.make_client(shop.studio, email="other@example.com", gallery=shop.gallery)
    other_cart = fill_cart(other, shop.gallery, shop.photo, shop.large)
    mine = carts.open_cart(shop.client, NOW, create=False)
    with pytest.raises(CartError, match="no longer in your cart"):
        carts.update_quantity(mine, other_cart.items[0].id, 5, NOW)
    assert other_cart.items[0].quantity == 1


def test_order_totals_come_from_the_pricing_service_with_promotion_and_coupon(shop):
    make_promotion(shop.gallery, value=1000)  # 10 %
    make_coupon(shop.studio, code="SPRING5", value=500)
    fill_cart(shop.client, shop.gallery, shop.photo, shop.small, quantity=2)  # 1800
    fill_cart(shop.client, shop.gallery, shop.photo, shop.digital)  # 1200
    order = order_now(shop.studio, shop.client, coupon_code=" spring5 ")
    assert (
        order.subtotal_minor,
        order.promotion_discount_minor,
        order.coupon_discount_minor,
        order.shipping_minor,
        order.total_minor,
    ) == (3000, 300, 500, 490, 2690)
    assert order.status == OrderStatus.NEW and order.coupon_code == "SPRING5"
    assert [(h.from_status, h.to_status) for h in order.history] == [(None, "new")]
    assert carts.open_cart(shop.client, NOW, create=False) is None  # the cart was closed
    assert db.session.get(Coupon, order.coupon_id).times_used == 1


@pytest.mark.parametrize(
    ("coupon", "message"),
    [
        (None, "not known"),
        (dict(valid_until=NOW - timedelta(seconds=1)), "has expired"),
        (dict(valid_from=NOW + timedelta(days=1)), "not valid yet"),
        (dict(usage_limit=0), "used up"),
    ],
)
def test_coupon_problems_get_a_clear_message_and_no_order(shop, coupon, message):
    if coupon is not None:
        make_coupon(shop.studio, code="SPRING5", **coupon)
    fill_cart(shop.client, shop.gallery, shop.photo, shop.small)
    with pytest.raises(CheckoutError, match=message):
        order_now(shop.studio, shop.client, coupon_code="SPRING5")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0
    assert carts.open_cart(shop.client, NOW, create=False) is not None


def test_coupon_of_another_studio_is_unknown(shop, other_owner):
    make_coupon(other_owner.studio, code="THEIRS")
    with pytest.raises(CheckoutError, match="not known"):
        find_coupon(shop.studio.id, "THEIRS", NOW)


def test_pickup_needs_a_price_list_that_allows_it_and_address_is_required(shop):
    shop.price_list.allows_pickup = False
    db.session.commit()
    fill_cart(shop.client, shop.gallery, shop.photo, shop.small)
    from app.shop.checkout import Delivery

    with pytest.raises(CheckoutError, match="Pickup is not available"):
        order_now(shop.studio, shop.client, delivery=Delivery(method="pickup"))
    db.session.rollback()
    with pytest.raises(CheckoutError, match="full shipping address"):
        order_now(shop.studio, shop.client, delivery=Delivery(method="shipping", city="Paris"))


def test_order_placed_event_is_emitted(shop):
    received = []
    fill_cart(shop.client, shop.gallery, shop.photo, shop.small)
    with order_placed.connected_to(lambda order: received.append(order.number)):
        order = order_now(shop.studio, shop.client)
    assert received == [order.number]
    assert order.number == "2026-00001"


def test_quote_shows_the_promotion_while_it_runs_only(shop):
    make_promotion(shop.gallery, value=2000, ends_at=NOW + timedelta(hours=1))
    cart = fill_cart(shop.client, shop.gallery, shop.photo, shop.large)
    assert quote_cart(cart, NOW).promotion_discount_minor == 300
    assert quote_cart(cart, NOW + timedelta(hours=1)).promotion_discount_minor == 0


# ------------------------------------------------------------------ concurrency


def _run_in_threads(app, count, work):
    """Run ``work(index)`` in ``count`` threads at once, each in its own app context/session."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def runner(index):
        with app.app_context():
            barrier.wait()
            try:
                results[index] = ("ok", work(index))
            except Exception as error:  # noqa: BLE001 - reported to the test
                db.session.rollback()
                results[index] = ("error", error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _clients_with_carts(shop, count):
    clients = []
    for index in range(count):
        client = factories.make_client(shop.studio, email=f"parent{index}@example.com", gallery=shop.gallery)
        fill_cart(client, shop.gallery, shop.photo, shop.small)
        clients.append(client.id)
    return clients


def _checkout_in_thread(studio_id, client_id, coupon_code=None):
    from app.accounts.models import Studio
    from app.database import begin_write
    from app.galleries.models import Client

    begin_write()
    studio, client = db.session.get(Studio, studio_id), db.session.get(Client, client_id)
    order = order_now(studio, client, coupon_code=coupon_code)
    return order.number


def test_concurrent_checkouts_never_share_an_order_number(app, shop):
    client_ids = _clients_with_carts(shop, 8)
    results = _run_in_threads(app, 8, lambda i: _checkout_in_thread(shop.studio.id, client_ids[i]))
    assert all(kind == "ok" for kind, _ in results), results
    numbers = sorted(value for _, value in results)
    assert numbers == [f"2026-{n:05d}" for n in range(1, 9)]


def test_coupon_usage_limit_holds_under_concurrent_checkouts(app, shop):
    make_coupon(shop.studio, code="FIRST3", kind=DiscountKind.PERCENT, value=1000, usage_limit=3)
    client_ids = _clients_with_carts(shop, 8)
    results = _run_in_threads(app, 8, lambda i: _checkout_in_thread(shop.studio.id, client_ids[i], "FIRST3"))
    succeeded = [value for kind, value in results if kind == "ok"]
    refused = [value for kind, value in results if kind == "error"]
    assert len(succeeded) == 3, results
    assert all(isinstance(error, CheckoutError) and "used up" in str(error) for error in refused)
    db.session.rollback()  # end this test's own read snapshot before looking again
    assert db.session.scalar(sa.select(Coupon.times_used).where(Coupon.code == "FIRST3")) == 3
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 3
