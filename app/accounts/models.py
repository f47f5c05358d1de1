"""Studios (the photographer's business) and their staff users."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.timeutil import UTCDateTime


class Role(StrEnum):
    OWNER = "owner"
    OPERATOR = "operator"


class Studio(Model):
    """A photography studio: the tenant every admin query is scoped to."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    # Public URLs read /g/<studio slug>/<gallery slug>.
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    timezone: Mapped[str] = mapped_column(sa.String(64))
    currency: Mapped[str] = mapped_column(sa.String(3))
    language: Mapped[str] = mapped_column(sa.String(8))
    # The languages its clients may choose, comma-separated ("sv,en"); empty: every language
    # the site has. The studio's own language is always one of them.
    client_languages: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    # ISO 3166 alpha-2: listed first among delivery countries, the default for phone numbers.
    country: Mapped[str | None] = mapped_column(sa.String(2))
    watermark_text: Mapped[str | None] = mapped_column(sa.String(80))
    invoice_details: Mapped[str | None] = mapped_column(sa.Text)  # address, tax number: on invoices
    # The postal address in every campaign email's footer (CAN-SPAM, Gmail's bulk-sender rules):
    # campaigns do not go out without it.
    postal_address: Mapped[str | None] = mapped_column(sa.Text)
    # The logo file under <uploads>/studios/<id>/, named by its content hash (a new logo is a
    # new URL, so mail clients and browsers never show a stale one).
    logo_filename: Mapped[str | None] = mapped_column(sa.String(120))
    # "#RRGGBB", lowercase: buttons and links on client pages, in emails, on QR cards and PDFs.
    accent_color: Mapped[str | None] = mapped_column(sa.String(7))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    users: Mapped[list["User"]] = relationship(back_populates="studio", order_by="User.id")

    @property
    def watermark(self):
        return self.watermark_text or self.name


class User(UserMixin, Model):
    """A staff member of a studio: its owner or an operator."""

    __tablename__ = "staff_user"  # "user" is a reserved word in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), index=True)
    # One login email identifies one staff user across the platform.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default=Role.OPERATOR)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of every session's and remember cookie's identity (``get_id``): raising it on log-out,
    # password change or reset, or "sign out everywhere", ends every session made before.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The admin's language for this staff member; None: the studio's language.
    language: Mapped[str | None] = mapped_column(sa.String(8))

    studio: Mapped[Studio] = relationship(back_populates="users")

    @property
    def is_owner(self):
        return self.role == Role.OWNER

    def get_id(self):
        """Flask-Login's identity of this user's sessions: "<id>:<session version>"."""
        return f"{self.id}:{self.session_version}"


class Invitation(Model):
    """An operator invited by email who has not yet set a password."""

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("studio_id", "email"),)


class PendingSignup(Model):
    """A studio sign-up waiting for its email to be confirmed: the studio is created only from
    the emailed link, so the sign-up page never tells whether an address has an account."""

    __tablename__ = "pending_signup"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    studio_name: Mapped[str] = mapped_column(sa.String(120))
    owner_name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    timezone: Mapped[str] = mapped_column(sa.String(64))
    currency: Mapped[str] = mapped_column(sa.String(3))
    language: Mapped[str] = mapped_column(sa.String(8))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)  # never the token itself
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
