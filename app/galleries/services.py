"""Gallery administration: create, edit, delete galleries; order, cover and delete photos.

Services flush and never commit; files on disk are removed by the caller after the commit (see
``remove_gallery_files`` and ``images.remove_files``), so a rolled-back delete loses no photo.
"""

import re
import shutil
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import generate_password_hash

from app.accounts.services import slugify, unique_slug
from app.extensions import db
from app.galleries.images import photo_paths
from app.galleries.models import AccessCard, Gallery, GalleryAccess, Photo, Registration
from app.galleries.storage import gallery_folder

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX_LENGTH = 80

# Fields a gallery form edits directly (password and slug have rules of their own).
EDITABLE_FIELDS = (
    "title",
    "description",
    "shoot_date",
    "sale_starts_at",
    "sale_ends_at",
    "archives_at",
    "status",
    "access",
    "is_qr",
)


class ReorderRefused(Exception):  # noqa: N818
    """A reorder naming photos that are not this gallery's (``message`` says so)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# ------------------------------------------------------------------ slugs


def slug_taken(studio_id, slug, exclude_gallery_id=None):
    """Whether another gallery of this studio already uses ``slug`` (slugs are per studio)."""
    query = sa.select(Gallery.id).where(Gallery.studio_id == studio_id, Gallery.slug == slug)
    if exclude_gallery_id is not None:
        query = query.where(Gallery.id != exclude_gallery_id)
    return db.session.scalar(query.limit(1)) is not None


def suggest_slug(studio_id, text, exclude_gallery_id=None):
    """A free slug for this studio made from ``text`` (a title or a wished slug)."""
    base = slugify(text or "", max_length=SLUG_MAX_LENGTH - 4)
    if base == "studio" and "studio" not in (text or "").lower():
        base = "gallery"  # slugify's fallback for titles without any Latin letter or digit
    return unique_slug(base, lambda candidate: slug_taken(studio_id, candidate, exclude_gallery_id))


# ------------------------------------------------------------------ galleries


@dataclass
class GalleryData:
    """What the gallery form collected: UTC instants, plain values, the new password or None."""

    title: str
    slug: str | None
    description: str
    shoot_date: object
    sale_starts_at: object
    sale_ends_at: object
    archives_at: object
    status: str
    access: str
    is_qr: bool
    password: str | None = None


def create_gallery(studio_id, data, now):
    """Create a gallery of ``studio_id`` from ``data``; an empty slug is generated from the title."""
    gallery = Gallery(studio_id=studio_id, created_at=now)
    _apply(gallery, data, now)
    db.session.add(gallery)
    db.session.flush()
    return gallery


def update_gallery(gallery, data, now):
    """Change a gallery from ``data``. A blank password keeps the current one."""
    _apply(gallery, data, now)
    db.session.flush()
    return gallery


def _apply(gallery, data, now):
    for name in EDITABLE_FIELDS:
        setattr(gallery, name, getattr(data, name))
    gallery.description = gallery.description or ""
    gallery.slug = data.slug or suggest_slug(gallery.studio_id, data.title, gallery.id)
    if data.password:
        gallery.password_hash = generate_password_hash(data.password)
    if gallery.access != GalleryAccess.PASSWORD:
        # A password left behind would come back silently if access were switched again later.
        gallery.password_hash = None
    gallery.updated_at = now


@dataclass
class GalleryRow:
    """A line of the galleries list."""

    gallery: Gallery
    photo_count: int
    client_count: int
    cover: Photo | None


def list_galleries(studio_id):
    """The studio's galleries, newest first, with their photo and registered client counts."""
    photos = (
        sa.select(sa.func.count(Photo.id))
        .where(Photo.gallery_id == Gallery.id)
        .correlate(Gallery)
        .scalar_subquery()
    )
    clients = (
        sa.select(sa.func.count(Registration.id))
        .where(Registration.gallery_id == Gallery.id)
        .correlate(Gallery)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Gallery, photos, clients)
        .where(Gallery.studio_id == studio_id)
        .order_by(Gallery.created_at.desc(), Gallery.id.desc())
    ).all()
    covers = _covers([gallery.id for gallery, _photos, _clients in rows])
    return [
        GalleryRow(gallery, photo_count, client_count, covers.get(gallery.id))
        for gallery, photo_count, client_count in rows
    ]


def _covers(gallery_ids):
    """Each gallery's cover: the photo chosen as cover, else its first photo."""
    if not gallery_ids:
        return {}
    photos = db.session.scalars(
        sa.select(Photo)
        .where(Photo.gallery_id.in_(gallery_ids), Photo.shown_to_clients_clause())
        .order_by(Photo.is_cover.desc(), Photo.position, Photo.id)
    ).all()
    covers = {}
    for photo in photos:
        covers.setdefault(photo.gallery_id, photo)
    return covers


@dataclass
class DeletionSummary:
    """What deleting a gallery removes, for the confirmation page."""

    photo_count: int
    card_count: int
    client_count: int


def deletion_summary(gallery):
    """Count what goes with ``gallery``: photos, access cards and client registrations."""

    def count(model):
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(model).where(model.gallery_id == gallery.id)
        )

    return DeletionSummary(count(Photo), count(AccessCard), count(Registration))


def delete_gallery(gallery):
    """Delete a gallery with its photos, cards and registrations (the database cascades); flushes.

    Returns the folder to remove with ``remove_gallery_files`` once the deletion is committed.
    """
    folder = gallery_folder(gallery.studio_id, gallery.id)
    db.session.delete(gallery)
    db.session.flush()
    return folder


def remove_gallery_files(folder):
    """Remove a deleted gallery's folder (its own folder only: ids are never reused)."""
    shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ photos


def set_cover(gallery, photo):
    """Make ``photo`` the gallery's cover (the previous cover stops being one); flushes."""
    # Clear first, in its own statement: the one-cover index would refuse two covers at once.
    db.session.execute(
        sa.update(Photo).where(Photo.gallery_id == gallery.id, Photo.is_cover).values(is_cover=False)
    )
    photo.is_cover = True
    db.session.flush()


def reorder_photos(gallery, photo_ids):
    """Put the gallery's photos in the order of ``photo_ids``; flushes.

    Photos not listed keep their relative order after the listed ones, so an upload finishing
    while the photographer drags is not lost. Ids of other galleries raise ``ReorderRefused``.
    """
    photos = db.session.scalars(
        sa.select(Photo).where(Photo.gallery_id == gallery.id).order_by(Photo.position, Photo.id)
    ).all()
    by_id = {photo.id: photo for photo in photos}
    unknown = [photo_id for photo_id in photo_ids if photo_id not in by_id]
    if unknown:
        raise ReorderRefused(
            _(
                "Photos %(ids)s are not in this gallery; reload the page and try again.",
                ids=", ".join(str(photo_id) for photo_id in unknown),
            )
        )
    if len(set(photo_ids)) != len(photo_ids):
        raise ReorderRefused(_("The new order lists a photo twice; reload the page and try again."))
    listed = [by_id[photo_id] for photo_id in photo_ids]
    rest = [photo for photo in photos if photo.id not in set(photo_ids)]
    for position, photo in enumerate(listed + rest):
        photo.position = position
    db.session.flush()


def delete_photo(photo):
    """Delete one photo's row; flushes. Returns its files, to remove after the commit."""
    paths = photo_paths(photo)
    db.session.delete(photo)
    db.session.flush()
    return paths
