"""Issue 6's journey in Chromium: the studio's own SMTP server (STARTTLS + AUTH), a shipped order
whose email waits for review, edited, given a file and sent: it arrives at that server with the
attachment and the studio's CC."""

import re

import pytest
from playwright.sync_api import expect

from app.accounts import services as accounts
from app.extensions import db
from tests import factories
from tests.browser_fixtures import log_in
from tests.secure_smtp import PASSWORD as SMTP_PASSWORD
from tests.secure_smtp import USER as SMTP_USER
from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "owner@prism.example.com", "correct horse battery"


def studio_with_an_order(app):
    with app.app_context():
        owner = accounts.create_studio(
            name="Prism Studio",
            email=EMAIL,
            password=PASSWORD,
            timezone="Europe/Paris",
            currency="EUR",
            language="en",
            now=factories.NOW,
        )
        db.session.commit()
        gallery = factories.make_gallery(owner.studio, title="Martin family")
        price_list = make_price_list(owner.studio)
        sell_gallery(gallery, price_list)
        buyer = factories.make_client(
            owner.studio, email="buyer@example.com", gallery=gallery, name="Chloé Martin"
        )
        fill_cart(buyer, gallery, factories.make_photo(gallery), price_list.products[0])
        return order_now(owner.studio, buyer, notify=False).id


def fill_smtp_settings(page, port, password):
    page.fill("input[name=sender_email]", "hello@prism.example.com")
    page.fill("input[name=sender_name]", "Prism Studio")
    page.fill("input[name=default_cc]", "office@example.com")
    page.check("input[name=allow_operator_cc]")
    page.check("input[name=allow_operator_attachments]")
    page.fill("input[name=smtp_host]", "127.0.0.1")
    page.fill("input[name=smtp_port]", "")  # a usual port or none: the form suggests one
    page.select_option("select[name=security]", "ssl")
    expect(page.locator("input[name=smtp_port]")).to_have_value("465")  # suggested by the form
    page.select_option("select[name=security]", "starttls")
    expect(page.locator("input[name=smtp_port]")).to_have_value("587")
    page.fill("input[name=smtp_port]", str(port))
    page.check("input[name=allow_self_signed]")
    page.fill("input[name=username]", SMTP_USER)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text("Email settings saved.")


def test_configure_smtp_review_a_shipped_email_and_send_it_with_a_file(live_server, page, secure_server):
    order_id = studio_with_an_order(live_server.app)
    log_in(page, live_server, EMAIL, PASSWORD)

    # Settings → Email: a wrong password is explained; the right one connects.
    page.goto(live_server.url + "/admin/mail/settings")
    fill_smtp_settings(page, secure_server.port, "not the password")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator(".flash-error")).to_contain_text("refused the username or password")
    fill_smtp_settings(page, secure_server.port, SMTP_PASSWORD)
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator(".flash-success")).to_contain_text("Connected to 127.0.0.1")

    # Settings → Order emails: "shipped" waits for review.
    page.goto(live_server.url + "/admin/shop/order-emails")
    page.get_by_label("Review first: Shipped").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text("Order email settings saved.")

    # The order is paid, then shipped with a tracking number.
    page.goto(f"{live_server.url}/admin/shop/orders/{order_id}")
    page.select_option("select[name=status]", "paid")
    page.get_by_role("button", name="Update status").click()
    page.select_option("select[name=status]", "shipped")
    page.select_option("select[name=carrier]", "DHL")
    page.fill("input[name=tracking_number]", "JD014600006281234567")
    page.get_by_role("button", name="Update status").click()
    expect(page.locator(".flash-success")).to_contain_text("is now Shipped")
    assert secure_server.collector.messages == []  # held, not sent

    # The review queue: edit the subject and the message, add a CC and a file, send.
    page.get_by_role("link", name=re.compile("To review")).click()
    expect(page.get_by_test_id("review-count")).to_have_text("1")
    page.get_by_role("link", name=re.compile("is on its way")).click()
    page.fill("input[name=subject]", "Your photos are on their way, Chloé")
    editor = page.locator(".ql-editor")
    expect(editor).to_contain_text("JD014600006281234567")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("The delivery note is attached.")
    cc = page.locator("input[name=cc]")
    expect(cc).to_have_value("office@example.com")
    cc.fill("office@example.com; grandma@example.com")
    page.set_input_files(
        "input[name=attachments]",
        files=[
            {
                "name": "delivery-note.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n% delivery note for order\n",
            }
        ],
    )
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".flash-success")).to_contain_text("The email was sent to buyer@example.com")
    expect(page.get_by_test_id("review-count")).to_have_count(0)

    mail = secure_server.collector.wait_for(1)[0]
    assert sorted(mail.rcpt_tos) == ["buyer@example.com", "grandma@example.com", "office@example.com"]
    assert mail.message["Subject"] == "Your photos are on their way, Chloé"
    assert mail.message["From"] == "Prism Studio <hello@prism.example.com>"
    assert "grandma@example.com" in mail.message["Cc"]
    text = mail.message.get_body(("plain",)).get_content()
    assert "JD014600006281234567" in text and "The delivery note is attached." in text
    attachment = next(mail.message.iter_attachments())
    assert attachment.get_filename() == "delivery-note.pdf"
    assert attachment.get_content().startswith(b"%PDF-1.4")
