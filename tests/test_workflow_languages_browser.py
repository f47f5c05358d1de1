"""In Chromium: a template copy's email in the studio's other client languages: edit the Swedish
text with the variable picker, save it, preview it in Swedish and revert it to the default."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.workflows.models import WorkflowEmail, WorkflowEmailTranslation
from tests.test_workflow_builder_browser import PASSWORD, prepare

pytestmark = pytest.mark.browser


def _swedish(app, subject):
    with app.app_context():
        return db.session.scalar(
            sa.select(WorkflowEmailTranslation)
            .join(WorkflowEmail, WorkflowEmail.id == WorkflowEmailTranslation.email_id)
            .where(WorkflowEmail.subject == subject, WorkflowEmailTranslation.language == "sv")
        )


def test_edit_preview_and_revert_a_swedish_text(live_server, page):
    prepare(live_server.app)
    page.goto(live_server.url + "/login")
    page.fill("input[name=email]", "owner@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Email workflows").click()
    school = page.locator("article.template", has_text="School photography")
    school.locator("input[name=title]").fill("Spring 2027 school")
    school.get_by_role("button", name="Duplicate").click()
    line = page.locator(".email-line", has_text="Don't miss your photos")
    expect(line.locator('[data-testid="translated-sv"]')).to_be_visible()  # out of the box
    line.get_by_title("Edit").click()

    swedish = page.locator('details[data-language="sv"]')
    expect(swedish.locator("summary")).to_contain_text("translated")
    swedish.locator("summary").click()
    swedish.locator("input[name=sv-subject]").fill("Sista chansen, ")
    page.get_by_role("button", name="%client_name%").click()  # into the Swedish subject
    swedish.locator(".ql-editor").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Vi ses, ")
    page.get_by_role("button", name="%client_name%").click()  # into the Swedish message
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash-success")).to_have_text("Email saved.")
    saved = _swedish(live_server.app, "Don't miss your photos")
    assert saved.subject == "Sista chansen, %client_name%"
    assert "Vi ses, %client_name%" in saved.body_html
    english = page.locator("#editor .ql-editor")
    expect(english).not_to_contain_text("Vi ses")  # the default text is untouched

    page.get_by_role("button", name="Save and preview").click()
    page.select_option("[data-testid=preview-language]", "sv")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("preview-subject")).to_have_text("Sista chansen, Nina Duval")
    page.get_by_role("link", name="Edit this email").click()

    page.locator('details[data-language="sv"] summary').click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("revert-sv").click()
    expect(page.locator(".flash-success")).to_contain_text("get the English text")
    expect(page.locator('details[data-language="sv"] summary')).to_contain_text("uses the English text")
    assert _swedish(live_server.app, "Don't miss your photos") is None
