"""One-click unsubscribe (RFC 8058): a signed token per (studio, address), no login, no cookie.

GET shows a confirmation page and never unsubscribes by itself (mail scanners prefetch links);
POST suppresses the address for that studio's campaign mail, idempotently, and is exempt from
CSRF (the token is the proof). Transactional mail still flows.
"""

import base64
import binascii

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature

from app.database import insert_ignoring_conflicts
from app.extensions import db
from app.mailing.models import Suppression
from app.signing import serializer, signer

UNSUBSCRIBED = "unsubscribed"
_SALT = "proofsheet-unsubscribe"
_COMPACT_SALT = "proofsheet-unsubscribe-2"


def _serializer():
    """Tokens sent before compact ones (base64 JSON) keep working: unsubscribing never expires."""
    return serializer(current_app.config["SECRET_KEY"], _SALT)


def unsubscribe_signer():
    return signer(current_app.config["SECRET_KEY"], _COMPACT_SALT)


def unsubscribe_token(studio_id, email, signer=None):
    """``studio-base64(address).signature``: one per campaign message, so it must be cheap
    (``signer``: ``unsubscribe_signer()`` looked up once for many tokens)."""
    address = base64.urlsafe_b64encode(email.strip().lower().encode("utf-8")).rstrip(b"=")
    return (signer or unsubscribe_signer()).sign(f"{studio_id}-".encode("ascii") + address).decode("ascii")


def _read_compact(token):
    studio_id, address = unsubscribe_signer().unsign(token).decode("ascii").split("-", 1)
    padded = address + "=" * (-len(address) % 4)
    return int(studio_id), base64.urlsafe_b64decode(padded).decode("utf-8")


def read_unsubscribe_token(token):
    """(studio_id, email) or None for a token that was not made by us."""
    try:
        if token[:1].isdigit():  # a compact token; older ones are base64 JSON ("W...")
            return _read_compact(token)
        studio_id, email = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        return None
    return int(studio_id), str(email)


def record_detail(how, message_id=None, note=""):
    """A suppression's detail: how it came (``one-click``, ``page``, ``mailto``, ``complaint``,
    ``bounce``...), about which outbox message, and a note ("how, message 42: note")."""
    detail = how if message_id is None else f"{how}, message {message_id}"
    return f"{detail}: {note}" if note else detail


def suppress(studio_id, email, reason, now, detail=""):
    """Stop campaign mail from ``studio_id`` to ``email``; doing it twice changes nothing. A
    bounce or a complaint replaces an earlier unsubscribe: the client may re-subscribe from
    an unsubscribe, never from those."""
    email = email.strip().lower()
    db.session.execute(insert_ignoring_conflicts(Suppression.__table__).values(
        studio_id=studio_id, email=email, reason=reason, detail=detail, created_at=now))
    if reason != UNSUBSCRIBED:
        db.session.execute(
            sa.update(Suppression).where(Suppression.studio_id == studio_id,
                                         Suppression.email == email,
                                         Suppression.reason == UNSUBSCRIBED)
            .values(reason=reason, detail=detail, created_at=now)
            .execution_options(synchronize_session=False))


def is_suppressed(studio_id, email):
    return db.session.get(Suppression, (studio_id, email.strip().lower())) is not None
