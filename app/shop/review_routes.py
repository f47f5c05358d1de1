"""The review queue: order emails held for an operator, who edits, adds CC, sends or discards."""

from email_validator import EmailNotValidError, validate_email
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import escape

from app import timeutil
from app.extensions import db
from app.mailing.dispatch import dispatch
from app.mailing.models import MailState, OutboxAttachment, OutboxMessage
from app.mailing.studio_settings import settings_of
from app.shop import admin_bp


def _as_html(text):
    """The operator's edited text as HTML paragraphs (escaped)."""
    paragraphs = [str(escape(part)).replace("\n", "<br>") for part in text.split("\n\n")]
    return "<!doctype html><html><body>" + "".join(f"<p>{p}</p>" for p in paragraphs) + \
        "</body></html>"


ATTACHMENT_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def _attach(row, upload):
    """Attach an operator's file when the studio allows it; a list of problems otherwise."""
    settings = settings_of(row.studio_id)
    if settings is None or not settings.allow_operator_attachments:
        return [_("Your studio does not allow attaching files (Settings → Email).")]
    data = upload.read(MAX_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_ATTACHMENT_BYTES:
        return [_("%(name)s is larger than 10 MB.", name=upload.filename)]
    kind = _sniff(data)
    if kind is None:
        return [_("%(name)s is not a PDF, JPEG or PNG file.", name=upload.filename)]
    row.attachments.append(OutboxAttachment(filename=upload.filename[:200], content_type=kind,
                                            data=data))
    return []


def _sniff(data):
    """The file's type from its first bytes, not from its name."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def _held_or_404(message_id):
    row = db.session.get(OutboxMessage, message_id)
    if row is None or row.studio_id != current_user.studio_id or row.state != MailState.HELD:
        abort(404)
    return row


@admin_bp.get("/review")
@login_required
def review_queue():
    """Order emails waiting for review, oldest first."""
    rows = db.session.scalars(db.select(OutboxMessage).where(
        OutboxMessage.studio_id == current_user.studio_id, OutboxMessage.state == MailState.HELD)
        .order_by(OutboxMessage.created_at)).all()
    return render_template("shop/admin/review_queue.html", rows=rows)


def _cc_addresses(text):
    addresses, problems = [], []
    for address in [part.strip() for part in (text or "").split(";") if part.strip()]:
        try:
            addresses.append(validate_email(address, check_deliverability=False).normalized)
        except EmailNotValidError as error:
            problems.append(f"{address}: {error}")
    return addresses, problems


@admin_bp.route("/review/<int:message_id>", methods=["GET", "POST"])
@login_required
def review_message(message_id):
    """Edit a held email's subject, text and CC, then send it, or discard it."""
    row = _held_or_404(message_id)
    errors = []
    if request.method == "POST":
        if request.form.get("action") == "discard":
            row.state = MailState.CANCELLED
            db.session.commit()
            flash(_("The email was discarded."), "success")
            return redirect(url_for(".review_queue"))
        subject = (request.form.get("subject") or "").strip()
        cc, errors = _cc_addresses(request.form.get("cc"))
        mail_settings = settings_of(row.studio_id)
        allowed_cc = set(_cc_addresses(mail_settings.default_cc if mail_settings else "")[0])
        if set(cc) - allowed_cc and not (mail_settings and mail_settings.allow_operator_cc):
            errors.append(_("Your studio does not allow adding CC addresses (Settings → Email)."))
        if not subject or "\n" in subject or "\r" in subject:
            errors.append(_("The subject must be one line of text."))
        upload = request.files.get("attachment")
        if upload and upload.filename:
            errors += _attach(row, upload)
        if not errors:
            row.subject, row.cc = subject, ", ".join(cc)
            edited = (request.form.get("text") or "").replace("\r\n", "\n").strip()
            if edited and edited != row.text.strip():
                row.text, row.html = edited + "\n", _as_html(edited)
            row.state, row.due_at = MailState.QUEUED, timeutil.now()
            db.session.commit()
            dispatch(timeutil.now(), worker="review", ids=[row.id])
            db.session.refresh(row)
            if row.state == MailState.SENT:
                flash(_("The email was sent to %(to)s.", to=row.recipient), "success")
            else:
                flash(_("The email is queued but not sent yet: %(error)s. It is retried and "
                        "shown in Email activity.", error=row.last_error or row.state), "warning")
            return redirect(url_for(".review_queue"))
    return render_template("shop/admin/review_message.html", row=row, errors=errors), (
        422 if errors else 200)


@admin_bp.route("/order-emails", methods=["GET", "POST"])
@login_required
def order_emails():
    """Settings → Order emails: for each status, when to email and whom, and review first."""
    from app.shop.models import OrderEmailSetting
    from app.shop.notifications import EVENTS, MODE_LABELS, setting_for

    studio_id = current_user.studio_id
    if request.method == "POST":
        if not current_user.is_owner:
            abort(403)
        for event in EVENTS:
            mode = request.form.get(f"{event}-mode")
            if mode not in MODE_LABELS:
                flash(_("Please choose when to send each email."), "error")
                return redirect(url_for(".order_emails"))
            row = db.session.get(OrderEmailSetting, (studio_id, event)) or OrderEmailSetting(
                studio_id=studio_id, event=event)
            row.mode = mode
            row.to_client = bool(request.form.get(f"{event}-client"))
            row.to_operators = bool(request.form.get(f"{event}-operators"))
            row.review = bool(request.form.get(f"{event}-review"))
            row.attach_pdf = bool(request.form.get(f"{event}-pdf"))
            db.session.add(row)
        db.session.commit()
        flash(_("Order email settings saved."), "success")
        return redirect(url_for(".order_emails"))
    from app.shop.orders import STATUS_LABELS

    settings = [(event, STATUS_LABELS[event], setting_for(studio_id, event)) for event in EVENTS]
    return render_template("shop/admin/order_emails.html", settings=settings, modes=MODE_LABELS)
