"""Order emails: an order event (placed, a status change, a new expected delivery date, downloads
ready) emails the client (always, or when they asked for it at checkout) and/or the studio's
operators, straight away or after an operator's review; and may text the client
(``order_sms``: texts are never held for review).

The client's emails are in the client's language (when the studio offers it, else the studio's),
the team's copies in the studio's; each says its language in a Content-Language header, which
the review queue reads to lay the edited message out again in it.

The shop's signals queue the messages in the same transaction (flush only); the route that
caused the event sends them, emails and texts, once it has committed (``send_queued``).
Messages to review wait in the outbox as "held" until an operator sends or discards them.
"""

import sqlalchemy as sa
from flask import g
from flask_babel import force_locale

from app.accounts.models import Studio, User
from app.extensions import db
from app.mailing.dispatch import dispatch
from app.mailing.identity import studio_identity
from app.mailing.models import MailKind, MailState, OutboxAttachment, OutboxMessage
from app.mailing.outbox import queue_message
from app.mailing.studio_settings import cc_list, settings_of
from app.shop.documents import order_pdf
from app.shop.models import OrderEmailSetting, OrderEmailWording, OrderStatus
from app.shop.order_email_content import (
    ALWAYS,
    DEFAULTS,
    NEVER,
    NO_ATTACHMENT,
    REQUESTED,
    email_language,
    is_standard_wording,
    one_line,
    order_values,
    render_order_email,
    sanitize_order_body,
    standard_body,
    standard_subject,
)
from app.shop.order_sms import queue_order_text
from app.shop.orders import (
    expected_delivery_changed,
    order_placed,
    order_refunded,
    order_status_changed,
)
from app.sms.dispatch import dispatch_sms


def setting_for(studio_id, event):
    """The studio's setting for ``event``, or the default (not stored)."""
    row = db.session.get(OrderEmailSetting, (studio_id, event))
    if row is not None:
        return row
    default = DEFAULTS[event]
    return OrderEmailSetting(
        studio_id=studio_id,
        event=event,
        mode=default.mode,
        to_client=True,
        to_operators=default.to_operators,
        review=False,
        attachment=NO_ATTACHMENT,
        sms_mode=NEVER,  # a text costs the studio money: never unless it chose to
    )


def stored_wording(studio_id, event, language):
    """The studio's own wording of ``event`` in ``language`` (an ``OrderEmailWording``), or None."""
    return db.session.get(OrderEmailWording, (studio_id, event, language))


def wording_for(studio_id, event, language):
    """(subject, body) of ``event`` in ``language``: the studio's own, else the standard one."""
    row = stored_wording(studio_id, event, language)
    if row is not None:
        return row.subject, row.body_html
    with force_locale(language):
        return standard_subject(event), standard_body(event)


def save_wording(studio_id, event, language, subject, body_html):
    """Keep the studio's wording of ``event`` in ``language``; the standard wording of that
    language (unchanged but for the editor's markup) is not stored. Flushes."""
    subject, body_html = one_line(subject), sanitize_order_body(body_html)
    with force_locale(language):
        standard = (standard_subject(event), standard_body(event))
    row = stored_wording(studio_id, event, language)
    if is_standard_wording(subject, body_html, standard):
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(
            OrderEmailWording(
                studio_id=studio_id, event=event, language=language, subject=subject, body_html=body_html
            )
        )
    else:
        row.subject, row.body_html = subject, body_html
    db.session.flush()


def revert_wording(studio_id, event, language):
    """Back to the standard wording of ``event`` in ``language``. Flushes."""
    row = stored_wording(studio_id, event, language)
    if row is not None:
        db.session.delete(row)
        db.session.flush()


def customised_languages(studio_id):
    """event -> the languages the studio wrote its own wording in."""
    languages = {}
    for event, language in db.session.execute(
        sa.select(OrderEmailWording.event, OrderEmailWording.language).where(
            OrderEmailWording.studio_id == studio_id
        )
    ):
        languages.setdefault(event, set()).add(language)
    return languages


def _recipients(order, setting, studio):
    """(address, name, language) of everyone this event emails."""
    recipients = []
    wants = setting.mode == ALWAYS or (setting.mode == REQUESTED and order.notify_status_changes)
    if setting.to_client and wants:
        recipients.append((order.contact_email, order.contact_name, email_language(order, studio)))
    if setting.to_operators and setting.mode != NEVER:
        recipients += [
            (email, name, studio.language)
            for email, name in db.session.execute(
                sa.select(User.email, User.name).where(User.studio_id == order.studio_id).order_by(User.id)
            )
        ]
    return recipients


def _message_in(language, order, studio, setting, reason, refund_minor):
    """(the rendered email, the PDF attachment or None) of this event in ``language``."""
    subject_template, body_template = wording_for(studio.id, setting.event, language)
    with force_locale(language):
        values = order_values(order, studio, language, reason, refund_minor)
        email = render_order_email(subject_template, body_template, values, studio, language)
    attachment = order_pdf(order, studio, setting.attachment, language) if setting.attachment else None
    return email, attachment


def queue_order_emails(order, event, now, reason=None, refund_minor=None):
    """Queue (or hold for review) this event's emails for ``order``. Returns the rows."""
    if event not in DEFAULTS:
        return []
    setting = setting_for(order.studio_id, event)
    studio = db.session.get(Studio, order.studio_id)
    recipients = _recipients(order, setting, studio)
    if not recipients:
        return []
    messages = {
        language: _message_in(language, order, studio, setting, reason, refund_minor)
        for language in dict.fromkeys(language for _a, _n, language in recipients)
    }
    mail_settings = settings_of(studio.id)
    identity = studio_identity(studio.id)
    cc = cc_list(mail_settings.default_cc) if mail_settings else []
    state = MailState.HELD if setting.review else MailState.QUEUED
    rows = []
    for address, name, language in recipients:
        email, attachment = messages[language]
        row = queue_message(
            kind=MailKind.NOTIFICATION,
            studio_id=studio.id,
            sender=identity.sender,
            recipient=address,
            recipient_name=name or "",
            subject=email.subject,
            html=email.html,
            text=email.text,
            now=now,
            reply_to=identity.reply_to,
            cc=cc,
            source=f"order:{order.id}:{event}",
            headers={"X-Proofsheet-Studio": str(studio.id), "Content-Language": language},
            state=state,
        )
        if setting.review:
            row.body_html = email.body
        if attachment is not None:
            row.attachments.append(
                OutboxAttachment(filename=attachment[0], content_type="application/pdf", data=attachment[1])
            )
        rows.append(row)
    db.session.flush()
    g.setdefault("notification_ids", []).extend(row.id for row in rows)
    return rows


def _delivers_downloads(order):
    return any(item.delivers_download for item in order.items)


def queue_order_messages(order, event, now, reason=None, refund_minor=None, occurrence=None):
    """Queue this event's emails (or hold them for review) and its text to the client, in the
    caller's transaction. Texts are never held: review edits emails only."""
    queue_order_emails(order, event, now, reason=reason, refund_minor=refund_minor)
    if event in DEFAULTS:
        setting = setting_for(order.studio_id, event)
        studio = db.session.get(Studio, order.studio_id)
        queue_order_text(
            order,
            studio,
            event,
            setting.sms_mode,
            now,
            reason=reason,
            refund_minor=refund_minor,
            occurrence=occurrence,
        )


@order_status_changed.connect
def _on_status_changed(order, event):
    queue_order_messages(order, event.new_status, event.at)
    if event.new_status == OrderStatus.PAID and _delivers_downloads(order):
        queue_order_messages(order, "download_ready", event.at)


@order_placed.connect
def _on_placed(order):
    queue_order_messages(order, "placed", order.placed_at)


@expected_delivery_changed.connect
def _on_expected_delivery_changed(order, now):
    if order.expected_delivery_on is not None:
        # A new date is news each time: its own text (the same date twice is one).
        new_date = order.expected_delivery_on.isoformat()
        queue_order_messages(order, "delivery_changed", now, occurrence=new_date)


@order_refunded.connect
def _on_refunded(order, refund, now):
    queue_order_messages(
        order, "refunded", now, refund_minor=refund.amount_minor, occurrence=f"refund-{refund.id}"
    )


def send_queued(now):
    """After the commit: send what this request queued, emails and texts (held emails wait for
    review)."""
    ids = g.pop("notification_ids", [])
    if ids:
        dispatch(now, worker="notifications", ids=ids)
    text_ids = g.pop("order_sms_ids", [])
    if text_ids:
        dispatch_sms(now, worker="notifications", ids=text_ids)


def held_count(studio_id):
    return db.session.scalar(
        sa.select(sa.func.count(OutboxMessage.id)).where(
            OutboxMessage.studio_id == studio_id, OutboxMessage.state == MailState.HELD
        )
    )
