"""The image pipeline and the upload route: accepted formats, refused files, variants, watermark."""

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.galleries import images
from app.galleries.models import Photo
from app.galleries.storage import photo_file
from tests import factories
from tests.gallery_admin_helpers import (
    gif_bytes,
    jpeg_bytes,
    png_bomb,
    png_bytes,
    truncated_jpeg,
    webp_bytes,
)

LIMITS = images.Limits(max_bytes=5_000_000, max_pixels=50_000_000, thumbnail_size=480, preview_size=1600)


def photos_of(gallery):
    return db.session.scalars(sa.select(Photo).where(Photo.gallery_id == gallery.id)
                              .order_by(Photo.position)).all()


def upload(client, gallery, *files, json=True):
    """POST ``files`` ((name, bytes) pairs) to the gallery's upload route in one request."""
    data = {"photos": [(io.BytesIO(content), name) for name, content in files]}
    headers = {"Accept": "application/json"} if json else {}
    return client.post(f"/admin/galleries/{gallery.id}/upload", data=data, headers=headers,
                       content_type="multipart/form-data")


@pytest.fixture
def gallery(owner):
    return factories.make_gallery(owner.studio, title="Spring portraits")


# ------------------------------------------------------------------ the pipeline itself


def test_exif_orientation_is_applied_and_dimensions_are_stored_upright(app, gallery):
    photo = images.add_photo(gallery, jpeg_bytes(size=(640, 480), orientation=6), "portrait.jpg",
                             factories.NOW)
    db.session.commit()
    assert (photo.width, photo.height) == (480, 640)
    with Image.open(photo_file(photo, "preview")) as preview:
        assert preview.size == (480, 640)
        # Orientation 6 turns the image clockwise: the bright left band ends up at the top.
        assert preview.convert("L").getpixel((240, 10)) > 200
    with Image.open(photo_file(photo, "thumb")) as thumb:
        assert max(thumb.size) == 480 and thumb.format == "JPEG"


def test_original_is_kept_byte_for_byte(app, gallery):
    content = png_bytes()
    photo = images.add_photo(gallery, content, "logo.png", factories.NOW)
    assert photo_file(photo, "original").read_bytes() == content
    assert photo_file(photo, "original").suffix == ".png"
    assert photo.content_type == "image/png" and photo.byte_size == len(content)


def test_variants_are_bounded_by_configured_sizes(app, gallery):
    app.config.update(THUMBNAIL_SIZE=100, PREVIEW_SIZE=300)
    photo = images.add_photo(gallery, jpeg_bytes(size=(1200, 600)), "wide.jpg", factories.NOW)
    with Image.open(photo_file(photo, "thumb")) as thumb, Image.open(photo_file(photo, "preview")) as preview:
        assert thumb.size == (100, 50)
        assert preview.size == (300, 150)
    assert (photo.width, photo.height) == (1200, 600)


def test_watermark_changes_preview_pixels_but_not_thumbnail(app, gallery):
    plain = images.prepare_photo(jpeg_bytes(size=(800, 600), color=(90, 90, 90)), "grey.jpg", "", LIMITS)
    marked = images.prepare_photo(jpeg_bytes(size=(800, 600), color=(90, 90, 90)), "grey.jpg",
                                  "Northlight Studio", LIMITS)
    with Image.open(io.BytesIO(plain.preview)) as a, Image.open(io.BytesIO(marked.preview)) as b:
        a_pixels = list(a.convert("L").get_flattened_data())
        b_pixels = list(b.convert("L").get_flattened_data())
    changed = sum(1 for x, y in zip(a_pixels, b_pixels) if abs(x - y) > 25)
    # Visible (a good share of pixels lighter) yet not covering the photo.
    assert 0.02 * len(a_pixels) < changed < 0.5 * len(a_pixels)
    assert plain.thumb == marked.thumb


def test_studio_watermark_is_used_by_default(app, gallery, owner):
    owner.studio.watermark_text = "PROOF"
    db.session.commit()
    photo = images.add_photo(gallery, jpeg_bytes(color=(90, 90, 90)), "a.jpg", factories.NOW)
    with Image.open(photo_file(photo, "preview")) as preview:
        assert max(preview.convert("L").get_flattened_data()) > 130  # white letters over the grey


def test_new_photos_go_to_the_end(app, gallery):
    first = images.add_photo(gallery, jpeg_bytes(), "1.jpg", factories.NOW)
    second = images.add_photo(gallery, jpeg_bytes(), "2.jpg", factories.NOW)
    assert second.position == first.position + 1


@pytest.mark.parametrize(("content", "expected"), [
    (b"this is a text file, not a photo\n" * 20, "is not an image we can read"),
    (truncated_jpeg(), "is damaged or incomplete"),
    (gif_bytes(), "is a GIF file"),
    (png_bomb(), "has too many pixels"),
    (b"", "is empty"),
])
def test_refused_files_have_a_message_naming_the_file(app, gallery, content, expected):
    with pytest.raises(images.PhotoRejected) as refused:
        images.add_photo(gallery, content, "folder/IMG_0001.jpg", factories.NOW)
    assert expected in refused.value.message
    assert "IMG_0001.jpg" in refused.value.message and "folder" not in refused.value.message
    assert photos_of(gallery) == []


def test_store_failure_removes_written_files(app, gallery, monkeypatch):
    prepared = images.prepare_photo(jpeg_bytes(), "a.jpg", "x", LIMITS)

    def failing_flush(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "flush", failing_flush)
    with pytest.raises(RuntimeError):
        images.store_photo(gallery, prepared, factories.NOW)
    monkeypatch.undo()
    db.session.rollback()
    assert gallery_files(gallery) == []


# ------------------------------------------------------------------ the upload route


def test_upload_many_formats_in_one_request(client, logged_in, gallery):
    response = upload(client, gallery, ("a.jpg", jpeg_bytes(orientation=6)), ("b.png", png_bytes()),
                      ("c.webp", webp_bytes()))
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [result["ok"] for result in results] == [True, True, True]
    assert [photo.original_filename for photo in photos_of(gallery)] == ["a.jpg", "b.png", "c.webp"]
    assert [photo.content_type for photo in photos_of(gallery)] == ["image/jpeg", "image/png", "image/webp"]
    assert f'data-photo-id="{results[0]["photo_id"]}"' in results[0]["html"]


@pytest.mark.parametrize("app_config", [{"MAX_PHOTO_BYTES": 40_000, "MAX_PHOTO_PIXELS": 2_000_000}])
def test_bad_files_are_reported_one_by_one_and_others_still_succeed(client, logged_in, gallery):
    noisy = Image.effect_noise((400, 300), 100).convert("RGB")
    buffer = io.BytesIO()
    noisy.save(buffer, "JPEG", quality=100)
    assert len(buffer.getvalue()) > 40_000
    response = upload(client, gallery,
                      ("good-1.jpg", jpeg_bytes()),
                      ("notes.jpg", b"hello, I am text\n" * 50),
                      ("cut.jpg", truncated_jpeg()),
                      ("bomb.png", png_bomb(2000, 2000)),
                      ("heavy.jpg", buffer.getvalue()),
                      ("good-2.png", png_bytes()))
    assert response.status_code == 422
    results = {result["filename"]: result for result in response.get_json()["results"]}
    assert results["good-1.jpg"]["ok"] and results["good-2.png"]["ok"]
    assert "notes.jpg is not an image we can read" in results["notes.jpg"]["message"]
    assert "cut.jpg is damaged or incomplete" in results["cut.jpg"]["message"]
    assert "bomb.png has too many pixels" in results["bomb.png"]["message"]
    assert "up to 2 megapixels" in results["bomb.png"]["message"]
    assert "heavy.jpg is too large" in results["heavy.jpg"]["message"]
    assert sorted(photo.original_filename for photo in photos_of(gallery)) == ["good-1.jpg", "good-2.png"]


def test_plain_form_flashes_one_message_per_file(client, logged_in, gallery):
    response = upload(client, gallery, ("ok.jpg", jpeg_bytes()), ("bad.jpg", b"nope" * 10), json=False)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ok.jpg uploaded." in page
    assert "bad.jpg is not an image we can read" in page
    assert "ok.jpg" in page and len(photos_of(gallery)) == 1


def test_upload_without_files_says_so(client, logged_in, gallery):
    response = client.post(f"/admin/galleries/{gallery.id}/upload", data={},
                           headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "Choose at least one photo" in response.get_json()["results"][0]["message"]


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 20_000}])
def test_request_over_the_limit_gets_a_friendly_413(client, logged_in, gallery):
    body = Image.effect_noise((300, 300), 100).convert("RGB")
    buffer = io.BytesIO()
    body.save(buffer, "PNG")
    response = upload(client, gallery, ("huge.png", buffer.getvalue()))
    assert response.status_code == 413
    assert "too large" in response.get_json()["results"][0]["message"]
    page = upload(client, gallery, ("huge.png", buffer.getvalue()), json=False)
    assert page.status_code == 413 and "Upload fewer photos at a time" in page.get_data(as_text=True)


def test_staff_can_fetch_every_variant(client, logged_in, gallery):
    photo = images.add_photo(gallery, png_bytes(), "x.png", factories.NOW)
    db.session.commit()
    base = f"/admin/galleries/{gallery.id}/photos/{photo.id}"
    original = client.get(f"{base}/original")
    assert original.status_code == 200 and original.data == png_bytes()
    assert "attachment" in original.headers["Content-Disposition"]
    assert "private" in original.headers["Cache-Control"]
    for variant in ("thumb", "preview"):
        response = client.get(f"{base}/{variant}")
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        response.close()
    original.close()
    assert client.get(f"{base}/secret").status_code == 404


def test_photo_files_need_a_login(client, gallery):
    photo = images.add_photo(gallery, png_bytes(), "x.png", factories.NOW)
    db.session.commit()
    response = client.get(f"/admin/galleries/{gallery.id}/photos/{photo.id}/original")
    # Sent to the log-in page (or refused outright), never the file.
    assert response.status_code in (302, 401)
    assert response.data != png_bytes()


def test_sixteen_bit_greyscale_keeps_its_tones(app):
    buffer = io.BytesIO()
    Image.new("I;16", (64, 64), 40000).save(buffer, "PNG")
    prepared = images.prepare_photo(buffer.getvalue(), "scan.png", "", LIMITS)
    with Image.open(io.BytesIO(prepared.thumb)) as thumb:
        assert 140 < thumb.convert("L").getpixel((32, 32)) < 170  # 40000/65535 of white, not clipped


def test_colour_profile_is_kept_in_previews(app):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (100, 80), (10, 120, 200)).save(buffer, "JPEG", icc_profile=profile)
    prepared = images.prepare_photo(buffer.getvalue(), "p3.jpg", "x", LIMITS)
    for variant in (prepared.thumb, prepared.preview):
        with Image.open(io.BytesIO(variant)) as image:
            assert image.info.get("icc_profile") == profile


def gallery_files(gallery):
    folder = photo_file(Photo(gallery_id=gallery.id, storage_key="x", content_type="image/jpeg"),
                        "original", studio_id=gallery.studio_id).parent.parent
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())


def test_upload_leaves_exactly_three_files_per_photo_and_no_partial_ones(client, logged_in, gallery):
    upload(client, gallery, ("a.jpg", jpeg_bytes()), ("b.webp", webp_bytes()))
    photos = photos_of(gallery)
    expected = sorted(f"{variant}/{photo.storage_key}.{ext}" for photo in photos
                      for variant, ext in (("original", photo_file(photo, "original").suffix[1:]),
                                           ("thumb", "jpg"), ("preview", "jpg")))
    assert gallery_files(gallery) == expected


def test_files_are_removed_when_the_commit_fails(client, logged_in, gallery, monkeypatch):
    def failing_commit():
        raise RuntimeError("disk full on the database server")

    monkeypatch.setattr(db.session, "commit", failing_commit)
    with pytest.raises(RuntimeError):
        upload(client, gallery, ("a.jpg", jpeg_bytes()))
    monkeypatch.undo()
    db.session.rollback()
    assert gallery_files(gallery) == [] and photos_of(gallery) == []
