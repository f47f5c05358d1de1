"""Photo processing off the request: ready with previews and taken_at, failed with a reason,
leases that keep two processes from recording one photo twice, the worker pool, the admin grid."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from app import jobs
from app.extensions import db
from app.galleries import card_matching, images, processing, storage
from app.galleries.models import Photo, PhotoState
from tests import factories
from tests.gallery_admin_helpers import truncated_jpeg
from tests.upload_helpers import camera_jpeg, upload_whole

NOW = factories.NOW


@pytest.fixture
def gallery(logged_in):
    return factories.make_gallery(logged_in.studio)


@pytest.fixture
def matched(monkeypatch):
    """What the card matching was given, per photo: (id, the QR codes read, now)."""
    calls = []

    def record(photo, image, now, *, texts_read=None):
        assert image is None  # the worker read the codes: no image crosses back
        calls.append((photo.id, texts_read, now))

    monkeypatch.setattr(card_matching, "on_photo_processed", record)
    return calls


@pytest.fixture
def read(monkeypatch):
    """The images the worker read QR codes on: (size, mode); each reads as "ABC123"."""
    images_read = []

    def qr_texts(image):
        images_read.append((image.size, image.mode))
        return ["ABC123"]

    monkeypatch.setattr(card_matching, "qr_texts", qr_texts)
    return images_read


@pytest.fixture
def qr_gallery(gallery):
    from app.galleries import cards

    gallery.is_qr = True
    cards.create_cards(gallery, ["Ada"], NOW)
    db.session.commit()
    return gallery


def uploaded(client, gallery, name, data):
    answer = upload_whole(client, gallery.id, name, data)
    assert answer.status_code == 200, answer.json
    return answer.json["photo_id"]


def reload(photo_id):
    db.session.expire_all()
    return db.session.get(Photo, photo_id)


def shown_to_clients(gallery):
    return db.session.scalars(
        sa.select(Photo.id).where(Photo.gallery_id == gallery.id, Photo.shown_to_clients_clause())
    ).all()


def test_processing_makes_a_photo_ready_with_previews_and_taken_at(client, gallery, matched, read):
    # Stored sideways with EXIF orientation 6: 3000 x 2000 on disk, 2000 x 3000 upright.
    photo_id = uploaded(client, gallery, "portrait.jpg", camera_jpeg(size=(3000, 2000), orientation=6))
    assert shown_to_clients(gallery) == []

    result = processing.process_pending(NOW)

    assert (result.ready, result.failed, result.lost) == (1, 0, 0)
    photo = reload(photo_id)
    assert photo.processing_state == PhotoState.READY and photo.processing_error is None
    assert (photo.width, photo.height) == (2000, 3000)
    assert photo.taken_at == datetime(2026, 5, 14, 9, 31, 7)
    with Image.open(storage.photo_file(photo, "preview")) as preview:
        assert preview.size == (1067, 1600)
    with Image.open(storage.photo_file(photo, "thumb")) as thumb:
        assert max(thumb.size) == 480
    assert shown_to_clients(gallery) == [photo_id]
    # Not a QR gallery: no codes read (nor a 2,048 px copy decoded for them).
    assert matched == [(photo_id, [], NOW)] and read == []
    assert processing.process_pending(NOW) == processing.ProcessingResult()  # nothing left


def test_a_photo_without_exif_date_has_no_taken_at(client, gallery, matched):
    photo_id = uploaded(client, gallery, "plain.jpg", camera_jpeg(size=(800, 600), taken=None))
    processing.process_pending(NOW)
    photo = reload(photo_id)
    assert photo.processing_state == PhotoState.READY and photo.taken_at is None


def test_in_a_qr_gallery_the_worker_reads_the_codes_on_the_upright_photo(client, qr_gallery, matched, read):
    # Stored sideways with EXIF orientation 6: 3000 x 2000 on disk, 2000 x 3000 upright.
    big = uploaded(client, qr_gallery, "portrait.jpg", camera_jpeg(size=(3000, 2000), orientation=6))
    small = uploaded(client, qr_gallery, "small.jpg", camera_jpeg(size=(800, 600)))
    processing.process_pending(NOW)
    # Downscaled to 2,048 px on its long side; a smaller photo as it is.
    assert read == [((1365, 2048), "RGB"), ((800, 600), "RGB")]
    assert matched == [(big, ["ABC123"], NOW), (small, ["ABC123"], NOW)]


def test_a_corrupt_file_fails_with_its_reason_and_is_never_shown_to_clients(client, gallery, matched):
    photo_id = uploaded(client, gallery, "broken.jpg", truncated_jpeg())  # its header is fine
    assert reload(photo_id).processing_state == PhotoState.PROCESSING

    result = processing.process_pending(NOW)

    assert (result.ready, result.failed) == (0, 1)
    photo = reload(photo_id)
    assert photo.processing_state == PhotoState.FAILED
    assert photo.processing_error == (
        "broken.jpg is damaged or incomplete and cannot be read. Export it again and retry."
    )
    assert shown_to_clients(gallery) == [] and matched == []
    assert not storage.photo_file(photo, "preview").exists()
    page = client.get(f"/admin/galleries/{gallery.id}").get_data(as_text=True)
    assert "broken.jpg is damaged or incomplete" in page
    assert f"/admin/galleries/{gallery.id}/photos/{photo_id}/delete" in page
    assert processing.process_pending(NOW).failed == 0  # a failed photo is not tried again


def test_two_claimers_process_each_photo_once(client, gallery, matched):
    first = uploaded(client, gallery, "a.jpg", camera_jpeg(size=(600, 400)))
    second = uploaded(client, gallery, "b.jpg", camera_jpeg(size=(600, 400)))

    ids_a, lease_a = processing.claim(NOW, limit=10)
    ids_b, _lease_b = processing.claim(NOW + timedelta(seconds=1), limit=10)
    assert sorted(ids_a) == [first, second] and ids_b == []
    assert processing.process_pending(NOW + timedelta(seconds=2)) == processing.ProcessingResult()

    # A's lease runs out (its process died, say): C takes the photos over and records them ...
    later = NOW + processing.LEASE + timedelta(seconds=1)
    assert processing.process_pending(later).ready == 2
    # ... and A, back from the dead, records nothing a second time.
    job = processing._render_job(first)
    rendered = processing.render(job)
    late = processing.ProcessingResult()
    processing._record(rendered, lease_a, later, late)
    assert (late.ready, late.lost) == (0, 1)
    assert [photo_id for photo_id, *_ in matched] == [first, second]
    assert {reload(first).processing_state, reload(second).processing_state} == {PhotoState.READY}


def test_the_worker_pool_processes_in_other_processes(client, gallery, app, matched):
    photo_id = uploaded(client, gallery, "pool.jpg", camera_jpeg(size=(1200, 900)))
    broken_id = uploaded(client, gallery, "broken.jpg", truncated_jpeg())
    with processing.make_worker_pool(app, workers=1) as pool:
        result = processing.process_pending(NOW, executor=pool)
    assert (result.ready, result.failed) == (1, 1)
    assert reload(photo_id).processing_state == PhotoState.READY
    assert reload(photo_id).taken_at == datetime(2026, 5, 14, 9, 31, 7)
    assert "damaged or incomplete" in reload(broken_id).processing_error
    assert [call[0] for call in matched] == [photo_id]


def test_the_admin_grid_shows_processing_then_the_thumbnail(client, gallery, matched):
    photo_id = uploaded(client, gallery, "soon.jpg", camera_jpeg(size=(600, 400)))
    page = client.get(f"/admin/galleries/{gallery.id}").get_data(as_text=True)
    assert 'data-photo-state="processing"' in page and "Processing…" in page
    states_url = f"/admin/galleries/{gallery.id}/photos/states?ids={photo_id},999999"
    assert client.get(states_url).json == {"photos": [{"id": photo_id, "state": "processing"}]}

    processing.process_pending(NOW)

    state = client.get(states_url).json["photos"][0]
    assert state["state"] == "ready"
    assert f"/photos/{photo_id}/thumb" in state["html"]
    with client.get(f"/admin/galleries/{gallery.id}/photos/{photo_id}/thumb") as thumb:
        assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"


def test_another_studio_cannot_read_the_states(client, auth, gallery, other_owner, matched):
    photo_id = uploaded(client, gallery, "soon.jpg", camera_jpeg(size=(600, 400)))
    auth.login(other_owner)
    assert client.get(f"/admin/galleries/{gallery.id}/photos/states?ids={photo_id}").status_code == 404
    theirs = factories.make_gallery(other_owner.studio, title="Theirs")
    assert client.get(f"/admin/galleries/{theirs.id}/photos/states?ids={photo_id}").json == {"photos": []}


def test_the_jobs_are_declared_with_the_upload_clean_up(app):
    ids = [job_id for job_id, _function, _seconds in jobs.JOBS]
    assert "photo-processing" in ids and "stale-uploads" in ids
    assert dict((job_id, seconds) for job_id, _function, seconds in jobs.JOBS)["photo-processing"] <= 10


class FakeScheduler:
    def __init__(self):
        self.woken = []

    def modify_job(self, job_id, **changes):
        self.woken.append((job_id, changes))


def test_a_finished_upload_wakes_the_processing_job_of_this_process(client, gallery, app):
    scheduler = app.extensions["proofsheet_scheduler"] = FakeScheduler()
    try:
        photo_id = uploaded(client, gallery, "now.jpg", camera_jpeg(size=(600, 400)))
    finally:
        del app.extensions["proofsheet_scheduler"]
    assert [job_id for job_id, _changes in scheduler.woken] == [processing.JOB_ID]
    assert "next_run_time" in scheduler.woken[0][1]
    assert reload(photo_id).processing_state == PhotoState.PROCESSING  # the job's to do


def test_without_a_scheduler_here_the_web_process_processes_in_the_background(client, gallery, app, matched):
    app.config["PHOTO_PROCESSING_IN_WEB"] = True
    photo_id = uploaded(client, gallery, "soon.jpg", camera_jpeg(size=(600, 400)))
    processing._web_thread.submit(lambda: None).result(timeout=30)  # its work so far is done
    assert reload(photo_id).processing_state == PhotoState.READY
    assert [call[0] for call in matched] == [photo_id]


def test_an_error_of_ours_fails_the_photo_with_a_reason_instead_of_retrying_forever(
    client, gallery, matched, monkeypatch, caplog
):
    photo_id = uploaded(client, gallery, "fine.jpg", camera_jpeg(size=(600, 400)))

    def crash(*_args, **_kwargs):
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(images, "prepare_photo", crash)
    assert processing.process_pending(NOW).failed == 1
    photo = reload(photo_id)
    assert photo.processing_state == PhotoState.FAILED
    assert photo.processing_error == (
        "fine.jpg could not be processed because of an error on our side. Delete it and upload it again."
    )
    assert "a bug of ours" in caplog.text


def test_the_job_processes_everything_waiting_through_its_pool(client, gallery, app, matched, monkeypatch):
    ids = [uploaded(client, gallery, f"{index}.jpg", camera_jpeg(size=(500, 400))) for index in range(3)]
    monkeypatch.setattr(processing, "make_worker_pool", lambda _app: ThreadPoolExecutor(max_workers=2))
    monkeypatch.setattr(jobs, "_photo_pool", None)
    try:
        jobs.photo_processing(app)
    finally:
        jobs._photo_pool.shutdown()
    assert {reload(photo_id).processing_state for photo_id in ids} == {PhotoState.READY}
    assert sorted(call[0] for call in matched) == ids


def test_a_failure_of_the_card_matching_leaves_the_photo_ready(client, qr_gallery, monkeypatch, caplog):
    def broken(photo, image, now, *, texts_read=None):
        db.session.execute(sa.update(Photo).values(is_cover=True))  # undone with the savepoint
        raise RuntimeError("matching bug")

    monkeypatch.setattr(card_matching, "on_photo_processed", broken)
    photo_id = uploaded(client, qr_gallery, "child.jpg", camera_jpeg(size=(800, 600)))
    result = processing.process_pending(NOW)
    assert (result.ready, result.failed) == (1, 0)
    photo = reload(photo_id)
    assert photo.processing_state == PhotoState.READY and not photo.is_cover
    assert "card matching of photo" in caplog.text
