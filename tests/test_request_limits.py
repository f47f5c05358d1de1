"""Request size limits: 1 MB for every route, more only for the routes that receive files, and a
clear 413 page (or JSON) naming the limit."""

import io

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.request_limits import JSON_ENDPOINTS, UPLOAD_LIMITS
from tests import factories

MB = 1024 * 1024


def noisy_png(side):
    """A valid PNG of more than 1 MB for ``side`` >= 700 (noise does not compress)."""
    buffer = io.BytesIO()
    Image.effect_noise((side, side), 100).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


def post_file(client, url, field, content, filename, **kwargs):
    """POST one file as multipart, encoded in memory (the test client spools bodies over 500 kB
    to a temporary file it never closes)."""
    boundary, body = encode_multipart({field: FileStorage(io.BytesIO(content), filename)})
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", **kwargs)


@pytest.mark.no_database
def test_every_upload_endpoint_exists(app):
    """A renamed view would silently fall back to the small limit."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(UPLOAD_LIMITS) | JSON_ENDPOINTS <= endpoints
    assert all(app.config[key] > app.config["MAX_CONTENT_LENGTH"] for key in UPLOAD_LIMITS.values())


@pytest.mark.no_database
def test_an_anonymous_form_over_1_mb_gets_the_413_page(client):
    response = client.post("/login", data={"email": "a@example.com", "password": "x" * (MB + 1)})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert 'data-testid="too-large"' in page
    assert "this page accepts up to 1 MB at once" in page


@pytest.mark.no_database
def test_a_json_client_gets_the_limit_as_json(client):
    response = client.post(
        "/login", data={"password": "x" * (MB + 1)}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 413
    assert response.get_json() == {
        "error": "This is too large to send: this page accepts up to 1 MB at once."
    }


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 2 * MB}])
def test_the_form_limit_is_configurable(client):
    response = client.post("/login", data={"email": "a@example.com", "password": "x" * (MB + 1)})
    assert response.status_code != 413


def test_a_photo_over_1_mb_is_uploaded(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio)
    content = noisy_png(800)
    assert len(content) > MB
    response = post_file(
        client,
        f"/admin/galleries/{gallery.id}/upload",
        "photos",
        content,
        "big.png",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200 and response.get_json()["results"][0]["ok"]


def test_an_email_image_over_1_mb_is_accepted_and_one_over_the_file_limit_answers_json(
    app, client, logged_in
):
    content = noisy_png(800)
    ok = post_file(client, "/admin/workflows/images", "image", content, "big.png")
    assert ok.status_code == 200 and ok.get_json()["url"]
    app.config["MAX_FILE_REQUEST_BYTES"] = MB
    # fetch() sends no Accept header: JSON all the same.
    refused = post_file(client, "/admin/workflows/images", "image", content, "big.png")
    assert refused.status_code == 413
    assert refused.get_json() == {"error": "This is too large to send: this page accepts up to 1 MB at once."}


def test_a_card_csv_over_1_mb_gets_the_import_forms_own_message(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio, is_qr=True)
    content = b"A child's name\n" * (MB // 15 + 10)
    response = post_file(client, f"/admin/galleries/{gallery.id}/cards", "import-file", content, "labels.csv")
    assert response.status_code == 200
    assert "The file is larger than 1 MB" in response.get_data(as_text=True)


def test_other_gallery_pages_keep_the_small_limit(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio)
    response = client.post(
        f"/admin/galleries/{gallery.id}/edit", data={"title": "x", "description": "x" * (MB + 1)}
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "this page accepts up to 1 MB" in page and "Upload fewer photos" not in page


@pytest.mark.parametrize("app_config", [{"MAX_UPLOAD_REQUEST_BYTES": 3 * MB}])
def test_the_uploader_is_told_the_upload_limit(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio)
    page = client.get(f"/admin/galleries/{gallery.id}").get_data(as_text=True)
    assert f'data-max-request-bytes="{3 * MB}"' in page
    assert "__NAME__ is too large to send: the server accepts up to 3 MB per upload." in page


UPLOAD_LIMIT = 40_000


@pytest.mark.browser
@pytest.mark.parametrize("app_config", [{"MAX_UPLOAD_REQUEST_BYTES": UPLOAD_LIMIT}])
def test_the_uploader_names_each_file_over_the_request_limit(live_server, page):
    from playwright.sync_api import expect

    from app.accounts.models import User
    from app.extensions import db
    from tests.browser_fixtures import log_in
    from tests.test_gallery_admin_browser import EMAIL, PASSWORD, create_owner

    user_id = create_owner(live_server.app)
    with live_server.app.app_context():
        gallery_id = factories.make_gallery(db.session.get(User, user_id).studio).id
    log_in(page, live_server, EMAIL, PASSWORD)
    page.goto(f"{live_server.url}/admin/galleries/{gallery_id}")
    page.set_input_files(
        "[data-file-input]",
        [
            # Under the limit itself, over it with the form around it: the server answers 413.
            {"name": "edge.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8" * (UPLOAD_LIMIT // 2 - 20)},
            # Over the limit: refused before it is sent.
            {"name": "huge.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8" * UPLOAD_LIMIT},
        ],
    )
    expect(page.locator("[data-upload-summary]")).to_have_text("Done: 0 uploaded, 2 refused.")
    statuses = page.locator(".upload-item.is-failed .upload-status")
    for index, name in enumerate(("edge.jpg", "huge.jpg")):
        expect(statuses.nth(index)).to_have_text(
            f"{name} is too large to send: the server accepts up to 0.0381 MB per upload."
        )
