"""Who a studio's mail is from, and where replies go: one rule for every kind of mail.

- The studio's own sender address goes in From only where it can pass DMARC: mail through the
  studio's own SMTP server (its domain, its responsibility), or an address on the studio's
  verified sender domain (we sign it with the domain's DKIM key).
- Otherwise From is the platform's address with the studio's name, ``"Studio via Proofsheet"``,
  and Reply-To takes the studio: a reply still reaches the photographer.
- Reply-To is the studio's "Replies go to" setting, else its sender address, else the studio's
  account email; left out when it is the From address itself.
"""

from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.mailing.models import StudioMailSettings
from app.mailing.sender_domains import is_aligned, verified_domains


@dataclass(frozen=True)
class SenderIdentity:
    sender: str  # the From header
    reply_to: str | None


def platform_sender(display_name=None):
    """The platform's From address: ``"<display name> via Proofsheet"`` for a studio's mail,
    the platform's own name otherwise."""
    config = current_app.config
    return _platform_sender(config["MAIL_DEFAULT_SENDER"], config["PLATFORM_NAME"], display_name)


@lru_cache(maxsize=1024)
def _platform_sender(default_sender, platform_name, display_name):
    name, address = parseaddr(default_sender)
    if display_name:
        name = f"{' '.join(display_name.split())} via {platform_name}"
    return formataddr((name, address))


def identity_for(studio_name, studio_email, settings=None, domain=None, platform_only=False):
    """The ``SenderIdentity`` of a studio's mail from its settings row and verified
    ``SenderDomain`` (either may be None). ``platform_only``: a message carrying a secret, which
    always goes from the platform's address (through the platform's server)."""
    own_address = settings.sender_email if settings is not None else None
    own_name = (settings.sender_name if settings is not None else "") or studio_name
    replies = (settings.reply_to if settings is not None else None) or own_address or studio_email or None
    may_use_own = (
        own_address
        and not platform_only
        and (
            (settings.smtp_host or "").strip()
            or (domain is not None and is_aligned(own_address, domain.domain))
        )
    )
    if may_use_own:
        sender = formataddr((own_name, own_address)) if own_name else own_address
    else:
        sender = platform_sender(own_name)
    if replies and parseaddr(sender)[1].lower() == replies.lower():
        replies = None
    return SenderIdentity(sender, replies)


def _studio_rows(studio_ids):
    """(id, name, email) of these studios, read by table name: mailing imports no feature
    package."""
    studio = db.metadata.tables["studio"]
    return db.session.execute(
        sa.select(studio.c.id, studio.c.name, studio.c.email).where(studio.c.id.in_(studio_ids))
    ).all()


def studio_identities(studio_ids, platform_only=False):
    """{studio id: SenderIdentity} for many studios in three queries (the tick's batch)."""
    ids = sorted({studio_id for studio_id in studio_ids if studio_id is not None})
    if not ids:
        return {}
    settings = {
        row.studio_id: row
        for row in db.session.scalars(
            sa.select(StudioMailSettings).where(StudioMailSettings.studio_id.in_(ids))
        )
    }
    domains = verified_domains(ids)
    return {
        row.id: identity_for(row.name, row.email, settings.get(row.id), domains.get(row.id), platform_only)
        for row in _studio_rows(ids)
    }


def studio_identity(studio_id, platform_only=False):
    """The ``SenderIdentity`` of one studio's mail; the platform's own without a studio."""
    identity = studio_identities([studio_id], platform_only).get(studio_id)
    return identity or SenderIdentity(platform_sender(), None)
