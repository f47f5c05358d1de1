"""The SMS outbox, opted-out numbers and each studio's SMS provider."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.timeutil import UTCDateTime


class SmsState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a dispatcher under a lease
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # not sent on purpose (the number opted out)
    # The provider may have taken it (no answer after the request went out): never sent again
    # blindly, as the mail outbox's "unknown".
    UNKNOWN = "unknown"


class SmsMessage(Model):
    """One text to one number, final when queued."""

    __tablename__ = "sms_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int | None] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))  # campaign / notification / test
    state: Mapped[str] = mapped_column(sa.String(16), default=SmsState.QUEUED)
    # Like the mail outbox's: "<source>:<occurrence>:<recipient>", unique, so an event or a tick
    # handled twice (or in two processes) queues one text.
    dedup_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    recipient: Mapped[str] = mapped_column(sa.String(16))  # E.164
    body: Mapped[str] = mapped_column(sa.Text)
    segments: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_by: Mapped[str | None] = mapped_column(sa.String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(64))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    gallery_id: Mapped[int | None]
    source: Mapped[str | None] = mapped_column(sa.String(64))

    __table_args__ = (
        sa.Index("ix_sms_claim", "state", "due_at"),
        # An order's texts on its page, a studio's in activity.
        sa.Index("ix_sms_message_studio_source", "studio_id", "source"),
    )


class SmsSuppression(Model):
    """A number that replied STOP: no more texts from that studio."""

    __tablename__ = "sms_suppression"

    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    reason: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StudioSmsSettings(Model):
    """A studio's SMS provider (the platform's when it has none)."""

    __tablename__ = "studio_sms_settings"

    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(16))  # "46elks"
    username: Mapped[str] = mapped_column(sa.String(64))
    # Fernet token (app.mailing.crypto), never shown back.
    password_encrypted: Mapped[str] = mapped_column(sa.Text)
    sender: Mapped[str] = mapped_column(sa.String(16))  # a number, or an 11-character name
    rate_per_minute: Mapped[int] = mapped_column(default=60)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
