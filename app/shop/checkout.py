"""Quoting a cart and placing an order.

``quote_cart`` turns a cart into the pricing service's inputs; ``place_order`` re-checks every
line, claims the coupon with one conditional UPDATE (the usage limit holds under concurrent
checkouts), takes the next order number with one atomic UPDATE ... RETURNING, and records the
order, its lines and its first history entry. Any refusal raises before anything is written.
"""

from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.database import insert_ignoring_conflicts
from app.extensions import db
from app.galleries.models import Gallery
from app.shop import pricing
from app.shop.addresses import address_problems, normalized_region
from app.shop.cart import CartError, close_cart, gallery_price_list_ids, sale_is_open
from app.shop.models import (
    Coupon,
    DeliveryMethod,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusChange,
    Promotion,
    StudioCounter,
)
from app.shop.orders import order_placed
from app.shop.payment_bank import creditor_reference
from app.shop.payment_settings import BANK_TRANSFER, offered_methods
from app.shop.payments import PROVIDERS


class CheckoutError(ValueError):
    """A refusal for the client (unknown coupon, closed sale...); nothing was written."""


def _line_input(item):
    product = item.product
    return pricing.LineInput(
        key=item.id,
        gallery_id=item.gallery_id,
        unit_price_minor=product.price_minor,
        quantity=item.quantity,
        needs_shipping=product.needs_shipping,
        shipping_minor=product.price_list.shipping_minor,
        allows_pickup=product.price_list.allows_pickup,
    )


def active_promotions(gallery_ids, now):
    """Promotions running at ``now`` for these galleries, grouped by gallery."""
    if not gallery_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Promotion).where(
            Promotion.gallery_id.in_(gallery_ids),
            Promotion.removed_at.is_(None),
            Promotion.starts_at <= now,
            Promotion.ends_at > now,
        )
    )
    grouped = {}
    for promotion in rows:
        grouped.setdefault(promotion.gallery_id, []).append(as_discount(promotion))
    return grouped


def as_discount(row):
    name = getattr(row, "name", None) or getattr(row, "code", "")
    return pricing.Discount(
        id=row.id,
        name=name,
        kind=row.discount_kind,
        value=row.discount_value,
        minimum_order_minor=row.minimum_order_minor,
    )


def find_coupon(studio_id, code, now):
    """The valid coupon for ``code`` or ``CheckoutError`` saying exactly what is wrong."""
    normalized = (code or "").strip().upper()
    coupon = db.session.scalar(
        sa.select(Coupon).where(Coupon.studio_id == studio_id, Coupon.code == normalized)
    )
    if coupon is None or not coupon.is_active:
        raise CheckoutError(_l("The coupon code %(code)s is not known.", code=normalized))
    if coupon.valid_from and now < coupon.valid_from:
        raise CheckoutError(_l("The coupon %(code)s is not valid yet.", code=normalized))
    if coupon.valid_until and now >= coupon.valid_until:
        raise CheckoutError(_l("The coupon %(code)s has expired.", code=normalized))
    if coupon.usage_limit is not None and coupon.times_used >= coupon.usage_limit:
        raise CheckoutError(_l("The coupon %(code)s has been used up.", code=normalized))
    return coupon


def quote_cart(cart, now, coupon=None, delivery_method=DeliveryMethod.SHIPPING):
    """Price the cart as it is at ``now``: its lines, best promotions, the coupon, shipping."""
    inputs = [_line_input(item) for item in cart.items] if cart else []
    candidates = active_promotions({line.gallery_id for line in inputs}, now)
    promotions = pricing.best_promotions(inputs, candidates)
    return pricing.compute_quote(inputs, promotions, as_discount(coupon) if coupon else None, delivery_method)


@dataclass
class Contact:
    name: str
    email: str
    phone: str = ""


@dataclass
class Delivery:
    method: str
    address_line1: str = ""
    address_line2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""
    # State, province, oblast... where the country's format has one. None: the caller does not
    # ask for it (neither checked nor kept), as callers written before the region did.
    region: str | None = None


def _check_lines_still_orderable(cart, now):
    if cart is None or not cart.items:
        raise CheckoutError(_l("Your cart is empty."))
    for item in cart.items:
        gallery = db.session.get(Gallery, item.gallery_id)
        if not sale_is_open(gallery, now):
            raise CheckoutError(_l("Orders for %(gallery)s are closed.", gallery=gallery.title))
        product = item.product
        if not product.is_active or product.price_list_id not in gallery_price_list_ids(gallery.id):
            raise CheckoutError(_l("%(product)s is no longer available.", product=product.name))


def _claim_coupon(coupon):
    """Count one use of the coupon unless its limit is reached, atomically."""
    claimed = db.session.execute(
        sa.update(Coupon)
        .where(
            Coupon.id == coupon.id,
            sa.or_(Coupon.usage_limit.is_(None), Coupon.times_used < Coupon.usage_limit),
        )
        .values(times_used=Coupon.times_used + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise CheckoutError(_l("The coupon %(code)s has been used up.", code=coupon.code))


def release_coupon(order):
    """Give back the coupon use an order claimed (an abandoned card payment), atomically."""
    if order.coupon_id is None:
        return
    db.session.execute(
        sa.update(Coupon)
        .where(Coupon.id == order.coupon_id, Coupon.times_used > 0)
        .values(times_used=Coupon.times_used - 1)
        .execution_options(synchronize_session=False)
    )


def next_order_number(studio, now):
    """``<year>-<sequence>``: the sequence is the studio's, taken by one atomic UPDATE."""
    db.session.execute(
        insert_ignoring_conflicts(StudioCounter.__table__).values(studio_id=studio.id, name="order", value=0)
    )
    value = db.session.execute(
        sa.update(StudioCounter)
        .where(StudioCounter.studio_id == studio.id, StudioCounter.name == "order")
        .values(value=StudioCounter.value + 1)
        .returning(StudioCounter.value)
    ).scalar_one()
    year = now.astimezone(ZoneInfo(studio.timezone)).year
    return f"{year}-{value:05d}"


def _order_items(cart, quote):
    priced = {line.key: line for line in quote.lines}
    for item in cart.items:
        product, line = item.product, priced[item.id]
        yield OrderItem(
            gallery_id=item.gallery_id,
            photo_id=item.photo_id,
            card_id=item.card_id,
            product_id=product.id,
            product_kind=product.kind,
            product_name=product.name,
            digital_scope=product.digital_scope,
            delivers_download=product.delivers_download,
            unit_price_minor=line.unit_price_minor,
            quantity=line.quantity,
            line_total_minor=line.line_total_minor,
        )


def _validated_delivery(quote, delivery):
    if not quote.needs_shipping:
        return Delivery(method=DeliveryMethod.NONE)
    if delivery.method == DeliveryMethod.PICKUP:
        if not quote.pickup_available:
            raise CheckoutError(_l("Pickup is not available for this order."))
        return Delivery(method=DeliveryMethod.PICKUP)
    if not all([delivery.address_line1.strip(), delivery.city.strip(), delivery.country.strip()]):
        raise CheckoutError(_l("Please enter the full shipping address."))
    # The checkout form shows these on their fields; this guards every other caller.
    problems = address_problems(
        delivery.country,
        delivery.address_line1,
        delivery.address_line2,
        delivery.postal_code,
        delivery.city,
        region=delivery.region,
    )
    if problems:
        raise CheckoutError(next(iter(problems.values())))
    # Kept as the address data names it ("CA" for "California"), shown by its name.
    return replace(delivery, region=normalized_region(delivery.country, delivery.region or ""))


def place_order(
    *,
    studio,
    client,
    cart,
    contact,
    delivery,
    payment_method,
    now,
    coupon_code=None,
    notify_status_changes=False,
    sms_consent=False,
    sms_consent_text=None,
):
    """Turn the client's open cart into an order. Raises ``CheckoutError``; flushes only.

    ``contact.phone`` is E.164 (``app.sms.phone.normalize_phone``) or empty; it becomes the
    client's number when they have none, and the SMS consent, given with a number, is recorded
    on the client with its exact text and time (an earlier consent is kept)."""
    if cart is None or cart.client_id != client.id or cart.closed_at is not None:
        raise CheckoutError(_l("Your cart is empty."))
    _check_lines_still_orderable(cart, now)
    coupon = find_coupon(studio.id, coupon_code, now) if (coupon_code or "").strip() else None
    quote = quote_cart(cart, now, coupon, delivery.method)
    if coupon is not None and quote.coupon_problem == "minimum":
        raise CheckoutError(_l("The coupon %(code)s needs a larger order.", code=coupon.code))
    delivery = _validated_delivery(quote, delivery)
    provider = PROVIDERS.get(payment_method)
    offered = offered_methods(studio.id, [item.gallery_id for item in cart.items])
    if provider is None or provider.key not in offered or not provider.available_for(quote):
        raise CheckoutError(_l("Please choose a payment method."))
    if coupon is not None:
        _claim_coupon(coupon)
    number = next_order_number(studio, now)
    order = Order(
        studio_id=studio.id,
        client_id=client.id,
        gallery_id=cart.items[0].gallery_id,
        number=number,
        payment_reference=creditor_reference(number) if provider.key == BANK_TRANSFER else None,
        status=OrderStatus.NEW,
        placed_at=now,
        currency=studio.currency,
        subtotal_minor=quote.subtotal_minor,
        promotion_discount_minor=quote.promotion_discount_minor,
        promotion_id=quote.applied_promotions[0].id if quote.applied_promotions else None,
        coupon_discount_minor=quote.coupon_discount_minor,
        coupon_id=coupon.id if coupon else None,
        coupon_code=coupon.code if coupon else None,
        shipping_minor=quote.shipping_minor,
        total_minor=quote.total_minor,
        contact_name=contact.name.strip(),
        contact_email=contact.email.strip().lower(),
        contact_phone=contact.phone.strip(),
        delivery_method=delivery.method,
        address_line1=delivery.address_line1.strip(),
        address_line2=delivery.address_line2.strip(),
        postal_code=delivery.postal_code.strip(),
        city=delivery.city.strip(),
        country=delivery.country.strip().upper(),
        region=delivery.region or "",
        notify_status_changes=notify_status_changes,
        payment_method=provider.key,
        items=list(_order_items(cart, quote)),
        history=[OrderStatusChange(from_status=None, to_status=OrderStatus.NEW, changed_at=now)],
    )
    db.session.add(order)
    if order.contact_phone:
        if not client.phone:
            client.phone = order.contact_phone
        if sms_consent and client.sms_consent_at is None:
            client.sms_consent_text, client.sms_consent_at = sms_consent_text, now
    close_cart(cart, "ordered", now)
    db.session.flush()
    order_placed.send(order)
    return order


__all__ = ["CartError", "CheckoutError", "Contact", "Delivery", "place_order", "quote_cart", "release_coupon"]
