"""Preview and test sends: the email as a client will receive it, through the real rendering and
(for a test) the real outbox path."""

import sqlalchemy as sa
from flask_babel import force_locale

from app.extensions import db
from app.galleries.models import Client, Gallery, Registration
from app.mailing.dispatch import dispatch
from app.mailing.models import MailKind
from app.mailing.outbox import queue_message
from app.mailing.services import studio_sender
from app.workflows.models import GalleryWorkflow
from app.workflows.rendering import personalize, prepare
from app.workflows.values import recipient_values
from app.workflows.variables import sample_values


def sample_recipient(workflow):
    """A real gallery (one using this workflow, else any) and one of its clients, or Nones."""
    gallery = db.session.scalar(sa.select(Gallery).join(
        GalleryWorkflow, GalleryWorkflow.gallery_id == Gallery.id).where(
        GalleryWorkflow.workflow_id == workflow.id).limit(1)) or db.session.scalar(
        sa.select(Gallery).where(Gallery.studio_id == workflow.studio_id)
        .order_by(Gallery.created_at.desc()).limit(1))
    if gallery is None:
        return None, None
    client = db.session.scalar(sa.select(Client).join(
        Registration, Registration.client_id == Client.id).where(
        Registration.gallery_id == gallery.id).order_by(Registration.registered_at).limit(1))
    return gallery, client


def render_for_preview(email, studio):
    """(subject, html, text, uses_real_data) for ``email`` of ``studio``'s workflow."""
    gallery, client = sample_recipient(email.workflow)
    prepared = prepare(email.subject, email.body_html, studio.name, studio.language)
    values = sample_values() | {"studio_name": studio.name, "studio_email": studio.email}
    if gallery is not None and client is not None:
        with force_locale(client.language or studio.language):
            values |= recipient_values(prepared.variables, studio=studio, gallery=gallery,
                                       client=client, language=client.language)
    elif gallery is not None:
        values |= {"gallery_title": gallery.title}
    subject, html, text = personalize(prepared, values)
    return subject, html, text, client is not None


def send_test(email, studio, to, now):
    """Queue the rendered email to ``to`` marked [Test], then send it now. Returns the row."""
    subject, html, text, _real = render_for_preview(email, studio)
    row = queue_message(kind=MailKind.TEST, studio_id=studio.id,
                        sender=studio_sender(studio.id, studio.name), recipient=to,
                        subject=f"[Test] {subject}", html=html, text=text, now=now,
                        reply_to=studio.email, headers={"X-Proofsheet-Studio": str(studio.id)},
                        source=f"workflow_email:{email.id}")
    db.session.commit()
    dispatch(now, worker="test-send", ids=[row.id])
    db.session.refresh(row)
    return row
