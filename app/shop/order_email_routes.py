"""Settings → Order emails: when each order event emails whom and texts the client, the
studio's wording of each email and text in each of its clients' languages (editor, preview, back
to the standard wording), and the order's PDFs for the team."""

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
    NEVER,
    VARIABLES,
    client_languages,
    email_language,
    order_values,
    render_order_email,
    sample_values,
    standard_body,
    standard_subject,
)
from app.shop.order_email_forms import OrderEmailRulesForm, OrderEmailTemplateForm, OrderSmsForm
from app.shop.order_sms import (
    MAX_SEGMENTS,
    SMS_MODE_LABELS,
    SMS_VARIABLES,
    customised_text_languages,
    fill_text,
    revert_text,
    save_text,
    stored_text,
    text_for,
)
from app.sms.segments import count_segments


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
        sms_modes=SMS_MODE_LABELS,
        attachments=ATTACHMENT_LABELS,
        customised=_customised_names(studio, customised_languages(studio.id)),
        customised_texts=_customised_names(studio, customised_text_languages(studio.id)),
    ), (422 if form.errors else 200)


def _customised_names(studio, customised):
    """event -> the names of the languages in ``customised`` (event -> codes: those the studio
    wrote its own wording or text in), in the order of its client languages."""
    order = {language: index for index, language in enumerate(client_languages(studio))}
    return {
        event: [
            language_name(language)
            for language in sorted(languages, key=lambda code: order.get(code, len(order)))
        ]
        for event, languages in customised.items()
    }


def _language_or_404(studio):
    """The language being edited (?language=, the studio's by default) and the studio's client
    languages; a language the studio does not offer answers 404."""
    languages = client_languages(studio)
    language = request.args.get("language") or studio.language
    if language not in languages:
        abort(404)
    return language, languages


def _preview_values(studio, language):
    """(values, order) for previews in ``language``: the studio's latest order's values, or
    sample values (and None) when it has none."""
    order = db.session.scalar(
        sa.select(Order)
        .where(Order.studio_id == studio.id)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(1)
    )
    with force_locale(language):
        values = order_values(order, studio, language) if order else sample_values(studio, language)
    return values, order


@admin_bp.route("/order-emails/<event>", methods=["GET", "POST"])
@login_required
def order_email_template(event):
    """The wording of one order email in one of the studio's client languages (a tab each):
    edit with the rich-text editor, preview, or go back to that language's standard wording.
    The event's text message in that language is edited on the same page."""
    if event not in EVENTS:
        abort(404)
    studio = current_user.studio
    language, languages = _language_or_404(studio)
    _stored, _standard, subject, body = _email_wording(studio, event, language)
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
    return _template_page(studio, event, language, languages, form=form)


@admin_bp.post("/order-emails/<event>/text")
@login_required
def order_sms_template(event):
    """Save the event's text message in one language (?language=), or go back to that
    language's standard text. A refused text shows why on the page and saves nothing."""
    if event not in EVENTS:
        abort(404)
    _owner_only()
    studio = current_user.studio
    language, languages = _language_or_404(studio)
    here = url_for(".order_email_template", event=event, language=language) + "#text-message"
    if request.form.get("action") == "revert":
        revert_text(studio.id, event, language)
        db.session.commit()
        flash(_("The standard text is back."), "success")
        return redirect(here)
    sms_form = OrderSmsForm(values=_preview_values(studio, language)[0])
    if sms_form.validate_on_submit():
        save_text(studio.id, event, language, sms_form.sms_body.data)
        db.session.commit()
        flash(_("Text message saved."), "success")
        return redirect(here)
    return _template_page(studio, event, language, languages, sms_form=sms_form)


def _email_wording(studio, event, language):
    """(the stored wording or None, the standard (subject, body), the saved subject and body)."""
    stored = stored_wording(studio.id, event, language)
    with force_locale(language):
        standard = (standard_subject(event), standard_body(event))
    subject, body = (stored.subject, stored.body_html) if stored else standard
    return stored, standard, subject, body


def _template_page(studio, event, language, languages, form=None, sms_form=None):
    """The page of one event in one language: the email's editor and preview, the text's."""
    stored, standard, subject, body = _email_wording(studio, event, language)
    form = form or OrderEmailTemplateForm(data={"subject": subject, "body_html": body})
    values, preview_order = _preview_values(studio, language)
    with force_locale(language):
        preview = render_order_email(subject, body, values, studio, language)
    sms_template = text_for(studio.id, event, language)
    sms_form = sms_form or OrderSmsForm(data={"sms_body": sms_template})
    sms_preview = fill_text(sms_template, values)
    names = current_app.config["LANGUAGES"]
    customised = customised_languages(studio.id).get(event, set())
    own_texts = customised_text_languages(studio.id).get(event, set())
    tabs = [(code, names.get(code, code), code in customised, code in own_texts) for code in languages]
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
        action=url_for(".order_email_template", event=event, language=language),
        sms_form=sms_form,
        sms_action=url_for(".order_sms_template", event=event, language=language),
        sms_customised=stored_text(studio.id, event, language) is not None,
        sms_variables=SMS_VARIABLES,
        sms_mode=SMS_MODE_LABELS[setting_for(studio.id, event).sms_mode or NEVER],
        sms_preview=sms_preview,
        sms_preview_count=count_segments(sms_preview),
        max_segments=MAX_SEGMENTS,
    ), 422 if (form.errors or sms_form.errors) else 200


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
