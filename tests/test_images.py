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
    return db.session.scalars(
        sa.select(Photo).where(Photo.gallery_id == gallery.id).order_by(Photo.position)
    ).all()


def upload(client, gallery, *files, json=True):
    """POST ``files`` ((name, bytes) pairs) to the gallery's upload route in one request."""
    data = {"photos": [(io.BytesIO(content), name) for name, content in files]}
    headers = {"Accept": "application/json"} if json else {}
    return client.post(
        f"/admin/galleries/{gallery.id}/upload",
        data=data,
        headers=headers,
        content_type="multipart/form-data",
    )


@pytest.fixture
def gallery(owner):
    return factories.make_gallery(owner.studio, title="Spring portraits")


# ------------------------------------------------------------------ the pipeline itself


def test_exif_orientation_is_applied_and_dimensions_are_stored_upright(app, gallery):
    photo = images.add_photo(
        gallery, jpeg_bytes(size=(640, 480), orientation=6), "portrait.jpg", factories.NOW
    )
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
    db.session.commit()
    assert photo_file(photo, "original").read_bytes() == content
    assert photo_file(photo, "original").suffix == ".png"
    assert photo.content_type == "image/png" and photo.byte_size == len(content)


def test_variants_are_bounded_by_configured_sizes(app, gallery):
    app.config.update(THUMBNAIL_SIZE=100, PREVIEW_SIZE=300)
    photo = images.add_photo(gallery, jpeg_bytes(size=(1200, 600)), "wide.jpg", factories.NOW)
    db.session.commit()
    with Image.open(photo_file(photo, "thumb")) as thumb, Image.open(photo_file(photo, "preview")) as preview:
        assert thumb.size == (100, 50)
        assert preview.size == (300, 150)
    assert (photo.width, photo.height) == (1200, 600)


def test_watermark_changes_preview_pixels_but_not_thumbnail(app, gallery):
    plain = images.prepare_photo(jpeg_bytes(size=(800, 600), color=(90, 90, 90)), "grey.jpg", "", LIMITS)
    marked = images.prepare_photo(
        jpeg_bytes(size=(800, 600), color=(90, 90, 90)), "grey.jpg", "Northlight Studio", LIMITS
    )
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
    db.session.commit()
    with Image.open(photo_file(photo, "preview")) as preview:
        assert max(preview.convert("L").get_flattened_data()) > 130  # white letters over the grey


def test_new_photos_go_to_the_end(app, gallery):
    first = images.add_photo(gallery, jpeg_bytes(), "1.jpg", factories.NOW)
    second = images.add_photo(gallery, jpeg_bytes(), "2.jpg", factories.NOW)
    assert second.position == first.position + 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"this is a text file, not a photo\n" * 20, "is not an image we can read"),
        (truncated_jpeg(), "is damaged or incomplete"),
        (gif_bytes(), "is a GIF file"),
        (png_bomb(), "has too many pixels"),
        (b"", "is empty"),
    ],
)
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
    response = upload(
        client,
        gallery,
        ("a.jpg", jpeg_bytes(orientation=6)),
        ("b.png", png_bytes()),
        ("c.webp", webp_bytes()),
    )
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
    response = upload(
        client,
        gallery,
        ("good-1.jpg", jpeg_bytes()),
        ("notes.jpg", b"hello, I am text\n" * 50),
        ("cut.jpg", truncated_jpeg()),
        ("bomb.png", png_bomb(2000, 2000)),
        ("heavy.jpg", buffer.getvalue()),
        ("good-2.png", png_bytes()),
    )
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
    response = client.post(
        f"/admin/galleries/{gallery.id}/upload", data={}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert "Choose at least one photo" in response.get_json()["results"][0]["message"]


@pytest.mark.parametrize("app_config", [{"MAX_UPLOAD_REQUEST_BYTES": 20_000}])
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


@pytest.mark.no_database
def test_sixteen_bit_greyscale_keeps_its_tones(app):
    buffer = io.BytesIO()
    Image.new("I;16", (64, 64), 40000).save(buffer, "PNG")
    prepared = images.prepare_photo(buffer.getvalue(), "scan.png", "", LIMITS)
    with Image.open(io.BytesIO(prepared.thumb)) as thumb:
        assert 140 < thumb.convert("L").getpixel((32, 32)) < 170  # 40000/65535 of white, not clipped


@pytest.mark.no_database
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
    folder = photo_file(
        Photo(gallery_id=gallery.id, storage_key="x", content_type="image/jpeg"),
        "original",
        studio_id=gallery.studio_id,
    ).parent.parent
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())


def test_upload_leaves_exactly_three_files_per_photo_and_no_partial_ones(client, logged_in, gallery):
    upload(client, gallery, ("a.jpg", jpeg_bytes()), ("b.webp", webp_bytes()))
    photos = photos_of(gallery)
    expected = sorted(
        f"{variant}/{photo.storage_key}.{ext}"
        for photo in photos
        for variant, ext in (
            ("original", photo_file(photo, "original").suffix[1:]),
            ("thumb", "jpg"),
            ("preview", "jpg"),
        )
    )
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


# ------------------------------------------------------------------ memory


MEASURE_PEAK = """
import json, resource, sys
from app import create_app
from app.galleries import images

app = create_app({"SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=sys.argv[2])
limits = images.Limits(max_bytes=200_000_000, max_pixels=100_000_000, thumbnail_size=480,
                       preview_size=1600)
with app.app_context(), open(sys.argv[1], "rb") as handle:
    data = handle.read()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    prepared = images.prepare_photo(data, "big.jpg", "Northlight Studio", limits)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"delta_mb": (after - before) / 1024, "size": [prepared.width, prepared.height]}))
"""
MAKE_BIG_JPEG = """
import sys
from PIL import Image
base = Image.linear_gradient("L").resize((10_000, 10_000))
Image.merge("RGB", (base, base.transpose(Image.Transpose.ROTATE_90), base)).save(sys.argv[1], quality=90)
"""


def test_a_100_megapixel_jpeg_is_processed_within_300_mb(tmp_path):
    """Decoded whole, its pixels alone are 400 MB (the pipeline took 840 MB more than its start)."""
    import json
    import subprocess
    import sys

    path = tmp_path / "big.jpg"
    subprocess.run([sys.executable, "-c", MAKE_BIG_JPEG, str(path)], check=True)
    answer = subprocess.run(
        [sys.executable, "-c", MEASURE_PEAK, str(path), str(tmp_path / "instance")],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    figures = json.loads(answer.stdout)
    assert figures["size"] == [10_000, 10_000]
    assert figures["delta_mb"] < 300


@pytest.mark.no_database
def test_large_jpeg_is_decoded_reduced_yet_upright_with_its_full_size(app):
    limits = images.Limits(max_bytes=5_000_000, max_pixels=50_000_000, thumbnail_size=50, preview_size=400)
    prepared = images.prepare_photo(jpeg_bytes(size=(4000, 2000), orientation=6), "tall.jpg", "", limits)
    assert (prepared.width, prepared.height) == (2000, 4000)  # the file's own pixels, turned
    with Image.open(io.BytesIO(prepared.preview)) as preview:
        assert preview.size == (200, 400)
        assert preview.convert("L").getpixel((100, 5)) > 200  # the bright left band, now on top
    with Image.open(io.BytesIO(prepared.thumb)) as thumb:
        assert thumb.size == (25, 50)


@pytest.mark.no_database
def test_png_over_the_memory_budget_is_refused_before_decoding(app):
    # A header claiming 8000 x 8000 RGB pixels (within MAX_PHOTO_PIXELS) over a few bytes of data:
    # judged from the header, before 256 MB of pixels are allocated for it.
    limits = images.Limits(
        max_bytes=5_000_000,
        max_pixels=100_000_000,
        thumbnail_size=480,
        preview_size=1600,
        max_decoded_bytes=256 * 1024 * 1024,
    )
    with pytest.raises(images.PhotoRejected) as refused:
        images.prepare_photo(png_bomb(8000, 8000), "scan.png", "", limits)
    assert refused.value.message == (
        "scan.png is too large to process as a PNG file: PNG photos like this one may be up to "
        "53.7 megapixels. Save it as a JPEG, or smaller."
    )


def progressive_jpeg(size):
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buffer, "JPEG", quality=80, progressive=True)
    return buffer.getvalue()


@pytest.mark.no_database
def test_progressive_jpeg_counts_its_full_size_coefficients(app):
    limits = images.Limits(
        max_bytes=5_000_000,
        max_pixels=100_000_000,
        thumbnail_size=50,
        preview_size=250,
        max_decoded_bytes=5_000_000,
    )
    # Baseline, the same size: drafted to 1/8, it needs a few hundred kB.
    assert images.prepare_photo(jpeg_bytes(size=(2000, 2000)), "plain.jpg", "", limits).width == 2000
    with pytest.raises(images.PhotoRejected) as refused:
        images.prepare_photo(progressive_jpeg((2000, 2000)), "web.jpg", "", limits)
    assert "web.jpg is too large to process as a progressive JPEG" in refused.value.message
    assert "standard (baseline) JPEG" in refused.value.message
    assert images.prepare_photo(progressive_jpeg((800, 800)), "small.jpg", "", limits).width == 800


@pytest.mark.no_database
def test_large_palette_and_transparent_pngs_keep_their_colours(app):
    limits = images.Limits(max_bytes=5_000_000, max_pixels=50_000_000, thumbnail_size=50, preview_size=100)
    palette = Image.new("P", (1000, 500))
    palette.putpalette([200, 30, 30] + [0, 0, 0] * 255)
    transparent = Image.new("RGBA", (1000, 500), (0, 0, 255, 0))
    for image, expected in ((palette, (200, 30, 30)), (transparent, (255, 255, 255))):
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        prepared = images.prepare_photo(buffer.getvalue(), "flat.png", "", limits)
        with Image.open(io.BytesIO(prepared.thumb)) as thumb:
            assert thumb.size == (50, 25)
            assert all(abs(a - b) < 8 for a, b in zip(thumb.getpixel((25, 12)), expected, strict=True))


# ------------------------------------------------------------------ no orphan files


def all_files(app):
    from pathlib import Path

    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())


def test_files_take_their_names_only_when_the_row_commits(app, gallery):
    photo = images.add_photo(gallery, jpeg_bytes(), "a.jpg", factories.NOW)
    final = photo_file(photo, "original")
    assert not final.exists() and final.with_name(f".{final.name}.part").exists()
    db.session.commit()
    assert final.exists() and not any(name.endswith(".part") for name in all_files(app))
    images.add_photo(gallery, jpeg_bytes(), "b.jpg", factories.NOW)
    db.session.rollback()
    assert len(all_files(app)) == 3  # a.jpg's three files; nothing of b.jpg


def test_an_upload_failing_half_way_leaves_no_file(app, client, logged_in, gallery, monkeypatch):
    real_stage = images.stage_file
    calls = []

    def stage_then_fail(session, path, data):
        calls.append(path)
        if len(calls) == 3:  # the preview, once the original and the thumbnail are written
            real_stage(session, path, data[: len(data) // 2])
            raise OSError("No space left on device")
        real_stage(session, path, data)

    monkeypatch.setattr(images, "stage_file", stage_then_fail)
    with pytest.raises(OSError):
        upload(client, gallery, ("a.jpg", jpeg_bytes()))
    db.session.rollback()
    assert len(calls) == 3
    assert all_files(app) == [] and photos_of(gallery) == []


def test_a_photo_failing_half_way_removes_its_files_even_if_the_transaction_goes_on(
    app, gallery, monkeypatch
):
    kept = images.add_photo(gallery, jpeg_bytes(), "kept.jpg", factories.NOW)
    real_stage = images.stage_file

    def fail_on_preview(session, path, data):
        if "preview" in path.parts:
            raise OSError("No space left on device")
        real_stage(session, path, data)

    monkeypatch.setattr(images, "stage_file", fail_on_preview)
    with pytest.raises(OSError):
        images.add_photo(gallery, jpeg_bytes(), "failed.jpg", factories.NOW)
    monkeypatch.undo()
    db.session.commit()
    assert all_files(app) == sorted(
        photo_file(kept, variant).relative_to(app.config["UPLOAD_FOLDER"]).as_posix()
        for variant in ("original", "thumb", "preview")
    )


@pytest.mark.no_database
def test_stale_part_files_are_removed_and_fresh_ones_kept(app, tmp_path):
    import os
    from datetime import timedelta

    from app.galleries import storage

    folder = tmp_path / "uploads" / "1" / "2" / "original"
    folder.mkdir(parents=True)
    now = factories.NOW
    files = {
        name: folder / name for name in (".old.jpg.part", ".fresh.jpg.part", "old.jpg", ".old-hidden.jpg")
    }
    for name, path in files.items():
        path.write_bytes(b"x")
        written = now - (timedelta(minutes=5) if "fresh" in name else timedelta(hours=2))
        os.utime(path, (written.timestamp(), written.timestamp()))
    assert storage.remove_stale_parts(tmp_path / "uploads", now) == 1
    assert sorted(path.name for path in folder.iterdir()) == [".fresh.jpg.part", ".old-hidden.jpg", "old.jpg"]


def test_wsgi_start_cleans_stale_part_files(tmp_path, monkeypatch):
    import os
    import runpy
    from pathlib import Path

    stale = tmp_path / "uploads" / "1" / "1" / "thumb" / ".abc.jpg.part"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half")
    os.utime(stale, (0, 0))
    monkeypatch.setenv("PROOFSHEET_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PROOFSHEET_SECRET_KEY", "t")
    runpy.run_path(str(Path(__file__).parent.parent / "wsgi.py"))
    assert not stale.exists()


@pytest.mark.no_database
def test_scheduler_start_cleans_stale_part_files(app, runner, monkeypatch):
    import os
    from pathlib import Path

    from app import jobs

    stale = Path(app.config["UPLOAD_FOLDER"]) / "1" / "1" / "thumb" / ".abc.jpg.part"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half")
    os.utime(stale, (0, 0))
    monkeypatch.setattr(jobs, "run_blocking_scheduler", lambda _app: None)
    result = runner.invoke(args=["scheduler", "run"])
    assert result.exit_code == 0, result.output
    assert not stale.exists()
