"""One-click unsubscribe (RFC 8058): a signed token per (studio, address), no login, no cookie.

GET shows a confirmation page and never unsubscribes by itself (mail scanners prefetch links);
POST suppresses the address for that studio's campaign mail, idempotently, and is exempt from
CSRF (the token is the proof). Transactional mail still flows.
"""

from flask import current_app
from itsdangerous import BadSignature

from app.database import insert_ignoring_conflicts
from app.extensions import db
from app.mailing.models import Suppression
from app.signing import serializer

_SALT = "proofsheet-unsubscribe"


def _serializer():
    return serializer(current_app.config["SECRET_KEY"], _SALT)


def unsubscribe_token(studio_id, email):
    return _serializer().dumps([studio_id, email.strip().lower()])


def read_unsubscribe_token(token):
    """(studio_id, email) or None for a token that was not made by us."""
    try:
        studio_id, email = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return int(studio_id), str(email)


def suppress(studio_id, email, reason, now, detail=""):
    """Stop campaign mail from ``studio_id`` to ``email``; doing it twice changes nothing."""
    db.session.execute(insert_ignoring_conflicts(Suppression.__table__).values(
        studio_id=studio_id, email=email.strip().lower(), reason=reason, detail=detail,
        created_at=now))


def is_suppressed(studio_id, email):
    return db.session.get(Suppression, (studio_id, email.strip().lower())) is not None
