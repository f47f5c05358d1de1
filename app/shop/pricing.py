"""The one pricing service: every price, discount and total the shop shows or charges.

Pure functions over plain values (no database, no clock): the cart page, checkout and the order
record all call ``compute_quote``, so what the client saw is what is charged. Amounts are integer
minor units; percentages are basis points; rounding is half-up to the minor unit.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_percent

from app.shop.models import DeliveryMethod, DiscountKind


@dataclass(frozen=True)
class LineInput:
    """One cart line as the pricing service needs it."""

    key: int
    gallery_id: int
    unit_price_minor: int
    quantity: int
    needs_shipping: bool
    shipping_minor: int = 0  # the shipping cost of the line's price list
    allows_pickup: bool = False  # whether the line's price list allows pickup


@dataclass(frozen=True)
class Discount:
    """A promotion or coupon reduced to what pricing needs."""

    id: int
    name: str
    kind: str
    value: int
    minimum_order_minor: int = 0


@dataclass(frozen=True)
class PricedLine:
    key: int
    gallery_id: int
    unit_price_minor: int
    quantity: int
    line_total_minor: int


@dataclass(frozen=True)
class Quote:
    lines: list[PricedLine]
    subtotal_minor: int
    promotion_discount_minor: int
    applied_promotions: list[Discount] = field(default_factory=list)
    coupon_discount_minor: int = 0
    coupon: Discount | None = None
    coupon_problem: str | None = None  # e.g. the minimum order is not reached
    shipping_minor: int = 0
    delivery_method: str = DeliveryMethod.NONE
    needs_shipping: bool = False
    pickup_available: bool = False
    total_minor: int = 0


def percent_text(basis_points, locale):
    """A percentage stored as basis points as the locale writes it: "12,5 %" in Swedish, French and
    German (a no-break space before the sign), "12.5%" in English."""
    return format_percent(Decimal(basis_points).scaleb(-4), locale=locale, decimal_quantization=False)


def discount_amount(kind, value, base_minor):
    """What a discount takes off ``base_minor``: never more than the base, never negative."""
    if base_minor <= 0:
        return 0
    if kind == DiscountKind.PERCENT:
        exact = Decimal(base_minor) * Decimal(value) / Decimal(10_000)
        amount = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    elif kind == DiscountKind.FIXED:
        amount = value
    else:
        raise ValueError(f"unknown discount kind {kind!r}")
    return max(0, min(amount, base_minor))


def best_promotions(lines, candidates_by_gallery):
    """For each gallery, the candidate promotion worth the most to the client on these lines."""
    best = {}
    for gallery_id, candidates in candidates_by_gallery.items():
        base = sum(line.unit_price_minor * line.quantity for line in lines if line.gallery_id == gallery_id)
        scored = [
            (
                discount_amount(promotion.kind, promotion.value, base)
                if base >= promotion.minimum_order_minor
                else 0,
                -promotion.id,
                promotion,
            )
            for promotion in candidates
        ]
        if scored:
            best[gallery_id] = max(scored, key=lambda item: item[:2])[2]
    return best


def _promotion_discount(lines, promotions_by_gallery):
    """Each gallery's active promotion applies to that gallery's lines, above its minimum."""
    total, applied = 0, []
    for gallery_id, promotion in sorted(promotions_by_gallery.items()):
        base = sum(line.line_total_minor for line in lines if line.gallery_id == gallery_id)
        if base == 0 or base < promotion.minimum_order_minor:
            continue
        amount = discount_amount(promotion.kind, promotion.value, base)
        if amount:
            total += amount
            applied.append(promotion)
    return total, applied


def _shipping(inputs, delivery_method):
    """One parcel: the highest shipping cost among the price lists of the lines to ship."""
    shipped = [line for line in inputs if line.needs_shipping]
    if not shipped:
        return 0, DeliveryMethod.NONE
    if delivery_method == DeliveryMethod.PICKUP:
        return 0, DeliveryMethod.PICKUP
    return max(line.shipping_minor for line in shipped), DeliveryMethod.SHIPPING


def compute_quote(inputs, promotions_by_gallery=None, coupon=None, delivery_method=DeliveryMethod.SHIPPING):
    """Price a cart: lines, promotions per gallery, then a coupon on what remains, then shipping.

    Pickup is only honoured when every line to ship comes from a price list that allows it.
    """
    for line in inputs:
        if line.quantity <= 0 or line.unit_price_minor < 0:
            raise ValueError(f"invalid line {line!r}")
    lines = [
        PricedLine(
            line.key,
            line.gallery_id,
            line.unit_price_minor,
            line.quantity,
            line.unit_price_minor * line.quantity,
        )
        for line in inputs
    ]
    subtotal = sum(line.line_total_minor for line in lines)
    promotion_discount, applied = _promotion_discount(lines, promotions_by_gallery or {})
    after_promotions = subtotal - promotion_discount

    coupon_discount, coupon_problem = 0, None
    if coupon is not None:
        if after_promotions < coupon.minimum_order_minor:
            coupon_problem = "minimum"
        else:
            coupon_discount = discount_amount(coupon.kind, coupon.value, after_promotions)

    shipped = [line for line in inputs if line.needs_shipping]
    pickup_available = bool(shipped) and all(line.allows_pickup for line in shipped)
    if delivery_method == DeliveryMethod.PICKUP and not pickup_available:
        delivery_method = DeliveryMethod.SHIPPING
    shipping, method = _shipping(inputs, delivery_method)
    return Quote(
        lines=lines,
        subtotal_minor=subtotal,
        promotion_discount_minor=promotion_discount,
        applied_promotions=applied,
        coupon_discount_minor=coupon_discount,
        coupon=coupon if coupon_discount else None,
        coupon_problem=coupon_problem,
        shipping_minor=shipping,
        delivery_method=method,
        needs_shipping=bool(shipped),
        pickup_available=pickup_available,
        total_minor=after_promotions - coupon_discount + shipping,
    )
