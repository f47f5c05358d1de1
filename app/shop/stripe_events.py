"""What a verified Stripe event does to our orders (the only way a card order becomes paid).

Each event is handled once per studio: its id goes into ``processed_webhook_event`` with
INSERT ... ON CONFLICT DO NOTHING in the same transaction as its effects, so a redelivery (Stripe
retries until it gets a 2xx) finds the id and changes nothing. Events may also arrive out of
order or twice under different ids (``completed`` then ``async_payment_succeeded``): every
effect checks the payment's own state first. A session is looked up within the studio whose
secret signed the event, so one studio's events never touch another's orders.
"""

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from app.accounts.models import Studio
from app.database import insert_ignoring_conflicts
from app.extensions import db
from app.shop.checkout import release_coupon
from app.shop.models import Order, OrderStatus, OrderStatusChange, Payment, PaymentStatus
from app.shop.models import ProcessedWebhookEvent as Processed
from app.shop.orders import STATUS_LABELS, change_status

log = logging.getLogger(__name__)

PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
ENDED_EVENTS = {"checkout.session.expired", "checkout.session.async_payment_failed"}


@dataclass(frozen=True)
class Outcome:
    """What handling an event did, for the log and the tests."""

    action: str  # paid, cancelled, duplicate, ignored, unknown_session, mismatch, late...
    order_id: int | None = None


def _first_time(studio_id, event, now):
    inserted = db.session.execute(
        insert_ignoring_conflicts(Processed.__table__)
        .values(studio_id=studio_id, event_id=event["id"], event_type=event["type"][:80], received_at=now)
        .returning(Processed.event_id)
    )
    return inserted.scalar() is not None  # RETURNING: rowcount is not reliable on every driver


def _payment_of(studio_id, session):
    payment = db.session.scalar(
        sa.select(Payment).where(Payment.studio_id == studio_id, Payment.session_id == str(session.get("id")))
    )
    order_id = (session.get("metadata") or {}).get("order_id")
    if payment is not None and order_id not in (None, str(payment.order_id)):
        return None  # the session names another order than the one we opened it for
    return payment


def handle_event(studio_id, event, now):
    """Apply a verified event (a dict) of ``studio_id``'s account. Flushes only."""
    if not _first_time(studio_id, event, now):
        return Outcome("duplicate")
    if event["type"] not in PAID_EVENTS | ENDED_EVENTS:
        return Outcome("ignored")
    session = (event["data"] or {}).get("object") if isinstance(event["data"], dict) else None
    if not isinstance(session, dict):
        return Outcome("ignored")
    payment = _payment_of(studio_id, session)
    if payment is None:
        log.warning("Stripe event %s names no session of studio %s", event["id"], studio_id)
        return Outcome("unknown_session")
    # The notes written in the order's history are in the studio's language.
    with force_locale(db.session.get(Studio, studio_id).language):
        if event["type"] in PAID_EVENTS:
            return _paid(payment, session, now)
        return _ended(payment, now)


def _amount_matches(payment, order, session):
    currency = str(session.get("currency") or "").upper()
    total = session.get("amount_total")
    return (
        isinstance(total, int)
        and total == payment.amount_minor == order.total_minor
        and currency == payment.currency.upper() == order.currency.upper()
    )


def _note(order, text, now):
    """A line in the order's history without a status change (the status stays)."""
    order.history.append(
        OrderStatusChange(from_status=order.status, to_status=order.status, changed_at=now, note=text)
    )


def _paid(payment, session, now):
    order = db.session.get(Order, payment.order_id)
    if session.get("payment_status") != "paid":
        return Outcome("pending", order.id)  # a delayed method: async_payment_succeeded follows
    if payment.status == PaymentStatus.PAID:
        return Outcome("already_paid", order.id)
    if not _amount_matches(payment, order, session):
        log.error(
            "Stripe session %s: amount %s %s does not match order %s (%s %s)",
            payment.session_id,
            session.get("amount_total"),
            session.get("currency"),
            order.number,
            order.total_minor,
            order.currency,
        )
        _note(
            order,
            _(
                "Card payment %(session)s does not match the order's total: not marked "
                "paid. Check it in Stripe.",
                session=payment.session_id,
            ),
            now,
        )
        return Outcome("mismatch", order.id)
    payment.status, payment.paid_at = PaymentStatus.PAID, now
    intent = session.get("payment_intent")
    payment.payment_intent_id = intent.get("id") if isinstance(intent, dict) else intent
    if order.status != OrderStatus.NEW:
        # Cancelled meanwhile (or marked paid by hand): the money is there, say so.
        # Translators: %(status)s is the order's status in lower case ("cancelled").
        _note(
            order,
            _(
                "Card payment received while the order was already %(status)s: refund "
                "it if it is not wanted.",
                status=STATUS_LABELS[order.status].lower(),
            ),
            now,
        )
        db.session.flush()
        return Outcome("late", order.id)
    change_status(order, OrderStatus.PAID, now=now, note=_("Card payment (Stripe)"))
    return Outcome("paid", order.id)


def _ended(payment, now):
    """An abandoned (expired) or failed session: the order is cancelled if nothing else can
    still pay it, and its coupon use is given back."""
    order = db.session.get(Order, payment.order_id)
    if payment.status != PaymentStatus.OPEN:
        return Outcome("ignored", order.id)  # already paid (or ended) through this session
    payment.status = PaymentStatus.EXPIRED
    others = db.session.scalar(
        sa.select(sa.func.count(Payment.id)).where(
            Payment.order_id == order.id,
            Payment.id != payment.id,
            Payment.status.in_([PaymentStatus.OPEN, PaymentStatus.PAID]),
        )
    )
    if others or order.status != OrderStatus.NEW:
        db.session.flush()
        return Outcome("expired", order.id)
    change_status(order, OrderStatus.CANCELLED, now=now, reason=_("The card payment was not completed."))
    release_coupon(order)
    return Outcome("cancelled", order.id)
