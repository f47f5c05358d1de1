"""Preview and test sends: the email as a client will receive it, through the real rendering and
(for a test) the real outbox path."""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import force_locale

from app.extensions import db
from app.galleries.models import Client, Gallery, Registration
from app.mailing.models import MailKind
from app.mailing.outbox import queue_message
from app.mailing.services import studio_sender
from app.shop.models import Order, Promotion
from app.workflows.models import GalleryWorkflow
from app.workflows.rendering import personalize, prepare
from app.workflows.values import recipient_values
from app.workflows.variables import sample_values

# Variables computed from the gallery alone, usable when it has no registered client yet.
GALLERY_VARIABLES = ("gallery_title", "sale_start_date", "sale_end_date", "archive_date",
                     "promotion_name", "promotion_discount", "promotion_end_date",
                     "studio_name", "studio_email")


@dataclass
class Preview:
    """A rendered email and where its values came from."""

    subject: str
    html: str
    text: str
    gallery: Gallery | None = None
    client: Client | None = None
    sampled: list = field(default_factory=list)  # variables the email uses, filled with samples

    @property
    def real(self):
        return self.client is not None


def sample_recipient(workflow, gallery=None):
    """A real gallery (``gallery``, else one using this workflow, else the newest) and its
    first registered client."""
    gallery = gallery or db.session.scalar(sa.select(Gallery).join(
        GalleryWorkflow, GalleryWorkflow.gallery_id == Gallery.id).where(
        GalleryWorkflow.workflow_id == workflow.id).order_by(Gallery.id).limit(1)) or db.session.scalar(
        sa.select(Gallery).where(Gallery.studio_id == workflow.studio_id)
        .order_by(Gallery.created_at.desc(), Gallery.id.desc()).limit(1))
    if gallery is None:
        return None, None
    client = db.session.scalar(sa.select(Client).join(
        Registration, Registration.client_id == Client.id).where(
        Registration.gallery_id == gallery.id).order_by(Registration.registered_at).limit(1))
    return gallery, client


def _latest(model, *conditions, order_by):
    return db.session.scalar(sa.select(model).where(*conditions).order_by(order_by.desc())
                             .limit(1))


def _real_values(needed, studio, gallery, client, language):
    """The values a real recipient would get; the gallery's latest promotion and the client's
    latest order stand in for the occurrence that a real send would have."""
    promotion = _latest(Promotion, Promotion.gallery_id == gallery.id,
                        order_by=Promotion.ends_at)
    order = client and _latest(Order, Order.client_id == client.id,
                               Order.studio_id == studio.id, order_by=Order.placed_at)
    if client is None:
        needed = [name for name in needed if name in GALLERY_VARIABLES]
    with force_locale(language):
        values = recipient_values(needed, studio=studio, gallery=gallery, client=client,
                                  language=language, promotion=promotion, order=order or None)
    return {name: value for name, value in values.items() if value not in ("", None)}


def render_for_preview(email, studio, gallery=None):
    """The ``email`` of ``studio``'s workflow rendered exactly as campaign mail is (``prepare``
    then ``personalize``), filled from a real gallery and client when the studio has one, with
    sample values for whatever the real data cannot give (no promotion yet, no order...)."""
    gallery, client = sample_recipient(email.workflow, gallery)
    language = (client.language if client else None) or studio.language
    prepared = prepare(email.subject, email.body_html, language)
    real = _real_values(prepared.variables, studio, gallery, client, language) if gallery else {}
    values = sample_values() | {"studio_name": studio.name, "studio_email": studio.email} | real
    subject, html, text = personalize(prepared, values)
    sampled = [name for name in prepared.variables
               if name not in real and name not in ("studio_name", "studio_email")]
    return Preview(subject, html, text, gallery, client, sorted(set(sampled)))


def queue_test(email, studio, to, now, gallery=None):
    """Queue ``email`` rendered as in the preview to ``to``, its subject marked [Test], as an
    outbox row like every real message (flushed; the route commits, then dispatches it)."""
    preview = render_for_preview(email, studio, gallery)
    return queue_message(kind=MailKind.TEST, studio_id=studio.id,
                         sender=studio_sender(studio.id, studio.name), recipient=to,
                         subject=f"[Test] {preview.subject}", html=preview.html,
                         text=preview.text, now=now, reply_to=studio.email,
                         headers={"X-Proofsheet-Studio": str(studio.id)},
                         gallery_id=preview.gallery.id if preview.gallery else None,
                         source=f"workflow_email:{email.id}")
