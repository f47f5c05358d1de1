"""The client's shop over HTTP: cart, checkout with promotion and coupon, confirmation email,
my orders, downloads."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.galleries import clients
from app.shop.models import Order, OrderStatus
from app.shop.orders import change_status
from tests import factories
from tests.factories import NOW
from tests.shop_factories import make_coupon, make_price_list, make_promotion, sell_gallery


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    return NOW


@pytest.fixture
def shop(owner, client, frozen_now, app):
    studio = owner.studio
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    photos = [factories.make_photo(gallery, position=i) for i in range(2)]
    buyer = factories.make_client(studio, email="parent@example.com", gallery=gallery)
    with client.session_transaction() as session:
        session["clients"] = {str(studio.id): [buyer.id, 0]}  # signed in at the epoch
    return type(
        "Shop",
        (),
        dict(
            studio=studio,
            gallery=gallery,
            products=price_list.products,
            photos=photos,
            buyer=buyer,
            client=client,
        ),
    )


def add(shop, photo, product, quantity=1):
    return shop.client.post(
        f"/s/{shop.studio.slug}/cart/add",
        data={
            "gallery_id": shop.gallery.id,
            "photo_id": photo.id,
            "product_id": product.id,
            "quantity": quantity,
            "next": f"/s/{shop.studio.slug}/cart",
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
        "payment_method": "bank_transfer",
        "notify_status_changes": "y",
        "place_order": "1",
    }
    data.update(overrides)
    return shop.client.post(f"/s/{shop.studio.slug}/checkout", data=data)


def test_the_gallery_page_offers_products_to_a_registered_client(shop):
    page = shop.client.get(f"/g/{shop.studio.slug}/{shop.gallery.slug}")
    assert b"Add to cart" in page.data and b"Print 13 \xc3\x97 18 cm" in page.data


def test_cart_shows_lines_totals_and_the_promotion(shop):
    make_promotion(shop.gallery, name="Early bird", value=1000)
    add(shop, shop.photos[0], shop.products[0], 2)
    add(shop, shop.photos[1], shop.products[2])
    page = shop.client.get(f"/s/{shop.studio.slug}/cart").data.decode()
    assert "€30.00" in page  # subtotal 2 × 9.00 + 12.00
    assert "−€3.00" in page and "Early bird" in page
    assert "€31.90" in page  # 30 − 3 + 4.90 shipping


def test_bad_cart_input_gets_a_message_and_changes_nothing(shop, other_owner):
    assert (
        b"between 1 and 99"
        in shop.client.post(
            f"/s/{shop.studio.slug}/cart/add",
            data={
                "gallery_id": shop.gallery.id,
                "photo_id": shop.photos[0].id,
                "product_id": shop.products[0].id,
                "quantity": "-2",
            },
            follow_redirects=True,
        ).data
    )
    foreign = make_price_list(other_owner.studio, name="Theirs").products[0]
    refused = add(shop, shop.photos[0], foreign)
    assert refused.status_code == 302
    assert shop.client.get(f"/s/{shop.studio.slug}/cart").data.count(b"Remove") == 0


def test_checkout_with_promotion_and_coupon_emails_the_confirmation(shop, mail_outbox):
    make_promotion(shop.gallery, value=1000)
    make_coupon(shop.studio, code="SPRING5", value=500)
    add(shop, shop.photos[0], shop.products[0], 2)
    add(shop, shop.photos[1], shop.products[2])
    response = checkout(shop, coupon_code="spring5")
    assert response.status_code == 302 and response.location.endswith("/orders/2026-00001/thanks")
    order = db.session.scalar(sa.select(Order))
    assert (
        order.subtotal_minor,
        order.promotion_discount_minor,
        order.coupon_discount_minor,
        order.shipping_minor,
        order.total_minor,
    ) == (3000, 300, 500, 490, 2690)
    assert order.notify_status_changes is True
    mail = mail_outbox.wait_for(1)[0]
    assert mail.subject == "Your order 2026-00001" and "€26.90" in mail.text()
    orders_link = re.search(r"https?://[^/\s]+(/my-orders/[^\s)\]]+)", mail.text()).group(1)
    page = shop.client.get(orders_link)
    assert b"Order 2026-00001" in page.data and b"New" in page.data


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(coupon_code="NOPE"), b"The coupon code NOPE is not known."),
        (dict(address_line1=""), b"Please enter your street address."),
        (dict(email="not-an-email"), b"An email address must have an @-sign."),
    ],
)
def test_checkout_problems_are_shown_and_nothing_is_ordered(shop, overrides, message):
    add(shop, shop.photos[0], shop.products[0])
    page = checkout(shop, **overrides)
    assert page.status_code == 200 and message in page.data
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0


def test_someone_elses_order_confirmation_is_404(shop, app):
    add(shop, shop.photos[0], shop.products[0])
    checkout(shop)
    stranger = app.test_client()
    assert stranger.get(f"/s/{shop.studio.slug}/orders/2026-00001/thanks").status_code == 404
    assert stranger.get("/my-orders/forged").status_code == 404


def test_paid_digital_items_get_signed_downloads_of_the_original(shop, app):
    from app.shop.client_services import my_orders_token

    add(shop, shop.photos[0], shop.products[2])  # the digital file
    checkout(shop, delivery_method="shipping")
    order = db.session.scalar(sa.select(Order))
    page = shop.client.get(f"/my-orders/{my_orders_token(shop.studio.id, shop.buyer.id)}")
    assert b"/download/" not in page.data  # not paid yet
    change_status(order, OrderStatus.PAID, now=NOW)
    db.session.commit()
    page = shop.client.get(f"/my-orders/{my_orders_token(shop.studio.id, shop.buyer.id)}").data
    link = page[page.index(b"/download/") :].split(b'"')[0].decode()
    download = app.test_client().get(link)
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    download.close()
    expired_app_now = NOW + timedelta(days=8)
    assert expired_app_now  # links are valid for 7 days (checked by the serializer's max_age)
    forged = app.test_client().get(link[:-3] + "abc")
    assert forged.status_code == 410


def test_status_history_shows_on_my_orders(shop):
    from app.shop.client_services import my_orders_token

    add(shop, shop.photos[0], shop.products[0])
    checkout(shop)
    order = db.session.scalar(sa.select(Order))
    change_status(order, OrderStatus.PAID, now=NOW + timedelta(hours=1))
    change_status(
        order, OrderStatus.SHIPPED, now=NOW + timedelta(days=1), carrier="DHL", tracking_number="JD014600003"
    )
    db.session.commit()
    page = shop.client.get(f"/my-orders/{my_orders_token(shop.studio.id, shop.buyer.id)}").data
    assert b"Shipped" in page and b"JD014600003" in page and b"Track your parcel" in page
    assert page.count(b"<li><span>") >= 3  # new, paid, shipped


def test_cart_without_registering_explains_what_to_do(owner, app, frozen_now):
    page = app.test_client().get(f"/s/{owner.studio.slug}/cart")
    assert b"register with your email" in page.data
    assert clients  # the client side decides who is signed in
