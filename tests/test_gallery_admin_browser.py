"""In Chromium: a studio owner creates a gallery, uploads photos with the JS uploader, publishes it."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.accounts import services as accounts
from app.extensions import db
from app.galleries.models import Gallery, Photo
from tests import factories
from tests.browser_fixtures import log_in as browser_log_in
from tests.gallery_admin_helpers import jpeg_bytes, png_bytes, webp_bytes

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "owner@lumen.test", "correct horse battery"


def create_owner(app):
    with app.app_context():
        owner = accounts.create_studio(
            name="Lumen Studio",
            email=EMAIL,
            password=PASSWORD,
            timezone="Europe/Paris",
            currency="EUR",
            language="en",
            now=factories.NOW,
        )
        db.session.commit()
        return owner.id


def log_in(page, live_server, _user_id):
    """Log in as the owner made above, through the real form."""
    browser_log_in(page, live_server, EMAIL, PASSWORD)


def test_create_gallery_upload_three_photos_and_publish(live_server, page):
    user_id = create_owner(live_server.app)
    log_in(page, live_server, user_id)

    page.goto(live_server.url + "/admin/galleries/")
    page.get_by_role("link", name="Create your first gallery").click()
    page.fill("input[name=title]", "Martin family")
    page.fill("input[name=sale_starts_at]", "2026-12-01T09:00")
    page.fill("input[name=sale_ends_at]", "2026-12-31T18:00")
    page.get_by_role("button", name="Create gallery").click()
    expect(page.locator("h1")).to_contain_text("Martin family")
    expect(page.locator("[data-status]")).to_have_text("Draft")

    page.set_input_files(
        "[data-file-input]",
        [
            {"name": "first.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(size=(1200, 800))},
            {"name": "second.png", "mimeType": "image/png", "buffer": png_bytes(size=(600, 900))},
            {"name": "third.webp", "mimeType": "image/webp", "buffer": webp_bytes(size=(800, 800))},
            {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo at all\n" * 40},
        ],
    )
    items = page.locator(".upload-item")
    expect(items).to_have_count(4)
    expect(page.locator(".upload-item.is-done")).to_have_count(3, timeout=30_000)  # slow CI
    expect(page.locator("[data-upload-summary]")).to_have_text("Done: 3 uploaded, 1 refused.")
    expect(page.locator(".upload-item.is-failed .upload-status")).to_have_text(
        "notes.jpg is not an image we can read: upload JPEG, PNG or WebP photos."
    )
    for index in range(4):
        assert items.nth(index).locator("progress").evaluate("bar => bar.value") == 100
    thumbnails = page.locator("[data-photo-grid] figure img")
    expect(thumbnails).to_have_count(3)
    expect(page.locator("[data-photo-count]")).to_have_text("3")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-photo-grid] img')]"
        ".every(image => image.complete && image.naturalWidth > 0)"
    )

    page.get_by_role("button", name="Publish").click()
    expect(page.locator("[data-status]")).to_have_text("Published")
    # After the reload the grid comes from the server, in upload order.
    expect(page.locator("[data-photo-grid] figcaption .photo-name")).to_have_text(
        ["first.jpg", "second.png", "third.webp"]
    )

    # Drag the last photo onto the first: the new order is saved at once.
    figures = page.locator("[data-photo-grid] figure")
    figures.nth(2).drag_to(figures.nth(0), target_position={"x": 10, "y": 60})
    expect(page.locator("[data-reorder-status]")).to_have_text("Order saved.")
    page.reload()
    expect(page.locator("[data-photo-grid] figcaption .photo-name")).to_have_text(
        ["third.webp", "first.jpg", "second.png"]
    )
    # And from the keyboard: Alt + arrow moves the focused photo.
    page.locator("[data-photo-grid] figure").nth(0).focus()
    page.keyboard.press("Alt+ArrowRight")
    expect(page.locator("[data-reorder-status]")).to_have_text("Order saved.")
    page.reload()
    expect(page.locator("[data-photo-grid] figcaption .photo-name")).to_have_text(
        ["first.jpg", "third.webp", "second.png"]
    )

    with live_server.app.app_context():
        gallery = db.session.scalar(sa.select(Gallery).where(Gallery.title == "Martin family"))
        assert gallery.status == "published"
        photos = db.session.scalars(sa.select(Photo).where(Photo.gallery_id == gallery.id)).all()
        sizes = sorted((photo.width, photo.height) for photo in photos)
        assert sizes == [(600, 900), (800, 800), (1200, 800)]
