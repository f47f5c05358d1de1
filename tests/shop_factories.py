"""Factories for the shop: price lists, products, promotions, coupons, carts and orders."""

from datetime import timedelta

from app.extensions import db
from app.shop import cart as carts
from app.shop.checkout import Contact, Delivery, place_order
from app.shop.models import (
    Coupon,
    DigitalScope,
    DiscountKind,
    GalleryPricing,
    PriceList,
    Product,
    ProductKind,
    Promotion,
)
from tests.factories import NOW


def make_price_list(studio, name="School prints", shipping_minor=490, allows_pickup=True):
    price_list = PriceList(
        studio_id=studio.id,
        name=name,
        shipping_minor=shipping_minor,
        allows_pickup=allows_pickup,
        created_at=NOW,
    )
    price_list.products = [
        Product(
            kind=ProductKind.PRINT,
            name="Print 13 × 18 cm",
            print_size="13 × 18 cm",
            paper="lustre",
            price_minor=900,
            position=1,
        ),
        Product(
            kind=ProductKind.PRINT,
            name="Print 20 × 30 cm",
            print_size="20 × 30 cm",
            paper="lustre",
            price_minor=1500,
            position=2,
        ),
        Product(
            kind=ProductKind.DIGITAL,
            name="Digital file",
            digital_scope=DigitalScope.PHOTO,
            price_minor=1200,
            position=3,
        ),
    ]
    db.session.add(price_list)
    db.session.commit()
    return price_list


def sell_gallery(gallery, price_list):
    db.session.add(GalleryPricing(gallery_id=gallery.id, price_list_id=price_list.id))
    db.session.commit()


def make_promotion(
    gallery,
    name="Early bird",
    kind=DiscountKind.PERCENT,
    value=1000,
    minimum_order_minor=0,
    starts_at=NOW - timedelta(days=1),
    ends_at=NOW + timedelta(days=7),
):
    promotion = Promotion(
        studio_id=gallery.studio_id,
        gallery_id=gallery.id,
        name=name,
        discount_kind=kind,
        discount_value=value,
        minimum_order_minor=minimum_order_minor,
        starts_at=starts_at,
        ends_at=ends_at,
        created_at=NOW,
    )
    db.session.add(promotion)
    db.session.commit()
    return promotion


def make_coupon(
    studio,
    code="SPRING5",
    kind=DiscountKind.FIXED,
    value=500,
    usage_limit=None,
    valid_from=None,
    valid_until=None,
    minimum_order_minor=0,
):
    coupon = Coupon(
        studio_id=studio.id,
        code=code,
        discount_kind=kind,
        discount_value=value,
        usage_limit=usage_limit,
        valid_from=valid_from,
        valid_until=valid_until,
        minimum_order_minor=minimum_order_minor,
        created_at=NOW,
    )
    db.session.add(coupon)
    db.session.commit()
    return coupon


def fill_cart(client, gallery, photo, product, quantity=1, now=NOW):
    carts.add_to_cart(
        client, gallery_id=gallery.id, photo_id=photo.id, product_id=product.id, quantity=quantity, now=now
    )
    db.session.commit()
    return carts.open_cart(client, now, create=False)


SHIP_TO = Delivery(
    method="shipping", address_line1="1 Rue des Lilas", postal_code="75011", city="Paris", country="FR"
)


def order_now(
    studio, client, now=NOW, coupon_code=None, delivery=SHIP_TO, payment_method="bank_transfer", notify=True
):
    cart = carts.open_cart(client, now, create=False)
    order = place_order(
        studio=studio,
        client=client,
        cart=cart,
        contact=Contact(client.name, client.email),
        delivery=delivery,
        payment_method=payment_method,
        now=now,
        coupon_code=coupon_code,
        notify_status_changes=notify,
    )
    db.session.commit()
    return order
