"""In Chromium: duplicate the school template, edit an email with the rich-text editor and a
variable, preview it, send a test, assign the workflow to a gallery and read its timeline."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import expect

from app import timeutil
from app.accounts import services as accounts
from app.extensions import db
from app.workflows.models import WorkflowEmail
from tests import factories

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


def prepare(app):
    now = timeutil.now()
    with app.app_context():
        owner = accounts.create_studio(
            name="Northlight",
            email="owner@example.com",
            password=PASSWORD,
            timezone="Europe/Paris",
            currency="EUR",
            language="en",
            now=now,
        )
        db.session.commit()
        gallery = factories.make_gallery(
            owner.studio,
            title="Riverside Primary",
            sale_starts_at=now + timedelta(days=2),
            sale_ends_at=now + timedelta(days=20),
            archives_at=now + timedelta(days=60),
        )
        nina = factories.make_client(
            owner.studio, email="nina@example.com", name="Nina Duval", gallery=gallery, registered_at=now
        )
        nina.marketing_consent = True  # she ticked "news and offers": reminders reach her
        db.session.commit()


def test_build_preview_test_and_assign_a_workflow(live_server, page, mail_outbox):
    prepare(live_server.app)
    page.goto(live_server.url + "/login")
    page.fill("input[name=email]", "owner@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Email workflows").click()

    school = page.locator("article.template", has_text="School photography")
    school.locator("input[name=title]").fill("Spring 2027 school")
    school.get_by_role("button", name="Duplicate").click()
    expect(page.locator("h1")).to_have_text("Spring 2027 school")
    lines = page.locator(".email-line")
    expect(lines).to_have_count(7)

    lines.filter(has_text="Don't miss your photos").get_by_title("Edit").click()
    expect(page.locator("select[name=rule] option[value=before]")).to_be_enabled()  # a date
    page.select_option("select[name=rule]", "instant")  # days and time only when timed
    expect(page.locator("input[name=days]")).to_be_hidden()
    page.select_option("select[name=rule]", "after")
    page.fill("input[name=days]", "2")
    page.locator("input[name=subject]").click()
    page.keyboard.press("End")
    page.keyboard.type(" at ")
    page.get_by_role("button", name="%gallery_title%").click()  # into the subject, at the cursor
    page.select_option("select[name=recipient_filter]", "all")
    editor = page.locator("#editor .ql-editor")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" See you soon, ")
    page.get_by_role("button", name="%client_name%").click()
    page.keyboard.type("!")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash-success")).to_have_text("Email saved.")
    expect(page.locator("#editor .ql-editor")).to_contain_text("See you soon, %client_name%!")

    with live_server.app.app_context():  # ordinary spaces (Quill 2.0.3 writes &nbsp;)
        body = db.session.scalar(
            sa.select(WorkflowEmail.body_html).where(
                WorkflowEmail.subject == "Don't miss your photos at %gallery_title%"
            )
        )
        assert "See you soon, %client_name%!" in body and "&nbsp;" not in body
        assert "padding: 10px 18px" in body  # the template's button keeps its look

    page.get_by_role("button", name="Save and preview").click()
    expect(page.locator("[data-testid=preview-source]")).to_contain_text("Real data: Nina Duval")
    frame = page.frame_locator("[data-testid=preview-frame]")
    expect(frame.locator("body")).to_contain_text("See you soon, Nina Duval!")  # a real client
    page.fill("input[name=to]", "owner@example.com")
    page.get_by_role("button", name="Send test email").click()
    expect(page.locator(".flash-success")).to_contain_text("Test email sent")
    test_mail = mail_outbox.wait_for(1)[0]
    assert test_mail.subject == "[Test] Don't miss your photos at Riverside Primary"
    assert "See you soon, Alex Martin!" in test_mail.text()  # a sample client, never Nina
    assert "Nina" not in test_mail.text()

    page.get_by_role("link", name="Spring 2027 school").click()
    expect(lines.filter(has_text="2 days after the sale starts")).to_contain_text("to all clients")
    # A new studio has no postal address yet: campaigns must show one, so it is asked for first.
    workflow_url = page.url
    page.get_by_label("Riverside Primary").check()
    page.get_by_role("button", name="Save galleries").click()
    expect(page.locator(".flash-error")).to_contain_text("Add your studio's postal address first")
    page.goto(live_server.url + "/profile")
    page.get_by_label("Postal address").fill("Northlight\n12 rue des Lilas\n75011 Paris")
    page.get_by_role("button", name="Save the studio").click()
    expect(page.locator(".flash-success")).to_contain_text("Studio settings saved.")
    page.goto(workflow_url)
    page.get_by_label("Riverside Primary").check()
    page.get_by_role("button", name="Save galleries").click()
    expect(page.locator(".flash-success")).to_contain_text("is now used by 1 gallery")
    page.get_by_role("link", name="timeline").click()
    expect(page.locator("h1")).to_contain_text("Riverside Primary")
    rows = page.locator("table.timeline tbody tr")
    expect(rows.first).to_be_visible()
    upcoming = page.locator(
        'tr[data-state="upcoming"]', has_text="Don't miss your photos at Riverside Primary"
    )
    expect(upcoming).to_contain_text("2 days after the sale starts")
    expect(upcoming.locator("td").nth(2)).to_have_text("1")  # Nina, registered now
    assert re.search(r"Upcoming", upcoming.inner_text())


def test_the_email_form_guides_the_choices(live_server, page, tmp_path):
    prepare(live_server.app)
    page.goto(live_server.url + "/login")
    page.fill("input[name=email]", "owner@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + "/admin/workflows/")
    page.fill("input[name=title][placeholder]", "Weddings")
    page.get_by_role("button", name="Add a blank workflow").click()
    page.get_by_role("link", name="Add an email").first.click()

    page.select_option("select[name=trigger]", "registration")
    expect(page.locator("select[name=rule] option[value=before]")).to_be_disabled()
    page.select_option("select[name=trigger]", "order")
    expect(page.locator("select[name=recipient_filter] option[value=not_ordered]")).to_be_disabled()
    page.select_option("select[name=trigger]", "sale_end")
    expect(page.locator("select[name=rule] option[value=before]")).to_be_enabled()

    image = tmp_path / "logo.png"
    Image.new("RGB", (30, 20), (40, 90, 200)).save(image)
    page.once("dialog", lambda dialog: dialog.accept(""))  # no address: upload a file
    with page.expect_file_chooser() as chooser:
        page.locator(".ql-toolbar .ql-image").first.click()  # the default message's
    chooser.value.set_files(str(image))
    uploaded = page.locator("#editor .ql-editor img")
    expect(uploaded).to_have_attribute("src", re.compile(r"/media/email/\d+/[\w-]+\.png$"))
    assert page.request.get(uploaded.get_attribute("src")).body() == image.read_bytes()

    page.fill("[data-variable-filter]", "cart")
    expect(page.locator("[data-variable-item]:visible")).to_have_count(2)  # cart link and total

    page.select_option("select[name=rule]", "before")
    page.fill("input[name=days]", "400")
    page.fill("input[name=subject]", "Hi %nickname%")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".field.has-errors")).to_have_count(3)
    expect(page.get_by_text("Choose the time of day to send this email.")).to_be_visible()
    expect(page.get_by_text("Days must be between 0 and 365.")).to_be_visible()
    expect(page.get_by_text("Unknown variable: %nickname%.")).to_be_visible()
    expect(page.locator("#editor .ql-editor img")).to_have_count(1)  # the message is kept as written


def test_the_purpose_choice_and_a_test_send_with_its_links(live_server, page, mail_outbox):
    prepare(live_server.app)
    page.goto(live_server.url + "/login")
    page.fill("input[name=email]", "owner@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + "/admin/workflows/")
    page.fill("input[name=title][placeholder]", "Weddings")
    page.get_by_role("button", name="Add a blank workflow").click()
    page.get_by_role("link", name="Add an email").first.click()

    service = page.get_by_label("Service: about the gallery itself", exact=False)
    marketing = page.get_by_label("Marketing: promotions and reminders")
    expect(page.get_by_text("Marketing emails go only to clients who ticked")).to_be_visible()
    expect(service).to_be_checked()  # sale start, at once, to all: the gallery is ready
    page.select_option("select[name=trigger]", "promotion_expiry")
    expect(marketing).to_be_checked()  # follows the trigger until chosen
    page.select_option("select[name=trigger]", "archive")
    expect(service).to_be_checked()
    page.select_option("select[name=recipient_filter]", "not_ordered")
    expect(marketing).to_be_checked()  # a reminder to those who have not ordered
    page.select_option("select[name=recipient_filter]", "all")
    marketing.check()  # the photographer's choice wins from now on
    page.select_option("select[name=trigger]", "sale_start")
    expect(marketing).to_be_checked()

    page.fill("input[name=subject]", "News for %client_name%")
    page.locator("#editor .ql-editor").click()
    page.keyboard.type("Hello ")
    page.get_by_role("button", name="%client_name%").click()
    page.keyboard.type(", see your photos: ")
    page.get_by_role("button", name="%gallery_link%").click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash-success")).to_have_text("Email saved.")
    expect(marketing).to_be_checked()

    page.fill("aside input[name=to]", "me@example.com")
    page.get_by_role("button", name="Send test email").click()
    expect(page.locator(".flash-success")).to_contain_text("Test email sent to me@example.com")
    mail = mail_outbox.wait_for(1)[0]
    assert mail.subject == "[Test] News for Alex Martin" and "Nina" not in mail.text()
    link = re.search(r"http://\S+/email-test/gallery_link", mail.text()).group(0)
    page.goto(link)
    expect(page.locator("h1")).to_have_text("This is a test email: this link works in your clients' emails.")

    page.go_back()
    page.get_by_role("link", name="Weddings").click()
    expect(page.locator(".email-line")).to_contain_text(
        "to all clients (marketing: only those who accepted news and offers)"
    )
