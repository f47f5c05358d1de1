"""Uploads in chunks: offsets, conflicts, retries, resuming, limits, scope and clean-up."""

import os
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import jobs
from app.extensions import db
from app.galleries import storage, uploads
from app.galleries.images import Limits
from app.galleries.models import Photo, PhotoState, UploadSession
from tests import factories
from tests.gallery_admin_helpers import jpeg_bytes
from tests.upload_helpers import open_session, send_chunk

PHOTO = jpeg_bytes(size=(1200, 800))


@pytest.fixture
def gallery(logged_in):
    return factories.make_gallery(logged_in.studio)


def session_row(session_id):
    db.session.expire_all()
    return db.session.get(UploadSession, session_id)


def test_chunks_in_order_complete_into_a_processing_photo(client, gallery):
    opened = open_session(client, gallery.id, "C:\\Shoot\\first.jpg", len(PHOTO))
    assert opened.status_code == 201
    assert opened.json["offset"] == 0 and opened.json["size"] == len(PHOTO)
    url = opened.json["url"]
    assert opened.headers["Location"] == url
    third = len(PHOTO) // 3

    first = send_chunk(client, url, 0, PHOTO[:third])
    assert first.status_code == 200 and first.json["offset"] == third and not first.json["complete"]
    head = client.head(url)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == str(third)
    assert head.headers["Upload-Length"] == str(len(PHOTO))
    partial = storage.incoming_file(opened.json["id"])
    assert partial.read_bytes() == PHOTO[:third]
    assert partial.parent.name == storage.INCOMING

    assert send_chunk(client, url, third, PHOTO[third : 2 * third]).json["offset"] == 2 * third
    last = send_chunk(client, url, 2 * third, PHOTO[2 * third :])
    assert last.status_code == 200
    assert last.json["complete"] is True and last.json["offset"] == len(PHOTO)
    assert 'data-photo-state="processing"' in last.json["html"]

    photo = db.session.get(Photo, last.json["photo_id"])
    assert photo.processing_state == PhotoState.PROCESSING
    assert photo.original_filename == "first.jpg"
    assert (photo.width, photo.height, photo.byte_size) == (0, 0, len(PHOTO))
    assert not photo.shown_to_clients
    assert storage.photo_file(photo, "original").read_bytes() == PHOTO
    assert not storage.photo_file(photo, "thumb").exists()  # made off the request
    assert not partial.exists()  # the original is the finished file; its partial copy is gone
    assert session_row(opened.json["id"]).photo_id == photo.id


def test_a_wrong_offset_gets_409_and_the_offset_the_server_has(client, gallery):
    url = open_session(client, gallery.id, "a.jpg", len(PHOTO)).json["url"]
    send_chunk(client, url, 0, PHOTO[:1000])

    ahead = send_chunk(client, url, 5000, PHOTO[5000:6000])
    assert ahead.status_code == 409
    assert ahead.json["offset"] == 1000 and ahead.headers["Upload-Offset"] == "1000"
    assert session_row(ahead.json["id"]).received_size == 1000
    assert storage.incoming_file(ahead.json["id"]).stat().st_size == 1000
    missing = client.patch(url, data=b"x", headers={"Content-Type": "application/offset+octet-stream"})
    assert missing.status_code == 400


def test_a_retried_chunk_is_not_written_twice(client, gallery):
    url = open_session(client, gallery.id, "a.jpg", len(PHOTO)).json["url"]
    assert send_chunk(client, url, 0, PHOTO[:4096]).status_code == 200
    # The first answer was lost: the browser sends the same chunk again.
    again = send_chunk(client, url, 0, PHOTO[:4096])
    assert again.status_code == 409 and again.json["offset"] == 4096
    last = send_chunk(client, url, 4096, PHOTO[4096:])
    assert last.json["complete"]
    # And the last chunk retried after the photo exists: the same photo, no second one.
    retried = send_chunk(client, url, 4096, PHOTO[4096:])
    assert retried.status_code == 409
    assert retried.json["complete"] and retried.json["photo_id"] == last.json["photo_id"]
    photo = db.session.get(Photo, last.json["photo_id"])
    assert storage.photo_file(photo, "original").read_bytes() == PHOTO
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 1


def test_resume_after_an_interrupted_chunk(client, gallery):
    url = open_session(client, gallery.id, "a.jpg", len(PHOTO)).json["url"]
    send_chunk(client, url, 0, PHOTO[:2000])
    session_id = url.rsplit("/", 1)[-1]
    # The connection drops half-way through the next chunk: fewer bytes than announced arrive.
    dropped = send_chunk(
        client, url, 2000, PHOTO[2000:2500], environ_overrides={"CONTENT_LENGTH": str(len(PHOTO) - 2000)}
    )
    assert dropped.status_code == 400
    # A process killed after writing but before committing leaves bytes that were never counted.
    with open(storage.incoming_file(session_id), "ab") as handle:
        handle.write(b"garbage left by a dying request")

    asked = client.get(url)
    assert asked.json["offset"] == 2000
    finished = send_chunk(client, url, 2000, PHOTO[2000:])
    assert finished.json["complete"]
    photo = db.session.get(Photo, finished.json["photo_id"])
    assert storage.photo_file(photo, "original").read_bytes() == PHOTO


def test_photos_take_the_order_their_sessions_were_opened_in(client, gallery):
    factories.make_photo(gallery, name="earlier.jpg", position=0)
    urls = [open_session(client, gallery.id, f"{name}.jpg", len(PHOTO)).json["url"] for name in "abc"]
    for index in (2, 0, 1):  # c's transfer finishes first, then a, then b
        assert send_chunk(client, urls[index], 0, PHOTO).json["complete"]
    db.session.expire_all()
    names = db.session.scalars(
        sa.select(Photo.original_filename).where(Photo.gallery_id == gallery.id).order_by(Photo.position)
    ).all()
    assert names == ["earlier.jpg", "a.jpg", "b.jpg", "c.jpg"]


def test_limits(client, gallery, app, monkeypatch):
    app.config["MAX_PHOTO_BYTES"] = 10_000
    too_large = open_session(client, gallery.id, "huge.jpg", 10_001)
    assert too_large.status_code == 413
    assert too_large.json["message"] == "huge.jpg is too large: photos may be up to 9.77 KB."
    empty = open_session(client, gallery.id, "empty.jpg", 0)
    assert empty.status_code == 422 and empty.json["message"] == "empty.jpg is empty."
    assert open_session(client, gallery.id, "", 10).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UploadSession)) == 0

    url = open_session(client, gallery.id, "small.jpg", 100).json["url"]
    past_the_end = send_chunk(client, url, 0, b"x" * 101)
    assert past_the_end.status_code == 400
    assert past_the_end.json["message"] == "small.jpg is larger than announced."
    monkeypatch.setattr(uploads, "MAX_CHUNK_BYTES", 50)
    assert send_chunk(client, url, 0, b"x" * 51).status_code == 413
    assert session_row(url.rsplit("/", 1)[-1]).received_size == 0


def test_a_file_that_is_no_photo_is_refused_when_complete(client, gallery):
    notes = b"not a photo at all\n" * 40
    url = open_session(client, gallery.id, "notes.jpg", len(notes)).json["url"]
    refused = send_chunk(client, url, 0, notes)
    assert refused.status_code == 422
    assert (
        refused.json["message"] == "notes.jpg is not an image we can read: upload JPEG, PNG or WebP photos."
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UploadSession)) == 0
    assert not storage.incoming_file(url.rsplit("/", 1)[-1]).exists()


def test_another_studios_session_and_gallery_answer_404(client, auth, gallery, other_owner):
    url = open_session(client, gallery.id, "a.jpg", len(PHOTO)).json["url"]
    theirs = factories.make_gallery(other_owner.studio, title="Theirs")
    assert open_session(client, theirs.id, "a.jpg", len(PHOTO)).status_code == 404

    auth.login(other_owner)
    assert client.head(url).status_code == 404
    assert send_chunk(client, url, 0, PHOTO).status_code == 404
    # Their own gallery's address with our session id is no better.
    assert client.get(url.replace(f"/{gallery.id}/", f"/{theirs.id}/")).status_code == 404
    assert session_row(url.rsplit("/", 1)[-1]).received_size == 0


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_chunks_and_sessions_need_the_csrf_token(client, gallery):
    assert open_session(client, gallery.id, "a.jpg", len(PHOTO)).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UploadSession)) == 0
    upload = uploads.create_session(gallery, "a.jpg", len(PHOTO), factories.NOW, Limits.from_config())
    db.session.commit()
    url = f"/admin/galleries/{gallery.id}/uploads/{upload.id}"
    assert send_chunk(client, url, 0, PHOTO).status_code == 400
    assert client.head(url).status_code == 200  # reading needs no token
    assert session_row(upload.id).received_size == 0


def test_stale_sessions_are_removed_with_their_files(client, gallery):
    stale_url = open_session(client, gallery.id, "old.jpg", len(PHOTO)).json["url"]
    send_chunk(client, stale_url, 0, PHOTO[:1000])
    stale_id = stale_url.rsplit("/", 1)[-1]
    row = session_row(stale_id)
    opened_at = row.updated_at
    fresh_id = open_session(client, gallery.id, "new.jpg", len(PHOTO)).json["id"]
    session_row(fresh_id).updated_at = opened_at + timedelta(hours=2)
    db.session.commit()

    paths = uploads.remove_stale_sessions(opened_at + uploads.STALE_AFTER + timedelta(minutes=1))
    db.session.commit()
    uploads.remove_files(paths)
    assert session_row(stale_id) is None
    assert session_row(fresh_id) is not None
    assert not storage.incoming_file(stale_id).exists()
    assert client.head(stale_url).status_code == 404


def test_the_clean_up_job_removes_stale_sessions_and_orphaned_partial_files(client, gallery, app):
    url = open_session(client, gallery.id, "old.jpg", len(PHOTO)).json["url"]
    send_chunk(client, url, 0, PHOTO[:1000])
    session_id = url.rsplit("/", 1)[-1]
    session_row(session_id).updated_at = factories.NOW - timedelta(days=30)
    db.session.commit()
    orphan = storage.incoming_file("0" * 32)  # its gallery was deleted, and its row with it
    orphan.write_bytes(b"half a photo")
    old = (factories.NOW - timedelta(days=30)).timestamp()
    os.utime(orphan, (old, old))
    recent = storage.incoming_file("1" * 32)
    recent.write_bytes(b"in progress elsewhere")

    jobs.remove_stale_uploads(app)

    assert session_row(session_id) is None
    assert not storage.incoming_file(session_id).exists() and not orphan.exists()
    assert recent.exists()
