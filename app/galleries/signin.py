"""Proof that a visitor reads the address they type: one-time sign-in links and 6-digit codes.

Registering (on a gallery or a QR card) or asking for a new private link never signs anybody in
by itself, whether the address is known or not: it records a ``ClientSignInRequest`` and emails
a link and a code to the address. Opening the link or typing the code, once and within the
lifetime (15 minutes by default), completes what was asked: the client is created or found,
registered, given the card (or, for a family member, the inviter's cards: ``share.py``), and
signed in. Both paths answer the visitor with the same words, so nobody learns from the site
whether an address is a client of the studio.

Services flush and never commit; ``now`` is a parameter.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.galleries import clients, share
from app.galleries.models import ClientSignInRequest
from app.signing import token_digest

CODE_DIGITS = 6
MAX_CODE_ATTEMPTS = 5  # then the request is dead: 5 guesses in a million per emailed code


class SignInRefused(Exception):  # noqa: N818
    """The link or code cannot be used; ``reason`` is "expired", "used", "locked" or "wrong"."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _code_hash(token_hash, code):
    """Keyed by the app's secret: six digits are too few to keep a plain hash secret."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{token_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def request_sign_in(
    studio_id,
    *,
    email,
    name,
    language,
    now,
    gallery=None,
    card=None,
    marketing_consent=False,
    consent_text=None,
    phone=None,
    sms_consent=False,
    sms_consent_text=None,
    next_page="gallery",
):
    """Record what the visitor asked for; returns (request, token, code) to email.

    ``email`` must be normalized (``clients.normalize_email``), ``phone`` be E.164 or None
    (``app.sms.phone.normalize_phone``). Only hashes of the token and the code are stored.
    """
    token = secrets.token_urlsafe(32)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    token_hash = token_digest(token)
    lifetime = timedelta(seconds=current_app.config["CLIENT_SIGN_IN_CODE_MAX_AGE"])
    request = ClientSignInRequest(
        studio_id=studio_id,
        email=email,
        name=name.strip(),
        language=language,
        marketing_consent=bool(marketing_consent),
        consent_text=consent_text if marketing_consent else None,
        phone=phone or None,
        sms_consent=bool(sms_consent and phone),
        sms_consent_text=sms_consent_text if sms_consent and phone else None,
        gallery_id=gallery.id if gallery is not None else None,
        card_id=card.id if card is not None else None,
        next_page=next_page,
        token_hash=token_hash,
        code_hash=_code_hash(token_hash, code),
        created_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(request)
    db.session.flush()
    return request, token, code


def request_from_form(studio_id, form, *, gallery, now, card=None, next_page="gallery"):
    """``request_sign_in`` with what the visitor typed in a validated ``RegistrationForm``
    (a gallery's, a card's or a family invitation's: the same fields and consent texts)."""
    return request_sign_in(
        studio_id,
        email=form.email.data,
        name=form.name.data,
        language=form.language.data,
        gallery=gallery,
        card=card,
        marketing_consent=form.marketing_consent.data,
        consent_text=form.consent_text,
        phone=form.phone.data,
        sms_consent=form.sms_consent.data,
        sms_consent_text=form.sms_consent_text,
        next_page=next_page,
        now=now,
    )


def find_by_token(token):
    """The request of an emailed link, or None for a link we never sent."""
    return db.session.scalar(
        sa.select(ClientSignInRequest).where(ClientSignInRequest.token_hash == token_digest(token))
    )


def check_usable(request, now):
    """Raise ``SignInRefused`` unless ``request`` can still complete at ``now``."""
    if request.used_at is not None:
        raise SignInRefused("used")
    if request.failed_attempts >= MAX_CODE_ATTEMPTS:
        raise SignInRefused("locked")
    if now >= request.expires_at:
        raise SignInRefused("expired")


def check_code(request, code, now):
    """Accept the typed ``code`` for ``request`` or raise ``SignInRefused`` (a wrong code counts
    towards the attempts; the caller commits that count)."""
    check_usable(request, now)
    typed = "".join(ch for ch in (code or "") if ch.isdigit())
    if not hmac.compare_digest(_code_hash(request.token_hash, typed), request.code_hash):
        request.failed_attempts += 1
        db.session.flush()
        raise SignInRefused("locked" if request.failed_attempts >= MAX_CODE_ATTEMPTS else "wrong")


def complete(request, now):
    """Do what the request asked, now that the address is proven: returns
    (client, newly_registered) where ``newly_registered`` says whether the client was not
    registered to the request's gallery before (they get their private gallery link then).
    A request for a new orders link from an address that is no client yet returns (None, False):
    there is nothing to show, and no client is made of a bare address."""
    check_usable(request, now)
    client = clients.find_client(request.studio_id, request.email)
    if client is None and request.gallery_id is None and request.card_id is None:
        request.used_at = now
        db.session.flush()
        return None, False
    if client is None:
        client = clients.Client(
            studio_id=request.studio_id,
            email=request.email,
            name=request.name,
            language=request.language,
            created_at=now,
        )
        db.session.add(client)
    elif request.name.strip() and clients.only_pre_registered(client):
        client.name = request.name.strip()  # the class list's name ("Parent of Ada") gives way
    if request.marketing_consent and not client.marketing_consent:
        client.marketing_consent, client.consent_at = True, now
        client.consent_text = request.consent_text
    clients.apply_phone(client, request.phone, request.sms_consent, request.sms_consent_text, now)
    db.session.flush()
    gallery = request.card.gallery if request.card is not None else request.gallery
    newly_registered = gallery is not None and not clients.registered_themselves(client, gallery)
    if request.card is not None:
        clients.claim_card(client, request.card, now)
    elif gallery is not None:
        clients.ensure_registration(client, gallery, now)
    inviter = share.inviter_of(request)
    if inviter is not None and gallery is not None:
        share.join_inviter(client, inviter, gallery, now)  # a family member: the inviter's cards
    request.used_at = now
    db.session.flush()
    return client, newly_registered
