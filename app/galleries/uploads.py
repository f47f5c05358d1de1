"""Photo uploads sent in pieces, resumable after a dropped connection (tus-like).

The browser creates an upload session per file (in the order the photographer chose them), sends
the file in chunks, each with the offset it starts at, and after a dropped connection asks how much
arrived and goes on from there. A chunk is written only at the offset the server expects, under the
database's write lock, so a chunk sent twice (a retry whose first answer was lost) is never written
twice: the second answer is a conflict naming the offset the server has.

When the last chunk arrives the file's header is checked (format, pixel count, structure: quick),
the file becomes the photo's original and the photo's row is added as "processing"; verifying every
pixel, turning it upright and rendering its previews happen off the request
(app/galleries/processing.py).

Order: photos take the place of their sessions' creation order, whatever order their last chunks
arrive in (three files travel at once); see ``_reserved_position``.
"""

import secrets
import uuid
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _

from app.extensions import db
from app.galleries import images, storage
from app.galleries.models import Gallery, Photo, PhotoState, UploadSession

CHUNK_BYTES = 8 * 1024 * 1024
# A chunk may be larger than we ask for (a client of its own), but not without bound: each one is
# held in memory while it is written.
MAX_CHUNK_BYTES = 16 * 1024 * 1024
# Seconds the browser waits before each automatic retry of a file whose connection failed; once
# they are used up it shows a Retry button.
RETRY_BACKOFF_SECONDS = (1, 2, 4, 8, 16)
# A session untouched this long is abandoned (a closed tab): its partial file is removed.
STALE_AFTER = timedelta(hours=24)


class UploadRefused(Exception):  # noqa: N818  (a verdict, not a crash)
    """A session or chunk we refuse, with a message for the photographer."""

    def __init__(self, message, status=422):
        super().__init__(message)
        self.message = message
        self.status = status


class OffsetMismatch(Exception):  # noqa: N818
    """A chunk that does not start where the upload stands (a retry, or a lost answer)."""

    def __init__(self, upload):
        super().__init__(upload.received_size)
        self.upload = upload


def create_session(gallery, filename, total_size, now, limits):
    """A new upload session for one file of ``total_size`` bytes in ``gallery``; flushes.

    Raises ``UploadRefused`` for an empty file or one over the photo size limit, before any
    byte is sent."""
    name = images.display_name(filename)
    if total_size <= 0:
        raise UploadRefused(_("%(name)s is empty.", name=name))
    if total_size > limits.max_bytes:
        raise UploadRefused(
            _(
                "%(name)s is too large: photos may be up to %(limit)s.",
                name=name,
                limit=images.human_size(limits.max_bytes),
            ),
            status=413,
        )
    upload = UploadSession(
        id=secrets.token_hex(16),
        studio_id=gallery.studio_id,
        gallery_id=gallery.id,
        filename=name[:255],
        total_size=total_size,
        received_size=0,
        created_at=now,
        updated_at=now,
    )
    db.session.add(upload)
    db.session.flush()
    return upload


def owned_session(session_id, studio_id, gallery_id, *, for_update=False):
    """The upload session ``session_id`` if it belongs to this studio's gallery, else None."""
    query = sa.select(UploadSession).where(
        UploadSession.id == session_id,
        UploadSession.studio_id == studio_id,
        UploadSession.gallery_id == gallery_id,
    )
    if for_update:
        query = query.with_for_update()  # PostgreSQL: one chunk of a session at a time
    return db.session.scalar(query)


def write_chunk(upload, offset, data, now, limits):
    """Write ``data`` at ``offset`` of ``upload``; flushes. Returns the photo when it was the last.

    The caller holds the write lock on the session (``begin_write`` on SQLite, ``for_update`` on
    PostgreSQL), so two copies of a chunk cannot both pass the offset check. Raises
    ``OffsetMismatch`` when ``offset`` is not where the upload stands, ``UploadRefused`` for a
    chunk past the declared size, ``images.PhotoRejected`` when the finished file is no photo.
    """
    if upload.photo_id is not None or offset != upload.received_size:
        raise OffsetMismatch(upload)
    if offset + len(data) > upload.total_size:
        raise UploadRefused(_("%(name)s is larger than announced.", name=upload.filename), status=400)
    _write_at(storage.incoming_file(upload.id), offset, data)
    upload.received_size = offset + len(data)
    upload.updated_at = now
    if upload.received_size < upload.total_size:
        db.session.flush()
        return None
    return _complete(upload, now, limits)


def _write_at(path, offset, data):
    """Write ``data`` at ``offset`` of ``path`` and cut what lay beyond (the remains of a chunk
    whose connection dropped half-way were never counted, and are overwritten)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "r+b" if path.exists() else "wb") as handle:
        handle.seek(offset)
        handle.write(data)
        handle.truncate()


def _complete(upload, now, limits):
    """The finished file becomes a "processing" photo at the position its session reserved."""
    source = storage.incoming_file(upload.id)
    content_type = images.check_upload(source, upload.filename, limits)
    # PostgreSQL: one completion per gallery at a time, or two could take the same position
    # (SQLite's single writer already does this; FOR UPDATE is not rendered there).
    db.session.execute(sa.select(Gallery.id).where(Gallery.id == upload.gallery_id).with_for_update())
    photo = Photo(
        gallery_id=upload.gallery_id,
        storage_key=uuid.uuid4().hex,
        original_filename=upload.filename,
        content_type=content_type,
        width=0,  # known once processed
        height=0,
        byte_size=upload.total_size,
        position=_reserved_position(upload),
        created_at=now,
        processing_state=PhotoState.PROCESSING,
    )
    original = storage.photo_file(photo, "original", studio_id=upload.studio_id)
    storage.stage_link(db.session, source, original)
    db.session.add(photo)
    db.session.flush()
    upload.photo_id = photo.id
    db.session.flush()
    return photo


def _reserved_position(upload):
    """The new photo's position: after the photos of sessions created before this one, before
    those of sessions created after it (which may have finished first), shifting those along.

    The browser creates its sessions one after the other in the order chosen, so the gallery
    follows that order however the files' transfers overtake each other.
    """
    later = sa.and_(
        UploadSession.gallery_id == upload.gallery_id,
        UploadSession.photo_id.is_not(None),
        sa.or_(
            UploadSession.created_at > upload.created_at,
            sa.and_(UploadSession.created_at == upload.created_at, UploadSession.id > upload.id),
        ),
    )
    first_later = db.session.scalar(
        sa.select(sa.func.min(Photo.position))
        .join(UploadSession, UploadSession.photo_id == Photo.id)
        .where(later)
    )
    if first_later is None:
        last = db.session.scalar(
            sa.select(sa.func.max(Photo.position)).where(Photo.gallery_id == upload.gallery_id)
        )
        return 0 if last is None else last + 1
    db.session.execute(
        sa.update(Photo)
        .where(Photo.gallery_id == upload.gallery_id, Photo.position >= first_later)
        .values(position=Photo.position + 1)
    )
    return first_later


def discard_session(upload):
    """Delete an upload session (a refused file); flushes. Returns its partial file, to remove
    after the commit."""
    path = storage.incoming_file(upload.id)
    db.session.delete(upload)
    db.session.flush()
    return path


def finished_file(upload):
    """The partial file of a completed session, no longer needed once its photo committed (the
    original is a link of its own)."""
    return storage.incoming_file(upload.id)


def remove_stale_sessions(now, max_age=STALE_AFTER):
    """Delete the sessions untouched since ``now - max_age`` (abandoned, or long finished);
    flushes. Returns their files, and partial files as old whose session is gone already (its
    gallery was deleted), to remove after the commit."""
    cutoff = now - max_age
    stale = db.session.scalars(sa.select(UploadSession).where(UploadSession.updated_at < cutoff)).all()
    paths = [storage.incoming_file(upload.id) for upload in stale]
    for upload in stale:
        db.session.delete(upload)
    db.session.flush()
    folder = storage.incoming_file("-").parent
    if folder.is_dir():
        paths += [path for path in folder.iterdir() if path not in paths and _older_than(path, cutoff)]
    return paths


def _older_than(path, cutoff):
    try:
        return path.stat().st_mtime < cutoff.timestamp()
    except FileNotFoundError:
        return False


def remove_files(paths):
    for path in paths:
        Path(path).unlink(missing_ok=True)
