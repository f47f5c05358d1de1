"""Card payments through Stripe Checkout, with the official ``stripe`` library.

Each studio connects its own Stripe account, so every call builds a ``StripeClient`` with the
studio's secret key (never the module-wide ``stripe.api_key``, which would be shared by all
studios of the process). Amounts go to Stripe as integer minor units, exactly the order's
total, as one line: the order's own discounts and shipping are already in that total, and
Stripe's line-item arithmetic could otherwise round differently.

Calls to Stripe happen outside a database transaction (``_outside_transaction``): on SQLite a
writing request holds the database's write lock from its first query, and a slow network call
must not stall every other writer.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import stripe
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.shop.models import Order, Payment, PaymentStatus
from app.shop.payment_settings import settings_of, stripe_secret_key
from app.urls import external_url

log = logging.getLogger(__name__)


class CardPaymentError(RuntimeError):
    """Stripe could not be reached or refused the call; the message is for the page."""


def client_for(settings):
    """A StripeClient with the studio's secret key, talking to STRIPE_API_BASE."""
    api_key = stripe_secret_key(settings)
    if not api_key:
        raise CardPaymentError(_l("Card payments are not set up for this studio."))
    return stripe.StripeClient(
        api_key, base_addresses={"api": current_app.config["STRIPE_API_BASE"]}, max_network_retries=2
    )


def _outside_transaction():
    db.session.commit()  # ends the (read-only) transaction, releasing SQLite's lock


@dataclass(frozen=True)
class SessionRequest:
    """What a Checkout Session is created from, read from the order before calling Stripe."""

    studio_id: int
    order_id: int
    params: dict
    idempotency_key: str


def session_request(order, studio, now):
    """The parameters of a Checkout Session for ``order``'s exact total and currency."""
    minutes = int(current_app.config["STRIPE_CHECKOUT_EXPIRY_MINUTES"])
    thanks = external_url("shop.thanks", studio_slug=studio.slug, number=order.number)
    attempts = db.session.scalar(sa.select(sa.func.count(Payment.id)).where(Payment.order_id == order.id))
    metadata = {"order_id": str(order.id), "studio_id": str(studio.id), "order_number": order.number}
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": order.currency.lower(),
                    "unit_amount": order.total_minor,
                    "product_data": {
                        "name": _("%(studio)s: order %(number)s", studio=studio.name, number=order.number)
                    },
                },
            }
        ],
        "client_reference_id": str(order.id),
        "customer_email": order.contact_email,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": thanks + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": external_url("shop.pay", studio_slug=studio.slug, number=order.number),
        "expires_at": int((now + timedelta(minutes=minutes)).timestamp()),
    }
    # A retried request (network error) must not open a second session for the same attempt.
    return SessionRequest(studio.id, order.id, params, f"order-{order.id}-checkout-{attempts + 1}")


def _from_timestamp(value):
    return datetime.fromtimestamp(int(value), UTC) if value else None


def create_checkout_session(order, studio, now):
    """Open a Stripe Checkout Session for the order and record it as an open payment.

    Commits what the caller had written before the network call; flushes the payment row.
    Raises ``CardPaymentError`` (nothing recorded) when Stripe cannot be reached or refuses.
    """
    request = session_request(order, studio, now)
    client = client_for(settings_of(studio.id))
    _outside_transaction()
    try:
        session = client.v1.checkout.sessions.create(
            request.params, {"idempotency_key": request.idempotency_key}
        )
    except stripe.StripeError as error:
        log.warning("Stripe refused a Checkout Session for order %s: %s", request.order_id, error)
        raise CardPaymentError(
            _l("The card payment could not be started. Please try again in a moment.")
        ) from error
    order = db.session.get(Order, request.order_id)
    payment = Payment(
        studio_id=request.studio_id,
        order_id=order.id,
        provider="stripe",
        session_id=session.id,
        session_url=session.url or "",
        amount_minor=order.total_minor,
        currency=order.currency,
        status=PaymentStatus.OPEN,
        created_at=now,
        expires_at=_from_timestamp(session.to_dict().get("expires_at")),
    )
    db.session.add(payment)
    db.session.flush()
    return payment


def open_payment(order, now):
    """The order's open, unexpired payment (its session's page still works), or None."""
    return db.session.scalar(
        sa.select(Payment)
        .where(
            Payment.order_id == order.id,
            Payment.status == PaymentStatus.OPEN,
            sa.or_(Payment.expires_at.is_(None), Payment.expires_at > now),
        )
        .order_by(Payment.id.desc())
        .limit(1)
    )


def paid_payment(order):
    return db.session.scalar(
        sa.select(Payment)
        .where(Payment.order_id == order.id, Payment.status == PaymentStatus.PAID)
        .order_by(Payment.id)
        .limit(1)
    )


def payment_intent_of(payment, settings):
    """The PaymentIntent id of a paid session: kept from the webhook, else asked of Stripe."""
    if payment.payment_intent_id:
        return payment.payment_intent_id
    try:
        session = client_for(settings).v1.checkout.sessions.retrieve(payment.session_id)
    except stripe.StripeError as error:
        raise CardPaymentError(_l("Stripe could not be reached. Please try again in a moment.")) from error
    intent = session.to_dict().get("payment_intent")
    return intent.get("id") if isinstance(intent, dict) else intent
