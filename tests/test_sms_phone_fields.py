"""Mobile numbers and the SMS consent where clients give their details (issue 19): registration
(stored once the emailed code proves the address) and checkout (the order's contact phone)."""

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.galleries.models import AccessCard, Client, ClientSignInRequest, GalleryAccess
from app.shop.models import Order
from app.sms.phone import default_region
from tests import factories
from tests.client_helpers import confirm_with_code
from tests.factories import NOW
from tests.shop_factories import make_price_list, sell_gallery

CONSENT = "Send me text messages about my orders and photos"


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    return NOW


@pytest.fixture
def swedish_studio(owner, frozen_now):
    """A studio in Sweden (its country) with a registration gallery."""
    studio = owner.studio
    studio.country = "SE"
    db.session.commit()
    gallery = factories.make_gallery(studio, title="Vår", access=GalleryAccess.REGISTRATION)
    return studio, gallery


def register(browser, studio, gallery, **fields):
    data = {"name": "Alva Förälder", "email": "alva@example.com", "language": "en", **fields}
    return browser.post(f"/g/{studio.slug}/{gallery.slug}/register", data=data)


def the_client(email="alva@example.com"):
    db.session.expire_all()
    return db.session.scalar(sa.select(Client).where(Client.email == email))


def test_default_region_is_the_studios_country_else_its_languages_territory():
    assert default_region(SimpleNamespace(country="se", language="en")) == "SE"
    assert default_region(SimpleNamespace(country=None, language="sv")) == "SE"
    assert default_region(SimpleNamespace(country=None, language="de")) == "DE"
    assert default_region(SimpleNamespace(country=None, language="en")) is None  # too many
    assert default_region(SimpleNamespace(country=None, language="")) is None


def test_a_number_typed_at_registration_is_the_clients_after_the_code(app, swedish_studio):
    studio, gallery = swedish_studio
    browser = app.test_client()
    response = register(browser, studio, gallery, phone="070-123 45 67")
    assert response.status_code == 302 and response.location.endswith("/sign-in/code")
    assert the_client() is None  # nothing is anybody's before the address is proven
    pending = db.session.scalar(sa.select(ClientSignInRequest))
    assert pending.phone == "+46701234567" and pending.sms_consent is False
    assert confirm_with_code(browser, "alva@example.com").status_code == 302
    client = the_client()
    assert client.phone == "+46701234567"
    assert client.sms_consent_text is None and client.sms_consent_at is None  # not ticked


def test_the_sms_consent_is_stored_with_its_text_and_time_only_when_ticked(app, swedish_studio):
    studio, gallery = swedish_studio
    browser = app.test_client()
    register(browser, studio, gallery, phone="+46 70 123 45 67", sms_consent="y")
    confirm_with_code(browser, "alva@example.com")
    client = the_client()
    assert client.phone == "+46701234567"
    assert client.sms_consent_text == CONSENT and client.sms_consent_at == NOW


def test_a_qr_card_registration_carries_the_number_and_consent(app, swedish_studio):
    studio, _ = swedish_studio
    qr = factories.make_gallery(studio, title="Klass 3", is_qr=True, access=GalleryAccess.REGISTRATION)
    db.session.add(AccessCard(gallery_id=qr.id, label="Elsa", code="KKKKMMMMNN", created_at=NOW))
    db.session.commit()
    browser = app.test_client()
    assert "sms-consent.js" in browser.get("/c/KKKKMMMMNN").data.decode()
    response = browser.post(
        "/c/KKKKMMMMNN",
        data={
            "name": "Alva",
            "email": "alva@example.com",
            "language": "en",
            "phone": "070-123 45 67",
            "sms_consent": "y",
        },
    )
    assert response.location.endswith("/sign-in/code")
    confirm_with_code(browser, "alva@example.com")
    client = the_client()
    assert client.phone == "+46701234567" and client.sms_consent_at == NOW


def test_a_new_number_replaces_the_old_one_and_an_earlier_consent_is_kept(app, swedish_studio):
    studio, gallery = swedish_studio
    known = factories.make_client(studio, email="alva@example.com")
    known.phone, known.sms_consent_text, known.sms_consent_at = "+46701234567", "Earlier words", NOW
    db.session.commit()
    other = factories.make_gallery(studio, title="Höst", access=GalleryAccess.REGISTRATION)
    browser = app.test_client()
    register(browser, studio, other, phone="073 555 12 34", sms_consent="y")
    confirm_with_code(browser, "alva@example.com")
    client = the_client()
    assert client.phone == "+46735551234"
    assert client.sms_consent_text == "Earlier words"


def test_a_signed_in_client_registering_again_gets_the_number_and_consent(app, swedish_studio):
    studio, gallery = swedish_studio
    known = factories.make_client(studio, email="alva@example.com")
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["clients"] = {str(studio.id): [known.id, 0]}
    response = register(browser, studio, gallery, phone="070-123 45 67", sms_consent="y")
    assert response.status_code == 302 and not response.location.endswith("/sign-in/code")
    client = the_client()
    assert client.phone == "+46701234567" and client.sms_consent_text == CONSENT


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"phone": "08-123 456 78"}, "This number cannot receive text messages: enter a mobile number."),
        ({"phone": "12"}, "This phone number is not valid."),
        ({"sms_consent": "y"}, "Please enter your mobile number to receive text messages."),
    ],
)
def test_a_refused_number_is_shown_on_its_field_and_nothing_is_stored(app, swedish_studio, fields, message):
    studio, gallery = swedish_studio
    browser = app.test_client()
    response = register(browser, studio, gallery, **fields)
    assert response.status_code == 422
    page = response.data.decode()
    field = page[page.index('name="phone"') :]
    assert message in field[: field.index("</div>")]  # the error stands under the phone field
    assert 'value="Alva Förälder"' in page  # what was typed stays
    assert db.session.scalar(sa.select(sa.func.count(ClientSignInRequest.id))) == 0
    assert the_client() is None


def test_the_registration_page_offers_the_number_and_the_unticked_consent(app, swedish_studio):
    studio, gallery = swedish_studio
    page = app.test_client().get(f"/g/{studio.slug}/{gallery.slug}").data.decode()
    assert 'name="phone"' in page and 'type="tel"' in page
    box = page[page.index("data-sms-consent-for") :]
    assert CONSENT in box and 'name="sms_consent"' in box and "checked" not in box[: box.index("</div>")]
    assert "js/sms-consent.js" in page and "<script>" not in page


# ------------------------------------------------------------------------------ checkout


@pytest.fixture
def shop(swedish_studio, client):
    studio, gallery = swedish_studio
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    photo = factories.make_photo(gallery)
    buyer = factories.make_client(studio, email="alva@example.com", gallery=gallery)
    with client.session_transaction() as session:
        session["clients"] = {str(studio.id): [buyer.id, 0]}
    print_product = next(p for p in price_list.products if p.needs_shipping)
    response = client.post(
        f"/s/{studio.slug}/cart/add",
        data={
            "gallery_id": gallery.id,
            "photo_id": photo.id,
            "product_id": print_product.id,
            "quantity": 1,
            "next": f"/s/{studio.slug}/cart",
        },
    )
    assert response.status_code == 302
    return SimpleNamespace(studio=studio, buyer=buyer, browser=client)


def checkout(shop, **overrides):
    data = {
        "name": "Alva Förälder",
        "email": "alva@example.com",
        "delivery_method": "shipping",
        "address_line1": "Storgatan 1",
        "postal_code": "111 22",
        "city": "Stockholm",
        "country": "SE",
        "payment_method": "bank_transfer",
        "place_order": "1",
        **overrides,
    }
    return shop.browser.post(f"/s/{shop.studio.slug}/checkout", data=data)


def orders():
    return db.session.scalars(sa.select(Order)).all()


def test_checkout_stores_the_contact_phone_and_gives_it_to_a_client_without_one(shop):
    response = checkout(shop, phone="070-123 45 67")
    assert response.status_code == 302, response.data
    (order,) = orders()
    assert order.contact_phone == "+46701234567"
    client = the_client()
    assert client.phone == "+46701234567"
    assert client.sms_consent_at is None  # the box was not ticked


def test_checkout_reads_the_number_in_the_delivery_country(shop):
    # "06..." is a French mobile, but a Swedish landline: the delivery country decides.
    response = checkout(
        shop,
        phone="06 12 34 56 78",
        address_line1="1 Rue des Lilas",
        postal_code="75011",
        city="Paris",
        country="FR",
    )
    assert response.status_code == 302, response.data
    assert orders()[0].contact_phone == "+33612345678"


def test_checkout_consent_is_stored_on_the_client_and_keeps_their_number(shop):
    shop.buyer.phone = "+46735551234"
    db.session.commit()
    response = checkout(shop, phone="070-123 45 67", sms_consent="y")
    assert response.status_code == 302
    assert orders()[0].contact_phone == "+46701234567"
    client = the_client()
    assert client.phone == "+46735551234"  # only an empty number is filled in at checkout
    assert client.sms_consent_text == CONSENT and client.sms_consent_at == NOW


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"phone": "08-123 456 78"}, "This number cannot receive text messages: enter a mobile number."),
        ({"phone": "not a number"}, "This is not a phone number we can read."),
        ({"phone": "", "sms_consent": "y"}, "Please enter your mobile number to receive text messages."),
    ],
)
def test_checkout_refuses_a_bad_number_on_its_field_and_orders_nothing(shop, fields, message):
    response = checkout(shop, **fields)
    assert response.status_code == 200
    page = response.data.decode()
    field = page[page.index('name="phone"') :]
    assert message in field[: field.index("</div>")]
    assert orders() == []
    client = the_client()
    assert client.phone is None and client.sms_consent_at is None


def test_checkout_prefills_the_clients_number(shop):
    shop.buyer.phone = "+46701234567"
    db.session.commit()
    page = shop.browser.get(f"/s/{shop.studio.slug}/checkout").data.decode()
    assert 'value="+46 70 123 45 67"' in page[page.index('name="phone"') - 200 :][:400]
    assert "js/sms-consent.js" in page


def test_the_studio_reads_the_number_as_people_write_it(shop, auth, owner):
    checkout(shop, phone="070-123 45 67")
    auth.login(owner)
    page = shop.browser.get(f"/admin/shop/orders/{orders()[0].id}").get_data(as_text=True)
    assert '<a href="tel:+46701234567">+46 70 123 45 67</a>' in page
