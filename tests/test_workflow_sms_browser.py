"""In Chromium: the photographer turns on a workflow email's text message (the live count
follows the typing and the variable picker), the due email is ticked and its text dispatched,
and the text arrives on the Phone page and in Email activity."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app import timeutil
from app.accounts import services as accounts
from app.extensions import db
from app.sms.dispatch import dispatch_sms
from app.workflows.engine import tick
from app.workflows.models import Trigger, WorkflowEmail
from tests import factories
from tests.browser_fixtures import log_in
from tests.workflow_factories import assign, make_workflow

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
PHONE = "+46701234567"


def prepare(app, sale_starts_at):
    """A studio, a published gallery whose sale starts at ``sale_starts_at``, a client with a
    mobile number and the SMS consent, and a sale-start email (no text yet) in its workflow."""
    with app.app_context():
        owner = accounts.create_studio(
            name="Northlight",
            email="owner@example.com",
            password=PASSWORD,
            timezone="Europe/Stockholm",
            currency="SEK",
            language="en",
            now=sale_starts_at - timedelta(days=3),
        )
        db.session.commit()
        gallery = factories.make_gallery(
            owner.studio,
            title="Riverside Primary",
            sale_starts_at=sale_starts_at,
            sale_ends_at=sale_starts_at + timedelta(days=20),
            archives_at=sale_starts_at + timedelta(days=60),
        )
        nina = factories.make_client(
            owner.studio,
            email="nina@example.com",
            name="Nina Duval",
            gallery=gallery,
            registered_at=sale_starts_at - timedelta(days=1),
        )
        nina.phone, nina.sms_consent_at = PHONE, sale_starts_at - timedelta(days=1)
        db.session.commit()
        workflow = make_workflow(owner.studio, emails=[dict(trigger=Trigger.SALE_START)])
        assign(gallery, workflow)
        return workflow.id, workflow.emails[0].id


def test_turn_on_the_text_message_tick_dispatch_and_read_it_on_the_phone_page(live_server, page):
    sale_start = timeutil.now() - timedelta(minutes=1)
    workflow_id, email_id = prepare(live_server.app, sale_start)
    log_in(page, live_server, "owner@example.com", PASSWORD)
    page.goto(f"{live_server.url}/admin/workflows/{workflow_id}/emails/{email_id}")

    text = page.locator("textarea[name=sms_body]")
    expect(text).to_be_hidden()  # off until turned on
    page.get_by_label("Also send a text message").check()
    expect(text).to_be_visible()
    counter = page.locator("[data-sms-counter-for=sms_body]")
    text.fill("Hi %client_name%, your photos are online")
    expect(counter).to_contain_text("Characters: 40")
    expect(counter).to_contain_text("text messages: 1 (GSM-7)")
    text.press("End")
    text.press_sequentially(": ")
    page.locator("[data-variable='%gallery_link%']").click()  # at the text's cursor
    expect(text).to_have_value("Hi %client_name%, your photos are online: %gallery_link%")
    expect(counter).to_contain_text("Characters: 56")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("Email saved.")
    expect(page.locator("textarea[name=sms_body]")).to_have_value(
        "Hi %client_name%, your photos are online: %gallery_link%"
    )

    with live_server.app.app_context():
        assert db.session.get(WorkflowEmail, email_id).sms_enabled
        assert tick(timeutil.now()).texts == 1
        db.session.commit()
        assert dispatch_sms(timeutil.now()).sent == 1

    page.goto(f"{live_server.url}/admin/sms/phone")
    received = page.locator(f".phone-text[data-to='{PHONE}']")
    expect(received).to_have_count(1)
    expect(received).to_contain_text("To +46 70 123 45 67")
    expect(received.locator(".bubble")).to_contain_text("Hi Nina Duval, your photos are online: http")
    expect(received.locator(".bubble")).to_contain_text("/signin/")

    page.goto(f"{live_server.url}/admin/activity/")
    page.get_by_test_id("texts-tab").click()
    row = page.get_by_test_id("text-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("+46 70 123 45 67")
    expect(row).to_contain_text("Sent")
    expect(row).to_contain_text("Riverside Primary")
