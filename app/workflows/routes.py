"""The workflow builder: the studio's workflows and the templates, a workflow's emails, the
email editor with variables, preview and test send, and assigning workflows to galleries."""

import io
import secrets
from pathlib import Path

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from PIL import Image, UnidentifiedImageError

from app import timeutil
from app.database import get_owned_or_404
from app.extensions import db, limiter
from app.galleries.models import Gallery
from app.mailing.dispatch import dispatch
from app.mailing.models import MailState
from app.mailing.services import studio_sender
from app.urls import external_url
from app.workflows import bp, services
from app.workflows.describe import describe
from app.workflows.forms import EmailForm, GalleryWorkflowForm, ImageForm, TestSendForm, TitleForm
from app.workflows.models import GalleryWorkflow, Trigger, Workflow, WorkflowEmail
from app.workflows.preview import queue_test, render_for_preview
from app.workflows.templates import TEMPLATES
from app.workflows.timeline import gallery_timeline, send_missed
from app.workflows.values import recipient_values
from app.workflows.variables import REGISTRY, substitute

media_bp = Blueprint("email_media", __name__)
MAX_IMAGE_BYTES = 5 * 1024 * 1024


def _workflow_or_404(workflow_id):
    return get_owned_or_404(Workflow, workflow_id, current_user.studio_id)


def _email_or_404(workflow, email_id):
    email = db.session.get(WorkflowEmail, email_id)
    if email is None or email.workflow_id != workflow.id:
        abort(404)
    return email


# ------------------------------------------------------------------ workflows


@bp.get("/")
@login_required
def index():
    """The studio's workflows and the predefined templates."""
    rows = services.studio_workflows(current_user.studio_id)
    return render_template("workflows/index.html", rows=rows, templates=TEMPLATES.values(),
                           describe=describe, form=TitleForm())


@bp.post("/new")
@login_required
def new():
    """Start a blank workflow with a title."""
    form = TitleForm()
    if not form.validate():
        flash(" ".join(map(str, form.title.errors)), "error")
        return redirect(url_for(".index"))
    workflow = services.create_workflow(current_user.studio, form.title.data, timeutil.now())
    db.session.commit()
    flash(_("Workflow “%(title)s” created. Add its first email.", title=workflow.title),
          "success")
    return redirect(url_for(".workflow", workflow_id=workflow.id))


@bp.post("/templates/<key>/duplicate")
@login_required
def duplicate_template(key):
    """Copy a predefined template, with every email, under a new title."""
    if key not in TEMPLATES:
        abort(404)
    form = TitleForm()
    if not form.validate():
        flash(" ".join(map(str, form.title.errors)), "error")
        return redirect(url_for(".index"))
    workflow = services.duplicate_template(current_user.studio, key, form.title.data,
                                           timeutil.now())
    db.session.commit()
    flash(_("“%(title)s” is ready: adjust its emails, then use it in your galleries.",
            title=workflow.title), "success")
    return redirect(url_for(".workflow", workflow_id=workflow.id))


@bp.get("/<int:workflow_id>")
@login_required
def workflow(workflow_id):
    """A workflow's emails in plain language, and the galleries using it."""
    found = _workflow_or_404(workflow_id)
    galleries = db.session.scalars(sa.select(Gallery).where(
        Gallery.studio_id == current_user.studio_id).order_by(Gallery.title)).all()
    assigned = dict(db.session.execute(sa.select(GalleryWorkflow.gallery_id,
                                                 GalleryWorkflow.workflow_id).where(
        GalleryWorkflow.gallery_id.in_([g.id for g in galleries]))).all()) if galleries else {}
    titles = dict(db.session.execute(sa.select(Workflow.id, Workflow.title).where(
        Workflow.studio_id == current_user.studio_id)).all())
    return render_template("workflows/workflow.html", workflow=found, describe=describe,
                           galleries=galleries, assigned=assigned, titles=titles,
                           using=sum(1 for value in assigned.values() if value == found.id),
                           title_form=TitleForm(title=found.title))


@bp.post("/<int:workflow_id>/rename")
@login_required
def rename(workflow_id):
    """Rename a workflow."""
    found = _workflow_or_404(workflow_id)
    form = TitleForm()
    if form.validate():
        services.rename_workflow(found, form.title.data, timeutil.now())
        db.session.commit()
        flash(_("Renamed “%(title)s”.", title=found.title), "success")
    else:
        flash(" ".join(map(str, form.title.errors)), "error")
    if request.form.get("back") == "index":
        return redirect(url_for(".index"))
    return redirect(url_for(".workflow", workflow_id=found.id))


@bp.post("/<int:workflow_id>/duplicate")
@login_required
def duplicate(workflow_id):
    """Copy a workflow with every email under a new title."""
    found = _workflow_or_404(workflow_id)
    form = TitleForm()
    if not form.validate():
        flash(" ".join(map(str, form.title.errors)), "error")
        return redirect(url_for(".workflow", workflow_id=found.id))
    copy = services.duplicate_workflow(found, form.title.data, timeutil.now())
    db.session.commit()
    flash(_("Copied as “%(title)s”.", title=copy.title), "success")
    return redirect(url_for(".workflow", workflow_id=copy.id))


@bp.route("/<int:workflow_id>/delete", methods=["GET", "POST"])
@login_required
def delete(workflow_id):
    """Delete a workflow after confirmation; the galleries using it are named first."""
    found = _workflow_or_404(workflow_id)
    using = services.galleries_using(found.id)
    if request.method == "POST":
        title = found.title
        services.delete_workflow(found)
        db.session.commit()
        flash(_("Workflow “%(title)s” deleted.", title=title) + (
            " " + _("%(count)d galleries no longer send its emails.", count=len(using))
            if using else ""), "success")
        return redirect(url_for(".index"))
    return render_template("workflows/delete.html", workflow=found, galleries=using)


@bp.post("/<int:workflow_id>/galleries")
@login_required
def assign(workflow_id):
    """Use this workflow in the ticked galleries (and stop using it in the others)."""
    found = _workflow_or_404(workflow_id)
    chosen = {int(value) for value in request.form.getlist("gallery_ids") if value.isdigit()}
    now = timeutil.now()
    galleries = db.session.scalars(sa.select(Gallery).where(
        Gallery.studio_id == current_user.studio_id)).all()
    for gallery in galleries:
        current = services.gallery_workflow(gallery.id)
        if gallery.id in chosen and (current is None or current.id != found.id):
            services.assign_workflow(gallery, found, now)
        elif gallery.id not in chosen and current is not None and current.id == found.id:
            services.assign_workflow(gallery, None, now)
    db.session.commit()
    flash(_("Galleries updated."), "success")
    return redirect(url_for(".workflow", workflow_id=found.id))


# ------------------------------------------------------------------ emails


@bp.route("/<int:workflow_id>/emails/new", methods=["GET", "POST"])
@login_required
def new_email(workflow_id):
    """Add an email to a workflow."""
    return _edit(_workflow_or_404(workflow_id), None)


@bp.route("/<int:workflow_id>/emails/<int:email_id>", methods=["GET", "POST"])
@login_required
def edit_email(workflow_id, email_id):
    """Edit an email: trigger, rule, days, send time, recipients, subject and message."""
    found = _workflow_or_404(workflow_id)
    return _edit(found, _email_or_404(found, email_id))


def _edit(found, email):
    form = EmailForm(obj=email) if email is not None else EmailForm()
    if request.method == "POST" and form.validate():
        saved = services.save_email(found, email, form.values(), timeutil.now())
        db.session.commit()
        flash(_("Email saved."), "success")
        target = ".preview" if request.form.get("then") == "preview" else ".edit_email"
        return redirect(url_for(target, workflow_id=found.id, email_id=saved.id))
    status = 422 if request.method == "POST" else 200
    return render_template("workflows/email.html", workflow=found, email=email, form=form,
                           variables=REGISTRY.values(),
                           date_triggers=[t.value for t in Trigger if t.is_date],
                           test_form=TestSendForm(to=current_user.email)), status


@bp.post("/<int:workflow_id>/emails/<int:email_id>/delete")
@login_required
def delete_email(workflow_id, email_id):
    """Remove an email from its workflow."""
    found = _workflow_or_404(workflow_id)
    services.delete_email(found, _email_or_404(found, email_id), timeutil.now())
    db.session.commit()
    flash(_("Email deleted."), "success")
    return redirect(url_for(".workflow", workflow_id=found.id))


@bp.get("/<int:workflow_id>/emails/<int:email_id>/preview")
@login_required
def preview(workflow_id, email_id):
    """The email as a client will receive it: the real rendering, real data when there is some."""
    found = _workflow_or_404(workflow_id)
    email = _email_or_404(found, email_id)
    return render_template("workflows/preview.html", workflow=found, email=email,
                           preview=render_for_preview(email, current_user.studio),
                           describe=describe,
                           sender=studio_sender(current_user.studio_id, current_user.studio.name),
                           test_form=TestSendForm(to=current_user.email))


def _test_send_key():
    return f"workflow-test-send|{current_user.studio_id}"


@bp.post("/<int:workflow_id>/emails/<int:email_id>/test")
@login_required
@limiter.limit(lambda: current_app.config.get("TEST_SEND_RATE_LIMIT", "30 per hour"),
               key_func=_test_send_key, error_message=_l(
                   "You have sent many test emails in a short time. Please wait a few minutes."))
def test_send(workflow_id, email_id):
    """Send the rendered email, marked [Test], through the real outbox and dispatcher."""
    found = _workflow_or_404(workflow_id)
    email = _email_or_404(found, email_id)
    form = TestSendForm()
    if not form.validate():
        flash(" ".join(map(str, form.to.errors)), "error")
        return redirect(_back_to(found, email))
    now = timeutil.now()
    row = queue_test(email, current_user.studio, form.to.data, now)
    db.session.commit()
    dispatch(now, worker="test-send", ids=[row.id])
    db.session.refresh(row)
    if row.state == MailState.SENT:
        flash(_("Test email sent to %(to)s.", to=form.to.data), "success")
    else:
        flash(_("The test email could not be sent yet: %(error)s. It stays in Email "
                "activity and will be retried.", error=row.last_error or row.state), "error")
    return redirect(_back_to(found, email))


def _back_to(found, email):
    """Back to the page the test was sent from (the preview or the editor)."""
    if request.form.get("back") == "preview":
        return url_for(".preview", workflow_id=found.id, email_id=email.id)
    return url_for(".edit_email", workflow_id=found.id, email_id=email.id)


# ------------------------------------------------------------------ images in messages


def _media_folder(studio_id):
    return Path(current_app.config["UPLOAD_FOLDER"]) / str(studio_id) / "email-images"


@bp.post("/images")
@login_required
def upload_image():
    """An image for a message, checked with Pillow, served from a public URL (email clients
    load images from outside)."""
    form = ImageForm()
    if not form.validate():
        return jsonify(error=_("Choose an image.")), 400
    with form.image.data.stream as stream:  # large uploads are spooled to a temporary file
        data = stream.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        return jsonify(error=_("Images for emails must be under 5 MB.")), 413
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError):
        return jsonify(error=_("This file is not an image we can use (JPEG, PNG or GIF).")), 422
    extension = {"JPEG": "jpg", "PNG": "png", "GIF": "gif"}.get(kind)
    if extension is None:
        return jsonify(error=_("This file is not an image we can use (JPEG, PNG or GIF).")), 422
    folder = _media_folder(current_user.studio_id)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(12)}.{extension}"
    (folder / name).write_bytes(data)
    return jsonify(url=external_url("email_media.image", studio_id=current_user.studio_id,
                                    name=name))


@media_bp.get("/media/email/<int:studio_id>/<name>")
def image(studio_id, name):
    """An image used in a studio's emails (unguessable name)."""
    return send_from_directory(_media_folder(studio_id), name, max_age=86400)


# ------------------------------------------------------------------ galleries


@bp.route("/galleries/<int:gallery_id>", methods=["GET", "POST"])
@login_required
def gallery(gallery_id):
    """A gallery's email workflow: choose it, and see what goes out when (the timeline)."""
    found = get_owned_or_404(Gallery, gallery_id, current_user.studio_id)
    workflows = db.session.scalars(sa.select(Workflow).where(
        Workflow.studio_id == current_user.studio_id).order_by(Workflow.title)).all()
    form = GalleryWorkflowForm()
    form.workflow.choices = ([("", _("No emails"))] + [(str(w.id), w.title) for w in workflows]
                             + [(f"template:{t.key}", _("New copy of “%(title)s”", title=t.title))
                                for t in TEMPLATES.values()])
    if form.validate_on_submit():
        _assign_from_form(found, form.workflow.data)
        return redirect(url_for(".gallery", gallery_id=found.id))
    current = services.gallery_workflow(found.id)
    form.workflow.data = str(current.id) if current else ""
    timeline = gallery_timeline(found, timeutil.now())
    return render_template("workflows/gallery.html", gallery=found, form=form,
                           timeline=timeline, describe=describe, studio=current_user.studio,
                           unscheduled=_unscheduled(timeline),
                           subject_of=_gallery_subjects(found, current_user.studio))


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
    return [(email, UNSCHEDULED_REASONS.get(Trigger(email.trigger), ""))
            for email in timeline.workflow.emails if email.id not in placed]


def _gallery_subjects(gallery_row, studio):
    """Subjects as this gallery's clients read them, as far as the gallery alone tells (the
    client's name and links stay as %variables%)."""
    names = ("gallery_title", "sale_start_date", "sale_end_date", "archive_date", "studio_name")
    with force_locale(studio.language):
        values = recipient_values(names, studio=studio, gallery=gallery_row, client=None,
                                  language=studio.language)
    return lambda email: substitute(email.subject, values, html=False)


def _assign_from_form(gallery_row, choice):
    now = timeutil.now()
    if choice.startswith("template:") and choice.removeprefix("template:") in TEMPLATES:
        key = choice.removeprefix("template:")
        chosen = services.duplicate_template(current_user.studio, key,
                                             str(TEMPLATES[key].title), now)
    elif choice.isdigit():
        chosen = _workflow_or_404(int(choice))
    else:
        chosen = None
    services.assign_workflow(gallery_row, chosen, now)
    db.session.commit()
    flash(_("This gallery now uses “%(title)s”.", title=chosen.title) if chosen
          else _("This gallery sends no workflow emails."), "success")


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
        flash(_("%(count)d emails queued: they go out within a minute.", count=queued),
              "success")
    return redirect(url_for(".gallery", gallery_id=found.id))
