"""Favourites: a client's hearts on photos, their favourites view, and what the studio sees of
them. Services flush and never commit; whether the client may see a photo is the route's check
(the same one that serves the photo)."""

import sqlalchemy as sa

from app.extensions import db
from app.galleries.models import Favourite, Gallery, Photo


def is_favourite(client, photo):
    return db.session.get(Favourite, (client.id, photo.id)) is not None


def set_favourite(client, photo, favourite, now):
    """Heart (``favourite`` true) or un-heart ``photo`` for ``client``; doing it twice changes
    nothing, so a double tap or a resent form cannot flip it back. Returns the new state."""
    existing = db.session.get(Favourite, (client.id, photo.id))
    if favourite and existing is None:
        db.session.add(Favourite(client_id=client.id, photo_id=photo.id, created_at=now))
    elif not favourite and existing is not None:
        db.session.delete(existing)
    db.session.flush()
    return favourite


def favourite_photo_ids(client, gallery):
    """The ids of ``gallery``'s photos that ``client`` hearted (an empty set for a visitor)."""
    if client is None:
        return set()
    return set(
        db.session.scalars(
            sa.select(Favourite.photo_id)
            .join(Photo, Photo.id == Favourite.photo_id)
            .where(Favourite.client_id == client.id, Photo.gallery_id == gallery.id)
        )
    )


def favourites_by_gallery(studio_id, client_id):
    """What the studio sees on the client page: [(gallery, [photo, ...]), ...] in the gallery's
    photo order, galleries newest heart first. Only the studio's own galleries count, and only
    photos clients may see (a photo hearted before it became a card photo is left out)."""
    rows = db.session.execute(
        sa.select(Gallery, Photo, Favourite.created_at)
        .join(Photo, Photo.gallery_id == Gallery.id)
        .join(Favourite, Favourite.photo_id == Photo.id)
        .where(
            Favourite.client_id == client_id,
            Gallery.studio_id == studio_id,
            Photo.shown_to_clients_clause(),
        )
        .order_by(Gallery.id, Photo.position, Photo.id)
    ).all()
    grouped = {}
    latest = {}
    for gallery, photo, hearted_at in rows:
        grouped.setdefault(gallery.id, (gallery, []))[1].append(photo)
        latest[gallery.id] = max(latest.get(gallery.id, hearted_at), hearted_at)
    return sorted(grouped.values(), key=lambda entry: latest[entry[0].id], reverse=True)


def favourite_counts(gallery_id):
    """{photo_id: how many clients hearted it} for one gallery (the gallery admin's count)."""
    return dict(
        db.session.execute(
            sa.select(Favourite.photo_id, sa.func.count())
            .join(Photo, Photo.id == Favourite.photo_id)
            .where(Photo.gallery_id == gallery_id)
            .group_by(Favourite.photo_id)
        ).all()
    )
