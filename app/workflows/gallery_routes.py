"""A gallery's email workflow: choose it (a template is copied first), see the timeline of
what goes out when, and send a missed email on purpose."""

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app import timeutil
from app.database import get_owned_or_404
from app.extensions import db
from app.galleries.models import Gallery
from app.workflows import bp, services
from app.workflows.describe import describe
from app.workflows.forms import GalleryWorkflowForm
from app.workflows.models import Trigger, Workflow
from app.workflows.templates import TEMPLATES
from app.workflows.timeline import gallery_timeline, send_missed
from app.workflows.variables import recipient_values, substitute


@bp.route("/galleries/<int:gallery_id>", methods=["GET", "POST"])
@login_required
def gallery(gallery_id):
    """A gallery's email workflow: choose it, and see what goes out when (the timeline)."""
    found = get_owned_or_404(Gallery, gallery_id, current_user.studio_id)
    workflows = db.session.scalars(
        sa.select(Workflow).where(Workflow.studio_id == current_user.studio_id).order_by(Workflow.title)
    ).all()
    form = GalleryWorkflowForm()
    form.workflow.choices = (
        [("", _("No emails"))]
        + [(str(w.id), w.title) for w in workflows]
        + [(f"template:{t.key}", _("New copy of “%(title)s”", title=t.title)) for t in TEMPLATES.values()]
    )
    if form.validate_on_submit():
        _assign_from_form(found, form.workflow.data)
        return redirect(url_for(".gallery", gallery_id=found.id))
    current = services.gallery_workflow(found.id)
    form.workflow.data = str(current.id) if current else ""
    timeline = gallery_timeline(found, timeutil.now())
    return render_template(
        "workflows/gallery.html",
        gallery=found,
        form=form,
        timeline=timeline,
        describe=describe,
        studio=current_user.studio,
        unscheduled=_unscheduled(timeline),
        subject_of=_gallery_subjects(found, current_user.studio),
    )


UNSCHEDULED_REASONS = {
    Trigger.SALE_START: _l("the gallery has no sale start date"),
    Trigger.SALE_END: _l("the gallery has no sale end date"),
    Trigger.ARCHIVE: _l("the gallery has no archiving date"),
    Trigger.PROMOTION_EXPIRY: _l("the gallery has no promotion"),
}


def _unscheduled(timeline):
    """The gallery-wide emails with no moment yet, each with the reason."""
    if timeline is None:
        return []
    placed = {entry.email.id for entry in timeline.entries}
    placed |= {summary.email.id for summary in timeline.client_emails}
    return [
        (email, UNSCHEDULED_REASONS.get(Trigger(email.trigger), ""))
        for email in timeline.workflow.emails
        if email.id not in placed
    ]


def _gallery_subjects(gallery_row, studio):
    """Subjects as this gallery's clients read them, as far as the gallery alone tells (the
    client's name and links stay as %variables%)."""
    names = ("gallery_title", "sale_start_date", "sale_end_date", "archive_date", "studio_name")
    with force_locale(studio.language):
        values = recipient_values(
            names, studio=studio, gallery=gallery_row, client=None, language=studio.language
        )
    return lambda email: substitute(email.subject, values, html=False)


def _assign_from_form(gallery_row, choice):
    now = timeutil.now()
    if choice.startswith("template:") and choice.removeprefix("template:") in TEMPLATES:
        key = choice.removeprefix("template:")
        chosen = services.duplicate_template(current_user.studio, key, str(TEMPLATES[key].title), now)
    elif choice.isdigit():
        chosen = get_owned_or_404(Workflow, int(choice), current_user.studio_id)
    else:
        chosen = None
    try:
        services.assign_workflow(gallery_row, chosen, now)
    except services.PostalAddressMissing as missing:
        db.session.rollback()
        flash(str(missing), "error")
        return
    db.session.commit()
    flash(
        _("This gallery now uses “%(title)s”.", title=chosen.title)
        if chosen
        else _("This gallery sends no workflow emails."),
        "success",
    )


@bp.post("/galleries/<int:gallery_id>/missed")
@login_required
def send_missed_now(gallery_id):
    """Send a missed email on purpose, to the recipients it would reach now."""
    found = get_owned_or_404(Gallery, gallery_id, current_user.studio_id)
    email_id = request.form.get("email_id", type=int)
    occurrence_id = request.form.get("occurrence_id", type=int)
    kind = request.form.get("kind", "")
    queued = send_missed(found, email_id, kind, occurrence_id, timeutil.now())
    if queued is None:
        flash(_("This email is not waiting to be sent."), "error")
    else:
        db.session.commit()
        flash(
            ngettext(
                "%(num)d email queued: it goes out within a minute.",
                "%(num)d emails queued: they go out within a minute.",
                queued,
            ),
            "success",
        )
    return redirect(url_for(".gallery", gallery_id=found.id))
