"""The "Email activity" page: what was sent, what failed and why, what waits; retry, cancel,
resume a paused studio. Per gallery and per workflow."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app import timeutil
from app.extensions import db
from app.galleries.models import Gallery
from app.mailing import activity
from app.mailing.dispatch import resume_studio
from app.mailing.models import MailState
from app.sms.models import SmsMessage, SmsState
from app.sms.phone import display_phone
from app.workflows.models import Workflow, WorkflowEmail

bp = Blueprint("activity", __name__, url_prefix="/admin/activity")

STATE_LABELS = {
    MailState.QUEUED: _l("Waiting to be sent"),
    MailState.HELD: _l("Held for review"),
    MailState.SENDING: _l("Sending"),
    MailState.SENT: _l("Sent"),
    MailState.FAILED: _l("Failed"),
    MailState.UNKNOWN: _l("In doubt"),
    MailState.SKIPPED: _l("Skipped"),
    MailState.CANCELLED: _l("Cancelled"),
}


TEXT_STATE_LABELS = {
    SmsState.QUEUED: _l("Waiting to be sent"),
    SmsState.SENDING: _l("Sending"),
    SmsState.SENT: _l("Sent"),
    SmsState.FAILED: _l("Failed"),
    SmsState.SKIPPED: _l("Skipped"),
    SmsState.UNKNOWN: _l("In doubt"),
}
TEXTS_SHOWN = 200


def _int_arg(name):
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _studio_gallery(gallery_id):
    if gallery_id is None:
        return None
    gallery = db.session.get(Gallery, gallery_id)
    if gallery is None or gallery.studio_id != current_user.studio_id:
        abort(404)
    return gallery


def _studio_workflow(workflow_id):
    if workflow_id is None:
        return None
    workflow = db.session.get(Workflow, workflow_id)
    if workflow is None or workflow.studio_id != current_user.studio_id:
        abort(404)
    return workflow


def _sources(workflow):
    return None if workflow is None else [f"workflow_email:{email.id}" for email in workflow.emails]


def _names(rows):
    """Gallery titles and workflow email subjects for the rows shown."""
    gallery_ids = {row.gallery_id for row in rows if row.gallery_id}
    galleries = dict(
        db.session.execute(
            sa.select(Gallery.id, Gallery.title).where(
                Gallery.id.in_(gallery_ids), Gallery.studio_id == current_user.studio_id
            )
        ).all()
    )
    email_ids = {
        int(row.source.split(":")[1])
        for row in rows
        if row.source and row.source.startswith("workflow_email:")
    }
    workflows = dict(
        db.session.execute(
            sa.select(WorkflowEmail.id, Workflow.title)
            .join(Workflow)
            .where(WorkflowEmail.id.in_(email_ids), Workflow.studio_id == current_user.studio_id)
        ).all()
    )
    return galleries, workflows


def _filter_choices(studio_id):
    """The studio's galleries and workflows, (id, title) by title, for the filter bar of both
    pages (emails and texts)."""
    return {
        "all_galleries": db.session.execute(
            sa.select(Gallery.id, Gallery.title).where(Gallery.studio_id == studio_id).order_by(Gallery.title)
        ).all(),
        "all_workflows": db.session.execute(
            sa.select(Workflow.id, Workflow.title)
            .where(Workflow.studio_id == studio_id)
            .order_by(Workflow.title)
        ).all(),
    }


@bp.get("/")
@login_required
def index():
    """The studio's mail by state, filtered by gallery and workflow."""
    studio_id = current_user.studio_id
    gallery = _studio_gallery(_int_arg("gallery"))
    workflow = _studio_workflow(_int_arg("workflow"))
    state = request.args.get("state", MailState.FAILED)
    if state not in {s.value for s in activity.LISTED_STATES}:
        state = MailState.FAILED
    sources = _sources(workflow)
    gallery_id = gallery.id if gallery else None
    counts = activity.state_counts(studio_id, gallery_id, sources)
    rows = activity.messages(studio_id, state, gallery_id, sources)
    galleries, workflow_titles = _names(rows)
    return render_template(
        "workflows/activity.html",
        rows=rows,
        state=state,
        counts=counts,
        labels=STATE_LABELS,
        gallery=gallery,
        workflow=workflow,
        gallery_titles=galleries,
        workflow_titles=workflow_titles,
        pause=activity.pause_state(studio_id),
        **_filter_choices(studio_id),
    )


def _text_filters(studio_id, gallery, workflow):
    """The conditions that pick the studio's texts of the chosen gallery and workflow."""
    conditions = [SmsMessage.studio_id == studio_id]
    if gallery is not None:
        conditions.append(SmsMessage.gallery_id == gallery.id)
    sources = _sources(workflow)
    if sources is not None:
        conditions.append(SmsMessage.source.in_(sources))
    return conditions


def studio_texts(studio_id, gallery=None, workflow=None, state=None, limit=TEXTS_SHOWN):
    """({state: count}, the newest texts in ``state`` or in any): the studio's text messages,
    of one gallery and workflow when chosen."""
    conditions = _text_filters(studio_id, gallery, workflow)
    counts = dict(
        db.session.execute(
            sa.select(SmsMessage.state, sa.func.count()).where(*conditions).group_by(SmsMessage.state)
        ).all()
    )
    if state is not None:
        conditions.append(SmsMessage.state == state)
    rows = db.session.scalars(
        sa.select(SmsMessage)
        .where(*conditions)
        .order_by(sa.func.coalesce(SmsMessage.sent_at, SmsMessage.due_at).desc(), SmsMessage.id.desc())
        .limit(limit)
    ).all()
    return counts, rows


@bp.get("/texts")
@login_required
def texts():
    """The studio's text messages (workflow texts, order texts, tests): to whom, their state,
    when, and the provider's reason when one failed; by gallery, workflow and state."""
    studio_id = current_user.studio_id
    gallery = _studio_gallery(_int_arg("gallery"))
    workflow = _studio_workflow(_int_arg("workflow"))
    state = request.args.get("state") or None
    if state not in {s.value for s in SmsState}:
        state = None
    counts, rows = studio_texts(studio_id, gallery, workflow, state)
    galleries, workflow_titles = _names(rows)
    return render_template(
        "workflows/activity_texts.html",
        rows=rows,
        state=state,
        counts=counts,
        labels=TEXT_STATE_LABELS,
        gallery=gallery,
        workflow=workflow,
        gallery_titles=galleries,
        workflow_titles=workflow_titles,
        display_phone=display_phone,
        shown=TEXTS_SHOWN,
        **_filter_choices(studio_id),
    )


def _act(message_id, action):
    row = activity.owned_message(current_user.studio_id, message_id)
    if row is None:
        abort(404)
    try:
        action(row)
    except activity.ActionRefused as refusal:
        flash(str(refusal), "error")
        return False
    db.session.commit()
    return True


@bp.post("/messages/<int:message_id>/retry")
@login_required
def retry(message_id):
    """Queue a failed message again; the next dispatch sends it."""
    if _act(message_id, lambda row: activity.retry(row, timeutil.now())):
        flash(_("The message will be sent again within a minute."), "success")
    return redirect(request.referrer or url_for(".index"))


@bp.post("/messages/<int:message_id>/cancel")
@login_required
def cancel(message_id):
    """Cancel a message that has not been sent yet."""
    if _act(message_id, activity.cancel):
        flash(_("The message was cancelled."), "success")
    return redirect(request.referrer or url_for(".index"))


@bp.post("/messages/<int:message_id>/delivered")
@login_required
def delivered(message_id):
    """Confirm that a message in doubt did arrive."""
    if _act(message_id, lambda row: activity.mark_delivered(row, timeutil.now())):
        flash(_("Marked as delivered."), "success")
    return redirect(request.referrer or url_for(".index"))


@bp.get("/messages/<int:message_id>")
@login_required
def message(message_id):
    """One message as it was (or will be) sent, with its history."""
    row = activity.owned_message(current_user.studio_id, message_id)
    if row is None:
        abort(404)
    galleries, workflow_titles = _names([row])
    return render_template(
        "workflows/activity_message.html",
        row=row,
        labels=STATE_LABELS,
        gallery_titles=galleries,
        workflow_titles=workflow_titles,
    )


@bp.post("/resume")
@login_required
def resume():
    """Let a paused studio send again, once its mail settings were fixed."""
    resume_studio(current_user.studio_id)
    db.session.commit()
    flash(_("Sending resumed. Waiting messages go out within a minute."), "success")
    return redirect(url_for(".index"))
