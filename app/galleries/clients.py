"""Clients of a studio: registration, the signed-cookie session, private sign-in links, and what
each client may see.

A client is known per studio by email. Typing an address proves nothing: a visitor becomes a
client only by a one-time link or code sent to that address (``signin.py``), unless this
browser is already signed in as that very client (a parent adding a second child's card). The
browser remembers, per studio, which client it is and since when (Flask's signed session); a
private link in an email does the same on another device. The studio can revoke both: links
and sessions older than ``Client.links_revoked_at`` stop working.
"""

from datetime import datetime

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app, session
from itsdangerous import BadSignature, SignatureExpired

from app.extensions import db
from app.galleries.models import CardClaim, Client, Photo, Registration, card_photo
from app.i18n import email_problem
from app.signing import signing_keys, timed_serializer, timestamp_signer
from app.urls import external_url_around

_SESSION_KEY = "clients"
_LINK_SALT = "proofsheet-client-link"
_COMPACT_LINK_SALT = "proofsheet-client-link-2"


class InvalidEmail(ValueError):
    """The address cannot receive mail; the message says why."""


def normalize_email(address):
    """The address as we store it (email-validator's normalization, lower-cased)."""
    try:
        return validate_email((address or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidEmail(email_problem(error)) from None


def find_client(studio_id, email):
    return db.session.scalar(sa.select(Client).where(Client.studio_id == studio_id, Client.email == email))


def register_client(
    studio_id,
    gallery,
    *,
    name,
    email,
    language,
    marketing_consent,
    consent_text,
    now,
    card=None,
    phone=None,
    sms_consent=False,
    sms_consent_text=None,
):
    """Register (or sign back in) a client to ``gallery`` and, for a QR card, claim it.

    Returns (client, created). Consent is recorded with its exact text and time when given;
    an existing client's earlier consent is kept. A typed ``phone`` (E.164) replaces the
    client's; the SMS consent goes as the email consent does (``apply_phone``).
    """
    email = normalize_email(email)
    client = find_client(studio_id, email)
    created = client is None
    if created:
        client = Client(
            studio_id=studio_id, email=email, name=name.strip(), language=language, created_at=now
        )
        db.session.add(client)
    elif name.strip() and only_pre_registered(client):
        client.name = name.strip()  # the class list's name ("Parent of Ada") gives way to theirs
    if marketing_consent and not client.marketing_consent:
        client.marketing_consent, client.consent_text, client.consent_at = True, consent_text, now
    apply_phone(client, phone, sms_consent, sms_consent_text, now)
    db.session.flush()
    ensure_registration(client, gallery, now)
    if card is not None:
        claim_card(client, card, now)
    return client, created


def apply_phone(client, phone, sms_consent, sms_consent_text, now):
    """What the client typed with a proven address: a mobile number (E.164) replaces theirs;
    the SMS consent is recorded with its exact text and time when given with a number, and an
    earlier consent is kept (as the email consent)."""
    if phone:
        client.phone = phone
    if sms_consent and client.phone and client.sms_consent_at is None:
        client.sms_consent_text, client.sms_consent_at = sms_consent_text, now


def ensure_registration(client, gallery, now, *, pre_registered=False):
    """Register ``client`` to ``gallery`` (``pre_registered``: by the studio's import). A
    client registering where the studio pre-registered them registers now: their "after
    registration" emails start from this moment."""
    existing = db.session.scalar(
        sa.select(Registration).where(
            Registration.client_id == client.id, Registration.gallery_id == gallery.id
        )
    )
    if existing is None:
        db.session.add(
            Registration(
                client_id=client.id, gallery_id=gallery.id, registered_at=now, pre_registered=pre_registered
            )
        )
        db.session.flush()
    elif existing.pre_registered and not pre_registered:
        existing.pre_registered, existing.registered_at = False, now
        db.session.flush()


def only_pre_registered(client):
    """Whether every registration of ``client`` was made by the studio's import."""
    return (
        db.session.scalar(
            sa.select(Registration.id)
            .where(Registration.client_id == client.id, Registration.pre_registered.is_(False))
            .limit(1)
        )
        is None
    )


def claim_card(client, card, now, *, pre_registered=False):
    """Let ``client`` see ``card``'s photos (a parent may hold several cards: siblings)."""
    if db.session.get(CardClaim, (client.id, card.id)) is None:
        db.session.add(CardClaim(client_id=client.id, card_id=card.id, claimed_at=now))
        db.session.flush()
    ensure_registration(client, card.gallery, now, pre_registered=pre_registered)


# ------------------------------------------------------------------ the browser's session


def sign_in(client, now):
    """Remember in this browser that it is ``client`` for the client's studio, since ``now``."""
    known = dict(session.get(_SESSION_KEY, {}))
    known[str(client.studio_id)] = [client.id, int(now.timestamp())]
    session[_SESSION_KEY] = known
    session["client_language"] = client.language
    session.permanent = True


def sign_out(studio_id):
    known = dict(session.get(_SESSION_KEY, {}))
    known.pop(str(studio_id), None)
    session[_SESSION_KEY] = known


def current_client(studio_id):
    """The client this browser is signed in as for ``studio_id``, or None (also once the studio
    revoked the client's links after this browser signed in)."""
    known = session.get(_SESSION_KEY, {}).get(str(studio_id))
    if not isinstance(known, list) or len(known) != 2:
        return None
    client_id, signed_in_at = known
    client = db.session.get(Client, client_id)
    if client is None or client.studio_id != studio_id:
        return None
    return None if revoked_since(client, signed_in_at) else client


def revoked_since(client, issued_at):
    """Whether the studio revoked ``client``'s links at or after ``issued_at`` (epoch seconds,
    the resolution of a signed link's timestamp)."""
    revoked = client.links_revoked_at
    return revoked is not None and issued_at <= revoked.timestamp()


def revoke_links(client, now):
    """Every private link and signed-in browser of ``client`` stops working from ``now``."""
    client.links_revoked_at = now


# ------------------------------------------------------------------ private links


def _serializer():
    """Links sent before compact tokens (base64 JSON) still sign in until they expire."""
    return timed_serializer(signing_keys(), _LINK_SALT)


def _signer():
    """Signs with SECRET_KEY; verifies with it and SECRET_KEY_FALLBACKS."""
    return timestamp_signer(signing_keys(), _COMPACT_LINK_SALT)


def sign_in_token(client, signer=None):
    """``studio-client.time.signature``: short, and cheap enough to make one per campaign
    message."""
    return (signer or _signer()).sign(f"{client.studio_id}-{client.id}").decode("ascii")


def _read_compact(token):
    value, issued = _signer().unsign(
        token, max_age=current_app.config["CLIENT_LINK_MAX_AGE"], return_timestamp=True
    )
    studio_id, client_id = value.decode("ascii").split("-")
    return int(studio_id), int(client_id), issued


def read_sign_in_link(token):
    """(studio_id, client_id, issued_at) from a private link, or None when forged or expired;
    ``issued_at`` is an aware UTC datetime."""
    try:
        if token[:1].isdigit():  # a compact token; older ones are base64 JSON ("W...")
            return _read_compact(token)
        (studio_id, client_id), issued = _serializer().loads(
            token, max_age=current_app.config["CLIENT_LINK_MAX_AGE"], return_timestamp=True
        )
    except (BadSignature, SignatureExpired, ValueError, TypeError, UnicodeDecodeError):
        return None
    return int(studio_id), int(client_id), issued


def read_sign_in_token(token):
    """(studio_id, client_id) from a private link, or None when forged or expired."""
    found = read_sign_in_link(token)
    return found and found[:2]


def client_for_link(token):
    """The client a private link signs in, or None when forged, expired or revoked."""
    found = read_sign_in_link(token)
    client = found and db.session.get(Client, found[1])
    if not client or client.studio_id != found[0]:
        return None
    return None if revoked_since(client, _epoch(found[2])) else client


def _epoch(issued):
    return issued.timestamp() if isinstance(issued, datetime) else float(issued)


def sign_in_url(client, gallery, next_page=None):
    """A private link that signs ``client`` in on any device and opens ``gallery`` (or the
    client's cart or orders with ``next_page``)."""
    return sign_in_url_maker()(client, gallery, next_page)


def sign_in_url_maker():
    """``sign_in_url`` with its signer and URL looked up once: the campaign tick makes one link
    per message, and the lookups cost more than the signature."""
    signer = _signer()
    before, after = external_url_around("galleries_public.sign_in", "token")

    def make(client, gallery, next_page=None):
        link = f"{before}{sign_in_token(client, signer)}{after}?gallery={gallery.id}"
        return f"{link}&next={next_page}" if next_page else link

    return make


# ------------------------------------------------------------------ what a client may see


def held_card_ids(client, gallery):
    if client is None:
        return set()
    from app.galleries.models import AccessCard

    return set(
        db.session.scalars(
            sa.select(CardClaim.card_id)
            .join(AccessCard, AccessCard.id == CardClaim.card_id)
            .where(CardClaim.client_id == client.id, AccessCard.gallery_id == gallery.id)
        )
    )


def visible_photos(gallery, client):
    """The photos of ``gallery`` this visitor may see: all of them, or in a QR gallery those of
    the cards the client holds (nothing without a card)."""
    query = sa.select(Photo).where(Photo.gallery_id == gallery.id, Photo.shown_to_clients_clause())
    if gallery.is_qr:
        cards = held_card_ids(client, gallery)
        if not cards:
            return []
        query = query.where(
            Photo.id.in_(sa.select(card_photo.c.photo_id).where(card_photo.c.card_id.in_(cards)))
        )
    return db.session.scalars(query.order_by(Photo.position, Photo.id)).all()


def registered_themselves(client, gallery):
    """Whether ``client`` registered to ``gallery`` (not only the studio's import for them)."""
    return (
        db.session.scalar(
            sa.select(Registration.id).where(
                Registration.client_id == client.id,
                Registration.gallery_id == gallery.id,
                Registration.pre_registered.is_(False),
            )
        )
        is not None
    )


def is_registered(client, gallery):
    if client is None:
        return False
    return (
        db.session.scalar(
            sa.select(Registration.id).where(
                Registration.client_id == client.id, Registration.gallery_id == gallery.id
            )
        )
        is not None
    )
