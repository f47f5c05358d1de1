"""The photographer's shop pages: price lists and products, gallery pricing, promotions, coupons."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from wtforms.validators import ValidationError

from app.extensions import db
from app.shop.admin_forms import parse_amount, parse_percent
from app.shop.models import Coupon, GalleryPricing, PriceList, Product, Promotion
from app.timeutil import now as real_now
from tests import factories
from tests.shop_admin_helpers import make_shop
from tests.shop_factories import fill_cart, make_coupon, make_price_list, make_promotion, sell_gallery


def price_lists_of(studio):
    return db.session.scalars(
        sa.select(PriceList).where(PriceList.studio_id == studio.id).order_by(PriceList.id)
    ).all()


def text(response):
    return response.get_data(as_text=True)


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("12", "EUR", 1200),
        (" 0.5 ", "EUR", 50),
        ("1,250.00", "USD", 125000),
        ("1,250", "EUR", 125000),  # English groups thousands with a comma: never 1.25
        ("0", "EUR", 0),
        ("1500", "JPY", 1500),
    ],
)
def test_amounts_typed_as_decimals_become_minor_units(typed, currency, minor):
    assert parse_amount(typed, currency) == minor


@pytest.mark.parametrize(
    ("typed", "currency", "message"),
    [
        ("-1", "EUR", "cannot be negative"),
        ("12.505", "EUR", "EUR amounts have at most 2 decimals"),
        ("12.5", "JPY", "JPY amounts have at most 0 decimals"),
        ("twelve", "EUR", "Enter an amount like 12.50"),
        ("NaN", "EUR", "Enter an amount like 12.50"),
        ("Infinity", "EUR", "Enter an amount like 12.50"),
        ("99999999", "EUR", "too large"),
    ],
)
def test_bad_amounts_are_refused_with_a_clear_message(typed, currency, message):
    with pytest.raises(ValidationError, match=message):
        parse_amount(typed, currency)


def test_zero_is_refused_where_a_discount_must_take_something_off():
    with pytest.raises(ValidationError, match="more than zero"):
        parse_amount("0.00", "EUR", allow_zero=False)


@pytest.mark.parametrize(
    ("typed", "basis_points"), [("12.5", 1250), ("10", 1000), ("100", 10000), ("0.01", 1), ("7.5 %", 750)]
)
def test_percentages_become_basis_points(typed, basis_points):
    assert parse_percent(typed) == basis_points


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "more than 0 and at most 100"),
        ("100.01", "more than 0 and at most 100"),
        ("-5", "more than 0"),
        ("12.345", "two decimals"),
        ("ten", "Enter a percentage like 12.5"),
    ],
)
def test_bad_percentages_are_refused(typed, message):
    with pytest.raises(ValidationError, match=message):
        parse_percent(typed)


# ------------------------------------------------------------------ index


def test_shop_index_links_to_every_section(client, logged_in):
    page = text(client.get("/admin/shop/"))
    for url in (
        "/admin/shop/price-lists/",
        "/admin/shop/promotions/",
        "/admin/shop/coupons/",
        "/admin/shop/orders/",
    ):
        assert f'href="{url}"' in page
    assert "Create a price list" in page  # none yet: the page says where to start


def test_shop_pages_need_a_login(client, owner):
    response = client.get("/admin/shop/price-lists/")
    # 401 until the accounts area sets login_manager.login_view; then a redirect to /login.
    assert response.status_code == 401 or "/login" in response.headers["Location"]


# ------------------------------------------------------------------ price lists


def price_list_form(**overrides):
    data = {
        "name": "Weddings 2026",
        "shipping": "6.90",
        "allows_pickup": "y",
        "pickup_instructions": "Tuesdays 9–18 at the studio",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_create_price_list_stores_minor_units(client, logged_in):
    response = client.post("/admin/shop/price-lists/new", data=price_list_form())
    [price_list] = price_lists_of(logged_in.studio)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/shop/price-lists/{price_list.id}")
    assert (price_list.name, price_list.shipping_minor, price_list.allows_pickup) == (
        "Weddings 2026",
        690,
        True,
    )
    assert price_list.pickup_instructions == "Tuesdays 9–18 at the studio"
    page = text(client.get(response.headers["Location"]))
    assert "€6.90" in page and "Add a print" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "Give the price list a name."),
        ({"shipping": "-2"}, "The amount cannot be negative."),
        ({"shipping": "4.999"}, "EUR amounts have at most 2 decimals."),
        ({"shipping": "abc"}, "Enter an amount like 12.50 (with “.” before the decimals)."),
    ],
)
def test_price_list_form_refuses_bad_input(client, logged_in, overrides, message):
    response = client.post("/admin/shop/price-lists/new", data=price_list_form(**overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert price_lists_of(logged_in.studio) == []


def test_empty_shipping_means_free_and_unchecked_pickup_drops_instructions(client, logged_in):
    client.post("/admin/shop/price-lists/new", data=price_list_form(shipping="", allows_pickup=None))
    [price_list] = price_lists_of(logged_in.studio)
    assert (price_list.shipping_minor, price_list.allows_pickup, price_list.pickup_instructions) == (
        0,
        False,
        "",
    )


def test_edit_price_list_shows_current_values_and_saves(client, logged_in):
    price_list = make_price_list(logged_in.studio, shipping_minor=490)
    page = text(client.get(f"/admin/shop/price-lists/{price_list.id}/edit"))
    assert 'value="4.90"' in page
    client.post(
        f"/admin/shop/price-lists/{price_list.id}/edit", data=price_list_form(name="Renamed", shipping="5")
    )
    db.session.refresh(price_list)
    assert (price_list.name, price_list.shipping_minor) == ("Renamed", 500)


def test_list_shows_product_counts_and_galleries(client, logged_in):
    shop = make_shop(logged_in.studio, title="Lycée Victor Hugo")
    make_price_list(logged_in.studio, name="Unused list")
    page = text(client.get("/admin/shop/price-lists/"))
    assert "School prints" in page and "Unused list" in page
    assert "3 products" in page and "Lycée Victor Hugo" in page and "No gallery yet" in page
    assert f"/admin/shop/galleries/{shop.gallery.id}/pricing" in page


def test_empty_price_list_page_invites_to_create_one(client, logged_in):
    assert "Create your first price list" in text(client.get("/admin/shop/price-lists/"))


def test_deleting_a_price_list_used_by_a_gallery_is_refused(client, logged_in):
    shop = make_shop(logged_in.studio, title="Summer camp")
    url = f"/admin/shop/price-lists/{shop.price_list.id}/delete"
    page = text(client.get(url))
    assert "cannot be deleted yet" in page and "Summer camp" in page
    response = client.post(url, follow_redirects=True)
    assert "still used by Summer camp" in text(response)
    assert db.session.get(PriceList, shop.price_list.id) is not None


def test_deleting_a_price_list_in_open_carts_is_refused(client, logged_in):
    shop = make_shop(logged_in.studio)
    buyer = factories.make_client(logged_in.studio, gallery=shop.gallery)
    fill_cart(buyer, shop.gallery, shop.photo, shop.price_list.products[0])
    db.session.delete(db.session.get(GalleryPricing, shop.gallery.id))  # no longer assigned
    db.session.commit()
    response = client.post(f"/admin/shop/price-lists/{shop.price_list.id}/delete", follow_redirects=True)
    assert "in 1 open cart(s)" in text(response)
    assert db.session.get(PriceList, shop.price_list.id) is not None


def test_delete_unused_price_list_with_its_products(client, logged_in):
    price_list = make_price_list(logged_in.studio)
    product_ids = [product.id for product in price_list.products]
    page = text(client.get(f"/admin/shop/price-lists/{price_list.id}/delete"))
    assert "its 3 products" in page
    response = client.post(f"/admin/shop/price-lists/{price_list.id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert price_lists_of(logged_in.studio) == []
    assert all(db.session.get(Product, pid) is None for pid in product_ids)


# ------------------------------------------------------------------ products


def product_form(**overrides):
    data = {
        "kind": "print",
        "name": "Print 10 × 15",
        "price": "7.50",
        "print_size": "10 × 15 cm",
        "paper": "matte",
        "digital_scope": "photo",
        "description": "",
        "is_active": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def empty_list(logged_in):
    price_list = PriceList(
        studio_id=logged_in.studio_id,
        name="Events",
        shipping_minor=0,
        allows_pickup=False,
        created_at=factories.NOW,
    )
    db.session.add(price_list)
    db.session.commit()
    return price_list


def products_of(price_list):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Product)
        .where(Product.price_list_id == price_list.id)
        .order_by(Product.position, Product.id)
    ).all()


def test_add_products_of_each_kind_keeps_only_their_fields(client, empty_list):
    url = f"/admin/shop/price-lists/{empty_list.id}/products/new"
    client.post(url, data=product_form())
    client.post(
        url, data=product_form(kind="digital", name="All photos", price="49", digital_scope="gallery")
    )
    client.post(
        url,
        data=product_form(
            kind="package",
            name="Family pack",
            price="89.90",
            description="2 prints 13 × 18, 8 wallets",
            includes_download="y",
        ),
    )
    printed, digital, package = products_of(empty_list)
    assert (printed.kind, printed.print_size, printed.paper, printed.price_minor) == (
        "print",
        "10 × 15 cm",
        "matte",
        750,
    )
    assert printed.digital_scope is None and not printed.includes_download
    assert (digital.kind, digital.digital_scope, digital.print_size, digital.price_minor) == (
        "digital",
        "gallery",
        None,
        4900,
    )
    assert (package.kind, package.includes_download, package.description, package.price_minor) == (
        "package",
        True,
        "2 prints 13 × 18, 8 wallets",
        8990,
    )
    assert [p.position for p in (printed, digital, package)] == [1, 2, 3]


def test_new_product_form_preselects_the_kind_from_the_link(client, empty_list):
    page = text(client.get(f"/admin/shop/price-lists/{empty_list.id}/products/new?kind=package"))
    assert '<option selected value="package">' in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"price": ""}, "Enter an amount."),
        ({"price": "-3"}, "The amount cannot be negative."),
        ({"price": "3.001"}, "EUR amounts have at most 2 decimals."),
        ({"name": " "}, "Give the product a name."),
        ({"print_size": ""}, "Enter the print size"),
        ({"kind": "package", "description": ""}, "Describe what the package contains."),
        ({"kind": "poster"}, "Not a valid choice"),
        ({"kind": "digital", "digital_scope": "everything"}, "Not a valid choice"),
    ],
)
def test_product_form_refuses_bad_input(client, empty_list, overrides, message):
    response = client.post(
        f"/admin/shop/price-lists/{empty_list.id}/products/new", data=product_form(**overrides)
    )
    assert response.status_code == 200 and message in text(response)
    assert products_of(empty_list) == []


def test_edit_product_shows_the_decimal_price_and_saves(client, logged_in):
    price_list = make_price_list(logged_in.studio)
    product = price_list.products[0]
    url = f"/admin/shop/price-lists/{price_list.id}/products/{product.id}/edit"
    assert 'value="9.00"' in text(client.get(url))
    client.post(url, data=product_form(name="Print 13 × 18 deluxe", price="11.25", print_size="13 × 18 cm"))
    db.session.refresh(product)
    assert (product.name, product.price_minor) == ("Print 13 × 18 deluxe", 1125)


def test_reorder_products_up_and_down(client, logged_in):
    price_list = make_price_list(logged_in.studio)
    first, second, third = price_list.products
    base = f"/admin/shop/price-lists/{price_list.id}/products"
    client.post(f"{base}/{third.id}/move/up")
    assert [p.id for p in products_of(price_list)] == [first.id, third.id, second.id]
    client.post(f"{base}/{first.id}/move/up")  # already first: nothing moves
    client.post(f"{base}/{first.id}/move/down")
    assert [p.id for p in products_of(price_list)] == [third.id, first.id, second.id]
    assert client.post(f"{base}/{first.id}/move/sideways").status_code == 404


def test_deactivate_and_reactivate_a_product(client, logged_in):
    price_list = make_price_list(logged_in.studio)
    product = price_list.products[1]
    url = f"/admin/shop/price-lists/{price_list.id}/products/{product.id}/active"
    page = text(client.post(url, follow_redirects=True))
    assert "is no longer on sale" in page and "Not on sale" in page
    assert db.session.get(Product, product.id).is_active is False
    client.post(url)
    db.session.expire_all()
    assert db.session.get(Product, product.id).is_active is True


def test_delete_product_but_not_while_in_an_open_cart(client, logged_in):
    shop = make_shop(logged_in.studio)
    in_cart, spare, last = shop.price_list.products
    buyer = factories.make_client(logged_in.studio, gallery=shop.gallery)
    fill_cart(buyer, shop.gallery, shop.photo, in_cart)
    base = f"/admin/shop/price-lists/{shop.price_list.id}/products"
    page = text(client.post(f"{base}/{in_cart.id}/delete", follow_redirects=True))
    assert "is in 1 open cart(s). Deactivate it instead" in page
    client.post(f"{base}/{spare.id}/delete")
    remaining = products_of(shop.price_list)
    assert [p.id for p in remaining] == [in_cart.id, last.id]
    assert [p.position for p in remaining] == [1, 2]


def test_product_of_another_of_my_lists_is_not_reachable_through_this_list(client, logged_in):
    first = make_price_list(logged_in.studio, name="A")
    second = make_price_list(logged_in.studio, name="B")
    url = f"/admin/shop/price-lists/{first.id}/products/{second.products[0].id}/edit"
    assert client.get(url).status_code == 404


# ------------------------------------------------------------------ gallery pricing


def test_gallery_pricing_offers_only_own_price_lists_and_saves(client, logged_in, other_owner):
    gallery = factories.make_gallery(logged_in.studio)
    mine = make_price_list(logged_in.studio, name="Mine")
    theirs = make_price_list(other_owner.studio, name="Theirs")
    url = f"/admin/shop/galleries/{gallery.id}/pricing"
    page = text(client.get(url))
    assert "Mine" in page and "Theirs" not in page
    assert "group photos" not in page  # not a QR gallery
    response = client.post(url, data={"price_list": str(theirs.id)})
    assert "Not a valid choice" in text(response)
    assert db.session.get(GalleryPricing, gallery.id) is None
    client.post(url, data={"price_list": str(mine.id)})
    assert db.session.get(GalleryPricing, gallery.id).price_list_id == mine.id
    client.post(url, data={"price_list": "0"})
    db.session.expire_all()
    assert db.session.get(GalleryPricing, gallery.id).price_list_id is None


def test_qr_gallery_gets_a_second_price_list_for_group_photos(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio, is_qr=True)
    portraits = make_price_list(logged_in.studio, name="Portraits")
    groups = make_price_list(logged_in.studio, name="Class photos")
    url = f"/admin/shop/galleries/{gallery.id}/pricing"
    assert "Price list for group photos" in text(client.get(url))
    client.post(url, data={"price_list": str(portraits.id), "group_price_list": str(groups.id)})
    pricing = db.session.get(GalleryPricing, gallery.id)
    assert (pricing.price_list_id, pricing.group_price_list_id) == (portraits.id, groups.id)
    page = text(client.get(url))
    assert f'<option selected value="{groups.id}">' in page


def test_gallery_pricing_without_price_lists_says_to_create_one(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio)
    assert "Create a price list" in text(client.get(f"/admin/shop/galleries/{gallery.id}/pricing"))


def test_set_gallery_pricing_service_refuses_another_studios_list(logged_in, other_owner):
    from app.shop import admin_services

    gallery = factories.make_gallery(logged_in.studio)
    theirs = make_price_list(other_owner.studio)
    with pytest.raises(admin_services.ShopAdminError):
        admin_services.set_gallery_pricing(gallery, theirs.id)


# ------------------------------------------------------------------ promotions


def promotion_form(**overrides):
    data = {
        "name": "Early bird",
        "discount_kind": "percent",
        "discount": "12.5",
        "minimum_order": "",
        "starts_at": "2026-12-01T09:00",
        "ends_at": "2026-12-15T23:59",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def promotions_of(gallery):
    db.session.expire_all()
    return db.session.scalars(sa.select(Promotion).where(Promotion.gallery_id == gallery.id)).all()


def test_create_percent_promotion_in_studio_time(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio)
    response = client.post(f"/admin/shop/galleries/{gallery.id}/promotions/new", data=promotion_form())
    assert response.status_code == 302
    [promotion] = promotions_of(gallery)
    assert (promotion.discount_kind, promotion.discount_value, promotion.minimum_order_minor) == (
        "percent",
        1250,
        0,
    )
    assert promotion.starts_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    assert promotion.ends_at == datetime(2026, 12, 15, 22, 59, tzinfo=UTC)
    assert promotion.studio_id == logged_in.studio_id
    page = text(client.get(f"/admin/shop/galleries/{gallery.id}/promotions"))
    assert "Early bird" in page and "12.5%" in page


def test_create_fixed_promotion_with_minimum_order(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio)
    client.post(
        f"/admin/shop/galleries/{gallery.id}/promotions/new",
        data=promotion_form(discount_kind="fixed", discount="10", minimum_order="50"),
    )
    [promotion] = promotions_of(gallery)
    assert (promotion.discount_kind, promotion.discount_value, promotion.minimum_order_minor) == (
        "fixed",
        1000,
        5000,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ends_at": ""}, "Every promotion needs an end"),
        ({"starts_at": ""}, "Enter when the promotion starts."),
        ({"ends_at": "2026-12-01T09:00"}, "The promotion must end after it starts."),
        ({"ends_at": "2026-11-30T09:00"}, "The promotion must end after it starts."),
        ({"discount": "0"}, "more than 0 and at most 100"),
        ({"discount": "150"}, "more than 0 and at most 100"),
        ({"discount": ""}, "Enter the discount."),
        ({"discount_kind": "fixed", "discount": "0"}, "The amount must be more than zero."),
        ({"discount_kind": "fixed", "discount": "5.555"}, "at most 2 decimals"),
        ({"minimum_order": "-5"}, "cannot be negative"),
        ({"name": ""}, "Give the promotion a name."),
    ],
)
def test_promotion_form_refuses_bad_input(client, logged_in, overrides, message):
    gallery = factories.make_gallery(logged_in.studio)
    response = client.post(
        f"/admin/shop/galleries/{gallery.id}/promotions/new", data=promotion_form(**overrides)
    )
    assert response.status_code == 200 and message in text(response)
    assert promotions_of(gallery) == []


def test_promotion_states_running_upcoming_ended(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio)
    moment = real_now()
    make_promotion(
        gallery, name="Running", starts_at=moment - timedelta(days=1), ends_at=moment + timedelta(days=1)
    )
    make_promotion(
        gallery, name="Later", starts_at=moment + timedelta(days=5), ends_at=moment + timedelta(days=9)
    )
    make_promotion(
        gallery, name="Over", starts_at=moment - timedelta(days=9), ends_at=moment - timedelta(days=5)
    )
    page = text(client.get("/admin/shop/promotions/"))
    assert page.count('data-state="active"') == 1 and page.count('data-state="upcoming"') == 1
    assert page.count('data-state="ended"') == 1 and gallery.title in page


def test_edit_promotion_shows_local_times_and_saves(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio)
    promotion = make_promotion(
        gallery,
        starts_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        ends_at=datetime(2026, 12, 2, 8, 0, tzinfo=UTC),
    )
    url = f"/admin/shop/galleries/{gallery.id}/promotions/{promotion.id}/edit"
    page = text(client.get(url))
    assert 'value="2026-12-01T09:00"' in page and 'value="10"' in page
    client.post(url, data=promotion_form(ends_at="2026-12-24T18:00", discount="20"))
    db.session.refresh(promotion)
    assert promotion.ends_at == datetime(2026, 12, 24, 17, 0, tzinfo=UTC) and promotion.discount_value == 2000


def test_remove_promotion_is_a_soft_delete(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio)
    promotion = make_promotion(gallery, name="Black Friday")
    response = client.post(
        f"/admin/shop/galleries/{gallery.id}/promotions/{promotion.id}/remove", follow_redirects=True
    )
    assert "Promotion “Black Friday” removed." in text(response)
    db.session.refresh(promotion)
    assert promotion.removed_at is not None
    assert "data-promotion-id" not in text(client.get(f"/admin/shop/galleries/{gallery.id}/promotions"))
    edit = client.get(
        f"/admin/shop/galleries/{gallery.id}/promotions/{promotion.id}/edit", follow_redirects=True
    )
    assert "can no longer be changed" in text(edit)


def test_promotion_of_another_of_my_galleries_is_not_reachable_through_this_gallery(client, logged_in):
    first = factories.make_gallery(logged_in.studio, title="First")
    second = factories.make_gallery(logged_in.studio, title="Second")
    promotion = make_promotion(second)
    assert client.get(f"/admin/shop/galleries/{first.id}/promotions/{promotion.id}/edit").status_code == 404


# ------------------------------------------------------------------ coupons


def coupon_form(**overrides):
    data = {
        "code": "spring-10",
        "discount_kind": "percent",
        "discount": "10",
        "minimum_order": "30",
        "valid_from": "",
        "valid_until": "2027-01-31T23:59",
        "usage_limit": "50",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def coupons_of(studio):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Coupon).where(Coupon.studio_id == studio.id).order_by(Coupon.id)
    ).all()


def test_create_coupon_stores_code_upper_case(client, logged_in):
    response = client.post("/admin/shop/coupons/new", data=coupon_form())
    assert response.status_code == 302
    [coupon] = coupons_of(logged_in.studio)
    assert (coupon.code, coupon.discount_kind, coupon.discount_value) == ("SPRING-10", "percent", 1000)
    assert (coupon.minimum_order_minor, coupon.usage_limit, coupon.times_used) == (3000, 50, 0)
    assert coupon.valid_from is None and coupon.valid_until == datetime(2027, 1, 31, 22, 59, tzinfo=UTC)
    page = text(client.get("/admin/shop/coupons/"))
    assert "SPRING-10" in page and "0 of 50" in page and 'data-state="valid"' in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code": ""}, "Enter the code clients will type."),
        ({"code": "SPRING 10"}, "Use only letters, digits, hyphens and underscores"),
        ({"code": "été"}, "Use only letters, digits, hyphens and underscores"),
        ({"usage_limit": "0"}, "The limit must be at least 1."),
        ({"valid_from": "2027-02-01T00:00"}, "The end of validity must come after its start."),
        ({"discount_kind": "fixed", "discount": "-5"}, "cannot be negative"),
    ],
)
def test_coupon_form_refuses_bad_input(client, logged_in, overrides, message):
    response = client.post("/admin/shop/coupons/new", data=coupon_form(**overrides))
    assert response.status_code == 200 and message in text(response)
    assert coupons_of(logged_in.studio) == []


def test_duplicate_code_is_refused_whatever_its_case_but_other_studios_may_use_it(
    client, logged_in, other_owner
):
    make_coupon(other_owner.studio, code="WELCOME")
    assert client.post("/admin/shop/coupons/new", data=coupon_form(code="welcome")).status_code == 302
    response = client.post("/admin/shop/coupons/new", data=coupon_form(code=" Welcome "))
    assert "You already have a coupon WELCOME. Choose another code." in text(response)
    assert [c.code for c in coupons_of(logged_in.studio)] == ["WELCOME"]


def test_edit_coupon_keeps_usage_and_refuses_a_limit_below_it(client, logged_in):
    coupon = make_coupon(logged_in.studio, code="FAMILY", usage_limit=10)
    coupon.times_used = 4
    db.session.commit()
    url = f"/admin/shop/coupons/{coupon.id}/edit"
    page = text(client.get(url))
    assert 'value="FAMILY"' in page and 'value="5.00"' in page and "Used 4 times so far." in page
    response = client.post(url, data=coupon_form(code="FAMILY", usage_limit="3"))
    assert "Already used 4 times: the limit cannot be lower." in text(response)
    client.post(url, data=coupon_form(code="family", usage_limit="", discount_kind="fixed", discount="7.5"))
    db.session.refresh(coupon)
    assert (coupon.usage_limit, coupon.times_used, coupon.discount_value) == (None, 4, 750)


def test_deactivate_and_reactivate_a_coupon(client, logged_in):
    coupon = make_coupon(logged_in.studio, code="OLD")
    page = text(client.post(f"/admin/shop/coupons/{coupon.id}/active", follow_redirects=True))
    assert "Coupon OLD deactivated" in page and 'data-state="inactive"' in page
    db.session.refresh(coupon)
    assert coupon.is_active is False
    client.post(f"/admin/shop/coupons/{coupon.id}/active")
    db.session.refresh(coupon)
    assert coupon.is_active is True


def test_coupon_states(client, logged_in):
    moment = real_now()
    make_coupon(logged_in.studio, code="SOON", valid_from=moment + timedelta(days=3))
    make_coupon(logged_in.studio, code="GONE", valid_until=moment - timedelta(days=3))
    used = make_coupon(logged_in.studio, code="USED", usage_limit=2)
    used.times_used = 2
    db.session.commit()
    page = text(client.get("/admin/shop/coupons/"))
    for state in ("upcoming", "expired", "used_up"):
        assert f'data-state="{state}"' in page


def test_empty_coupon_list_invites_to_create_one(client, logged_in):
    assert "Create your first coupon" in text(client.get("/admin/shop/coupons/"))


def test_sell_gallery_factory_still_works_with_admin_pages(client, logged_in):
    """The pricing page reads what the shop factories wrote (same table, same meaning)."""
    gallery = factories.make_gallery(logged_in.studio)
    price_list = make_price_list(logged_in.studio, name="Factory list")
    sell_gallery(gallery, price_list)
    page = text(client.get(f"/admin/shop/galleries/{gallery.id}/pricing"))
    assert f'<option selected value="{price_list.id}">Factory list</option>' in page
