"""The pricing service: lines, promotions per gallery, coupons, shipping, rounding."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.shop.models import DeliveryMethod, DiscountKind
from app.shop.pricing import Discount, LineInput, best_promotions, compute_quote, discount_amount


def line(key=1, gallery_id=1, price=1000, quantity=1, ships=True, shipping=500, pickup=False):
    return LineInput(key, gallery_id, price, quantity, ships, shipping, pickup)


def percent(value_percent, minimum=0, id=1):
    return Discount(id, "promo", DiscountKind.PERCENT, int(value_percent * 100), minimum)


def fixed(amount, minimum=0, id=1):
    return Discount(id, "promo", DiscountKind.FIXED, amount, minimum)


@pytest.mark.parametrize(
    ("base", "basis_points", "expected"),
    [
        (999, 1000, 100),  # 99.9 rounds half up to 100
        (995, 1000, 100),  # 99.5 -> 100 (half up, not banker's)
        (994, 1000, 99),  # 99.4 -> 99
        (1, 5000, 1),  # 0.5 -> 1
        (333, 3333, 111),  # 110.9889 -> 111
        (1000, 10000, 1000),  # 100 % takes everything and no more
    ],
)
def test_percent_discounts_round_half_up_to_the_minor_unit(base, basis_points, expected):
    assert discount_amount(DiscountKind.PERCENT, basis_points, base) == expected


def test_fixed_discount_never_exceeds_what_it_applies_to():
    assert discount_amount(DiscountKind.FIXED, 5000, 1200) == 1200
    assert discount_amount(DiscountKind.FIXED, 500, 0) == 0


def test_quote_adds_lines_subtracts_promotion_then_coupon_then_adds_shipping():
    quote = compute_quote(
        [line(1, price=1250, quantity=2), line(2, price=990, ships=False)],
        {1: percent(10)},
        fixed(300),
        DeliveryMethod.SHIPPING,
    )
    assert quote.subtotal_minor == 3490
    assert quote.promotion_discount_minor == 349
    assert quote.coupon_discount_minor == 300
    assert quote.shipping_minor == 500
    assert quote.total_minor == 3490 - 349 - 300 + 500


def test_promotion_applies_only_to_its_gallery_and_above_its_minimum():
    lines = [line(1, gallery_id=1, price=2000), line(2, gallery_id=2, price=500)]
    quote = compute_quote(lines, {1: percent(50), 2: percent(50, minimum=1000)})
    assert quote.promotion_discount_minor == 1000
    assert [p.id for p in quote.applied_promotions] == [1]


def test_coupon_below_its_minimum_is_reported_not_applied():
    quote = compute_quote([line(price=1000)], {}, fixed(200, minimum=1500))
    assert quote.coupon_discount_minor == 0 and quote.coupon_problem == "minimum"
    assert quote.total_minor == 1500


def test_coupon_minimum_is_checked_after_promotions():
    quote = compute_quote([line(price=2000)], {1: percent(50)}, fixed(100, minimum=1500))
    assert quote.coupon_problem == "minimum"


def test_shipping_is_one_parcel_at_the_highest_rate_and_nothing_for_downloads():
    quote = compute_quote([line(1, shipping=400), line(2, shipping=700)])
    assert quote.shipping_minor == 700
    digital = compute_quote([line(ships=False)])
    assert digital.shipping_minor == 0 and digital.delivery_method == DeliveryMethod.NONE


def test_pickup_only_when_every_shipped_line_allows_it():
    both = [line(1, pickup=True), line(2, pickup=True)]
    assert compute_quote(both, delivery_method=DeliveryMethod.PICKUP).shipping_minor == 0
    mixed = [line(1, pickup=True), line(2, pickup=False)]
    quote = compute_quote(mixed, delivery_method=DeliveryMethod.PICKUP)
    assert not quote.pickup_available
    assert quote.delivery_method == DeliveryMethod.SHIPPING and quote.shipping_minor == 500


def test_best_promotion_is_the_one_worth_most_to_the_client():
    lines = [line(price=3000)]
    chosen = best_promotions(
        lines, {1: [fixed(500, id=7), percent(20, id=8), percent(50, minimum=5000, id=9)]}
    )
    assert chosen[1].id == 8


def test_invalid_lines_are_refused():
    with pytest.raises(ValueError):
        compute_quote([line(quantity=0)])
    with pytest.raises(ValueError):
        compute_quote([line(price=-1)])


amounts = st.integers(min_value=0, max_value=10_000_000)


@given(base=amounts, basis_points=st.integers(min_value=1, max_value=10_000))
def test_percent_discount_is_within_half_a_minor_unit_of_exact(base, basis_points):
    amount = discount_amount(DiscountKind.PERCENT, basis_points, base)
    assert 0 <= amount <= base
    assert abs(amount - base * basis_points / 10_000) <= 0.5


@given(
    prices=st.lists(st.tuples(st.integers(0, 100_000), st.integers(1, 20)), min_size=1, max_size=8),
    promo=st.integers(1, 10_000),
    coupon=st.integers(1, 1_000_000),
)
def test_total_is_never_negative_and_adds_up(prices, promo, coupon):
    lines = [line(i, price=p, quantity=q) for i, (p, q) in enumerate(prices)]
    quote = compute_quote(lines, {1: percent(promo / 100)}, fixed(coupon))
    assert quote.total_minor >= quote.shipping_minor >= 0
    assert quote.total_minor == (
        quote.subtotal_minor
        - quote.promotion_discount_minor
        - quote.coupon_discount_minor
        + quote.shipping_minor
    )
