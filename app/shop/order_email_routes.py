"""Settings → Order emails: when each order event emails whom, the studio's wording of each
email (editor, preview, back to the standard wording), and the order's PDFs for the team."""

import io

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.shop import admin_bp
from app.shop.documents import CONFIRMATION, INVOICE, order_pdf
from app.shop.models import Order, OrderEmailSetting
from app.shop.notifications import setting_for, templates_of
from app.shop.order_email_content import (
    ATTACHMENT_LABELS,
    EVENT_LABELS,
    EVENTS,
    MODE_LABELS,
    VARIABLES,
    order_values,
    render_order_email,
    sample_values,
    standard_body,
    standard_subject,
)
from app.shop.order_email_forms import OrderEmailRulesForm, OrderEmailTemplateForm


def _owner_only():
    if not current_user.is_owner:
        abort(403)


def _stored_setting(studio_id, event):
    """The row to write: the stored one, or a new one starting from the defaults."""
    row = db.session.get(OrderEmailSetting, (studio_id, event))
    if row is None:
        row = setting_for(studio_id, event)
        db.session.add(row)
    return row


@admin_bp.route("/order-emails", methods=["GET", "POST"])
@login_required
def order_emails():
    """For each order event: send never/always/when asked, to whom, review first, which PDF."""
    studio = current_user.studio
    settings = {event: setting_for(studio.id, event) for event in EVENTS}
    form = OrderEmailRulesForm.for_events(settings, formdata=request.form or None)
    if request.method == "GET":
        form.invoice_details.data = studio.invoice_details
    if request.method == "POST":
        _owner_only()
        if form.validate():
            for event in EVENTS:
                row = _stored_setting(studio.id, event)
                for name, value in form.event_values(event).items():
                    setattr(row, name, value)
            studio.invoice_details = (form.invoice_details.data or "").strip() or None
            db.session.commit()
            flash(_("Order email settings saved."), "success")
            return redirect(url_for(".order_emails"))
    rows = [(event, EVENT_LABELS[event], settings[event]) for event in EVENTS]
    return render_template("shop/admin/order_emails.html", form=form, rows=rows,
                           modes=MODE_LABELS, attachments=ATTACHMENT_LABELS), (
        422 if form.errors else 200)


def _preview(studio, subject, body):
    """The email filled with the studio's latest order, or sample values when it has none."""
    order = db.session.scalar(sa.select(Order).where(Order.studio_id == studio.id)
                              .order_by(Order.placed_at.desc(), Order.id.desc()).limit(1))
    with force_locale(studio.language):
        values = order_values(order, studio) if order else sample_values(studio)
        return render_order_email(subject, body, values, studio), order


@admin_bp.route("/order-emails/<event>", methods=["GET", "POST"])
@login_required
def order_email_template(event):
    """The wording of one order email: edit with the rich-text editor, preview, or go back to
    the standard wording."""
    if event not in EVENTS:
        abort(404)
    studio = current_user.studio
    setting = setting_for(studio.id, event)
    with force_locale(studio.language):
        subject, body = templates_of(setting)
    form = OrderEmailTemplateForm(data={"subject": subject, "body_html": body})
    if request.method == "POST":
        _owner_only()
        if request.form.get("action") == "revert":
            row = _stored_setting(studio.id, event)
            row.subject = row.body_html = None
            db.session.commit()
            flash(_("The standard wording is back."), "success")
            return redirect(url_for(".order_email_template", event=event))
        if form.validate_on_submit():
            from app.shop.order_email_content import sanitize_order_body

            row = _stored_setting(studio.id, event)
            row.subject, row.body_html = form.subject.data.strip(), sanitize_order_body(form.body_html.data)
            db.session.commit()
            flash(_("Email saved."), "success")
            anchor = "preview" if request.form.get("then") == "preview" else None
            return redirect(url_for(".order_email_template", event=event, _anchor=anchor))
    preview, preview_order = _preview(studio, subject, body)
    with force_locale(studio.language):
        customised = bool(setting.subject or setting.body_html)
        standard = (standard_subject(event), standard_body(event))
    return render_template("shop/admin/order_email_template.html", form=form, event=event,
                           label=EVENT_LABELS[event], setting=setting, customised=customised,
                           standard=standard, variables=VARIABLES, preview=preview,
                           preview_order=preview_order), 422 if form.errors else 200


@admin_bp.get("/orders/<int:order_id>/<any(confirmation, invoice):kind>.pdf")
@login_required
def order_document(order_id, kind):
    """The order confirmation or the invoice as a PDF, to print or send by hand."""
    order = db.session.get(Order, order_id)
    if order is None or order.studio_id != current_user.studio_id:
        abort(404)
    name, data = order_pdf(order, current_user.studio, INVOICE if kind == "invoice"
                           else CONFIRMATION)
    return send_file(io.BytesIO(data), mimetype="application/pdf", download_name=name,
                     as_attachment=False, max_age=0)
