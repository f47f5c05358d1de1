"""Putting messages in the outbox. Every kind of mail goes through here, so every message is
retried, logged and visible; the dispatcher (dispatch.py) sends what is due."""

from email.utils import make_msgid, parseaddr
from functools import lru_cache

from app.database import insert_many_ignoring_conflicts
from app.extensions import db
from app.mailing.models import MailKind, MailState, OutboxMessage
from app.mailing.transport import HeaderInjectionError


def _single_line(name, value):
    if value is not None and ("\r" in value or "\n" in value):
        raise HeaderInjectionError(f"line break in {name}: {value!r}")
    return value


def _all_single_line(texts):
    joined = "".join(texts)
    return "\r" not in joined and "\n" not in joined


@lru_cache(maxsize=1024)
def address_of(mailbox):
    """The address of ``Name <address>`` (or of a bare address), parsed once per mailbox: a
    batch of thousands of messages has one sender."""
    return parseaddr(mailbox)[1]


@lru_cache(maxsize=1024)
def _domain_of(sender):
    return address_of(sender).rpartition("@")[2] or "proofsheet.local"


def new_message_id(sender):
    """A Message-ID in the sender's domain, fixed at queue time so a retry keeps it."""
    return make_msgid(domain=_domain_of(sender))


def message_values(*, kind, studio_id, sender, recipient, subject, html, text, now, due_at=None,
                   recipient_name="", reply_to=None, cc=(), headers=None, expires_at=None,
                   dedup_key=None, gallery_id=None, source=None, state=MailState.QUEUED,
                   is_sensitive=False):
    """The column values of one outbox row, checked for header injection."""
    base = message_base(kind=kind, studio_id=studio_id, sender=sender, now=now, due_at=due_at,
                        reply_to=reply_to, cc=cc, source=source, state=state,
                        is_sensitive=is_sensitive)
    return message_row(base, recipient=recipient, recipient_name=recipient_name,
                       subject=subject, html=html, text=text, headers=headers,
                       expires_at=expires_at, dedup_key=dedup_key, gallery_id=gallery_id)


def message_base(*, kind, studio_id, sender, now, due_at=None, reply_to=None, cc=(),
                 source=None, state=MailState.QUEUED, is_sensitive=False):
    """What many messages share (one campaign email's sender, times, source), checked once:
    ``message_row`` adds each recipient's part. The tick queues 10,000 messages at a time."""
    _single_line("sender", sender)
    _single_line("reply_to", reply_to)
    return dict(
        studio_id=studio_id, kind=MailKind(kind), state=MailState(state), sender=sender,
        reply_to=reply_to, cc=", ".join(address.strip() for address in cc),
        created_at=now, due_at=due_at or now, attempts=0, source=source,
        is_sensitive=is_sensitive)


def message_row(base, *, recipient, subject, html, text, recipient_name="", headers=None,
                expires_at=None, dedup_key=None, gallery_id=None):
    """One outbox row: ``base`` (from ``message_base``) and this recipient's values, checked
    for header injection."""
    header_texts = [recipient, subject, recipient_name or ""]
    if headers:
        header_texts += [*headers, *headers.values()]
    if not _all_single_line(header_texts):  # one check for the common case, then say which
        for name, value in (("recipient", recipient), ("subject", subject),
                            ("recipient_name", recipient_name)):
            _single_line(name, value)
        for name, value in (headers or {}).items():
            _single_line(name, name)
            _single_line(name, value)
    return {**base, "recipient": recipient.strip(), "recipient_name": recipient_name or "",
            "subject": subject, "html": html, "text": text, "headers": dict(headers or {}),
            "message_id": new_message_id(base["sender"]), "expires_at": expires_at,
            "dedup_key": dedup_key, "gallery_id": gallery_id}


def queue_message(**values):
    """Queue one message (see ``message_values``) and return its row (flushed, not committed)."""
    row = OutboxMessage(**message_values(**values))
    db.session.add(row)
    db.session.flush()
    return row


def queue_many_once(rows):
    """Insert many prepared rows, skipping those whose ``dedup_key`` is already queued.

    Returns how many were inserted. Campaign ticks use this: running it twice queues nothing more.
    """
    return insert_many_ignoring_conflicts(rows, OutboxMessage.__table__)
