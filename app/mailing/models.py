"""The outbox (every message we send, whatever its kind), suppressions and per-studio send state.

This package imports no feature package: studios are referred to by id (a foreign key by table
name), and messages carry their rendered subject, HTML and text.
"""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.timeutil import UTCDateTime


class MailKind(StrEnum):
    CAMPAIGN = "campaign"  # workflow emails: unsubscribable, suppressed addresses skipped
    TRANSACTIONAL = "transactional"  # links, order confirmations: always sent
    NOTIFICATION = "notification"  # order status emails
    TEST = "test"  # "send test email" from the admin


class MailState(StrEnum):
    QUEUED = "queued"
    HELD = "held"  # waiting for an operator's review
    SENDING = "sending"  # claimed by a dispatcher under a lease
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the server went silent after the message's final dot: review it
    CANCELLED = "cancelled"
    SKIPPED = "skipped"  # not sent on purpose (unsubscribed, bounced address, expired)
    MISSED = "missed"  # its moment passed before it could be queued (campaigns)


class OutboxMessage(Model):
    """One message to one recipient, rendered when it was queued."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int | None] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[str] = mapped_column(sa.String(16), default=MailState.QUEUED)
    # Campaign mail: "<workflow email>:<occurrence>:<recipient>", unique, so a tick that runs
    # twice (or in two processes) queues it once. NULL for other kinds.
    dedup_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    sender: Mapped[str] = mapped_column(sa.String(320))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    recipient_name: Mapped[str] = mapped_column(sa.String(200), default="")
    reply_to: Mapped[str | None] = mapped_column(sa.String(320))
    cc: Mapped[str] = mapped_column(sa.Text, default="")  # comma-separated addresses
    subject: Mapped[str] = mapped_column(sa.String(998))
    html: Mapped[str] = mapped_column(sa.Text)
    # The body before the layout, kept for messages held for review: the reviewer edits it as
    # rich text and the message is laid out again.
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    text: Mapped[str] = mapped_column(sa.Text)
    headers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    message_id: Mapped[str] = mapped_column(sa.String(200))  # fixed at queue time: retries keep it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # not sent before
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # not retried after
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_by: Mapped[str | None] = mapped_column(sa.String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # What the activity pages group by; plain ids, no foreign keys into feature packages.
    gallery_id: Mapped[int | None]
    source: Mapped[str | None] = mapped_column(sa.String(64))  # e.g. "workflow_email:12"
    # Carries a secret (password reset, sign-in link or code, invitation): its body is never shown
    # in the admin, and it goes through the platform's server, never a studio's own.
    is_sensitive: Mapped[bool] = mapped_column(default=False)

    attachments: Mapped[list["OutboxAttachment"]] = relationship(
        order_by="OutboxAttachment.id", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        # The dispatcher's claim: due queued rows, and sending rows whose lease ran out.
        sa.Index("ix_outbox_claim", "state", "due_at"),
        sa.Index("ix_outbox_studio_state", "studio_id", "state"),
    )


class Suppression(Model):
    """An address that gets no more campaign mail from a studio (unsubscribed or bounced)."""

    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), primary_key=True)
    reason: Mapped[str] = mapped_column(sa.String(32))  # unsubscribed / bounced
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StudioMailState(Model):
    """Per-studio sending state shared by every dispatcher process: the send-rate window and a
    pause set when the server refuses us on policy or authentication grounds (5.7.x)."""

    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_in_window: Mapped[int] = mapped_column(default=0)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(sa.Text)


class StudioMailSettings(Model):
    """A studio's own sender identity and SMTP server (Settings → Email)."""

    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), primary_key=True)
    sender_email: Mapped[str] = mapped_column(sa.String(254))
    sender_name: Mapped[str] = mapped_column(sa.String(120), default="")
    reply_to: Mapped[str | None] = mapped_column(sa.String(254))
    default_cc: Mapped[str] = mapped_column(sa.Text, default="")  # "a@x; b@y"
    allow_operator_cc: Mapped[bool] = mapped_column(default=False)
    allow_operator_attachments: Mapped[bool] = mapped_column(default=False)
    smtp_host: Mapped[str | None] = mapped_column(sa.String(255))
    smtp_port: Mapped[int] = mapped_column(default=25)
    security: Mapped[str] = mapped_column(sa.String(16), default="none")  # none/starttls/ssl
    allow_self_signed: Mapped[bool] = mapped_column(default=False)
    username: Mapped[str | None] = mapped_column(sa.String(255))
    # Fernet token (key derived from SECRET_KEY); never shown back in the form.
    password_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxAttachment(Model):
    """A file sent with an outbox message (an order PDF, an operator's file)."""

    __tablename__ = "outbox_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("outbox_message.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class SenderDomain(Model):
    """The domain a studio sends its mail from, with its DKIM key and the last DNS check.

    Until its records check out (``verified_at``), the studio's mail goes out from the
    platform's address ("Studio via Proofsheet"): a From on an unverified domain would fail
    DMARC at Gmail and Yahoo.
    """

    __tablename__ = "sender_domain"

    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), primary_key=True)
    domain: Mapped[str] = mapped_column(sa.String(253))  # lowercase, IDNA (xn--) form
    dkim_selector: Mapped[str] = mapped_column(sa.String(63))
    # Fernet token of the PEM private key (key derived from SECRET_KEY), never shown.
    dkim_private_key_encrypted: Mapped[str] = mapped_column(sa.Text)
    dkim_public_key: Mapped[str] = mapped_column(sa.Text)  # base64 DER: the record's p= value
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # {"spf"|"dkim"|"dmarc": {"ok": bool, "found": [records], "message": str}}
    check_results: Mapped[dict] = mapped_column(sa.JSON, default=dict)
