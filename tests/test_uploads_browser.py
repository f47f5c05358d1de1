"""In Chromium: several photos travel at once in chunks, with progress; a chunk whose connection
drops is sent again (after asking the server how much it has) and the upload completes."""

import re
import time

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.galleries import storage, uploads
from app.galleries.models import Gallery, Photo, PhotoState
from tests import factories
from tests.browser_fixtures import log_in
from tests.gallery_admin_helpers import truncated_jpeg
from tests.upload_helpers import camera_jpeg

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "owner@lumen.test", "correct horse battery"
CHUNK = 64 * 1024
NAMES = ["one.jpg", "two.jpg", "three.jpg", "four.jpg", "five.jpg"]

# Every value a progress bar takes, in order, per file name (the bars have no events of their own).
RECORD_PROGRESS = """
(() => {
  window.__progress = {};
  const own = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, "value");
  Object.defineProperty(HTMLProgressElement.prototype, "value", {
    get() { return own.get.call(this); },
    set(value) {
      own.set.call(this, value);
      const name = this.parentElement && this.parentElement.querySelector(".upload-name");
      if (name) (window.__progress[name.textContent] ||= []).push(Number(value));
    },
  });
})();
"""


def set_up(app):
    with app.app_context():
        owner = factories.make_owner(name="Lumen Studio", email=EMAIL, password=PASSWORD)
        gallery = factories.make_gallery(owner.studio, title="School day")
        db.session.commit()
        return gallery.id


def test_several_files_in_parallel_with_progress_and_a_dropped_chunk_retried(live_server, page, monkeypatch):
    monkeypatch.setattr(uploads, "CHUNK_BYTES", CHUNK)  # several chunks per file
    gallery_id = set_up(live_server.app)
    files = {name: camera_jpeg(size=(900, 600), quality=95) for name in NAMES}
    assert all(len(data) > 2 * CHUNK for data in files.values())
    page.add_init_script(RECORD_PROGRESS)
    log_in(page, live_server, EMAIL, PASSWORD)
    page.goto(f"{live_server.url}/admin/galleries/{gallery_id}")

    held, seen, dropped = [], [], []

    def intercept(route, request):
        seen.append((request.method, request.url, request.headers.get("upload-offset")))
        if request.method != "PATCH":
            route.continue_()
        elif request.headers.get("upload-offset") == "0" and len(held) < 10 and not dropped:
            held.append(route)  # the first chunks wait: how many files travel at once?
        elif request.headers.get("upload-offset") == str(CHUNK) and not dropped:
            dropped.append(request.url)
            route.abort("connectionreset")  # the connection drops once, mid-file
        else:
            route.continue_()

    page.route(re.compile(r".*/uploads/[0-9a-f]+$"), intercept)
    page.set_input_files(
        "[data-file-input]",
        [{"name": name, "mimeType": "image/jpeg", "buffer": data} for name, data in files.items()],
    )
    expect(page.locator(".upload-item")).to_have_count(5)
    deadline = time.monotonic() + 15
    while len(held) < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    page.wait_for_timeout(500)  # time enough for a fourth file to start, were it allowed to
    assert len(held) == 3  # three files at once, no more
    for route in held:
        route.continue_()

    expect(page.locator(".upload-item.is-done")).to_have_count(5, timeout=30_000)
    expect(page.locator("[data-upload-summary]")).to_have_text("Done: 5 uploaded, 0 refused.")
    for index, name in enumerate(NAMES):
        item = page.locator(".upload-item").nth(index)
        expect(item.locator(".upload-status")).to_have_text(f"{name} uploaded.")
        assert item.locator("progress").evaluate("bar => bar.value") == 100
    progress = page.evaluate("window.__progress")
    for name in NAMES:  # each bar went up step by step, never back
        steps = [value for value in progress[name] if 0 < value < 100]
        assert steps and steps == sorted(steps), (name, progress[name])

    # The dropped chunk: the uploader asked how much had arrived, then sent it again.
    assert len(dropped) == 1
    after_drop = seen[[entry[1] for entry in seen].index(dropped[0]) + 1 :]
    assert ("GET", dropped[0], None) in after_drop
    assert ("PATCH", dropped[0], str(CHUNK)) in after_drop
    expect(page.locator("[data-photo-grid] figure img")).to_have_count(5)
    # In the order chosen, however their transfers finished.
    expect(page.locator("[data-photo-grid] figcaption .photo-name")).to_have_text(NAMES)

    with live_server.app.app_context():
        gallery = db.session.get(Gallery, gallery_id)
        photos = db.session.scalars(
            sa.select(Photo).where(Photo.gallery_id == gallery.id).order_by(Photo.position)
        ).all()
        assert [photo.original_filename for photo in photos] == NAMES  # the order chosen
        assert {photo.processing_state for photo in photos} == {PhotoState.READY}
        for photo in photos:
            assert storage.photo_file(photo, "original").read_bytes() == files[photo.original_filename]
    page.reload()
    expect(page.locator("[data-photo-grid] figcaption .photo-name")).to_have_text(NAMES)


def test_a_file_that_keeps_failing_offers_retry_and_a_damaged_one_shows_its_reason(
    live_server, page, monkeypatch
):
    monkeypatch.setattr(uploads, "RETRY_BACKOFF_SECONDS", (0.2, 0.2))
    gallery_id = set_up(live_server.app)
    log_in(page, live_server, EMAIL, PASSWORD)
    page.goto(f"{live_server.url}/admin/galleries/{gallery_id}")
    blocked, kept = {"on": True}, {}
    aborted = []

    def intercept(route, request):
        if request.method == "POST" and '"kept.jpg"' in (request.post_data or ""):
            answer = route.fetch()
            kept["url"] = answer.json()["url"]
            route.fulfill(response=answer)
        elif request.method == "PATCH" and request.url.endswith(kept.get("url", "-")) and blocked["on"]:
            aborted.append(request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(re.compile(r".*/uploads(/[0-9a-f]+)?$"), intercept)
    page.set_input_files(
        "[data-file-input]",
        [
            {"name": "kept.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg(size=(800, 600))},
            {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": truncated_jpeg()},
        ],
    )
    kept_row, broken_row = page.locator(".upload-item").nth(0), page.locator(".upload-item").nth(1)
    expect(broken_row).to_have_class(re.compile("is-failed"))
    expect(broken_row.locator(".upload-status")).to_have_text(
        "broken.jpg is damaged or incomplete and cannot be read. Export it again and retry."
    )
    failed_tile = page.locator('[data-photo-grid] figure[data-photo-state="failed"]')
    expect(failed_tile.locator("[data-photo-error]")).to_contain_text("broken.jpg is damaged")
    expect(failed_tile.get_by_role("button", name="Delete")).to_be_visible()

    # The automatic retries (two here) run out: the row says so and offers a button.
    retry = kept_row.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    expect(kept_row.locator(".upload-status")).to_have_text(
        "kept.jpg could not be sent: check your connection and try again."
    )
    assert len(aborted) == 3  # the first try and two automatic retries
    expect(page.locator("[data-upload-summary]")).to_have_count(0)  # not done yet

    blocked["on"] = False  # the connection is back
    retry.click()
    expect(kept_row).to_have_class(re.compile("is-done"), timeout=20_000)
    expect(retry).to_be_hidden()
    expect(page.locator("[data-upload-summary]")).to_have_text("Done: 1 uploaded, 1 refused.")
    with live_server.app.app_context():
        states = dict(
            db.session.execute(
                sa.select(Photo.original_filename, Photo.processing_state).where(
                    Photo.gallery_id == gallery_id
                )
            ).all()
        )
    assert states == {"kept.jpg": PhotoState.READY, "broken.jpg": PhotoState.FAILED}
