"""Order-status emails: a status change emails the client (always, or when they asked for it at
checkout) and/or the studio's operators, straight away or after an operator's review.

The `order_status_changed` signal queues the messages in the same transaction (flush only); the
route that changed the status sends them once it has committed (``send_queued``). Messages to
review wait in the outbox as "held" until an operator sends or discards them.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import g
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.accounts.models import Studio, User
from app.extensions import db
from app.mailing.dispatch import dispatch
from app.mailing.models import MailKind, MailState, OutboxAttachment, OutboxMessage
from app.mailing.outbox import queue_message
from app.mailing.placeholders import substitute
from app.mailing.services import render_email, studio_sender
from app.mailing.studio_settings import cc_list, settings_of
from app.shop.client_services import my_orders_token
from app.shop.documents import order_confirmation_pdf
from app.shop.models import OrderEmailSetting
from app.shop.orders import STATUS_LABELS, order_status_changed, tracking_url
from app.urls import external_url

NEVER, ALWAYS, REQUESTED = "never", "always", "requested"


@dataclass(frozen=True)
class Default:
    mode: str
    to_operators: bool
    subject: object
    body: object


DEFAULTS = {
    "paid": Default(REQUESTED, False, _l("Payment received for order %order_number%"),
                    _l("<p>Hello %client_name%,</p><p>We received your payment for order "
                       "%order_number% (%order_total%). We are preparing it now.</p>")),
    "in_production": Default(REQUESTED, False, _l("Order %order_number% is being prepared"),
                             _l("<p>Hello %client_name%,</p><p>Your order %order_number% is in "
                                "production at our lab.</p>")),
    "shipped": Default(ALWAYS, False, _l("Order %order_number% is on its way"),
                       _l("<p>Hello %client_name%,</p><p>Your order %order_number% has been "
                          "shipped. Tracking: %tracking_link%</p>")),
    "ready_for_pickup": Default(ALWAYS, False, _l("Order %order_number% is ready for pickup"),
                                _l("<p>Hello %client_name%,</p><p>Your order %order_number% is "
                                   "ready: you can pick it up at the studio.</p>")),
    "delivered": Default(REQUESTED, False, _l("Order %order_number% was delivered"),
                         _l("<p>Hello %client_name%,</p><p>Your order %order_number% was "
                            "delivered. We hope you love your photos!</p>")),
    "cancelled": Default(ALWAYS, True, _l("Order %order_number% was cancelled"),
                         _l("<p>Hello %client_name%,</p><p>Your order %order_number% was "
                            "cancelled: %reason%</p>")),
}
EVENTS = list(DEFAULTS)
MODE_LABELS = {NEVER: _l("Never"), ALWAYS: _l("Always"),
               REQUESTED: _l("When the client asked for status emails")}


def setting_for(studio_id, event):
    """The studio's setting for ``event``, or the default (not stored)."""
    row = db.session.get(OrderEmailSetting, (studio_id, event))
    if row is not None:
        return row
    default = DEFAULTS[event]
    return OrderEmailSetting(studio_id=studio_id, event=event, mode=default.mode, to_client=True,
                             to_operators=default.to_operators, review=False)


def _values(order, studio, reason):
    link = tracking_url(order)
    return {
        "client_name": order.contact_name, "order_number": order.number,
        "order_total": f"{order.total_minor / 100:.2f} {order.currency}",
        "status": str(STATUS_LABELS.get(order.status, order.status)),
        "tracking_link": link or f"{order.carrier or ''} {order.tracking_number or ''}".strip(),
        "order_link": external_url("shop.my_orders",
                                   token=my_orders_token(studio.id, order.client_id)),
        "studio_name": studio.name, "reason": reason or order.cancel_reason or "",
    }


def _recipients(order, setting):
    recipients = []
    wants = setting.mode == ALWAYS or (setting.mode == REQUESTED and order.notify_status_changes)
    if setting.to_client and wants:
        recipients.append((order.contact_email, order.contact_name))
    if setting.to_operators and setting.mode != NEVER:
        recipients += db.session.execute(sa.select(User.email, User.name).where(
            User.studio_id == order.studio_id)).all()
    return recipients


def queue_status_emails(order, event, now, reason=None):
    """Queue (or hold for review) this event's emails for ``order``. Returns the rows."""
    if event not in DEFAULTS:
        return []
    setting = setting_for(order.studio_id, event)
    recipients = _recipients(order, setting)
    if not recipients:
        return []
    studio = db.session.get(Studio, order.studio_id)
    default = DEFAULTS[event]
    with force_locale(studio.language):
        subject = substitute(setting.subject or str(default.subject),
                             _values(order, studio, reason), html=False)
        body = substitute(setting.body_html or str(default.body), _values(order, studio, reason))
        html, text = render_email("plain_html", body=body, subject=subject, studio=studio)
    pdf = order_confirmation_pdf(order, studio) if setting.attach_pdf else None
    mail_settings = settings_of(studio.id)
    reply_to = (mail_settings.reply_to if mail_settings else None) or studio.email
    cc = cc_list(mail_settings.default_cc) if mail_settings else []
    rows = [queue_message(kind=MailKind.NOTIFICATION, studio_id=studio.id,
                          sender=studio_sender(studio.id, studio.name), recipient=address,
                          recipient_name=name or "", subject=subject, html=html, text=text,
                          now=now, reply_to=reply_to, cc=cc, source=f"order:{order.id}:{event}",
                          headers={"X-Proofsheet-Studio": str(studio.id)},
                          state=MailState.HELD if setting.review else MailState.QUEUED)
            for address, name in recipients]
    if pdf is not None:
        for row in rows:
            row.attachments.append(OutboxAttachment(
                filename=f"order-{order.number}.pdf", content_type="application/pdf", data=pdf))
        db.session.flush()
    g.setdefault("notification_ids", []).extend(row.id for row in rows)
    return rows


@order_status_changed.connect
def _on_status_changed(order, event):
    queue_status_emails(order, event.new_status, event.at)


def send_queued(now):
    """After the commit: send what this request queued (held messages wait for review)."""
    ids = g.pop("notification_ids", [])
    if ids:
        dispatch(now, worker="notifications", ids=ids)


def held_count(studio_id):
    return db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
        OutboxMessage.studio_id == studio_id, OutboxMessage.state == MailState.HELD))
