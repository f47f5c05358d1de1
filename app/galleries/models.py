"""Galleries, their photos, QR access cards, and the clients who register for them."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model, db
from app.timeutil import UTCDateTime


class GalleryStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class GalleryAccess(StrEnum):
    PUBLIC = "public"  # anyone with the link browses; registering is optional
    PASSWORD = "password"  # the gallery password, then browse
    REGISTRATION = "registration"  # name and email before the photos show


class PhotoState(StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


card_photo = sa.Table(
    "card_photo",
    db.metadata,
    sa.Column("card_id", sa.ForeignKey("access_card.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("photo_id", sa.ForeignKey("photo.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Gallery(Model):
    """A client gallery with its sale window. Dates are UTC instants, shown in studio time."""

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(80))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    shoot_date: Mapped[date | None] = mapped_column(sa.Date)
    sale_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sale_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archives_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(16), default=GalleryStatus.DRAFT)
    access: Mapped[str] = mapped_column(sa.String(16), default=GalleryAccess.PUBLIC)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    # A QR gallery hands out access cards; each client sees the photos of the cards they hold.
    is_qr: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    photos: Mapped[list["Photo"]] = relationship(
        back_populates="gallery",
        order_by="Photo.position, Photo.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    cards: Mapped[list["AccessCard"]] = relationship(
        back_populates="gallery", order_by="AccessCard.id", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        sa.UniqueConstraint("studio_id", "slug"),
        # The campaign engine reads galleries whose dates fall in a window.
        sa.Index("ix_gallery_sale_starts_at", "sale_starts_at"),
        sa.Index("ix_gallery_sale_ends_at", "sale_ends_at"),
        sa.Index("ix_gallery_archives_at", "archives_at"),
    )

    @property
    def cover_photo(self):
        return next((photo for photo in self.photos if photo.is_cover), None)


class Photo(Model):
    """An uploaded photo. The original stays private; thumbnail and watermarked preview are public
    to whoever may see the gallery."""

    id: Mapped[int] = mapped_column(primary_key=True)
    gallery_id: Mapped[int] = mapped_column(sa.ForeignKey("gallery.id", ondelete="CASCADE"), index=True)
    # Random name of the files on disk (original, thumbnail, preview); never the upload's name.
    storage_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(32))
    width: Mapped[int]
    height: Mapped[int]
    byte_size: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # At most one cover per gallery (partial unique index below); deleting it leaves no cover.
    is_cover: Mapped[bool] = mapped_column(default=False)
    # "processing" until the worker has verified and rotated it and made its previews (width
    # and height are 0 until then); "failed" with the reason when the file is not a usable photo.
    # Clients see "ready" photos only.
    processing_state: Mapped[str] = mapped_column(sa.String(16), default="ready", server_default="ready")
    processing_error: Mapped[str | None] = mapped_column(sa.Text)
    # The processing job's claim (app/galleries/processing.py): who holds it, until when.
    processing_leased_by: Mapped[str | None] = mapped_column(sa.String(32))
    processing_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the camera took it (EXIF DateTimeOriginal, the camera's wall clock): the order card
    # matching follows, a school day being shot card, child, card, child...
    taken_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # A photo of a QR card (the photographer shoots each child's card before the child): never
    # shown to clients; the photos after it, until the next card photo, belong to that card.
    card_shot_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("access_card.id", ondelete="SET NULL"))
    # Put on a card or taken off every card by the photographer (the review screen): the
    # automatic matching leaves it where it is until "Start over".
    placed_by_hand: Mapped[bool] = mapped_column(default=False)

    gallery: Mapped[Gallery] = relationship(back_populates="photos")
    cards: Mapped[list["AccessCard"]] = relationship(secondary=card_photo, back_populates="photos")

    @property
    def shown_to_clients(self):
        return self.processing_state == PhotoState.READY and self.card_shot_of_id is None

    @classmethod
    def shown_to_clients_clause(cls):
        """What clients may ever see: processed photos, never a photo of a QR card."""
        return sa.and_(cls.processing_state == PhotoState.READY, cls.card_shot_of_id.is_(None))

    __table_args__ = (
        sa.Index(
            "uq_photo_one_cover_per_gallery",
            "gallery_id",
            unique=True,
            sqlite_where=sa.text("is_cover"),
            postgresql_where=sa.text("is_cover"),
        ),
    )


class AccessCard(Model):
    """A printed card of a QR gallery: one per client or child, opened by its unguessable code."""

    id: Mapped[int] = mapped_column(primary_key=True)
    gallery_id: Mapped[int] = mapped_column(sa.ForeignKey("gallery.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(sa.String(200))
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    gallery: Mapped[Gallery] = relationship(back_populates="cards")
    photos: Mapped[list[Photo]] = relationship(
        secondary=card_photo, back_populates="cards", order_by="Photo.position, Photo.id"
    )


class Client(Model):
    """A studio's client, known by email; one client may hold cards in several galleries."""

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(254))  # normalized by email-validator, lowercase
    name: Mapped[str] = mapped_column(sa.String(200))
    language: Mapped[str] = mapped_column(sa.String(8))
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    # The exact consent text shown and when it was given: what GDPR asks us to be able to prove.
    consent_text: Mapped[str | None] = mapped_column(sa.Text)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A mobile number in E.164 (app/sms/phone.py), optional; texts only with the SMS consent,
    # kept like the email consent: the text shown and when it was given.
    phone: Mapped[str | None] = mapped_column(sa.String(16))
    sms_consent_text: Mapped[str | None] = mapped_column(sa.Text)
    sms_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Private links (sign-in, my orders) made before this instant no longer work, and browsers
    # signed in before it are signed out: the studio's "revoke links".
    links_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registrations: Mapped[list["Registration"]] = relationship(back_populates="client")
    cards: Mapped[list[AccessCard]] = relationship(secondary="card_claim", viewonly=True)

    __table_args__ = (sa.UniqueConstraint("studio_id", "email"),)


class Registration(Model):
    """A client registered to a gallery: the "after registration" email trigger's occurrence."""

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"))
    gallery_id: Mapped[int] = mapped_column(sa.ForeignKey("gallery.id", ondelete="CASCADE"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Made by the studio's class-list import, not by the client: the gallery's emails reach
    # them, but "after registration" waits until they register themselves (``registered_at``
    # then becomes that moment).
    pre_registered: Mapped[bool] = mapped_column(default=False)

    client: Mapped[Client] = relationship(back_populates="registrations")
    gallery: Mapped[Gallery] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("client_id", "gallery_id"),
        # The campaign engine looks registrations up by time, and by gallery.
        sa.Index("ix_registration_gallery_registered", "gallery_id", "registered_at"),
        sa.Index("ix_registration_registered_at", "registered_at"),
    )


class Favourite(Model):
    """A client's heart on a photo: their favourites view, and what the studio sees of them."""

    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"), primary_key=True)
    photo_id: Mapped[int] = mapped_column(
        sa.ForeignKey("photo.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UploadSession(Model):
    """A photo upload in pieces: the browser sends chunks at an offset, asks how much arrived
    after a dropped connection and goes on from there (app/galleries/uploads.py)."""

    __tablename__ = "upload_session"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)  # random, unguessable
    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), index=True)
    gallery_id: Mapped[int] = mapped_column(sa.ForeignKey("gallery.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    total_size: Mapped[int]
    received_size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The photo it became once complete (a retried last chunk finds it instead of a second one).
    photo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("photo.id", ondelete="SET NULL"))


class CardClaim(Model):
    """A client holding an access card (a parent may hold one card per child)."""

    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"), primary_key=True)
    card_id: Mapped[int] = mapped_column(
        sa.ForeignKey("access_card.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClientSignInRequest(Model):
    """A registration (or a "send me a new link") waiting for proof that the visitor reads the
    address: a one-time link and a 6-digit code are emailed; either completes it once.

    Nothing of the client changes before that proof: whoever types someone else's address gets no
    session, no registration and no card claim on that person's account.
    """

    __tablename__ = "client_sign_in_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))  # normalized like Client.email
    name: Mapped[str] = mapped_column(sa.String(200))
    language: Mapped[str] = mapped_column(sa.String(8))
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    consent_text: Mapped[str | None] = mapped_column(sa.Text)
    # The mobile number typed (E.164) and the SMS consent, applied to the client with the rest
    # once the code or link is used.
    phone: Mapped[str | None] = mapped_column(sa.String(16))
    sms_consent: Mapped[bool] = mapped_column(default=False)
    sms_consent_text: Mapped[str | None] = mapped_column(sa.Text)
    gallery_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gallery.id", ondelete="CASCADE"))
    card_id: Mapped[int | None] = mapped_column(sa.ForeignKey("access_card.id", ondelete="CASCADE"))
    # Where to go once done: "gallery" (default) or "orders".
    next_page: Mapped[str] = mapped_column(sa.String(16), default="gallery")
    # Only hashes are stored: a copy of the database does not sign anybody in.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    failed_attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    gallery: Mapped[Gallery | None] = relationship()
    card: Mapped[AccessCard | None] = relationship()
