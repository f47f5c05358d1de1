"""Email workflows: a studio's sequences of emails, each with a trigger, a rule and a filter.

Predefined templates live in code (templates.py, translatable); a studio duplicates one into
these tables. A gallery uses at most one workflow (GalleryWorkflow: the workflows package knows
galleries, not the other way round).
"""

from datetime import datetime, time
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.timeutil import UTCDateTime


class Trigger(StrEnum):
    SALE_START = "sale_start"
    SALE_END = "sale_end"
    ARCHIVE = "archive"
    PROMOTION_EXPIRY = "promotion_expiry"
    REGISTRATION = "registration"
    ORDER = "order"
    CART = "cart"

    @property
    def is_date(self):
        """Date triggers happen at a known future moment, so "days before" makes sense."""
        return self in (Trigger.SALE_START, Trigger.SALE_END, Trigger.ARCHIVE, Trigger.PROMOTION_EXPIRY)


class Rule(StrEnum):
    INSTANT = "instant"
    DAYS_BEFORE = "before"
    DAYS_AFTER = "after"


class RecipientFilter(StrEnum):
    ALL = "all"
    ORDERED = "ordered"
    NOT_ORDERED = "not_ordered"


class Workflow(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    template_key: Mapped[str | None] = mapped_column(sa.String(40))  # what it was copied from
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)  # "last saved"

    emails: Mapped[list["WorkflowEmail"]] = relationship(
        back_populates="workflow",
        order_by="WorkflowEmail.position, WorkflowEmail.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Purpose(StrEnum):
    """Why a client gets a workflow email: a *service* email (the gallery is ready, it will be
    archived) goes to every registered client; a *marketing* one (promotions, reminders) only to
    clients who ticked "news and offers"."""

    SERVICE = "service"
    MARKETING = "marketing"


class WorkflowEmail(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(sa.ForeignKey("workflow.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(sa.String(24))
    rule: Mapped[str] = mapped_column(sa.String(16))
    days: Mapped[int] = mapped_column(default=0)
    send_time: Mapped[time | None] = mapped_column(sa.Time)  # studio-local wall clock
    recipient_filter: Mapped[str] = mapped_column(sa.String(16), default=RecipientFilter.ALL)
    # Marketing unless said otherwise: without consent, a client gets nothing by mistake.
    purpose: Mapped[str] = mapped_column(
        sa.String(16), default=Purpose.MARKETING, server_default=Purpose.MARKETING.value
    )
    subject: Mapped[str] = mapped_column(sa.String(200))
    body_html: Mapped[str] = mapped_column(sa.Text)  # sanitized on save, and again on render
    # The text message variant: sent with the email, at the same instant, to the recipients with
    # a mobile number and the SMS consent (app/workflows/sms.py).
    sms_enabled: Mapped[bool] = mapped_column(default=False)
    sms_body: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    workflow: Mapped[Workflow] = relationship(back_populates="emails")

    __table_args__ = (
        sa.CheckConstraint("days >= 0 AND days <= 365", name="days_in_range"),
        sa.Index("ix_workflow_email_trigger", "trigger", "rule", "days"),
        # A workflow's emails of one schedule, read from the index alone: the tick joins each
        # due occurrence to its gallery's workflow emails this way (SQLite otherwise read every
        # email row of the workflow, bodies and all: 84 ms against 43 for 10,000 due rows).
        # Also the foreign key's index.
        sa.Index("ix_workflow_email_schedule", "workflow_id", "trigger", "rule", "days", "send_time"),
    )


class WorkflowEmailTranslation(Model):
    """A workflow email's subject and message in another language than the studio's: clients
    who chose that language get it; the others get the email's own (the studio's language)."""

    __tablename__ = "workflow_email_translation"

    email_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workflow_email.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(200))
    body_html: Mapped[str] = mapped_column(sa.Text)  # sanitized on save, and again on render
    # The text message in this language; None or empty: the email's own text.
    sms_body: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GalleryWorkflow(Model):
    """The workflow a gallery uses."""

    gallery_id: Mapped[int] = mapped_column(sa.ForeignKey("gallery.id", ondelete="CASCADE"), primary_key=True)
    workflow_id: Mapped[int] = mapped_column(sa.ForeignKey("workflow.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)

    workflow: Mapped[Workflow] = relationship()


class OccurrenceKind(StrEnum):
    """What a workflow email's occurrence is: one per gallery date, promotion, registration,
    order or cart (ARCHITECTURE.md's schedule table)."""

    GALLERY = "gallery"
    PROMOTION = "promotion"
    REGISTRATION = "registration"
    ORDER = "order"
    CART = "cart"


class CampaignOccurrence(Model):
    """A (workflow email, occurrence) the tick has dealt with: queued to N recipients, or sent on
    purpose after it was missed. Its primary key is what makes a second tick a no-op."""

    workflow_email_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workflow_email.id", ondelete="CASCADE"), primary_key=True
    )
    occurrence_kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(primary_key=True)
    gallery_id: Mapped[int] = mapped_column(sa.ForeignKey("gallery.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(default=0)
    manual: Mapped[bool] = mapped_column(default=False)  # sent with "send now" after being missed
    # Due while its gallery took no campaign mail: not sent, shown as missed with "send now".
    missed: Mapped[bool] = mapped_column(default=False)
    # Not sent on purpose, and why ("sale_closed", "ordered", "cart_gone", ...): shown on the
    # timeline as skipped. Server defaults: the tick's bulk insert may leave both out.
    skip_reason: Mapped[str | None] = mapped_column(sa.String(32))
    # Recipients left out of a marketing email because they did not consent to news and offers.
    without_consent: Mapped[int] = mapped_column(server_default="0")

    __table_args__ = (
        # How the tick looks up what it dealt with: by the occurrence (see due._no_record).
        sa.Index("ix_campaign_occurrence_occurrence", "occurrence_id", "occurrence_kind"),
    )


class EngineState(Model):
    """Small shared facts of the campaign engine, such as how far the ticks have looked."""

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[datetime] = mapped_column(UTCDateTime)
