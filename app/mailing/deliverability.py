"""The headers a message gets as it is sent, for mailbox providers and their users.

- Campaign mail: ``List-Id`` (RFC 2919: "<studio slug>.<platform host>", shown with the studio's
  name: filters and Gmail's bulk-sender rules key on it), ``Feedback-ID`` (Gmail's feedback
  loop: "<workflow email>:<studio>:campaign:proofsheet") and a ``List-Unsubscribe`` whose link
  names the message (``?m=<id>``, for the unsubscribe record) and whose mailto
  is the message's own signed address on the inbound receiver, or no mailto at all when no
  receiver is configured (the engine's rows name the platform's no-reply address, which nobody
  reads).
- Transactional and notification mail: ``Auto-Submitted: auto-generated`` (RFC 3834), so
  vacation responders do not answer a password reset. Test sends do not get it: a person asked
  for that one message and reads it as the client will see the campaign, which carries none.

- Every message: a DKIM signature (``signed``, dkim_signing.py) with the studio's key when its
  From is on the studio's verified sender domain, else the platform's key when one is set.

Added at send time rather than stored on the row, so that the tick's per-message work stays as
it was; the studios' names and keys are read once per dispatch (``send_context``).
"""

from dataclasses import dataclass, field
from email.header import Header
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.mailing import return_path
from app.mailing.models import MailKind

AUTO_SUBMITTED_KINDS = frozenset({MailKind.TRANSACTIONAL, MailKind.NOTIFICATION})
FEEDBACK_SENDER_ID = "proofsheet"


@dataclass(frozen=True)
class SendContext:
    """What every message of one dispatch shares: read once, not per message."""

    list_ids: dict  # studio id: List-Id value
    receiver: str | None  # the inbound receiver's domain, or None
    secret_key: str
    dkim_signers: dict = field(default_factory=dict)  # studio id: dkim_signing.Signer
    platform_signer: object = None  # dkim_signing.Signer for the platform's domain, or None


def platform_host(config):
    """The platform's host name, from BASE_URL (no port)."""
    return (urlsplit(config["BASE_URL"]).hostname or "localhost").lower()


def ehlo_name(config):
    """The name we give in EHLO: MAIL_EHLO_NAME, else BASE_URL's host (an IP address as an
    address literal, "[192.0.2.1]", as RFC 5321 wants)."""
    name = (config.get("MAIL_EHLO_NAME") or "").strip() or platform_host(config)
    is_address = name.replace(".", "").isdigit() or ":" in name
    return f"[{name}]" if is_address and not name.startswith("[") else name


def _phrase(name):
    """A display name for List-Id: quoted when ASCII, RFC 2047 words when not."""
    if not name.isascii():
        return Header(name, "utf-8").encode()
    return '"' + name.replace("\\", "").replace('"', "") + '"'


def list_id(name, slug, host):
    """``"Studio name" <slug.host>``."""
    return f"{_phrase(' '.join(name.split()))} <{slug}.{host}>"


def _studio_rows(studio_ids):
    """(id, name, slug) of these studios. The table is read by name: mailing imports no
    feature package."""
    studio = db.metadata.tables["studio"]
    return db.session.execute(
        sa.select(studio.c.id, studio.c.name, studio.c.slug).where(studio.c.id.in_(studio_ids))
    ).all()


def send_context(studio_ids, config=None):
    """The ``SendContext`` of a dispatch sending for ``studio_ids`` (one query)."""
    config = config or current_app.config
    ids = sorted({studio_id for studio_id in studio_ids if studio_id is not None})
    host = platform_host(config)
    list_ids = {row.id: list_id(row.name, row.slug, host) for row in _studio_rows(ids)} if ids else {}
    # Imported here: sender_domains (under dkim_signing) needs this module's platform_host.
    from app.mailing import dkim_signing

    return SendContext(
        list_ids,
        return_path.receiver_domain(config),
        config["SECRET_KEY"],
        dkim_signing.studio_signers(ids),
        dkim_signing.platform_signer(config),
    )


def signed(data, row, context):
    """``data`` signed with the DKIM key its From address is aligned with, if there is one."""
    from app.mailing import dkim_signing

    signer = dkim_signing.signer_for(row.sender, row.studio_id, context.dkim_signers, context.platform_signer)
    return signer.sign(data) if signer is not None else data


def _naming_message(link, message_id):
    """``<https://...>`` with ``m=<outbox id>``: the unsubscribe record then says which message
    it came from (checked against the token's studio and address; the token is the proof)."""
    url = link.strip("<>")
    return f"<{url}{'&' if '?' in url else '?'}m={message_id}>"


def _unsubscribe_header(value, mailto, message_id):
    """The engine's List-Unsubscribe naming the message, with its mailto replaced by
    ``mailto`` (or dropped)."""
    links = [
        _naming_message(part, message_id) for part in value.split(", ") if not part.startswith("<mailto:")
    ]
    if mailto:
        links.append(f"<mailto:{mailto}?subject=unsubscribe>")
    return ", ".join(links)


def campaign_headers(row, context):
    """List-Id, Feedback-ID and the List-Unsubscribe of one campaign message."""
    headers = dict(row.headers or {})
    if row.studio_id in context.list_ids:
        headers["List-Id"] = context.list_ids[row.studio_id]
    campaign = (row.source or "").rpartition(":")[2] or "0"
    headers["Feedback-ID"] = f"{campaign}:{row.studio_id}:campaign:{FEEDBACK_SENDER_ID}"
    if "List-Unsubscribe" in headers:
        mailto = (
            return_path.address_for(return_path.UNSUBSCRIBE, row.id, context.receiver, context.secret_key)
            if context.receiver
            else None
        )
        headers["List-Unsubscribe"] = _unsubscribe_header(headers["List-Unsubscribe"], mailto, row.id)
    return headers


def headers_for(row, context):
    """The headers ``row`` goes out with: its own and those of its kind."""
    if row.kind == MailKind.CAMPAIGN:
        return campaign_headers(row, context)
    if row.kind in AUTO_SUBMITTED_KINDS:
        return {**(row.headers or {}), "Auto-Submitted": "auto-generated"}
    return row.headers
