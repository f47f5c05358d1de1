"""POST /stripe/webhook/<studio id>: the endpoint each studio registers in its Stripe account.

The signature (``Stripe-Signature``: a timestamp and an HMAC-SHA256 of "timestamp.payload" with
the endpoint's signing secret) is checked by ``stripe.Webhook.construct_event`` with the
studio's own secret; anything else answers 400 and changes nothing. No CSRF token (Stripe
cannot send one): the signature is the proof.
"""

import json
import logging

import stripe
from flask import abort, jsonify, request

from app import timeutil
from app.accounts.models import Studio
from app.extensions import csrf, db
from app.shop import client_bp, notifications
from app.shop.payment_settings import settings_of, stripe_webhook_secret
from app.shop.stripe_events import handle_event

log = logging.getLogger(__name__)


def _refused(message):
    return jsonify({"error": message}), 400


@client_bp.post("/stripe/webhook/<int:studio_id>")
@csrf.exempt
def stripe_webhook(studio_id):
    """Apply a Stripe event to the studio's orders, once; 400 for an unsigned or bad one."""
    studio = db.session.get(Studio, studio_id) or abort(404)
    secret = stripe_webhook_secret(settings_of(studio.id))
    if not secret:
        return _refused("card payments are not set up for this studio")
    payload = request.get_data()
    try:
        stripe.Webhook.construct_event(payload, request.headers.get("Stripe-Signature"), secret)
        event = json.loads(payload)
    except (ValueError, stripe.SignatureVerificationError) as error:
        log.warning("Refused a Stripe webhook for studio %s: %s", studio.id, error)
        return _refused("invalid signature or payload")
    if not isinstance(event, dict) or not {"id", "type", "data"} <= event.keys():
        return _refused("not a Stripe event")
    now = timeutil.now()
    outcome = handle_event(studio.id, event, now)
    db.session.commit()
    notifications.send_queued(now)  # "paid" / "cancelled" order emails
    return jsonify({"received": True, "outcome": outcome.action})
