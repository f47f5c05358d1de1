"""In Chromium: the photographer fixes a run on the review screen (the tick boxes sit in the
photo grid, outside the fix form at the bottom, which they join by its id) and matches again."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.accounts import services as accounts
from app.extensions import db
from app.galleries import card_matching
from app.galleries.models import AccessCard
from tests import factories
from tests.browser_fixtures import log_in

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "owner@lumen.test", "correct horse battery"


def make_day(app):
    """[Emma's card], emma1, emma2, [Lucas's card], lucas1: returns the gallery and photo ids."""
    with app.app_context():
        owner = accounts.create_studio(
            name="Lumen Studio", email=EMAIL, password=PASSWORD, timezone="Europe/Paris",
            currency="EUR", language="en", now=factories.NOW,
        )  # fmt: skip
        db.session.commit()
        gallery = factories.make_gallery(owner.studio, title="Maple class", is_qr=True)
        emma, lucas = (
            AccessCard(gallery_id=gallery.id, label=label, code=code, created_at=factories.NOW)
            for label, code in [("Emma", "EMMA234567"), ("Lucas", "LUCAS23456")]
        )
        db.session.add_all([emma, lucas])
        db.session.commit()
        ids = {}
        for second, (name, card) in enumerate(
            [("emma-card", emma), ("emma1", None), ("emma2", None), ("lucas-card", lucas), ("lucas1", None)]
        ):
            photo = factories.make_photo(gallery, name=f"{name}.jpg")
            photo.taken_at = factories.NOW.replace(tzinfo=None) + timedelta(seconds=second)
            photo.card_shot_of_id = card.id if card else None
            ids[name] = photo.id
        db.session.commit()
        card_matching.match_gallery(gallery, factories.NOW)
        db.session.commit()
        return gallery.id, ids


def test_moving_a_photo_to_another_card_and_matching_again(live_server, page):
    gallery_id, ids = make_day(live_server.app)
    log_in(page, live_server, EMAIL, PASSWORD)
    page.goto(f"{live_server.url}/admin/galleries/{gallery_id}/cards")
    page.get_by_role("link", name="Review card photos").click()
    expect(page.locator("h1")).to_have_text("Card photos review")

    page.check(f"input[name=photo_ids][value='{ids['emma2']}']")
    page.select_option("select[name=action]", "move")
    page.select_option("select[name=card]", label="Lucas")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".flash-success")).to_have_text("1 photo put on “Lucas”.")
    expect(page.locator("#run-" + str(ids["emma-card"]))).to_contain_text("On: Lucas")

    page.check(f"input[name=photo_ids][value='{ids['emma1']}']")
    page.select_option("select[name=action]", "unassign")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#unassigned")).to_contain_text("emma1.jpg")

    page.get_by_role("button", name="Match again").click()
    expect(page.locator(".flash-success")).to_contain_text("Matched again: 0 photos put on")
    expect(page.locator("#unassigned")).to_contain_text("emma1.jpg")  # taken off by hand: stays off
    expect(page.locator("#run-" + str(ids["emma-card"]))).to_contain_text("On: Lucas")  # kept

    page.check(f"input[name=photo_ids][value='{ids['emma1']}']")
    page.select_option("select[name=action]", "move")
    page.select_option("select[name=card]", label="Emma")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#unassigned")).to_have_count(0)


def test_a_fix_without_a_card_says_so(live_server, page):
    gallery_id, ids = make_day(live_server.app)
    log_in(page, live_server, EMAIL, PASSWORD)
    page.goto(f"{live_server.url}/admin/galleries/{gallery_id}/cards/review")
    page.check(f"input[name=photo_ids][value='{ids['emma1']}']")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".flash-error")).to_have_text("Choose the card.")
    expect(page.locator(f"input[name=photo_ids][value='{ids['emma1']}']").first).to_be_checked()
