"""The workflow builder: the studio's workflows and the templates, a workflow's emails, the
email editor with variables, preview and test send, and assigning a workflow to galleries.

Images for messages live in image_routes.py, a gallery's workflow and timeline in
gallery_routes.py (same blueprint)."""

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

from app import timeutil
from app.database import get_owned_or_404
from app.extensions import db, limiter
from app.galleries.models import Gallery
from app.mailing.dispatch import dispatch
from app.mailing.models import MailState
from app.mailing.services import studio_sender
from app.sms.dispatch import dispatch_sms
from app.sms.models import SmsMessage, SmsState
from app.sms.phone import default_region, display_phone
from app.workflows import bp, services, sms, translations
from app.workflows.describe import describe
from app.workflows.forms import EmailForm, TestSendForm, TitleForm, TranslationForm
from app.workflows.image_routes import media_bp  # noqa: F401  (registered by the app factory)
from app.workflows.models import GalleryWorkflow, Trigger, Workflow, WorkflowEmail
from app.workflows.preview import render_for_preview, render_sms_for_preview
from app.workflows.templates import TEMPLATES
from app.workflows.test_send import queue_test, queue_test_text
from app.workflows.variables import REGISTRY


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
    return render_template(
        "workflows/index.html", rows=rows, templates=TEMPLATES.values(), describe=describe, form=TitleForm()
    )


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
    flash(_("Workflow “%(title)s” created. Add its first email.", title=workflow.title), "success")
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
    workflow = services.duplicate_template(current_user.studio, key, form.title.data, timeutil.now())
    db.session.commit()
    flash(
        _("“%(title)s” is ready: adjust its emails, then use it in your galleries.", title=workflow.title),
        "success",
    )
    return redirect(url_for(".workflow", workflow_id=workflow.id))


@bp.get("/<int:workflow_id>")
@login_required
def workflow(workflow_id):
    """A workflow's emails in plain language, and the galleries using it."""
    found = _workflow_or_404(workflow_id)
    galleries = db.session.scalars(
        sa.select(Gallery).where(Gallery.studio_id == current_user.studio_id).order_by(Gallery.title)
    ).all()
    assigned = (
        dict(
            db.session.execute(
                sa.select(GalleryWorkflow.gallery_id, GalleryWorkflow.workflow_id).where(
                    GalleryWorkflow.gallery_id.in_([g.id for g in galleries])
                )
            ).all()
        )
        if galleries
        else {}
    )
    titles = dict(
        db.session.execute(
            sa.select(Workflow.id, Workflow.title).where(Workflow.studio_id == current_user.studio_id)
        ).all()
    )
    return render_template(
        "workflows/workflow.html",
        workflow=found,
        describe=describe,
        galleries=galleries,
        assigned=assigned,
        titles=titles,
        using=sum(1 for value in assigned.values() if value == found.id),
        translated=_translated(found, current_user.studio),
        language_name=translations.language_name,
        title_form=TitleForm(title=found.title),
    )


def _translated(found, studio):
    """{email id: the client languages it is translated into} for the workflow's emails."""
    offered = translations.other_languages(studio)
    return {
        email_id: [code for code in offered if code in languages]
        for email_id, languages in translations.translated_languages(
            [email.id for email in found.emails]
        ).items()
    }


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
        flash(
            _("Workflow “%(title)s” deleted.", title=title)
            + (
                " "
                + ngettext(
                    "%(num)d gallery no longer sends its emails.",
                    "%(num)d galleries no longer send its emails.",
                    len(using),
                )
                if using
                else ""
            ),
            "success",
        )
        return redirect(url_for(".index"))
    return render_template("workflows/delete.html", workflow=found, galleries=using)


@bp.post("/<int:workflow_id>/galleries")
@login_required
def assign(workflow_id):
    """Use this workflow in the ticked galleries (and stop using it in the others)."""
    found = _workflow_or_404(workflow_id)
    chosen = {int(value) for value in request.form.getlist("gallery_ids") if value.isdigit()}
    now = timeutil.now()
    galleries = db.session.scalars(
        sa.select(Gallery).where(Gallery.studio_id == current_user.studio_id)
    ).all()
    assigned = dict(
        db.session.execute(
            sa.select(GalleryWorkflow.gallery_id, GalleryWorkflow.workflow_id)
            .join(Gallery, Gallery.id == GalleryWorkflow.gallery_id)
            .where(Gallery.studio_id == current_user.studio_id)
        ).all()
    )
    try:
        for gallery in galleries:  # only this studio's: ids of other studios' galleries ignored
            current = assigned.get(gallery.id)
            if gallery.id in chosen and current != found.id:
                services.assign_workflow(gallery, found, now)
            elif gallery.id not in chosen and current == found.id:
                services.assign_workflow(gallery, None, now)
    except services.PostalAddressMissing as missing:
        db.session.rollback()  # nothing half-assigned
        flash(str(missing), "error")
        return redirect(url_for(".workflow", workflow_id=found.id))
    db.session.commit()
    using = len(chosen & {gallery.id for gallery in galleries})
    flash(
        ngettext(
            "“%(title)s” is now used by %(num)d gallery.",
            "“%(title)s” is now used by %(num)d galleries.",
            using,
            title=found.title,
        )
        if using
        else _("No gallery uses “%(title)s” now.", title=found.title),
        "success",
    )
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
    studio = current_user.studio
    form = EmailForm(obj=email, language=studio.language)
    saved = translations.email_translations(email)
    languages = _translation_forms(studio, saved)
    if request.method == "POST":
        # Every language is checked (and its errors shown) before anything is saved.
        valid = form.validate()
        for each in languages:
            each.purpose = form.purpose.data  # a marketing text's stop line counts in its length
            valid = each.validate() and valid
        if valid:
            return _save_email(found, email, form, languages)
    if request.method == "GET" and email is None:
        form.purpose.data = services.default_purpose(
            *map(_first_choice, (form.trigger, form.rule, form.recipient_filter))
        )
    status = 422 if request.method == "POST" else 200
    texts = [(form.subject.data, form.body_html.data), *(each.text() for each in languages)]
    warnings = services.email_warnings(
        found,
        _first_choice(form.trigger),
        " ".join(subject or "" for subject, _body in texts),
        " ".join(body or "" for _subject, body in texts),
        timeutil.now(),
    )
    return render_template(
        "workflows/email.html",
        workflow=found,
        email=email,
        form=form,
        variables=REGISTRY.values(),
        warnings=warnings,
        languages=languages,
        saved_languages=set(saved),
        default_language=translations.language_name(studio.language),
        language_name=translations.language_name,
        date_triggers=[t.value for t in Trigger if t.is_date],
        service_defaults=services.service_defaults(),
        test_form=_test_form(to=current_user.email),
        stop_line=sms.stop_line(studio.language),
        sms_max_segments=sms.MAX_SEGMENTS,
        sms_link_length=sms.LINK_LENGTH,
    ), status


def _translation_forms(studio, saved):
    """One form per client language other than the studio's, filled with its saved text."""
    default = translations.language_name(studio.language)
    return [
        TranslationForm(language, default, obj=saved.get(language))
        for language in translations.other_languages(studio)
    ]


def _save_email(found, email, form, languages):
    now = timeutil.now()
    saved = services.save_email(found, email, form.values(), now)
    translations.save_translations(
        saved,
        {each.language: each.text() for each in languages},
        now,
        sms_texts={each.language: each.sms_text() for each in languages},
    )
    db.session.commit()
    flash(_("Email saved."), "success")
    target = ".preview" if request.form.get("then") == "preview" else ".edit_email"
    return redirect(url_for(target, workflow_id=found.id, email_id=saved.id))


@bp.post("/<int:workflow_id>/emails/<int:email_id>/translations/<language>/delete")
@login_required
def revert_translation(workflow_id, email_id, language):
    """Delete the email's text in one client language: those clients get the default text."""
    found = _workflow_or_404(workflow_id)
    email = _email_or_404(found, email_id)
    if translations.delete_translation(email, language, timeutil.now()):
        db.session.commit()
        flash(
            _(
                "The %(language)s text is removed: clients who chose %(language)s get the %(default)s text.",
                language=translations.language_name(language),
                default=translations.language_name(current_user.studio.language),
            ),
            "success",
        )
    return redirect(url_for(".edit_email", workflow_id=found.id, email_id=email.id))


def _test_form(**kwargs):
    """The test-send form, its languages those of the studio's clients."""
    form = TestSendForm(phone_region=default_region(current_user.studio), **kwargs)
    form.language.choices = [
        (code, translations.language_name(code))
        for code in translations.client_languages(current_user.studio)
    ]
    return form


def _first_choice(select):
    """What a select shows when nothing is chosen: its first option."""
    return select.data or select.choices[0].value


@bp.post("/<int:workflow_id>/emails/<int:email_id>/duplicate")
@login_required
def duplicate_email(workflow_id, email_id):
    """Copy an email within its workflow (e.g. a second reminder), then open the copy."""
    found = _workflow_or_404(workflow_id)
    source = _email_or_404(found, email_id)
    values = {name: getattr(source, name) for name in services.EMAIL_FIELDS}
    now = timeutil.now()
    copy = services.save_email(found, None, values, now)
    translations.copy_translations({source.id: copy}, now)
    db.session.commit()
    flash(_("Email copied: adjust when it goes out."), "success")
    return redirect(url_for(".edit_email", workflow_id=found.id, email_id=copy.id))


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
    """The email as a client will receive it: the real rendering, real data when there is some,
    in the client's language or the one chosen."""
    found = _workflow_or_404(workflow_id)
    email = _email_or_404(found, email_id)
    chosen = _chosen_gallery(request.args)
    studio = current_user.studio
    languages = translations.client_languages(studio)
    language = request.args.get("language")
    shown = render_for_preview(email, studio, chosen, language=language if language in languages else None)
    return render_template(
        "workflows/preview.html",
        workflow=found,
        email=email,
        preview=shown,
        sms_preview=render_sms_for_preview(email, studio, shown),
        display_phone=display_phone,
        describe=describe,
        galleries=_galleries_for_preview(found),
        languages=[(code, translations.language_name(code)) for code in languages],
        sender=studio_sender(current_user.studio_id),
        test_form=_test_form(to=current_user.email, language=shown.language),
    )


def _chosen_gallery(values):
    """The gallery picked to fill the preview (one of the studio's), or None."""
    gallery_id = values.get("gallery", type=int)
    return get_owned_or_404(Gallery, gallery_id, current_user.studio_id) if gallery_id else None


def _galleries_for_preview(found):
    """The studio's galleries, those using this workflow first."""
    using = sa.exists().where(
        GalleryWorkflow.gallery_id == Gallery.id, GalleryWorkflow.workflow_id == found.id
    )
    return db.session.scalars(
        sa.select(Gallery)
        .where(Gallery.studio_id == current_user.studio_id)
        .order_by(sa.case((using, 0), else_=1), Gallery.title)
    ).all()


def _test_send_key():
    return f"workflow-test-send|{current_user.studio_id}"


@bp.post("/<int:workflow_id>/emails/<int:email_id>/test")
@login_required
@limiter.limit(
    lambda: current_app.config.get("TEST_SEND_RATE_LIMIT", "30 per hour"),
    key_func=_test_send_key,
    error_message=_l("You have sent many test emails in a short time. Please wait a few minutes."),
)
def test_send(workflow_id, email_id):
    """Send the email, marked [Test] and filled for a sample client (never a real one), through
    the real outbox and dispatcher."""
    found = _workflow_or_404(workflow_id)
    email = _email_or_404(found, email_id)
    form = _test_form()
    if not form.validate():
        flash(" ".join(map(str, form.to.errors + form.language.errors + form.phone.errors)), "error")
        return redirect(_back_to(found, email))
    now = timeutil.now()
    if email.sms_enabled and form.phone.data:
        _send_test_text(email, form, now)
    row = queue_test(
        email,
        current_user.studio,
        form.to.data,
        now,
        _chosen_gallery(request.form),
        language=form.language.data or None,
    )
    db.session.commit()
    dispatch(now, worker="test-send", ids=[row.id])
    db.session.refresh(row)
    if row.state == MailState.SENT:
        flash(_("Test email sent to %(to)s.", to=form.to.data), "success")
    elif row.state == MailState.FAILED:  # a permanent refusal: nothing will retry it
        flash(
            _("The test email failed: %(error)s. It is shown in Email activity.", error=row.last_error),
            "error",
        )
    else:
        flash(
            _(
                "The test email could not be sent yet: %(error)s. It stays in Email "
                "activity and will be retried.",
                error=row.last_error or row.state,
            ),
            "error",
        )
    return redirect(_back_to(found, email))


def _send_test_text(email, form, now):
    """Text the test of ``email``'s text message to the number typed, at once, and say how it
    went (a text that could not go yet stays in Email activity's texts and is retried)."""
    text_id = queue_test_text(
        email,
        current_user.studio,
        form.phone.data,
        now,
        _chosen_gallery(request.form),
        language=form.language.data or None,
    )
    db.session.commit()
    dispatch_sms(now, worker="test-send", ids=[text_id])
    text = db.session.get(SmsMessage, text_id)
    db.session.refresh(text)
    if text.state == SmsState.SENT:
        flash(_("Test text message sent to %(phone)s.", phone=display_phone(text.recipient)), "success")
    else:
        flash(
            _(
                "The test text message was not sent: %(error)s. It is shown in Email activity.",
                error=text.last_error or text.state,
            ),
            "error",
        )


def _back_to(found, email):
    """Back to the page the test was sent from (the preview or the editor)."""
    if request.form.get("back") == "preview":
        return url_for(
            ".preview",
            workflow_id=found.id,
            email_id=email.id,
            gallery=request.form.get("gallery", type=int),
            language=request.form.get("language") or None,
        )
    return url_for(".edit_email", workflow_id=found.id, email_id=email.id)
