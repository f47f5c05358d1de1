"""The review queue: order emails held for an operator, who edits the message as rich text, adds
CC addresses and files where the studio allows it, then sends or discards it."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import escape

from app import timeutil
from app.extensions import db
from app.i18n import language_name
from app.mailing.dispatch import dispatch
from app.mailing.models import MailState, OutboxAttachment, OutboxMessage
from app.mailing.studio_settings import settings_of
from app.reasons import shown_reason
from app.shop import admin_bp
from app.shop.order_email_content import lay_out, one_line, sanitize_order_body
from app.shop.order_email_forms import ReviewForm, parse_addresses

ATTACHMENT_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def _sniff(data):
    """The file's type from its first bytes, not from its name."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def _read_attachment(upload, mail_settings):
    """(OutboxAttachment, None) for an allowed file, or (None, the problem in words)."""
    if mail_settings is None or not mail_settings.allow_operator_attachments:
        return None, _("Your studio does not allow attaching files (Settings → Email).")
    data = upload.read(MAX_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_ATTACHMENT_BYTES:
        return None, _("%(name)s is larger than 10 MB.", name=upload.filename)
    kind = _sniff(data)
    if kind is None:
        return None, _("%(name)s is not a PDF, JPEG or PNG file.", name=upload.filename)
    return OutboxAttachment(filename=upload.filename[:200], content_type=kind, data=data), None


def _cc_problem(addresses, mail_settings):
    """Operators may keep the studio's default CC; adding others needs the studio's consent."""
    allowed = set(parse_addresses(mail_settings.default_cc if mail_settings else "")[0])
    if set(addresses) - allowed and not (mail_settings and mail_settings.allow_operator_cc):
        return _("Your studio does not allow adding CC addresses (Settings → Email).")
    return None


def _held_or_404(message_id):
    row = db.session.get(OutboxMessage, message_id)
    if row is None or row.studio_id != current_user.studio_id or row.state != MailState.HELD:
        abort(404)
    return row


def _language_of(row):
    """The language the held email was written in (its Content-Language), else the studio's."""
    return (row.headers or {}).get("Content-Language") or current_user.studio.language


def _editable_body(row):
    """The body as the reviewer edits it (rows held before bodies were kept: their text)."""
    if row.body_html:
        return row.body_html
    return "".join(f"<p>{escape(part)}</p>" for part in row.text.split("\n\n") if part.strip())


@admin_bp.get("/review")
@login_required
def review_queue():
    """Order emails waiting for review, oldest first."""
    rows = db.session.scalars(
        db.select(OutboxMessage)
        .where(OutboxMessage.studio_id == current_user.studio_id, OutboxMessage.state == MailState.HELD)
        .order_by(OutboxMessage.created_at)
    ).all()
    return render_template("shop/admin/review_queue.html", rows=rows)


@admin_bp.route("/review/<int:message_id>", methods=["GET", "POST"])
@login_required
def review_message(message_id):
    """Edit a held email's subject, message and CC, attach a file, and send it."""
    row = _held_or_404(message_id)
    mail_settings = settings_of(row.studio_id)
    form = ReviewForm(
        data={
            "subject": row.subject,
            "body_html": _editable_body(row),
            "cc": "; ".join(a.strip() for a in row.cc.split(",") if a.strip()),
        }
    )
    if form.validate_on_submit():
        problems = [problem for problem in [_cc_problem(form.cc.addresses, mail_settings)] if problem]
        attachments = []
        for upload in [upload for upload in form.attachments.data or [] if upload.filename]:
            attachment, problem = _read_attachment(upload, mail_settings)
            attachments.append(attachment)
            problems += [problem] if problem else []
        if problems:
            form.form_errors.extend(dict.fromkeys(problems))  # each problem once
        else:
            _apply_edits(row, form, attachments)
            db.session.commit()
            return _send_now(row)
    language = _language_of(row)
    return render_template(
        "shop/admin/review_message.html",
        row=row,
        form=form,
        discard_form=FlaskForm(),
        mail_settings=mail_settings,
        language=language,
        language_name=language_name(language),
    ), (422 if form.errors or form.form_errors else 200)


def _apply_edits(row, form, attachments):
    subject = one_line(form.subject.data)
    body = sanitize_order_body(form.body_html.data)
    html, text = lay_out(subject, body, current_user.studio, _language_of(row))
    row.subject, row.body_html, row.html, row.text = subject, body, html, text
    row.cc = ", ".join(form.cc.addresses)
    row.attachments.extend(attachments)
    row.state, row.due_at = MailState.QUEUED, timeutil.now()


def _send_now(row):
    dispatch(timeutil.now(), worker="review", ids=[row.id])
    db.session.refresh(row)
    if row.state == MailState.SENT:
        flash(_("The email was sent to %(to)s.", to=row.recipient), "success")
    elif row.state == MailState.FAILED:  # a permanent refusal: nothing will retry it
        flash(
            _(
                "The email to %(to)s failed: %(error)s. It is shown in Email activity.",
                to=row.recipient,
                error=shown_reason(row.last_error),
            ),
            "error",
        )
    else:
        flash(
            _(
                "The email is queued but not sent yet: %(error)s. It is retried and shown in Email activity.",
                error=shown_reason(row.last_error) or row.state,
            ),
            "warning",
        )
    return redirect(url_for(".review_queue"))


@admin_bp.post("/review/<int:message_id>/discard")
@login_required
def discard_message(message_id):
    """Discard a held email: it is kept as cancelled, never sent."""
    row = _held_or_404(message_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    row.state = MailState.CANCELLED
    db.session.commit()
    flash(_("The email was discarded."), "success")
    return redirect(url_for(".review_queue"))
