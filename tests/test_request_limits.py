"""Request size limits: 1 MB for every route, more only for the routes that receive files, and a
clear 413 page (or JSON) naming the limit."""

import io

import pytest
import sqlalchemy as sa
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
@pytest.mark.parametrize(
    "app_config", [{"MAX_UPLOAD_REQUEST_BYTES": UPLOAD_LIMIT, "MAX_PHOTO_BYTES": 6 * UPLOAD_LIMIT}]
)
def test_a_photo_larger_than_a_request_goes_in_pieces_and_one_over_the_photo_limit_is_named(
    live_server, page
):
    import io

    from PIL import Image
    from playwright.sync_api import expect

    from app.accounts.models import User
    from app.extensions import db
    from app.galleries.models import Photo
    from tests.browser_fixtures import log_in
    from tests.test_gallery_admin_browser import EMAIL, PASSWORD, create_owner

    noise = io.BytesIO()
    Image.effect_noise((480, 320), 80).convert("RGB").save(noise, "JPEG", quality=95)
    photo = noise.getvalue()
    assert 2 * UPLOAD_LIMIT < len(photo) < 6 * UPLOAD_LIMIT  # several requests' worth
    user_id = create_owner(live_server.app)
    with live_server.app.app_context():
        gallery_id = factories.make_gallery(db.session.get(User, user_id).studio).id
    log_in(page, live_server, EMAIL, PASSWORD)
    page.goto(f"{live_server.url}/admin/galleries/{gallery_id}")
    page.set_input_files(
        "[data-file-input]",
        [
            {"name": "noise.jpg", "mimeType": "image/jpeg", "buffer": photo},
            # Over the photo limit: refused before it is sent.
            {"name": "huge.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8" * (3 * UPLOAD_LIMIT + 1)},
        ],
    )
    expect(page.locator("[data-upload-summary]")).to_have_text("Done: 1 uploaded, 1 refused.", timeout=30_000)
    expect(page.locator(".upload-item.is-failed .upload-status")).to_have_text(
        "huge.jpg is too large: photos may be up to 234 KB."
    )
    with live_server.app.app_context():
        [stored] = db.session.scalars(sa.select(Photo).where(Photo.gallery_id == gallery_id)).all()
        assert (stored.original_filename, stored.byte_size) == ("noise.jpg", len(photo))
