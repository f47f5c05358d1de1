"""Order emails beyond status changes: order placed, expected delivery date, downloads ready; the
studio's own wording (editor, preview, revert); Settings → Order emails; the PDFs."""

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from flask import g
from pypdf import PdfReader

from app.extensions import db
from app.mailing.models import MailKind, OutboxMessage
from app.shop.models import Order, OrderEmailSetting, OrderEmailWording
from tests import factories
from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery


@pytest.fixture
def shop(logged_in):
    studio = logged_in.studio
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    buyer = factories.make_client(
        studio, email="buyer@example.com", gallery=gallery, name="Łukasz Ελένη Nowak"
    )
    return studio, gallery, price_list, buyer


def place(shop, product_index=0, notify=False):
    studio, gallery, price_list, buyer = shop
    fill_cart(buyer, gallery, factories.make_photo(gallery), price_list.products[product_index])
    order = order_now(studio, buyer, notify=notify)
    g.pop("notification_ids", None)  # tests share one app context: this is not a request's
    return order


def emails(event):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.kind == MailKind.NOTIFICATION, OutboxMessage.source.like(f"%:{event}"))
        .order_by(OutboxMessage.id)
    ).all()


def move(client, order, status, **extra):
    return client.post(f"/admin/shop/orders/{order.id}/status", data={"status": status, **extra})


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_order_placed_emails_the_client_the_receipt_and_the_team_a_copy(shop, logged_in):
    order = place(shop)
    to_client, to_team = emails("placed")
    assert (to_client.recipient, to_team.recipient) == ("buyer@example.com", logged_in.email)
    assert to_client.subject == f"Your order {order.number}"
    assert "Print 13 × 18 cm" in to_client.text and "€13.90" in to_client.text  # 9.00 + 4.90
    assert "transfer the total" in to_client.text  # bank transfer: how to pay
    link = re.search(r'href="(https?://[^"]+/my-orders/[^"]+)"', to_client.html).group(1)
    assert "Follow my orders" in to_client.html and link


def test_order_placed_can_be_switched_off(shop, logged_in):
    db.session.add(
        OrderEmailSetting(
            studio_id=logged_in.studio_id, event="placed", mode="never", to_client=True, to_operators=True
        )
    )
    db.session.commit()
    place(shop)
    assert emails("placed") == []


def test_a_new_expected_delivery_date_emails_a_client_who_asked(client, shop, logged_in, mail_outbox):
    order = place(shop, notify=True)
    url = f"/admin/shop/orders/{order.id}/expected-delivery"
    client.post(url, data={"expected_delivery_on": "2026-12-18"})
    mail = mail_outbox.wait_for(1)[0]
    assert mail.rcpt_tos == ["buyer@example.com"]
    assert mail.subject == f"Order {order.number}: new expected delivery date"
    assert "December 18, 2026" in mail.text()
    client.post(url, data={"expected_delivery_on": "2026-12-18"})  # the same date again
    client.post(url, data={"expected_delivery_on": ""})  # cleared: nothing to announce
    assert len(emails("delivery_changed")) == 1
    assert db.session.get(Order, order.id).expected_delivery_on is None


def test_a_client_who_did_not_ask_gets_no_delivery_date_email(client, shop):
    order = place(shop, notify=False)
    client.post(
        f"/admin/shop/orders/{order.id}/expected-delivery", data={"expected_delivery_on": "2026-12-18"}
    )
    assert emails("delivery_changed") == []
    assert db.session.get(Order, order.id).expected_delivery_on == date(2026, 12, 18)


def test_paying_for_a_digital_photo_says_the_download_is_ready(client, shop, mail_outbox):
    digital = place(shop, product_index=2)
    move(client, digital, "paid")
    mail = mail_outbox.wait_for(1)[0]
    assert mail.subject == f"Your photos from order {digital.number} are ready to download"
    link = re.search(r"https?://[^/\s]+(/my-orders/[^\s)\]]+)", mail.text()).group(1)
    page = client.get(link)
    assert page.status_code == 200 and b"/download/" in page.data


def test_paying_for_prints_only_sends_no_download_email(client, shop):
    prints = place(shop, product_index=0)
    move(client, prints, "paid")
    assert emails("download_ready") == []


# ------------------------------------------------------------------ the studio's wording


def test_standard_wording_is_shown_and_the_studios_own_is_used_then_reverted(client, shop, mail_outbox):
    page = client.get("/admin/shop/order-emails/shipped").data.decode()
    assert "Order %order_number% is on its way" in page and "%tracking_link%" in page
    assert "Filled with sample values" in page  # no order yet
    order = place(shop)
    saved = client.post(
        "/admin/shop/order-emails/shipped",
        data={
            "subject": "📦 %client_name%, order %order_number% left the studio",
            "body_html": '<p style="color: #c0392b">Parcel <strong>%tracking_number%</strong></p>'
            '<p><a href="%tracking_link%">Track it</a></p><img src=x onerror=alert(1)>'
            "<script>alert(2)</script>",
        },
        follow_redirects=True,
    )
    preview = saved.data.decode()
    assert "Email saved." in preview and f"Filled with your latest order, {order.number}" in preview
    assert "your wording" in client.get("/admin/shop/order-emails").data.decode()
    move(client, order, "paid")
    move(client, order, "shipped", carrier="DHL", tracking_number="JD0146")
    mail = mail_outbox.wait_for(1)[0]
    assert mail.subject == f"📦 Łukasz Ελένη Nowak, order {order.number} left the studio"
    html = mail.message.get_body(("html",)).get_content()
    assert "<strong>JD0146</strong>" in html and "color: #c0392b" in html
    assert re.search(r'href="https://www\.dhl\.com/[^"]*JD0146"', html)  # the carrier's page
    assert "onerror" not in html and "<script" not in html
    reverted = client.post(
        "/admin/shop/order-emails/shipped", data={"action": "revert"}, follow_redirects=True
    ).data.decode()
    assert "The standard wording is back." in reverted
    db.session.expire_all()
    assert db.session.get(OrderEmailWording, (order.studio_id, "shipped", "en")) is None
    assert "Order %order_number% is on its way" in reverted


@pytest.mark.parametrize(
    ("subject", "body", "message"),
    [
        ("", "<p>Hi</p>", "Please write a subject."),
        ("Order %order_numbr%", "<p>Hi</p>", "Unknown variable %order_numbr%"),
        ("Hello", "<p><br></p>", "Please write the message."),
        ("Hello", "<p>%gallery_link%</p>", "Unknown variable %gallery_link%"),
    ],
)
def test_bad_wording_is_refused_and_nothing_is_saved(client, logged_in, subject, body, message):
    response = client.post("/admin/shop/order-emails/paid", data={"subject": subject, "body_html": body})
    assert response.status_code == 422 and message in response.data.decode()
    assert db.session.get(OrderEmailSetting, (logged_in.studio_id, "paid")) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEmailWording)) == 0


def test_unknown_event_and_operators(client, auth, owner):

    auth.login(owner)
    assert client.get("/admin/shop/order-emails/teleported").status_code == 404
    operator = factories.make_operator(owner.studio, email="op@example.com")
    auth.login(operator)
    assert client.get("/admin/shop/order-emails/paid").status_code == 200
    assert (
        client.post(
            "/admin/shop/order-emails/paid", data={"subject": "x", "body_html": "<p>x</p>"}
        ).status_code
        == 403
    )
    assert client.post("/admin/shop/order-emails", data={}).status_code == 403


# ------------------------------------------------------------------ Settings → Order emails


def test_rules_are_saved_and_a_bad_choice_is_refused_whole(client, logged_in):
    from tests.test_notifications import rules

    bad = client.post(
        "/admin/shop/order-emails",
        data=rules(shipped_review="y", paid_mode="sometimes", invoice_details="Northlight SARL"),
    )
    assert bad.status_code == 422 and "Not a valid choice" in bad.data.decode()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEmailSetting)) == 0
    client.post(
        "/admin/shop/order-emails",
        data=rules(
            shipped_review="y",
            paid_attachment="invoice",
            placed_operators=None,
            invoice_details="Northlight SARL\n12 Quai Voltaire, Paris\nVAT FR00123456789",
        ),
    )
    saved = {row.event: row for row in db.session.scalars(sa.select(OrderEmailSetting))}
    assert saved["shipped"].review and saved["paid"].attachment == "invoice"
    assert not saved["placed"].to_operators and saved["cancelled"].to_operators
    db.session.refresh(logged_in.studio)
    assert "VAT FR00123456789" in logged_in.studio.invoice_details


# ------------------------------------------------------------------ PDFs


def test_invoice_pdf_prints_any_name_and_the_studios_details(client, shop, logged_in, mail_outbox):
    studio = logged_in.studio
    studio.invoice_details = "Northlight SARL · 12 Quai Voltaire · VAT FR00123456789"
    db.session.add(
        OrderEmailSetting(
            studio_id=studio.id, event="paid", mode="always", to_client=True, attachment="invoice"
        )
    )
    db.session.commit()
    order = place(shop)
    move(client, order, "paid")
    mail = mail_outbox.wait_for(1)[0]
    attachment = next(mail.message.iter_attachments())
    assert attachment.get_filename() == f"invoice-{order.number}.pdf"
    text = pdf_text(attachment.get_content())
    assert f"Invoice {order.number}" in text and "VAT FR00123456789" in text
    assert "Łukasz Ελένη Nowak" in text  # the core PDF fonts would print "?" here
    assert "Print 13 × 18 cm" in text and "€13.90" in text and "Paid on" in text


def test_the_team_downloads_the_confirmation_and_the_invoice(client, shop):
    order = place(shop)
    confirmation = client.get(f"/admin/shop/orders/{order.id}/confirmation.pdf")
    assert confirmation.mimetype == "application/pdf"
    text = pdf_text(confirmation.data)
    assert f"Order confirmation {order.number}" in text and "Not paid yet." in text
    assert "1 Rue des Lilas" in text
    assert client.get(f"/admin/shop/orders/{order.id}/invoice.pdf").data.startswith(b"%PDF-")
