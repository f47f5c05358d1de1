"""Workflow services: duplicate templates and workflows, add, rename, delete, assign; emails.

Services take ``now``, flush and never commit.
"""

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.galleries.models import Gallery
from app.workflows.models import (
    GalleryWorkflow,
    RecipientFilter,
    Rule,
    Trigger,
    Workflow,
    WorkflowEmail,
)
from app.workflows.sanitize import sanitize
from app.workflows.templates import TEMPLATES, render_body
from app.workflows.variables import unknown_variables

EMAIL_FIELDS = ("trigger", "rule", "days", "send_time", "recipient_filter", "subject", "body_html")


def email_settings_problems(trigger, rule, days, send_time, recipient_filter, subject, body_html):
    """{field: message} for every rule an email's settings break (empty when valid)."""
    problems = {}
    if rule == Rule.DAYS_BEFORE and not Trigger(trigger).is_date:
        problems["rule"] = _l("“Days before” only works with a date: sale start, sale end, "
                              "archiving or promotion expiry.")
    if days is None or not 0 <= days <= 365:
        problems["days"] = _l("Days must be between 0 and 365.")
    if rule != Rule.INSTANT and send_time is None:
        problems["send_time"] = _l("Choose the time of day to send this email.")
    if recipient_filter == RecipientFilter.NOT_ORDERED and trigger == Trigger.ORDER:
        problems["recipient_filter"] = _l("An email sent after an order always goes to a client "
                                          "who ordered: choose “all clients”.")
    if subject is None or not subject.strip():
        problems["subject"] = _l("Please write a subject.")
    elif "\r" in subject or "\n" in subject:
        problems["subject"] = _l("The subject must be on one line.")
    unknown = unknown_variables(subject or "", body_html or "")
    if unknown:
        names = ", ".join(f"%{name}%" for name in unknown)
        target = "subject" if unknown_variables(subject or "") else "body_html"
        problems.setdefault(target, _l("Unknown variable: %(names)s.", names=names))
    return problems


def _copy_email(source, position, now):
    return WorkflowEmail(trigger=source.trigger, rule=source.rule, days=source.days,
                         send_time=source.send_time, recipient_filter=source.recipient_filter,
                         subject=str(source.subject), body_html=sanitize(source.body_html),
                         position=position, created_at=now, updated_at=now)


def duplicate_template(studio, key, title, now):
    """A studio workflow copied from a predefined template, written in the studio's language."""
    template = TEMPLATES[key]
    with force_locale(studio.language):
        workflow = Workflow(studio_id=studio.id, title=title.strip(), template_key=key,
                            created_at=now, updated_at=now)
        for position, email in enumerate(template.emails):
            workflow.emails.append(WorkflowEmail(
                trigger=email.trigger, rule=email.rule, days=email.days,
                send_time=email.send_time, recipient_filter=email.recipient_filter,
                subject=str(email.subject), body_html=sanitize(render_body(email.body_html)),
                position=position, created_at=now, updated_at=now))
    db.session.add(workflow)
    db.session.flush()
    return workflow


def duplicate_workflow(source, title, now):
    """A copy of one of the studio's workflows with every email."""
    workflow = Workflow(studio_id=source.studio_id, title=title.strip(),
                        template_key=source.template_key, created_at=now, updated_at=now)
    workflow.emails = [_copy_email(email, position, now)
                       for position, email in enumerate(source.emails)]
    db.session.add(workflow)
    db.session.flush()
    return workflow


def create_workflow(studio, title, now):
    workflow = Workflow(studio_id=studio.id, title=title.strip(), created_at=now, updated_at=now)
    db.session.add(workflow)
    db.session.flush()
    return workflow


def rename_workflow(workflow, title, now):
    workflow.title, workflow.updated_at = title.strip(), now


def galleries_using(workflow_id):
    return db.session.scalars(sa.select(Gallery).join(
        GalleryWorkflow, GalleryWorkflow.gallery_id == Gallery.id).where(
        GalleryWorkflow.workflow_id == workflow_id).order_by(Gallery.title)).all()


def delete_workflow(workflow):
    """Delete a workflow; the galleries using it are left without one (their assignment goes)."""
    db.session.execute(sa.delete(GalleryWorkflow).where(
        GalleryWorkflow.workflow_id == workflow.id))
    db.session.delete(workflow)
    db.session.flush()


def save_email(workflow, email, values, now):
    """Create (``email`` None) or update an email from validated ``values``; sanitizes the body."""
    if email is None:
        email = WorkflowEmail(created_at=now, position=len(workflow.emails))
        workflow.emails.append(email)
    for name in EMAIL_FIELDS:
        setattr(email, name, values[name])
    if email.rule == Rule.INSTANT:
        email.days, email.send_time = 0, None
    email.subject = email.subject.strip()
    email.body_html = sanitize(email.body_html)
    email.updated_at = workflow.updated_at = now
    db.session.flush()
    return email


def delete_email(workflow, email, now):
    workflow.emails.remove(email)
    workflow.updated_at = now
    db.session.flush()


def assign_workflow(gallery, workflow, now):
    """Make ``workflow`` (or None) the gallery's workflow."""
    current = db.session.get(GalleryWorkflow, gallery.id)
    if workflow is None:
        if current is not None:
            db.session.delete(current)
    elif current is None:
        db.session.add(GalleryWorkflow(gallery_id=gallery.id, workflow_id=workflow.id,
                                       assigned_at=now))
    elif current.workflow_id != workflow.id:
        current.workflow_id, current.assigned_at = workflow.id, now
    db.session.flush()


def gallery_workflow(gallery_id):
    assignment = db.session.get(GalleryWorkflow, gallery_id)
    return assignment.workflow if assignment else None


def studio_workflows(studio_id):
    """The studio's workflows with their email and gallery counts, newest saved first."""
    email_count = (sa.select(sa.func.count(WorkflowEmail.id))
                   .where(WorkflowEmail.workflow_id == Workflow.id).scalar_subquery())
    gallery_count = (sa.select(sa.func.count(GalleryWorkflow.gallery_id))
                     .where(GalleryWorkflow.workflow_id == Workflow.id).scalar_subquery())
    return db.session.execute(
        sa.select(Workflow, email_count, gallery_count).where(Workflow.studio_id == studio_id)
        .order_by(Workflow.updated_at.desc(), Workflow.id.desc())).all()
