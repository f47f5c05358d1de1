"""Where a photo's files live on disk, and how they get there.

Layout: ``<UPLOAD_FOLDER>/<studio id>/<gallery id>/<variant>/<storage key>.<ext>``. The original
keeps its format; thumbnails and watermarked previews are always JPEG. Originals are never served
to the public: only staff (and, later, paid download links) may read them.

A photo's files are first written as ``.<name>.part`` beside their final name and renamed into
place only once the transaction that adds the photo's row has committed; a rolled-back
transaction removes them (``stage_file``). A process killed in between leaves only ``.part`` files,
which ``remove_stale_parts`` clears at the next start.

Uploads sent in pieces (app/galleries/uploads.py) grow under ``<UPLOAD_FOLDER>/incoming/`` (a
folder no route serves) until their last piece arrives; the finished file is then linked into
place as the photo's original, staged like any other file.
"""

import os
import shutil
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

VARIANTS = ("original", "thumb", "preview")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
PART_SUFFIX = ".part"
# An upload writes its files and commits within seconds; an older .part file is left over.
STALE_PART_AGE = timedelta(hours=1)
INCOMING = "incoming"  # beside the studios' numbered folders: no studio id can clash with it
_STAGED = "staged_photo_files"  # key of Session.info: [(temporary, final path)] of the transaction


def gallery_folder(studio_id, gallery_id):
    return Path(current_app.config["UPLOAD_FOLDER"]) / str(studio_id) / str(gallery_id)


def photo_file(photo, variant, studio_id=None):
    """The path of one variant of ``photo`` (``studio_id`` saves a lookup when known)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown photo variant {variant!r}")
    studio_id = studio_id if studio_id is not None else photo.gallery.studio_id
    extension = EXTENSIONS[photo.content_type] if variant == "original" else "jpg"
    return gallery_folder(studio_id, photo.gallery_id) / variant / f"{photo.storage_key}.{extension}"


def incoming_file(session_id):
    """Where an upload sent in pieces grows until complete (never web-served)."""
    return Path(current_app.config["UPLOAD_FOLDER"]) / INCOMING / f"{session_id}.upload"


def part_path(path):
    """The temporary name of ``path`` while it is being written: ``.<name>.part`` beside it."""
    path = Path(path)
    return path.with_name(f".{path.name}{PART_SUFFIX}")


# ------------------------------------------------------------------ staged writes


def stage_file(session, path, data):
    """Write ``data`` as ``path``'s .part file; it takes its name when ``session`` commits.

    Rolling back (or closing the session without a commit) removes it, so a file never
    outlives a transaction that did not keep its row.
    """
    temporary = part_path(path)
    temporary.parent.mkdir(parents=True, exist_ok=True)
    # Listed before writing: a write failing half-way leaves a file to remove too.
    session.info.setdefault(_STAGED, []).append((temporary, Path(path)))
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())  # the bytes are on disk before the row that names them commits


def stage_link(session, source, path):
    """Stage an existing file (a finished upload) as ``path``, like ``stage_file`` but without
    copying its bytes: a hard link, so ``source`` stays whole if the transaction rolls back."""
    temporary = part_path(path)
    temporary.parent.mkdir(parents=True, exist_ok=True)
    session.info.setdefault(_STAGED, []).append((temporary, Path(path)))
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError:  # a file system without hard links (or another device): copy instead
        shutil.copyfile(source, temporary)


def unstage(session, paths):
    """Take back the staged files of ``paths`` (a photo that failed half-way), removing them."""
    staged = session.info.get(_STAGED, [])
    finals = {Path(path) for path in paths}
    for temporary, final in [entry for entry in staged if entry[1] in finals]:
        staged.remove((temporary, final))
        temporary.unlink(missing_ok=True)


def discard_staged(session):
    """Remove the .part files staged in ``session``'s transaction (its rows are not kept)."""
    for temporary, _final in session.info.pop(_STAGED, []):
        temporary.unlink(missing_ok=True)


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _publish_staged(session):
    for temporary, final in session.info.pop(_STAGED, []):
        os.replace(temporary, final)


@sa.event.listens_for(sa.orm.Session, "after_transaction_end")
def _discard_uncommitted(session, transaction):
    # After a commit the list is already gone; after a rollback or a close it is not.
    if transaction.parent is None:
        discard_staged(session)


# ------------------------------------------------------------------ start-up clean-up


def remove_stale_parts(folder, now, max_age=STALE_PART_AGE):
    """Remove the .part files under ``folder`` last written before ``now - max_age``.

    Younger ones may belong to an upload in progress in another process, and are kept. Returns
    the number of files removed.
    """
    cutoff = (now - max_age).timestamp()
    removed = 0
    for path in Path(folder).rglob(f".*{PART_SUFFIX}"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another process cleaned it first
            continue
    return removed


def clean_at_start(app, now):
    """Start-up housekeeping of ``flask serve``, ``flask scheduler run`` and wsgi.py (never of
    ``create_app``, which has no side effects): remove uploads left half-written."""
    return remove_stale_parts(app.config["UPLOAD_FOLDER"], now)
