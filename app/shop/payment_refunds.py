"""Refunds of card payments, full or partial, through Stripe's API (``stripe.Refund``).

The refund is asked of Stripe first (outside a database transaction, see ``stripe_checkout``),
then recorded: a ``refund`` row, the order's ``refunded_minor``, a line in its history, and the
``order_refunded`` signal after the flush, which the order emails turn into the "refunded"
email (Settings → Order emails). Stripe itself refuses more than the charge, so two staff
refunding at once cannot give back more than was paid.
"""

import logging

import stripe
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.shop.models import Order, OrderStatusChange, Refund
from app.shop.money import format_money
from app.shop.orders import order_refunded
from app.shop.payment_settings import settings_of
from app.shop.stripe_checkout import CardPaymentError, client_for, paid_payment, payment_intent_of

log = logging.getLogger(__name__)


def refundable_minor(order):
    """What may still be refunded: the card payment less earlier refunds (0 without one)."""
    payment = paid_payment(order)
    return max(payment.amount_minor - order.refunded_minor, 0) if payment else 0


def refund_order(order, amount_minor, *, reason, user, now):
    """Refund ``amount_minor`` of the order's card payment. Raises ``CardPaymentError`` with a
    message for the page (nothing recorded); flushes the refund otherwise."""
    payment = paid_payment(order)
    if payment is None:
        raise CardPaymentError(_l("This order was not paid by card: refund it by your own means."))
    if not 0 < amount_minor <= refundable_minor(order):
        raise CardPaymentError(_l("This amount cannot be refunded."))
    settings = settings_of(order.studio_id)
    intent = payment_intent_of(payment, settings)
    client = client_for(settings)
    order_id, payment_id, already = order.id, payment.id, order.refunded_minor
    db.session.commit()  # no transaction (nor SQLite's write lock) during the network call
    try:
        answer = client.v1.refunds.create(
            {"payment_intent": intent, "amount": amount_minor, "metadata": {"order_id": str(order_id)}},
            {"idempotency_key": f"order-{order_id}-refund-{already}-{amount_minor}"},
        )
    except stripe.StripeError as error:
        log.warning("Stripe refused a refund of order %s: %s", order_id, error)
        message = getattr(error, "user_message", None) or str(error)
        raise CardPaymentError(_l("Stripe refused the refund: %(why)s", why=message)) from error
    return _record(db.session.get(Order, order_id), payment_id, answer, amount_minor, reason, user, now)


def _record(order, payment_id, answer, amount_minor, reason, user, now):
    refund = Refund(
        studio_id=order.studio_id,
        order_id=order.id,
        payment_id=payment_id,
        provider_refund_id=answer.id,
        amount_minor=amount_minor,
        currency=order.currency,
        status=str(answer.status or ""),
        reason=reason or "",
        created_at=now,
        created_by_id=user.id if user else None,
    )
    db.session.add(refund)
    order.refunded_minor += amount_minor
    amount = format_money(amount_minor, order.currency, "en")
    note = (
        _("Refunded %(amount)s by card: %(reason)s", amount=amount, reason=reason)
        if reason
        else _("Refunded %(amount)s by card", amount=amount)
    )
    order.history.append(
        OrderStatusChange(
            from_status=order.status,
            to_status=order.status,
            changed_at=now,
            changed_by_id=user.id if user else None,
            note=note,
        )
    )
    db.session.flush()
    order_refunded.send(order, refund=refund, now=now)
    return refund
