"""Studio accounts: creating studios and staff, authentication. Services flush, never commit."""

import re
import secrets
import unicodedata
from functools import lru_cache

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.models import Invitation, PendingSignup, Role, Studio, User
from app.extensions import db
from app.signing import signing_keys, token_digest


def slugify(text, max_length=60):
    """A URL-safe slug: ASCII letters, digits and hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or "studio"


def unique_slug(base, taken):
    """``base``, or ``base-2``, ``base-3``... the first one ``taken(slug)`` says is free."""
    candidate, counter = base, 2
    while taken(candidate):
        candidate, counter = f"{base}-{counter}", counter + 1
    return candidate


def _studio_slug_taken(slug):
    return db.session.scalar(sa.select(Studio.id).where(Studio.slug == slug)) is not None


def create_studio(
    *, name, email, timezone, currency, language, now, owner_name=None, password=None, password_hash=None
):
    """Create a studio and its owner (from a password, or the hash a sign-up kept). Returns the
    owner user."""
    studio = Studio(
        name=name,
        slug=unique_slug(slugify(name), _studio_slug_taken),
        email=email,
        timezone=timezone,
        currency=currency,
        language=language,
        created_at=now,
    )
    owner = User(
        studio=studio,
        email=email.lower(),
        name=owner_name or name,
        password_hash=password_hash or generate_password_hash(password),
        role=Role.OWNER,
        created_at=now,
    )
    db.session.add_all([studio, owner])
    db.session.flush()
    return owner


def find_user_by_email(email):
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


@lru_cache(maxsize=1)
def _unknown_account_hash():
    """A hash to check the password of an unknown account against, so that a log-in for an
    address with no account costs the same time as one for an account (no enumeration)."""
    return generate_password_hash(secrets.token_hex(16))


def authenticate(email, password):
    """The user with these credentials, or None; reads only (the caller records the login)."""
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_unknown_account_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


def record_login(user, now):
    user.last_login_at = now


def set_password(user, password):
    """A new password ends every session of ``user`` (the caller starts a new one)."""
    user.password_hash = generate_password_hash(password)
    end_all_sessions(user)


def end_all_sessions(user):
    """Every session and remember cookie of ``user`` stops working (see ``User.get_id``)."""
    user.session_version = (user.session_version or 0) + 1


def user_for_session(identity):
    """The user of a session identity "<id>:<session version>", or None when that session was
    ended (or is of the old form without a version)."""
    user_id, _, version = str(identity).partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user


# ------------------------------------------------------------------ signed links

_RESET_SALT = "proofsheet-password-reset"
_INVITE_SALT = "proofsheet-invitation"


def _serializer(salt):
    """Signs with SECRET_KEY; also verifies links signed with SECRET_KEY_FALLBACKS (a rotated
    key), as itsdangerous does given a list of keys."""
    return URLSafeTimedSerializer(list(signing_keys()), salt=salt)


def password_reset_token(user):
    """A reset link's token. It carries a fingerprint of the current password hash, so it stops
    working once the password changed: single use."""
    return _serializer(_RESET_SALT).dumps([user.id, user.password_hash[-16:]])


class LinkProblem(Exception):  # noqa: N818
    """An expired, used or forged link; ``reason`` is "expired" or "invalid"."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _load(salt, token, max_age):
    try:
        return _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkProblem("expired") from None
    except (BadSignature, ValueError, TypeError):
        raise LinkProblem("invalid") from None


def user_for_reset_token(token, max_age):
    user_id, fingerprint = _load(_RESET_SALT, token, max_age)
    user = db.session.get(User, user_id)
    if user is None or user.password_hash[-16:] != fingerprint:
        raise LinkProblem("invalid")
    return user


def invite_operator(studio, email, invited_by, now):
    """Record an invitation (renewing a pending one) and return it."""
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.studio_id == studio.id, Invitation.email == email)
    )
    if invitation is None:
        invitation = Invitation(studio_id=studio.id, email=email)
        db.session.add(invitation)
    invitation.invited_by_id, invitation.created_at, invitation.accepted_at = invited_by.id, now, None
    db.session.flush()
    return invitation


def invitation_token(invitation):
    return _serializer(_INVITE_SALT).dumps([invitation.id, invitation.created_at.isoformat()])


def invitation_for_token(token, max_age):
    invitation_id, created = _load(_INVITE_SALT, token, max_age)
    invitation = db.session.get(Invitation, invitation_id)
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.created_at.isoformat() != created
    ):
        raise LinkProblem("invalid")
    return invitation


def accept_invitation(invitation, name, password, now):
    """Create the operator's account from an invitation; returns the new user."""
    user = User(
        studio_id=invitation.studio_id,
        email=invitation.email,
        name=name.strip(),
        password_hash=generate_password_hash(password),
        role=Role.OPERATOR,
        created_at=now,
        last_login_at=now,
    )
    invitation.accepted_at = now
    db.session.add(user)
    db.session.flush()
    return user


def pending_invitations(studio_id):
    return db.session.scalars(
        sa.select(Invitation)
        .where(Invitation.studio_id == studio_id, Invitation.accepted_at.is_(None))
        .order_by(Invitation.created_at.desc())
    ).all()


# ------------------------------------------------------------------ confirmed sign-ups


def request_signup(*, studio_name, owner_name, email, password, timezone, currency, language, now, lifetime):
    """Keep a sign-up until its emailed link is used; returns (pending, token). The password is
    kept hashed, as an account's would be."""
    token = secrets.token_urlsafe(32)
    pending = PendingSignup(
        email=email.lower(),
        studio_name=studio_name,
        owner_name=owner_name,
        password_hash=generate_password_hash(password),
        timezone=timezone,
        currency=currency,
        language=language,
        token_hash=token_digest(token),
        created_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(pending)
    db.session.flush()
    return pending, token


def same_work_as_a_signup(password):
    """What ``request_signup`` costs, for an address that has an account already: the answer
    must not come faster for it."""
    generate_password_hash(password)


def pending_signup_for(token, now):
    """The sign-up of an emailed link, or raise ``LinkProblem``."""
    pending = db.session.scalar(
        sa.select(PendingSignup).where(PendingSignup.token_hash == token_digest(token))
    )
    if pending is None:
        raise LinkProblem("invalid")
    if pending.used_at is not None:
        raise LinkProblem("used")
    if now >= pending.expires_at:
        raise LinkProblem("expired")
    return pending


def complete_signup(pending, now):
    """Create the studio of a confirmed sign-up; returns its owner. An address that got an
    account meanwhile (two sign-ups, one confirmed) raises ``LinkProblem("used")``."""
    if find_user_by_email(pending.email) is not None:
        raise LinkProblem("used")
    owner = create_studio(
        name=pending.studio_name,
        email=pending.email,
        password_hash=pending.password_hash,
        timezone=pending.timezone,
        currency=pending.currency,
        language=pending.language,
        owner_name=pending.owner_name,
        now=now,
    )
    pending.used_at = now
    db.session.flush()
    return owner


def galleries_sending_campaigns(studio_id):
    """How many of the studio's galleries use an email workflow. The tables are read by name:
    accounts sits below the galleries and workflows packages."""
    gallery, assigned = db.metadata.tables["gallery"], db.metadata.tables["gallery_workflow"]
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(assigned.join(gallery, gallery.c.id == assigned.c.gallery_id))
        .where(gallery.c.studio_id == studio_id)
    )
