"""Photo processing off the request: verify, turn upright, render previews, read when it was taken.

A photo arrives "processing" (app/galleries/uploads.py). The ``photo-processing`` job claims such
photos under a lease, renders them in a pool of worker processes (one per core: decoding is CPU
work) and records each outcome: "ready" with its previews, or "failed" with the reason. Any number
of scheduler processes may run at once: a claim is atomic (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, one writer at a time on SQLite), and an outcome is recorded only by the holder of the
photo's current lease, so a photo is never recorded twice; a process that dies leaves its photos
to be claimed again when the lease runs out.

A claim writes a token of its own and the lease's end on each photo (``processing_leased_by``,
``processing_lease_until``); a "failed" photo's ``processing_error`` is its reason.

The rendering itself is ``images.prepare_photo`` (its checks and its renders, unchanged); the
worker returns only the small results (previews, size, taken_at and, in a QR gallery with cards,
the texts of the QR codes it read: reading takes 15-30 ms, better spent in the worker than in the
writer's transaction), never the original's bytes nor an image.
"""

import logging
import multiprocessing
import os
import secrets
import threading
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale

from app.accounts.models import Studio
from app.database import begin_write
from app.extensions import db
from app.galleries import card_matching, images, storage
from app.galleries.models import Gallery, Photo, PhotoState

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
# The card matching reads QR codes on the upright photo at most this large on its long side.
ANALYSIS_SIZE = 2048
JOB_ID = "photo-processing"


@dataclass
class RenderJob:
    """What a worker needs to render one photo (plain values: it crosses a process boundary)."""

    photo_id: int
    original_path: str
    filename: str
    watermark: str
    language: str
    limits: images.Limits
    read_codes: bool = False  # a QR gallery with cards: read the QR codes for the card matching


@dataclass
class Rendered:
    """A worker's outcome: the previews and facts of a photo, or the reason it was refused."""

    photo_id: int
    error: str | None = None
    thumb: bytes = b""
    preview: bytes = b""
    width: int = 0
    height: int = 0
    taken_at: datetime | None = None
    codes: list[str] = field(default_factory=list)  # the QR codes' texts, the largest first


@dataclass
class ProcessingResult:
    ready: int = 0
    failed: int = 0
    lost: int = 0  # another process took the lease over (ours had run out): not recorded by us


# ------------------------------------------------------------------ leases


def _claimable(now):
    return sa.and_(
        Photo.processing_state == PhotoState.PROCESSING,
        sa.or_(Photo.processing_lease_until.is_(None), Photo.processing_lease_until < now),
    )


def claim(now, limit, ids=None):
    """Lease up to ``limit`` photos waiting to be processed (or whose lease ran out) and commit.

    Returns ``(ids, lease)``; only the holder of ``lease`` may record their outcome.
    """
    begin_write()
    candidates = sa.select(Photo.id).where(_claimable(now)).order_by(Photo.id).limit(limit)
    if ids is not None:
        candidates = candidates.where(Photo.id.in_(ids))
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    claimed = list(db.session.scalars(candidates))
    lease = secrets.token_hex(16)
    if claimed:
        db.session.execute(
            sa.update(Photo)
            .where(Photo.id.in_(claimed), _claimable(now))
            .values(processing_leased_by=lease, processing_lease_until=now + LEASE)
        )
    db.session.commit()
    return claimed, lease


# ------------------------------------------------------------------ the service


def process_pending(now, *, executor=None, limit=50, ids=None):
    """Claim the photos waiting to be processed, render them (in ``executor``'s workers, or
    here), and record each outcome with a commit of its own, so a photo is shown as soon as it
    is ready. Tests and the demo call it without an executor to process inline."""
    claimed, lease = claim(now, limit, ids)
    result = ProcessingResult()
    if not claimed:
        return result
    jobs = [job for job in (_render_job(photo_id) for photo_id in claimed) if job is not None]
    db.session.rollback()  # no read transaction held while rendering (SQLite writers wait on it)
    outcomes = executor.map(render_in_worker, jobs) if executor else map(render, jobs)
    for rendered in outcomes:
        _record(rendered, lease, now, result)
    return result


def _render_job(photo_id):
    photo = db.session.get(Photo, photo_id)
    if photo is None:  # deleted meanwhile
        return None
    gallery = db.session.get(Gallery, photo.gallery_id)
    studio = db.session.get(Studio, gallery.studio_id)
    return RenderJob(
        photo_id=photo.id,
        original_path=str(storage.photo_file(photo, "original", studio_id=studio.id)),
        filename=photo.original_filename,
        watermark=studio.watermark,
        language=studio.language,
        limits=images.Limits.from_config(),
        read_codes=gallery.is_qr and card_matching.has_cards(gallery.id),
    )


def _record(rendered, lease, now, result):
    """Record one outcome if our lease still holds, with the card matching, and commit."""
    begin_write()
    photo = db.session.get(Photo, rendered.photo_id)
    if (
        photo is None
        or photo.processing_state != PhotoState.PROCESSING
        or photo.processing_leased_by != lease
    ):
        db.session.rollback()
        result.lost += 1
        return
    photo.processing_leased_by = photo.processing_lease_until = None
    try:
        if rendered.error is not None:
            photo.processing_state, photo.processing_error = PhotoState.FAILED, rendered.error
            result.failed += 1
        else:
            _store_rendered(photo, rendered)
            _match_card(photo, rendered, now)
            result.ready += 1
        db.session.flush()
        db.session.commit()  # the previews take their names here (storage.stage_file)
    except BaseException:
        db.session.rollback()
        raise


def _match_card(photo, rendered, now):
    """The card matching, in a savepoint: a failure there leaves the photo ready (and on no
    card, for the review screen) instead of failing it at every lease."""
    try:
        with db.session.begin_nested():
            card_matching.on_photo_processed(photo, None, now, texts_read=rendered.codes)
    except Exception:
        log.exception("card matching of photo %s failed: it is ready, on no card", photo.id)


def _store_rendered(photo, rendered):
    studio_id = photo.gallery.studio_id
    storage.stage_file(db.session, storage.photo_file(photo, "thumb", studio_id=studio_id), rendered.thumb)
    storage.stage_file(
        db.session, storage.photo_file(photo, "preview", studio_id=studio_id), rendered.preview
    )
    photo.width, photo.height, photo.taken_at = rendered.width, rendered.height, rendered.taken_at
    photo.processing_state, photo.processing_error = PhotoState.READY, None


# ------------------------------------------------------------------ rendering (no database)


def render(job):
    """Render one photo with ``images.prepare_photo``; a refusal is an outcome, not an error.

    Needs an app context (the refusal's message is translated into the studio's language)."""
    try:
        with open(job.original_path, "rb") as handle, force_locale(job.language):
            prepared = images.prepare_photo(
                handle,
                job.filename,
                job.watermark,
                job.limits,
                analysis_size=ANALYSIS_SIZE if job.read_codes else None,
            )
        codes = _read_codes(prepared.upright)
    except images.PhotoRejected as rejected:
        return Rendered(job.photo_id, error=rejected.message)
    except FileNotFoundError:
        with force_locale(job.language):
            return Rendered(job.photo_id, error=images.missing_original_message(job.filename))
    except Exception:
        # A failure of ours, not of the file (Pillow's checks raise PhotoRejected): recorded as
        # failed all the same, or the photo would be claimed and crash again every lease.
        log.exception("photo %s could not be processed", job.photo_id)
        with force_locale(job.language):
            return Rendered(job.photo_id, error=images.processing_error_message(job.filename))
    return Rendered(
        job.photo_id,
        thumb=prepared.thumb,
        preview=prepared.preview,
        width=prepared.width,
        height=prepared.height,
        taken_at=prepared.taken_at,
        codes=codes,
    )


def _read_codes(upright):
    if upright is None:
        return []
    with upright:
        return card_matching.qr_texts(upright)


_worker_app = None


def _init_worker(config, instance_path):
    """A worker process's own app (for translations and config; it never opens the database)."""
    global _worker_app
    from app import create_app

    _worker_app = create_app(config, instance_path=instance_path)


def render_in_worker(job):
    """``render`` in a worker process of ``make_worker_pool``."""
    if _worker_app is None:  # an executor without our initializer (a thread pool)
        return render(job)
    with _worker_app.app_context():
        return render(job)


def peak_memory_kib():
    """This process's peak resident memory in KiB (Linux); the benchmark asks each worker."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker_config(app):
    """What a worker's app needs from ``app``'s configuration (plain, picklable values)."""
    keys = ("SECRET_KEY", "UPLOAD_FOLDER", "BABEL_DEFAULT_LOCALE", "TESTING")
    config = {key: app.config[key] for key in keys if key in app.config}
    config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"  # workers never query
    return config


def make_worker_pool(app, workers=None):
    """A pool of ``workers`` processes (default: one per core), started clean ("spawn": a fork
    of a process running scheduler threads may inherit a held lock)."""
    return ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(worker_config(app), app.instance_path),
    )


# ------------------------------------------------------------------ starting it at once

_web_thread: Executor | None = None
_web_thread_lock = threading.Lock()


def kick(app, now):
    """Start processing now rather than at the job's next run.

    With the scheduler in this process its job runs at once. Otherwise (the scheduler runs in a
    process of its own) the web process processes the new photos itself in a background thread,
    unless ``PHOTO_PROCESSING_IN_WEB`` is False; the lease keeps the two from doing it twice.
    """
    scheduler = app.extensions.get("proofsheet_scheduler")
    if scheduler is not None:
        from apscheduler.jobstores.base import JobLookupError

        try:
            scheduler.modify_job(JOB_ID, next_run_time=now)
            return
        except JobLookupError:  # a scheduler without the job (stopping): the web process does it
            log.warning("no %s job to wake in this process's scheduler", JOB_ID)
    if not app.config["PHOTO_PROCESSING_IN_WEB"]:
        return
    global _web_thread
    with _web_thread_lock:
        if _web_thread is None:
            _web_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="photo-processing")
    _web_thread.submit(_process_in_thread, app)


def _process_in_thread(app):
    from app import timeutil

    with app.app_context():
        try:
            while process_pending(timeutil.now(), limit=4) != ProcessingResult():
                pass
        except Exception:
            log.exception("photo processing in the web process failed")
        finally:
            db.session.remove()
