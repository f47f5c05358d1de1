"""Locale data in the shop (issue 18): delivery countries named and sorted in the page's
language, addresses checked per country with Google's address data, carriers' tracking links,
amounts typed as the admin's language writes them, and percentages as it prints them."""

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.shop.addresses import address_problems, country_choices, home_country, sort_key
from app.shop.models import Order, OrderStatus, PriceList, Promotion
from app.shop.money import AmountError, amount_text, parse_amount
from app.shop.orders import TRACKING_URLS, change_status, tracking_url
from app.shop.pricing import percent_text
from tests import factories
from tests.factories import NOW
from tests.shop_factories import make_price_list, make_promotion, sell_gallery

NBSP, NNBSP = "\u00a0", "\u202f"

# ------------------------------------------------------------------ countries


def test_swedish_country_list_starts_with_the_studios_country_then_swedish_order():
    choices = country_choices(first="FI", locale="sv")
    codes, names = [code for code, _ in choices], [name for _, name in choices]
    assert choices[0] == ("FI", "Finland")
    assert names[1:] == sorted(names[1:], key=lambda name: sort_key(name, "sv"))
    # Swedish sorts Å, Ä, Ö after Z; accents elsewhere do not move a letter.
    assert names.index("Zimbabwe") < names.index("Åland") < names.index("Österrike")
    assert names.index("Afghanistan") < names.index("Egypten") < names.index("Sverige")
    # Real countries only, by their two-letter codes, each once.
    assert len(codes) == len(set(codes)) > 240
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in codes)
    assert not {"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB"} & set(codes)


def test_other_languages_sort_accented_names_with_their_letter():
    french = [name for _, name in country_choices(locale="fr")]
    assert (
        french.index("Espagne")
        < french.index("États-Unis")
        < french.index("Éthiopie")
        < french.index("Fidji")
    )
    german = [name for _, name in country_choices(locale="de")]
    assert german.index("Afghanistan") < german.index("Ägypten") < german.index("Albanien")
    assert german.index("Oman") < german.index("Österreich") < german.index("Pakistan")


def test_the_studios_country_else_its_languages_country_else_none():
    def studio(language, country=None):
        return type("Studio", (), {"language": language, "country": country})()

    assert home_country(studio("sv", "fi")) == "FI"
    assert home_country(studio("sv")) == "SE"
    assert home_country(studio("de")) == "DE"
    assert home_country(studio("ru")) == "RU"
    assert home_country(studio("en")) is None  # spoken in too many countries to guess
    assert country_choices(first=None, locale="en")[0] == ("AF", "Afghanistan")


# ------------------------------------------------------------------ addresses


@pytest.mark.parametrize(
    ("country", "wrong", "right", "example"),
    [
        ("SE", "1234", "114 55", "11455"),
        ("FR", "750", "75011", "33380"),
        ("DE", "1011", "10117", "26133"),
    ],
)
def test_postal_codes_are_checked_per_country(country, wrong, right, example):
    problems = address_problems(country, "Main street 1", "", wrong, "Capital", locale="en")
    assert list(problems) == ["postal_code"]
    assert str(problems["postal_code"]) == (
        f"This postal code does not look like one from "
        f"{ {'SE': 'Sweden', 'FR': 'France', 'DE': 'Germany'}[country] } (for example {example})."
    )
    assert address_problems(country, "Main street 1", "", right, "Capital", locale="en") == {}


def test_missing_parts_and_country_are_named_on_their_fields():
    problems = {field: str(message) for field, message in address_problems("", "", "", "", "").items()}
    assert problems == {
        "country": "Please choose your country.",
        "address_line1": "Please enter your street address.",
        "postal_code": "Please enter your postal code.",
        "city": "Please enter your city.",
    }
    assert set(address_problems("SE", "", "", "", "Stockholm")) == {"address_line1", "postal_code"}
    assert set(address_problems("QQ", "Main street 1", "", "1", "City")) == {"country"}


@pytest.fixture
def shop(owner, client, monkeypatch):
    """A client signed in to the gallery of a studio writing Swedish, with two prints in the cart."""
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    studio = owner.studio
    studio.language, studio.country = "sv", None
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    photo = factories.make_photo(gallery)
    buyer = factories.make_client(studio, email="kund@example.com", gallery=gallery)
    db.session.commit()
    with client.session_transaction() as session:
        session["clients"] = {str(studio.id): [buyer.id, 0]}
    client.post(
        f"/s/{studio.slug}/cart/add",
        data={
            "gallery_id": gallery.id,
            "photo_id": photo.id,
            "product_id": price_list.products[0].id,
            "quantity": 2,
        },
    )
    return type("Shop", (), dict(studio=studio, client=client))


def checkout(shop, **address):
    data = {
        "name": "Kim Kund",
        "email": "kund@example.com",
        "delivery_method": "shipping",
        "payment_method": "bank_transfer",
        "place_order": "1",
        **address,
    }
    return shop.client.post(f"/s/{shop.studio.slug}/checkout", data=data, headers={"Accept-Language": "sv"})


def field_errors(page, name):
    """The error messages the page shows under the field ``name``."""
    match = re.search(rf'<div class="field has-errors">\s*<label for="{name}">.*?</div>', page, re.S)
    return re.findall(r'<p class="error">([^<]*)</p>', match.group(0)) if match else []


def test_checkout_offers_every_country_in_swedish_with_the_studios_first(shop):
    shop.studio.country = "NO"
    db.session.commit()
    page = shop.client.get(f"/s/{shop.studio.slug}/checkout", headers={"Accept-Language": "sv"}).get_data(
        as_text=True
    )
    options = re.findall(
        r'<option (?:selected )?value="([A-Z]{2})">([^<]+)</option>',
        page.split('name="country"')[1].split("</select>")[0],
    )
    assert options[0] == ("NO", "Norge") and len(options) > 240
    names = [name for _, name in options[1:]]
    assert names == sorted(names, key=lambda name: sort_key(name, "sv"))
    assert names[-3:] == ["Åland", "Österrike", "Östtimor"]


def test_a_wrong_swedish_postal_code_is_refused_on_its_field_and_nothing_is_ordered(shop):
    response = checkout(
        shop, address_line1="Drottninggatan 1", postal_code="1145", city="Stockholm", country="SE"
    )
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "postal_code") == [
        "Det här ser inte ut som ett postnummer från Sverige (till exempel 11455)."
    ]  # sv page
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0
    refused = checkout(shop, address_line1="", postal_code="", city="", country="")
    page = refused.get_data(as_text=True)
    assert field_errors(page, "country") == ["Välj ditt land."]
    assert field_errors(page, "address_line1") == ["Ange din gatuadress."]  # translated already


def test_a_correct_swedish_address_is_kept_as_typed(shop):
    response = checkout(
        shop,
        address_line1="Drottninggatan 1",
        address_line2="lgh 1102",
        postal_code="114 55",
        city="Stockholm",
        country="SE",
    )
    assert response.status_code == 302
    order = db.session.scalar(sa.select(Order))
    assert (order.address_line1, order.address_line2, order.postal_code, order.city, order.country) == (
        "Drottninggatan 1",
        "lgh 1102",
        "114 55",
        "Stockholm",
        "SE",
    )


def test_a_russian_address_in_cyrillic_is_accepted_as_typed(shop):
    response = checkout(
        shop,
        address_line1="ул. Тверская, д. 1, кв. 5",
        postal_code="125009",
        city="Москва",
        region="Москва",
        country="RU",
    )
    assert response.status_code == 302
    order = db.session.scalar(sa.select(Order))
    assert (order.address_line1, order.postal_code, order.city, order.country) == (
        "ул. Тверская, д. 1, кв. 5",
        "125009",
        "Москва",
        "RU",
    )


# ------------------------------------------------------------------ carriers


def test_every_carrier_asked_for_has_a_tracking_page():
    for name in (
        "PostNord",
        "Bring",
        "DHL",
        "UPS",
        "FedEx",
        "GLS",
        "DPD",
        "La Poste / Colissimo",
        "Chronopost",
        "Deutsche Post",
        "Russian Post",
        "CDEK",
    ):
        assert TRACKING_URLS[name].startswith("https://") and "{number}" in TRACKING_URLS[name]


@pytest.mark.parametrize(
    ("carrier", "number", "link"),
    [
        (
            "PostNord",
            "00370712345678901234",
            "https://www.postnord.se/en/our-tools/track-and-trace?shipmentId=00370712345678901234",
        ),
        ("Bring", "TEST/1 2", "https://tracking.bring.com/tracking/TEST%2F1%202"),
        ("CDEK", "1234&x=5", "https://www.cdek.ru/ru/tracking?order_id=1234%26x%3D5"),
        ("Russian Post", "RA123#456RU", "https://www.pochta.ru/tracking#RA123%23456RU"),
        ("La Poste", "6A123", "https://www.laposte.fr/outils/suivre-vos-envois?code=6A123"),  # former name
        (
            "Chronopost",
            "XP1?2",
            "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT=XP1%3F2",
        ),
        ("Posten Åland", "AX123", None),  # "Other": a name typed by the studio, no link
    ],
)
def test_tracking_links_encode_the_number(carrier, number, link):
    assert tracking_url(Order(carrier=carrier, tracking_number=number)) == link


def test_the_client_sees_the_carrier_and_its_link(shop):
    from app.shop.client_services import my_orders_token

    checkout(shop, address_line1="Drottninggatan 1", postal_code="114 55", city="Stockholm", country="SE")
    order = db.session.scalar(sa.select(Order))
    change_status(order, OrderStatus.PAID, now=NOW + timedelta(hours=1))
    change_status(
        order,
        OrderStatus.SHIPPED,
        now=NOW + timedelta(days=1),
        carrier="PostNord",
        tracking_number="0037 0712",
    )
    db.session.commit()
    page = shop.client.get(f"/my-orders/{my_orders_token(shop.studio.id, order.client_id)}").get_data(
        as_text=True
    )
    assert "PostNord" in page and "0037 0712" in page
    assert 'href="https://www.postnord.se/en/our-tools/track-and-trace?shipmentId=0037%200712"' in page


def test_the_admin_offers_the_carriers_where_an_order_is_shipped(client, logged_in):
    from tests.shop_admin_helpers import make_shop, place

    order = place(make_shop(logged_in.studio), logged_in.studio)
    url = f"/admin/shop/orders/{order.id}/status"
    page = client.get(f"/admin/shop/orders/{order.id}").get_data(as_text=True)
    for name in ("PostNord", "Bring", "Deutsche Post", "Russian Post", "CDEK", "Other"):
        assert f">{name}</option>" in page
    client.post(url, data={"status": "paid"})
    client.post(url, data={"status": "shipped", "carrier": "Bring", "tracking_number": "CS1/2"})
    page = client.get(f"/admin/shop/orders/{order.id}").get_data(as_text=True)
    assert 'href="https://tracking.bring.com/tracking/CS1%2F2"' in page


# ------------------------------------------------------------------ amounts and percentages


@pytest.mark.parametrize(
    ("locale", "typed", "minor"),
    [
        ("en", "1,250.00", 125000),
        ("en", "1,250", 125000),  # a thousands separator, never 1.25
        ("en", "1250", 125000),
        ("en", "12.5", 1250),
        ("sv", "1 250,00", 125000),
        ("sv", f"1{NBSP}250,00", 125000),
        ("sv", f"1{NNBSP}250,00", 125000),
        ("sv", "12,50", 1250),
        ("fr", "1 250,00", 125000),
        ("fr", f"1{NNBSP}250,00", 125000),
        ("fr", f"1{NBSP}250,5", 125050),
        ("de", "1.250,00", 125000),
        ("de", "12,50", 1250),
        ("de", "1250", 125000),
    ],
)
def test_amounts_are_read_as_the_admins_language_writes_them(locale, typed, minor):
    assert parse_amount(typed, "EUR", locale=locale) == minor


@pytest.mark.parametrize(
    ("locale", "typed", "message"),
    [
        ("en", "1,25", "Enter an amount like 12.50 (with “.” before the decimals)."),
        ("en", "12,50", "Enter an amount like 12.50 (with “.” before the decimals)."),
        ("en", "1 250.00", "Enter an amount like 12.50 (with “.” before the decimals)."),
        ("en", "1e3", "Enter an amount like 12.50 (with “.” before the decimals)."),
        ("en", "twelve", "Enter an amount like 12.50 (with “.” before the decimals)."),
        ("sv", "1.250,00", "Enter an amount like 12,50 (with “,” before the decimals)."),
        ("de", "12.50", "Enter an amount like 12,50 (with “,” before the decimals)."),
        ("de", "1.25", "Enter an amount like 12,50 (with “,” before the decimals)."),
        ("en", "12.505", "EUR amounts have at most 2 decimals."),
        ("sv", "12,505", "EUR amounts have at most 2 decimals."),
        ("fr", "-3", "The amount cannot be negative."),
    ],
)
def test_unclear_amounts_are_refused_with_a_clear_message(locale, typed, message):
    with pytest.raises(AmountError) as refused:
        parse_amount(typed, "EUR", locale=locale)
    assert str(refused.value) == message


def test_no_decimals_for_a_currency_without_them():
    with pytest.raises(AmountError, match="JPY amounts have at most 0 decimals"):
        parse_amount("1 250,5", "JPY", locale="sv")
    assert parse_amount("1 250", "JPY", locale="sv") == 1250
    assert amount_text(125000, "EUR", "sv") == "1250,00" and amount_text(125000, "EUR", "en") == "1250.00"


@pytest.mark.parametrize(
    ("locale", "twenty", "twelve_and_a_half"),
    [
        ("en", "20%", "12.5%"),
        ("sv", f"20{NBSP}%", f"12,5{NBSP}%"),
        ("fr", f"20{NBSP}%", f"12,5{NBSP}%"),
        ("de", f"20{NBSP}%", f"12,5{NBSP}%"),
    ],
)
def test_percentages_as_each_language_prints_them(locale, twenty, twelve_and_a_half):
    assert percent_text(2000, locale) == twenty
    assert percent_text(1250, locale) == twelve_and_a_half


def test_the_studio_types_and_reads_in_swedish(client, logged_in):
    logged_in.language = "sv"
    db.session.commit()
    response = client.post("/admin/shop/price-lists/new", data={"name": "Bröllop", "shipping": "1 250,00"})
    assert response.status_code == 302
    price_list = db.session.scalar(sa.select(PriceList).where(PriceList.name == "Bröllop"))
    assert price_list.shipping_minor == 125000
    form = client.get(f"/admin/shop/price-lists/{price_list.id}/edit").get_data(as_text=True)
    assert 'value="1250,00"' in form
    refused = client.post("/admin/shop/price-lists/new", data={"name": "X", "shipping": "1.250,00"})
    assert refused.status_code == 200
    assert "12,50" in refused.get_data(as_text=True)  # the message's example, in Swedish


def test_promotions_list_prints_the_percentage_in_the_admins_language(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio)
    make_promotion(gallery, name="Tidig fågel", value=1250)
    assert db.session.scalar(sa.select(Promotion)).discount_value == 1250
    logged_in.language = "sv"
    db.session.commit()
    page = client.get(f"/admin/shop/galleries/{gallery.id}/promotions").get_data(as_text=True)
    assert f"12,5{NBSP}%" in page and "12.5" not in page  # English: tests/test_shop_admin.py


def test_checkout_starts_with_the_studios_country_chosen(shop):
    page = shop.client.get(f"/s/{shop.studio.slug}/checkout", headers={"Accept-Language": "sv"}).get_data(
        as_text=True
    )
    assert re.search(r'<option (selected )?value="SE"( selected)?>Sverige</option>', page)
    assert 'selected value="SE"' in page or 'value="SE" selected' in page


def test_the_order_pdf_and_page_name_the_country(shop, auth, owner):
    from pypdf import PdfReader

    from app.shop.documents import order_pdf

    assert (
        checkout(
            shop, address_line1="Drottninggatan 1", postal_code="114 55", city="Stockholm", country="SE"
        ).status_code
        == 302
    )
    order = db.session.scalar(sa.select(Order))
    _name, data = order_pdf(order, shop.studio, language="ru")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Швеция" in text and ", SE" not in text
    auth.login(owner)
    page = shop.client.get(f"/admin/shop/orders/{order.id}").get_data(as_text=True)
    assert "Stockholm<br>Sverige</address>" in page  # the studio writes Swedish
