"""Bank transfers (issue 17): the studio's account and a reference per order on the thanks
page, in the confirmation email and the PDF, with an EPC QR code for euros."""

from decimal import Decimal

import pytest
import segno.helpers
import sqlalchemy as sa

from app.extensions import db
from app.mailing.models import OutboxMessage
from app.shop.documents import order_pdf
from app.shop.models import Order
from app.shop.payment_bank import creditor_reference, is_valid_reference
from app.shop.payment_settings import save_settings
from tests import factories
from tests.factories import NOW
from tests.shop_factories import make_price_list, sell_gallery

ACCOUNT = {
    "bank_transfer_enabled": True,
    "bank_account_holder": "Northlight Studio",
    "bank_iban": "FR1420041010050500013M02606",
    "bank_bic": "PSSTFRPPLIL",
}


@pytest.fixture
def epc_calls(monkeypatch):
    """What the EPC QR codes were made of (segno's helper, spied on)."""
    calls, original = [], segno.helpers.make_epc_qr

    def spy(**kwargs):
        calls.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(segno.helpers, "make_epc_qr", spy)
    return calls


def bank_order(owner, client, account=ACCOUNT):
    studio = owner.studio
    save_settings(studio.id, dict(account), NOW)
    db.session.commit()
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    photo = factories.make_photo(gallery)
    buyer = factories.make_client(studio, email="parent@example.com", gallery=gallery)
    with client.session_transaction() as session:
        session["clients"] = {str(studio.id): [buyer.id, 0]}
    client.post(
        f"/s/{studio.slug}/cart/add",
        data={
            "gallery_id": gallery.id,
            "photo_id": photo.id,
            "product_id": price_list.products[0].id,
            "quantity": 1,
        },
    )
    response = client.post(
        f"/s/{studio.slug}/checkout",
        data={
            "name": "Alex Parent",
            "email": "parent@example.com",
            "delivery_method": "shipping",
            "address_line1": "1 Rue des Lilas",
            "postal_code": "75011",
            "city": "Paris",
            "country": "FR",
            "payment_method": "bank_transfer",
            "place_order": "1",
        },
    )
    assert response.status_code == 302, response.data
    return db.session.scalar(sa.select(Order))


def test_references_are_iso_11649_creditor_references():
    assert creditor_reference("2026-00042") == "RF89202600042"
    assert is_valid_reference("RF18 5390 0754 7034")  # the standard's own example
    assert not is_valid_reference("RF18 5390 0754 7035")


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)


def test_thanks_page_email_and_pdf_carry_the_account_and_reference(owner, client, epc_calls, frozen_now):
    order = bank_order(owner, client)
    assert is_valid_reference(order.payment_reference)
    grouped_reference = " ".join(
        order.payment_reference[i : i + 4] for i in range(0, len(order.payment_reference), 4)
    )
    page = client.get(f"/s/{owner.studio.slug}/orders/{order.number}/thanks").data.decode()
    assert "FR14 2004 1010 0505 0001 3M02 606" in page and "PSSTFRPPLIL" in page
    assert grouped_reference in page and 'src="data:image/png;base64,' in page
    assert epc_calls[-1]["amount"] == Decimal("13.90")  # 1390 minor units
    assert epc_calls[-1]["reference"] == order.payment_reference
    assert epc_calls[-1]["iban"] == "FR1420041010050500013M02606"
    assert epc_calls[-1]["name"] == "Northlight Studio"

    email = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == "parent@example.com"))
    assert "FR14 2004 1010 0505 0001 3M02 606" in email.text
    assert grouped_reference in email.text and "€13.90" in email.text

    _name, pdf = order_pdf(order, owner.studio)
    assert b"/Subtype /Image" in pdf  # the EPC QR code


def test_no_qr_code_outside_euros_and_national_details_as_text(other_owner, client, epc_calls, frozen_now):
    order = bank_order(
        other_owner,
        client,
        account={
            "bank_transfer_enabled": True,
            "bank_account_holder": "Other Studio",
            "bank_other_details": "Bankgiro 5050-1055",
        },
    )
    page = client.get(f"/s/{other_owner.studio.slug}/orders/{order.number}/thanks").data.decode()
    assert "Bankgiro 5050-1055" in page and "data:image/png" not in page
    assert epc_calls == []
    _name, pdf = order_pdf(order, other_owner.studio)
    assert b"/Subtype /Image" not in pdf
