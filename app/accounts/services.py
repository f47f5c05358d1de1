"""Studio accounts: creating studios and staff, authentication. Services flush, never commit."""

import re
import unicodedata

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.models import Role, Studio, User
from app.extensions import db


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


def create_studio(*, name, email, password, timezone, currency, language, now, owner_name=None):
    """Create a studio and its owner. Returns the owner user."""
    studio = Studio(name=name, slug=unique_slug(slugify(name), _studio_slug_taken), email=email,
                    timezone=timezone, currency=currency, language=language, created_at=now)
    owner = User(studio=studio, email=email.lower(), name=owner_name or name,
                 password_hash=generate_password_hash(password), role=Role.OWNER, created_at=now)
    db.session.add_all([studio, owner])
    db.session.flush()
    return owner


def find_user_by_email(email):
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def authenticate(email, password, now):
    """The user with these credentials, or None. Records the login time on success."""
    user = find_user_by_email(email)
    if user is None or not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = now
    return user


def set_password(user, password):
    user.password_hash = generate_password_hash(password)
