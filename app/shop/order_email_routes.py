"""Settings → Order emails: when each order event emails whom, the studio's wording of each
email in each of its clients' languages (editor, preview, back to the standard wording), and the
order's PDFs for the team."""

import io

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.i18n import language_name
from app.shop import admin_bp
from app.shop.documents import CONFIRMATION, INVOICE, order_pdf
from app.shop.models import Order, OrderEmailSetting
from app.shop.notifications import (
    customised_languages,
    revert_wording,
    save_wording,
    setting_for,
    stored_wording,
)
from app.shop.order_email_content import (
    ATTACHMENT_LABELS,
    EVENT_LABELS,
    EVENTS,
    MODE_LABELS,
    VARIABLES,
    client_languages,
    email_language,
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
    return render_template(
        "shop/admin/order_emails.html",
        form=form,
        rows=rows,
        modes=MODE_LABELS,
        attachments=ATTACHMENT_LABELS,
        customised=_customised_names(studio),
    ), (422 if form.errors else 200)


def _customised_names(studio):
    """event -> the names of the languages the studio wrote its own wording in, in the order of
    its client languages."""
    order = {language: index for index, language in enumerate(client_languages(studio))}
    return {
        event: [
            language_name(language)
            for language in sorted(languages, key=lambda code: order.get(code, len(order)))
        ]
        for event, languages in customised_languages(studio.id).items()
    }


def _language_or_404(studio):
    """The language being edited (?language=, the studio's by default) and the studio's client
    languages; a language the studio does not offer answers 404."""
    languages = client_languages(studio)
    language = request.args.get("language") or studio.language
    if language not in languages:
        abort(404)
    return language, languages


def _preview(studio, subject, body, language):
    """The email in ``language``, filled with the studio's latest order, or sample values when
    it has none."""
    order = db.session.scalar(
        sa.select(Order)
        .where(Order.studio_id == studio.id)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(1)
    )
    with force_locale(language):
        values = order_values(order, studio, language) if order else sample_values(studio, language)
        return render_order_email(subject, body, values, studio, language), order


@admin_bp.route("/order-emails/<event>", methods=["GET", "POST"])
@login_required
def order_email_template(event):
    """The wording of one order email in one of the studio's client languages (a tab each):
    edit with the rich-text editor, preview, or go back to that language's standard wording."""
    if event not in EVENTS:
        abort(404)
    studio = current_user.studio
    language, languages = _language_or_404(studio)
    stored = stored_wording(studio.id, event, language)
    with force_locale(language):
        standard = (standard_subject(event), standard_body(event))
    subject, body = (stored.subject, stored.body_html) if stored else standard
    form = OrderEmailTemplateForm(data={"subject": subject, "body_html": body})
    here = url_for(".order_email_template", event=event, language=language)
    if request.method == "POST":
        _owner_only()
        if request.form.get("action") == "revert":
            revert_wording(studio.id, event, language)
            db.session.commit()
            flash(_("The standard wording is back."), "success")
            return redirect(here)
        if form.validate_on_submit():
            save_wording(studio.id, event, language, form.subject.data, form.body_html.data)
            db.session.commit()
            flash(_("Email saved."), "success")
            return redirect(here + ("#preview" if request.form.get("then") == "preview" else ""))
    preview, preview_order = _preview(studio, subject, body, language)
    names = current_app.config["LANGUAGES"]
    customised = customised_languages(studio.id).get(event, set())
    tabs = [(code, names.get(code, code), code in customised) for code in languages]
    return render_template(
        "shop/admin/order_email_template.html",
        form=form,
        event=event,
        label=EVENT_LABELS[event],
        language=language,
        language_name=language_name(language),
        tabs=tabs,
        customised=stored is not None,
        standard=standard,
        variables=VARIABLES,
        preview=preview,
        preview_order=preview_order,
        action=here,
    ), 422 if form.errors else 200


@admin_bp.get("/orders/<int:order_id>/<any(confirmation, invoice):kind>.pdf")
@login_required
def order_document(order_id, kind):
    """The order confirmation or the invoice as a PDF, to print or send by hand: in the client's
    language, as the client gets it by email."""
    order = db.session.get(Order, order_id)
    if order is None or order.studio_id != current_user.studio_id:
        abort(404)
    studio = current_user.studio
    name, data = order_pdf(
        order, studio, INVOICE if kind == "invoice" else CONFIRMATION, email_language(order, studio)
    )
    return send_file(
        io.BytesIO(data), mimetype="application/pdf", download_name=name, as_attachment=False, max_age=0
    )
