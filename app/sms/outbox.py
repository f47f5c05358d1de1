"""Queueing texts. Every text goes through the outbox, so it is retried, rate-limited and
visible; ``dispatch`` sends what is due."""

from typing import NamedTuple

import sqlalchemy as sa

from app.database import among, insert_ignoring_conflicts, insert_many_ignoring_conflicts
from app.extensions import db
from app.reasons import SMS_OPTED_OUT
from app.sms.models import SmsMessage, SmsState, SmsSuppression
from app.sms.segments import count_segments

OPTED_OUT = SMS_OPTED_OUT


def is_suppressed(studio_id, phone):
    return studio_id is not None and db.session.get(SmsSuppression, (studio_id, phone)) is not None


class Text(NamedTuple):
    """One text to queue (``queue_many_sms``)."""

    studio_id: int | None
    kind: str
    recipient: str  # E.164
    body: str
    dedup_key: str | None = None
    source: str | None = None
    gallery_id: int | None = None


# The outbox's columns a queued text gives (the bulk insert refuses to leave out one with a
# Python-side default).
_COLUMNS = (
    "studio_id",
    "kind",
    "recipient",
    "body",
    "dedup_key",
    "source",
    "gallery_id",
    "segments",
    "created_at",
    "due_at",
    "attempts",
    "state",
    "last_error",
)


def _row(text, now, due_at, suppressed):
    # Browsers post a textarea's line breaks as CRLF: one "\n" is what the editor counted.
    body = text.body.replace("\r\n", "\n")
    return (
        *text[:3],
        body,
        *text[4:],
        count_segments(body).segments,
        now,
        due_at or now,
        0,
        SmsState.SKIPPED if suppressed else SmsState.QUEUED,
        OPTED_OUT if suppressed else None,
    )


def queue_sms(
    *, studio_id, kind, recipient, body, now, due_at=None, dedup_key=None, source=None, gallery_id=None
):
    """Queue one text to ``recipient`` (E.164) and flush. Returns its id, or None when a text
    with the same ``dedup_key`` is already queued or sent (an event handled twice, a tick that
    ran in two processes). A number that replied STOP gets a skipped row, visible in activity."""
    text = Text(studio_id, kind, recipient, body, dedup_key, source, gallery_id)
    values = dict(zip(_COLUMNS, _row(text, now, due_at, is_suppressed(studio_id, recipient)), strict=True))
    inserted = db.session.execute(
        insert_ignoring_conflicts(SmsMessage.__table__).values(**values).returning(SmsMessage.id)
    ).scalar()
    db.session.flush()
    return inserted


# Speed: one query for the suppressions and one bulk insert, not queue_sms's lookup, insert and
# flush per text (2.7 ms a text that way: a tick's campaign texts come by the thousand).
def queue_many_sms(texts, now, due_at=None):
    """Queue ``texts`` (``Text`` tuples) as ``queue_sms`` would one by one: a text whose key is
    already in the outbox (queued before, by this or another process) is left alone and not
    counted, a number that replied STOP to the studio gets a skipped row. Returns how many
    were queued."""
    texts = list(texts)
    if not texts:
        return 0
    stopped = _suppressed({text.studio_id for text in texts}, {text.recipient for text in texts})
    rows = (_row(text, now, due_at, (text.studio_id, text.recipient) in stopped) for text in texts)
    return insert_many_ignoring_conflicts(rows, SmsMessage.__table__, _COLUMNS)


def _suppressed(studio_ids, phones):
    """{(studio id, number)} of these numbers that replied STOP to these studios (one query)."""
    studio_ids.discard(None)
    if not studio_ids:
        return set()
    return set(
        db.session.execute(
            sa.select(SmsSuppression.studio_id, SmsSuppression.phone).where(
                among(SmsSuppression.studio_id, studio_ids), among(SmsSuppression.phone, phones)
            )
        ).all()
    )


def suppress(studio_id, phone, reason, now):
    """No more texts from ``studio_id`` to ``phone``; what is queued for it is skipped."""
    db.session.execute(
        insert_ignoring_conflicts(SmsSuppression.__table__).values(
            studio_id=studio_id, phone=phone, reason=reason, created_at=now
        )
    )
    db.session.execute(
        sa.update(SmsMessage)
        .where(
            SmsMessage.studio_id == studio_id,
            SmsMessage.recipient == phone,
            SmsMessage.state == SmsState.QUEUED,
        )
        .values(state=SmsState.SKIPPED, last_error=OPTED_OUT)
        .execution_options(synchronize_session=False)
    )
