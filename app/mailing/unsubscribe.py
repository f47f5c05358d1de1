"""One-click unsubscribe (RFC 8058): a signed token per (studio, address), no login, no cookie.

GET shows a confirmation page and never unsubscribes by itself (mail scanners prefetch links);
POST suppresses the address for that studio's campaign mail, idempotently, and is exempt from
CSRF (the token is the proof). Transactional mail still flows.
"""

import base64
import binascii

import sqlalchemy as sa
from flask_babel import gettext as _
from itsdangerous import BadSignature

from app.database import insert_ignoring_conflicts
from app.extensions import db
from app.mailing.models import MailKind, MailState, OutboxMessage, Suppression
from app.signing import serializer, signer, signing_keys

UNSUBSCRIBED = "unsubscribed"
_SALT = "proofsheet-unsubscribe"
_COMPACT_SALT = "proofsheet-unsubscribe-2"


def _serializer():
    """Tokens sent before compact ones (base64 JSON) keep working: unsubscribing never expires."""
    return serializer(signing_keys(), _SALT)


def unsubscribe_signer():
    """Signs with SECRET_KEY; verifies with it and SECRET_KEY_FALLBACKS."""
    return signer(signing_keys(), _COMPACT_SALT)


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
    db.session.execute(
        insert_ignoring_conflicts(Suppression.__table__).values(
            studio_id=studio_id, email=email, reason=reason, detail=detail, created_at=now
        )
    )
    if reason != UNSUBSCRIBED:
        db.session.execute(
            sa.update(Suppression)
            .where(
                Suppression.studio_id == studio_id,
                Suppression.email == email,
                Suppression.reason == UNSUBSCRIBED,
            )
            .values(reason=reason, detail=detail, created_at=now)
            .execution_options(synchronize_session=False)
        )


def is_suppressed(studio_id, email):
    return db.session.get(Suppression, (studio_id, email.strip().lower())) is not None


# ------------------------------------------------------------------ records and preferences

ONE_CLICK, PAGE = "one-click", "page"
# Only these may be lifted by the client: a bounce or a complaint protects the studio's
# reputation, and only the studio (or a new registration) should decide about those.
RESUBSCRIBABLE = frozenset({UNSUBSCRIBED})


def message_unsubscribed_from(studio_id, email, claimed_id=None):
    """(outbox message id, note) for an unsubscribe record: the message the header link named
    (``?m=``, kept only when it is the studio's message to that very address), else the latest
    campaign message sent to the address, noted as such (the footer link names no message)."""
    email = email.strip().lower()
    ours = sa.and_(
        OutboxMessage.studio_id == studio_id,
        OutboxMessage.kind == MailKind.CAMPAIGN,
        sa.func.lower(OutboxMessage.recipient) == email,
    )
    if claimed_id is not None:
        found = db.session.scalar(sa.select(OutboxMessage.id).where(ours, OutboxMessage.id == claimed_id))
        if found is not None:
            return found, ""
    latest = db.session.scalar(
        sa.select(OutboxMessage.id)
        .where(ours, OutboxMessage.state == MailState.SENT)
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(1)
    )
    return latest, "the latest sent to the address" if latest is not None else ""


def unsubscribe(studio_id, email, how, now, claimed_id=None):
    """Unsubscribe ``email`` from the studio's campaign mail, recording how and from which
    message."""
    message_id, note = message_unsubscribed_from(studio_id, email, claimed_id)
    suppress(studio_id, email, UNSUBSCRIBED, now, detail=record_detail(how, message_id, note))


def suppression_of(studio_id, email):
    """The address's suppression by the studio, or None (it is subscribed)."""
    return db.session.get(Suppression, (studio_id, email.strip().lower()))


class ResubscribeRefused(ValueError):
    """The address is suppressed for a reason the client cannot lift."""


def resubscribe(studio_id, email):
    """Let campaign mail reach ``email`` again: deletes an unsubscribe record, never a bounce
    or a complaint (``ResubscribeRefused``, with what to do instead)."""
    found = suppression_of(studio_id, email)
    if found is None:
        return
    if found.reason not in RESUBSCRIBABLE:
        raise ResubscribeRefused(_refusal(found.reason))
    db.session.delete(found)
    db.session.flush()


def _refusal(reason):
    if reason == "bounced":
        return _(
            "Our emails to this address were returned as undeliverable, so they were "
            "stopped. Please contact the studio to receive them again."
        )
    return _(
        "Emails to this address were stopped after they were reported as unwanted. "
        "Please contact the studio to receive them again."
    )


def studio_name(studio_id):
    """The studio's name for the public pages (read by table: mailing imports no feature
    package)."""
    studio = db.metadata.tables["studio"]
    return db.session.scalar(sa.select(studio.c.name).where(studio.c.id == studio_id)) or ""
