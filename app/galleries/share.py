"""Sharing a gallery with family: a signed-in client emails an invitation link; whoever follows
it registers with their own address (proven by the usual one-time code or link, ``signin.py``)
and gets the same gallery and the same cards in it as the inviter, never more.

The link carries the studio, the inviter, the gallery and the invited address, signed with its
time: it expires (14 days by default) and stops working when the studio revokes the inviter's
links. Which cards the family member gets is read when their address is proven, so a card the
inviter no longer holds is not passed on. Nothing of the inviter is copied but access: the
family member's name, language and consents are their own.

Services flush and never commit; ``now`` is a parameter.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired

from app.extensions import db
from app.galleries import clients
from app.galleries.models import AccessCard, Client, Gallery
from app.signing import signing_keys, timed_serializer

_SALT = "proofsheet-family-invite"
DEFAULT_MAX_AGE = 14 * 24 * 60 * 60
# A sign-in request remembers the inviter in its "where next" column (no other column for it):
# "family:<client id>", at most 16 characters.
_NEXT_PREFIX = "family:"


class InviteRefused(Exception):  # noqa: N818
    """The invitation link cannot be used; ``reason`` is "invalid", "expired" or "revoked"."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Invite:
    inviter: Client
    gallery: Gallery
    email: str  # the invited address (the form starts with it; the family member may change it)
    issued_at: datetime


def max_age():
    return current_app.config.get("FAMILY_INVITE_MAX_AGE", DEFAULT_MAX_AGE)


def _serializer():
    return timed_serializer(signing_keys(), _SALT)


def invite_token(inviter, gallery, email):
    """The signed token of an invitation from ``inviter`` to ``email`` for ``gallery``."""
    return _serializer().dumps([inviter.studio_id, inviter.id, gallery.id, email])


def read_invite(token):
    """The ``Invite`` of a link, or raise ``InviteRefused``."""
    try:
        (studio_id, inviter_id, gallery_id, email), issued = _serializer().loads(
            token, max_age=max_age(), return_timestamp=True
        )
    except SignatureExpired:
        raise InviteRefused("expired") from None
    except (BadSignature, ValueError, TypeError):
        raise InviteRefused("invalid") from None
    inviter = db.session.get(Client, int(inviter_id))
    gallery = db.session.get(Gallery, int(gallery_id))
    if inviter is None or gallery is None or not inviter.studio_id == gallery.studio_id == int(studio_id):
        raise InviteRefused("invalid")
    if clients.revoked_since(inviter, issued.timestamp()):
        raise InviteRefused("revoked")
    return Invite(inviter, gallery, str(email), issued)


def may_share(client, gallery):
    """Whether ``client`` has something to share in ``gallery``: a registration, and in a QR
    gallery a card."""
    if gallery.is_qr:
        return bool(clients.held_card_ids(client, gallery))
    return clients.is_registered(client, gallery)


def next_page_for(inviter):
    """What a sign-in request of a family member keeps of the invitation (``next_page``)."""
    return f"{_NEXT_PREFIX}{inviter.id}"


def inviter_of(request):
    """The inviter a completed sign-in request was made for, or None: a request that is no
    family member's, or an inviter whose links the studio revoked since the request."""
    if not (request.next_page or "").startswith(_NEXT_PREFIX):
        return None
    try:
        inviter = db.session.get(Client, int(request.next_page.removeprefix(_NEXT_PREFIX)))
    except ValueError:
        return None
    if inviter is None or inviter.studio_id != request.studio_id:
        return None
    return None if clients.revoked_since(inviter, _epoch(request.created_at)) else inviter


def _epoch(moment):
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def join_inviter(client, inviter, gallery, now):
    """Register ``client`` to ``gallery`` with the cards ``inviter`` holds there now (none more);
    returns the cards given. Flushes."""
    clients.ensure_registration(client, gallery, now)
    given = []
    for card_id in sorted(clients.held_card_ids(inviter, gallery)):
        card = db.session.get(AccessCard, card_id)
        if card is not None:
            clients.claim_card(client, card, now)
            given.append(card)
    return given
