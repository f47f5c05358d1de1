"""Factories for tests: studios, staff, galleries and clients, built through the services."""

from datetime import UTC, datetime, timedelta

from app.accounts import services as accounts
from app.extensions import db
from app.galleries.models import Client, Gallery, GalleryAccess, GalleryStatus, Registration

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def make_owner(
    name="Northlight Studio",
    email="owner@northlight.test",
    password="correct horse",
    timezone="Europe/Paris",
    currency="EUR",
    language="en",
    postal_address="12 Harbour Street\n75001 Paris, France",
):
    owner = accounts.create_studio(
        name=name,
        email=email,
        password=password,
        timezone=timezone,
        currency=currency,
        language=language,
        now=NOW,
    )
    owner.studio.postal_address = postal_address
    db.session.commit()
    return owner


def make_operator(studio, email="op@example.com"):
    """A staff member of ``studio`` who is not its owner (no password: tests log in directly)."""
    from app.accounts.models import Role, User

    operator = User(
        studio_id=studio.id, email=email, name="Op", password_hash="x", role=Role.OPERATOR, created_at=NOW
    )
    db.session.add(operator)
    db.session.commit()
    return operator


def make_gallery(
    studio,
    title="Spring portraits",
    slug=None,
    status=GalleryStatus.PUBLISHED,
    access=GalleryAccess.PUBLIC,
    is_qr=False,
    sale_starts_at=None,
    sale_ends_at=None,
    archives_at=None,
    **fields,
):
    gallery = Gallery(
        studio_id=studio.id,
        title=title,
        slug=slug or accounts.slugify(title),
        description=fields.pop("description", ""),
        status=status,
        access=access,
        is_qr=is_qr,
        sale_starts_at=sale_starts_at if sale_starts_at is not None else NOW - timedelta(days=1),
        sale_ends_at=sale_ends_at if sale_ends_at is not None else NOW + timedelta(days=30),
        archives_at=archives_at if archives_at is not None else NOW + timedelta(days=60),
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )
    db.session.add(gallery)
    db.session.commit()
    return gallery


def make_client(studio, email="parent@example.com", name="Alex Parent", gallery=None, registered_at=NOW):
    client = Client(studio_id=studio.id, email=email, name=name, language="en", created_at=registered_at)
    db.session.add(client)
    if gallery is not None:
        db.session.add(Registration(client=client, gallery_id=gallery.id, registered_at=registered_at))
    db.session.commit()
    return client


class Auth:
    """Log staff in and out of a Flask test client without going through the form."""

    def __init__(self, client):
        self.client = client

    def login(self, user):
        with self.client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        self._forget_cached_user()

    @staticmethod
    def _forget_cached_user():
        """Tests share one app context across requests: drop Flask-Login's cached user."""
        from flask import g

        g.pop("_login_user", None)

    def logout(self):
        with self.client.session_transaction() as session:
            session.clear()
        self._forget_cached_user()


def make_photo(gallery, name="photo.jpg", color=(120, 140, 160), size=(1200, 800), position=0):
    """A photo whose three files exist on disk (plain coloured JPEGs, no pipeline involved)."""
    import uuid

    from PIL import Image

    from app.galleries.models import Photo
    from app.galleries.storage import photo_file

    photo = Photo(
        gallery_id=gallery.id,
        storage_key=uuid.uuid4().hex,
        original_filename=name,
        content_type="image/jpeg",
        width=size[0],
        height=size[1],
        byte_size=0,
        position=position,
        created_at=NOW,
    )
    for variant, box in (("original", size), ("preview", (600, 400)), ("thumb", (240, 160))):
        path = photo_file(photo, variant, studio_id=gallery.studio_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", box, color).save(path, "JPEG")
    photo.byte_size = photo_file(photo, "original", studio_id=gallery.studio_id).stat().st_size
    db.session.add(photo)
    db.session.commit()
    return photo


def make_studio_on_sale(
    password,
    title="Spring portraits",
    photos=2,
    now=None,
    email="owner@example.com",
    access=GalleryAccess.REGISTRATION,
):
    """What the browser journeys start from: a studio (its owner logs in with ``email`` and
    ``password``) with a published gallery whose sale runs around ``now`` and ``photos``
    photos. Returns (owner, gallery)."""
    from app import timeutil

    now = now or timeutil.now()
    owner = accounts.create_studio(
        name="Northlight",
        email=email,
        password=password,
        timezone="Europe/Paris",
        currency="EUR",
        language="en",
        now=now,
    )
    db.session.commit()
    gallery = make_gallery(
        owner.studio,
        title=title,
        access=access,
        sale_starts_at=now - timedelta(days=1),
        sale_ends_at=now + timedelta(days=10),
        archives_at=now + timedelta(days=40),
    )
    for position in range(photos):
        make_photo(gallery, position=position)
    return owner, gallery
