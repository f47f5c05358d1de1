"""Order-status emails: never / always / when requested; client and team; review first."""

import pytest
import sqlalchemy as sa
from flask import g

from app.extensions import db
from app.mailing.models import MailKind, MailState, OutboxMessage
from app.shop.models import Order, OrderEmailSetting
from tests import factories
from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery


@pytest.fixture
def order(logged_in):
    studio = logged_in.studio
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    buyer = factories.make_client(studio, email="buyer@example.com", gallery=gallery)
    fill_cart(buyer, gallery, factories.make_photo(gallery), price_list.products[0])
    placed = order_now(studio, buyer, notify=False)
    g.pop("notification_ids", None)  # tests share one app context: this is not a request's
    return placed


def notifications(include_placed=False):
    """Order emails in the outbox (without the "order placed" ones, unless asked)."""
    db.session.expire_all()
    query = sa.select(OutboxMessage).where(OutboxMessage.kind == MailKind.NOTIFICATION)
    if not include_placed:
        query = query.where(~OutboxMessage.source.like("%:placed"))
    return db.session.scalars(query.order_by(OutboxMessage.id)).all()


def rules(**changes):
    """Settings → Order emails as the page posts it: the defaults, with ``changes`` (e.g.
    shipped_review="y"; None removes a field, which unticks a checkbox)."""
    from app.shop.order_email_content import DEFAULTS

    data = {}
    for event, default in DEFAULTS.items():
        data.update({f"{event}_mode": default.mode, f"{event}_client": "y", f"{event}_attachment": ""})
        if default.to_operators:
            data[f"{event}_operators"] = "y"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def move(client, order, status, **extra):
    return client.post(f"/admin/shop/orders/{order.id}/status", data={"status": status, **extra})


def test_shipped_always_emails_the_client_with_the_tracking(client, order, mail_outbox):
    move(client, order, "paid")
    assert notifications() == []  # "paid" is sent only when the client asked; they did not
    move(client, order, "shipped", carrier="DHL", tracking_number="JD0146")
    mail = mail_outbox.wait_for(1)[0]
    assert mail.rcpt_tos == ["buyer@example.com"]
    assert mail.subject == f"Order {order.number} is on its way"
    assert "JD0146" in mail.text()


def test_when_requested_follows_the_checkout_checkbox(client, order, mail_outbox):
    db.session.get(Order, order.id).notify_status_changes = True
    db.session.commit()
    move(client, order, "paid")
    assert mail_outbox.wait_for(1)[0].subject == f"Payment received for order {order.number}"


def test_never_and_team_copies(client, order, logged_in, mail_outbox):
    db.session.add(
        OrderEmailSetting(
            studio_id=logged_in.studio_id,
            event="paid",
            mode="always",
            to_client=False,
            to_operators=True,
            review=False,
        )
    )
    db.session.add(
        OrderEmailSetting(
            studio_id=logged_in.studio_id, event="shipped", mode="never", to_client=True, to_operators=True
        )
    )
    db.session.commit()
    move(client, order, "paid")
    assert mail_outbox.wait_for(1)[0].rcpt_tos == [logged_in.email]
    move(client, order, "shipped", carrier="DHL", tracking_number="X1")
    assert len(notifications()) == 1


def test_review_first_holds_the_email_until_an_operator_sends_it(client, order, logged_in, mail_outbox):
    client.post("/admin/shop/order-emails", data=rules(shipped_review="y"))
    move(client, order, "paid")
    move(client, order, "shipped", carrier="UPS", tracking_number="1Z999")
    held = notifications()[0]
    assert held.state == MailState.HELD and mail_outbox.messages == []
    assert b"To review" in client.get("/admin/galleries/").data
    body = held.body_html
    assert "1Z999" in body and "<html" not in body  # the body alone, as the reviewer edits it
    refused = client.post(
        f"/admin/shop/review/{held.id}",
        data={"subject": held.subject, "body_html": body, "cc": "grandma@example.com"},
    )
    assert refused.status_code == 422 and b"does not allow adding CC" in refused.data
    from app.mailing.models import StudioMailSettings
    from tests.factories import NOW

    db.session.add(
        StudioMailSettings(
            studio_id=logged_in.studio_id,
            sender_email="a@example.com",
            allow_operator_cc=True,
            default_cc="office@example.com",
            updated_at=NOW,
        )
    )
    db.session.commit()
    bad = client.post(
        f"/admin/shop/review/{held.id}",
        data={"subject": held.subject, "body_html": body, "cc": "ok@example.com; nope@@x"},
    )
    assert bad.status_code == 422 and b"nope@@x" in bad.data
    empty = client.post(
        f"/admin/shop/review/{held.id}", data={"subject": held.subject, "body_html": "<p><br></p>", "cc": ""}
    )
    assert empty.status_code == 422 and b"Please write the message." in empty.data
    client.post(
        f"/admin/shop/review/{held.id}",
        data={
            "subject": "Your photos are on their way",
            "cc": "grandma@example.com",
            "body_html": "<p>Hello!</p><p><strong>Tracking</strong> 1Z999.</p><script>alert(1)</script>",
        },
    )
    mail = mail_outbox.wait_for(1)[0]
    assert mail.subject == "Your photos are on their way"
    assert sorted(mail.rcpt_tos) == ["buyer@example.com", "grandma@example.com"]
    assert "Tracking 1Z999." in mail.text()
    html = mail.message.get_body(("html",)).get_content()
    assert "<strong>Tracking</strong>" in html and "<script" not in html
    assert "Northlight Studio" in html  # laid out again with the studio's layout


def test_discard_and_other_studios_held_emails(client, order, other_owner):
    client.post("/admin/shop/order-emails", data=rules(paid_mode="always", paid_review="y"))
    move(client, order, "paid")
    held = notifications()[0]
    client.post(f"/admin/shop/review/{held.id}/discard")
    assert notifications()[0].state == MailState.CANCELLED
    from app.mailing.outbox import queue_message

    theirs = queue_message(
        kind=MailKind.NOTIFICATION,
        studio_id=other_owner.studio_id,
        sender="a@b.example",
        recipient="c@d.example",
        subject="x",
        html="",
        text="",
        now=factories.NOW,
        state=MailState.HELD,
    )
    db.session.commit()
    assert client.get(f"/admin/shop/review/{theirs.id}").status_code == 404
    assert (
        client.post(
            f"/admin/shop/review/{theirs.id}", data={"subject": "hacked", "body_html": "<p>x</p>"}
        ).status_code
        == 404
    )
    assert client.post(f"/admin/shop/review/{theirs.id}/discard").status_code == 404


def _pdf_text(data):
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_order_pdf_is_attached_and_reads_right(client, order, logged_in, mail_outbox):
    db.session.add(
        OrderEmailSetting(
            studio_id=logged_in.studio_id,
            event="paid",
            mode="always",
            to_client=True,
            attachment="confirmation",
        )
    )
    db.session.commit()
    move(client, order, "paid")
    mail = mail_outbox.wait_for(1)[0]
    attachment = next(mail.message.iter_attachments())
    assert attachment.get_filename() == f"order-{order.number}.pdf"
    text = _pdf_text(attachment.get_content())
    assert order.number in text and "Northlight Studio" in text and "Total" in text
    assert "buyer@example.com" in text


def _hold_shipped(client, order):
    client.post("/admin/shop/order-emails", data=rules(shipped_review="y"))
    move(client, order, "paid")
    move(client, order, "shipped", carrier="UPS", tracking_number="1Z999")
    return notifications()[0]


def test_operator_files_need_the_studio_switch_and_a_real_pdf_or_image(client, order, logged_in, mail_outbox):
    import io

    from app.mailing.models import StudioMailSettings
    from tests.factories import NOW

    held = _hold_shipped(client, order)
    refused = client.post(
        f"/admin/shop/review/{held.id}",
        data={
            "subject": held.subject,
            "body_html": held.body_html,
            "attachments": (io.BytesIO(b"%PDF-1.4 x"), "note.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and b"does not allow attaching files" in refused.data
    db.session.add(
        StudioMailSettings(
            studio_id=logged_in.studio_id,
            sender_email="a@example.com",
            allow_operator_attachments=True,
            updated_at=NOW,
        )
    )
    db.session.commit()
    fake = client.post(
        f"/admin/shop/review/{held.id}",
        data={
            "subject": held.subject,
            "body_html": held.body_html,
            "attachments": (io.BytesIO(b"MZ not a pdf"), "invoice.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert fake.status_code == 422 and b"invoice.pdf is not a PDF, JPEG or PNG file." in fake.data
    client.post(
        f"/admin/shop/review/{held.id}",
        data={
            "subject": held.subject,
            "body_html": held.body_html,
            "attachments": (io.BytesIO(b"%PDF-1.4 delivery note"), "delivery-note.pdf"),
        },
        content_type="multipart/form-data",
    )
    mail = mail_outbox.wait_for(1)[0]
    attachment = next(mail.message.iter_attachments())
    assert attachment.get_filename() == "delivery-note.pdf"
    assert attachment.get_content() == b"%PDF-1.4 delivery note"


def test_studio_reply_to_and_default_cc_apply_to_order_emails(client, order, logged_in, mail_outbox):
    from app.mailing.models import StudioMailSettings
    from tests.factories import NOW

    db.session.add(
        StudioMailSettings(
            studio_id=logged_in.studio_id,
            sender_email="a@example.com",
            reply_to="orders@example.com",
            default_cc="office@example.com",
            updated_at=NOW,
        )
    )
    db.session.commit()
    move(client, order, "paid")
    move(client, order, "shipped", carrier="DHL", tracking_number="JD1")
    mail = mail_outbox.wait_for(1)[0]
    assert sorted(mail.rcpt_tos) == ["buyer@example.com", "office@example.com"]
    assert mail.message["Reply-To"] == "orders@example.com"
