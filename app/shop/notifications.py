"""Order emails: an order event (placed, a status change, a new expected delivery date, downloads
ready) emails the client (always, or when they asked for it at checkout) and/or the studio's
operators, straight away or after an operator's review.

The shop's signals queue the messages in the same transaction (flush only); the route that
caused the event sends them once it has committed (``send_queued``). Messages to review wait in
the outbox as "held" until an operator sends or discards them.
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
from app.shop.models import OrderEmailSetting, OrderStatus
from app.shop.order_email_content import (
    ALWAYS,
    DEFAULTS,
    NEVER,
    NO_ATTACHMENT,
    REQUESTED,
    order_values,
    render_order_email,
    standard_body,
    standard_subject,
)
from app.shop.orders import (
    expected_delivery_changed,
    order_placed,
    order_refunded,
    order_status_changed,
)


def setting_for(studio_id, event):
    """The studio's setting for ``event``, or the default (not stored)."""
    row = db.session.get(OrderEmailSetting, (studio_id, event))
    if row is not None:
        return row
    default = DEFAULTS[event]
    return OrderEmailSetting(studio_id=studio_id, event=event, mode=default.mode, to_client=True,
                             to_operators=default.to_operators, review=False,
                             attachment=NO_ATTACHMENT)


def templates_of(setting):
    """(subject, body) the studio wrote for this event, or the standard ones in its language."""
    return (setting.subject or standard_subject(setting.event),
            setting.body_html or standard_body(setting.event))


def _recipients(order, setting):
    recipients = []
    wants = setting.mode == ALWAYS or (setting.mode == REQUESTED and order.notify_status_changes)
    if setting.to_client and wants:
        recipients.append((order.contact_email, order.contact_name))
    if setting.to_operators and setting.mode != NEVER:
        recipients += db.session.execute(sa.select(User.email, User.name).where(
            User.studio_id == order.studio_id).order_by(User.id)).all()
    return recipients


def queue_order_emails(order, event, now, reason=None, refund_minor=None):
    """Queue (or hold for review) this event's emails for ``order``. Returns the rows."""
    if event not in DEFAULTS:
        return []
    setting = setting_for(order.studio_id, event)
    recipients = _recipients(order, setting)
    if not recipients:
        return []
    studio = db.session.get(Studio, order.studio_id)
    with force_locale(studio.language):
        subject_template, body_template = templates_of(setting)
        email = render_order_email(subject_template, body_template,
                                   order_values(order, studio, reason, refund_minor), studio)
        attachment = order_pdf(order, studio, setting.attachment) if setting.attachment else None
    mail_settings = settings_of(studio.id)
    identity = studio_identity(studio.id)
    cc = cc_list(mail_settings.default_cc) if mail_settings else []
    state = MailState.HELD if setting.review else MailState.QUEUED
    rows = [queue_message(kind=MailKind.NOTIFICATION, studio_id=studio.id,
                          sender=identity.sender, recipient=address,
                          recipient_name=name or "", subject=email.subject, html=email.html,
                          text=email.text, now=now, reply_to=identity.reply_to, cc=cc,
                          source=f"order:{order.id}:{event}",
                          headers={"X-Proofsheet-Studio": str(studio.id)}, state=state)
            for address, name in recipients]
    for row in rows:
        if setting.review:
            row.body_html = email.body
        if attachment is not None:
            row.attachments.append(OutboxAttachment(filename=attachment[0],
                                                    content_type="application/pdf",
                                                    data=attachment[1]))
    db.session.flush()
    g.setdefault("notification_ids", []).extend(row.id for row in rows)
    return rows


def _delivers_downloads(order):
    return any(item.delivers_download for item in order.items)


@order_status_changed.connect
def _on_status_changed(order, event):
    queue_order_emails(order, event.new_status, event.at)
    if event.new_status == OrderStatus.PAID and _delivers_downloads(order):
        queue_order_emails(order, "download_ready", event.at)


@order_placed.connect
def _on_placed(order):
    queue_order_emails(order, "placed", order.placed_at)


@expected_delivery_changed.connect
def _on_expected_delivery_changed(order, now):
    if order.expected_delivery_on is not None:
        queue_order_emails(order, "delivery_changed", now)


@order_refunded.connect
def _on_refunded(order, refund, now):
    queue_order_emails(order, "refunded", now, refund_minor=refund.amount_minor)


def send_queued(now):
    """After the commit: send what this request queued (held messages wait for review)."""
    ids = g.pop("notification_ids", [])
    if ids:
        dispatch(now, worker="notifications", ids=ids)


def held_count(studio_id):
    return db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
        OutboxMessage.studio_id == studio_id, OutboxMessage.state == MailState.HELD))
