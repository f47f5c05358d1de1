"""Putting messages in the outbox. Every kind of mail goes through here, so every message is
retried, logged and visible; the dispatcher (dispatch.py) sends what is due."""

from email.utils import make_msgid, parseaddr
from functools import lru_cache

from app.database import insert_many_ignoring_conflicts
from app.extensions import db
from app.mailing.models import MailKind, MailState, OutboxMessage
from app.mailing.wire import has_line_break


def _line_break_refusal(fields):
    """Why a message with a line break in one of ``fields`` ({description: value}) is not
    sent, or None. Such a value comes from stored data (a client's name, a subject): the
    message fails alone, visible in Email activity, instead of raising in a tick or a request
    that would then stop every other message with it. Never folded into a header."""
    for description, value in fields.items():
        if has_line_break(value):
            return f"Not sent: the {description} contains a line break ({value!r}). Correct it, then retry."
    return None


def _failed(values, reason):
    return {**values, "state": MailState.FAILED, "last_error": reason}


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


def message_values(
    *,
    kind,
    studio_id,
    sender,
    recipient,
    subject,
    html,
    text,
    now,
    due_at=None,
    recipient_name="",
    reply_to=None,
    cc=(),
    headers=None,
    expires_at=None,
    dedup_key=None,
    gallery_id=None,
    source=None,
    state=MailState.QUEUED,
    is_sensitive=False,
):
    """The column values of one outbox row, checked for header injection."""
    base = message_base(
        kind=kind,
        studio_id=studio_id,
        sender=sender,
        now=now,
        due_at=due_at,
        reply_to=reply_to,
        cc=cc,
        source=source,
        state=state,
        is_sensitive=is_sensitive,
    )
    return message_row(
        base,
        recipient=recipient,
        recipient_name=recipient_name,
        subject=subject,
        html=html,
        text=text,
        headers=headers,
        expires_at=expires_at,
        dedup_key=dedup_key,
        gallery_id=gallery_id,
    )


def message_base(
    *,
    kind,
    studio_id,
    sender,
    now,
    due_at=None,
    reply_to=None,
    cc=(),
    source=None,
    state=MailState.QUEUED,
    is_sensitive=False,
):
    """What many messages share (one campaign email's sender, times, source), checked once:
    ``message_row`` adds each recipient's part. The tick queues 10,000 messages at a time.
    A sender or reply-to with a line break makes every row of the base a failed one."""
    base = dict(
        studio_id=studio_id,
        kind=MailKind(kind),
        state=MailState(state),
        sender=sender,
        reply_to=reply_to,
        cc=", ".join(address.strip() for address in cc),
        created_at=now,
        due_at=due_at or now,
        attempts=0,
        source=source,
        is_sensitive=is_sensitive,
        last_error=None,
    )
    refusal = _line_break_refusal(
        {"sender": sender, "reply-to address": reply_to, "copy address": base["cc"]}
    )
    return _failed(base, refusal) if refusal else base


def message_row(
    base,
    *,
    recipient,
    subject,
    html,
    text,
    recipient_name="",
    headers=None,
    expires_at=None,
    dedup_key=None,
    gallery_id=None,
):
    """One outbox row: ``base`` (from ``message_base``) and this recipient's values, checked
    for header injection: a line break makes it a failed row saying which value has it (it
    never raises: the tick inserts thousands of rows at once)."""
    header_texts = [recipient, subject, recipient_name or ""]
    if headers:
        header_texts += [*headers, *headers.values()]
    row = {
        **base,
        "recipient": recipient.strip(),
        "recipient_name": recipient_name or "",
        "subject": subject,
        "html": html,
        "text": text,
        "headers": dict(headers or {}),
        "message_id": new_message_id(base["sender"]),
        "expires_at": expires_at,
        "dedup_key": dedup_key,
        "gallery_id": gallery_id,
    }
    if not has_line_break("".join(header_texts)):  # one check for the common case, then say which
        return row
    fields = {"recipient's address": recipient, "recipient's name": recipient_name, "subject": subject}
    for name, value in (headers or {}).items():
        fields[f"header {name!r}"] = name + value
    return _failed(row, _line_break_refusal(fields))


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
