"""Factories for workflows and their emails."""

from datetime import time

from app.extensions import db
from app.workflows.models import (
    GalleryWorkflow,
    Purpose,
    RecipientFilter,
    Rule,
    Workflow,
    WorkflowEmail,
)
from tests.factories import NOW


def make_workflow(studio, title="Spring school", emails=()):
    workflow = Workflow(studio_id=studio.id, title=title, created_at=NOW, updated_at=NOW)
    for position, spec in enumerate(emails):
        workflow.emails.append(make_email(position=position, **spec))
    db.session.add(workflow)
    db.session.commit()
    return workflow


def make_email(
    trigger,
    rule=Rule.INSTANT,
    days=0,
    send_time=None,
    recipient_filter=RecipientFilter.ALL,
    subject="Hello %client_name%",
    body_html="<p>Your gallery %gallery_title% is open.</p>",
    position=0,
    purpose=Purpose.SERVICE,
):
    """A workflow email; a service one unless said otherwise, so that a test about schedules
    reaches clients who gave no marketing consent (the consent tests pass ``purpose``)."""
    if isinstance(send_time, str):
        hours, minutes = map(int, send_time.split(":"))
        send_time = time(hours, minutes)
    return WorkflowEmail(
        trigger=trigger,
        rule=rule,
        days=days,
        send_time=send_time,
        recipient_filter=recipient_filter,
        subject=subject,
        body_html=body_html,
        position=position,
        purpose=purpose,
        created_at=NOW,
        updated_at=NOW,
    )


def assign(gallery, workflow, at=NOW):
    db.session.merge(GalleryWorkflow(gallery_id=gallery.id, workflow_id=workflow.id, assigned_at=at))
    db.session.commit()
