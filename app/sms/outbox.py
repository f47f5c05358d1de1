"""Queueing texts. Every text goes through the outbox, so it is retried, rate-limited and
visible; ``dispatch`` sends what is due."""

import sqlalchemy as sa

from app.database import insert_ignoring_conflicts
from app.extensions import db
from app.sms.models import SmsMessage, SmsState, SmsSuppression
from app.sms.segments import count_segments

OPTED_OUT = "Not sent: the number replied STOP."


def is_suppressed(studio_id, phone):
    return studio_id is not None and db.session.get(SmsSuppression, (studio_id, phone)) is not None


def queue_sms(
    *, studio_id, kind, recipient, body, now, due_at=None, dedup_key=None, source=None, gallery_id=None
):
    """Queue one text to ``recipient`` (E.164) and flush. Returns its id, or None when a text
    with the same ``dedup_key`` is already queued or sent (an event handled twice, a tick that
    ran in two processes). A number that replied STOP gets a skipped row, visible in activity."""
    suppressed = is_suppressed(studio_id, recipient)
    # Browsers post a textarea's line breaks as CRLF: one "\n" is what the editor counted.
    body = body.replace("\r\n", "\n")
    values = dict(
        studio_id=studio_id,
        kind=kind,
        recipient=recipient,
        body=body,
        segments=count_segments(body).segments,
        created_at=now,
        due_at=due_at or now,
        attempts=0,
        dedup_key=dedup_key,
        source=source,
        gallery_id=gallery_id,
        state=SmsState.SKIPPED if suppressed else SmsState.QUEUED,
        last_error=OPTED_OUT if suppressed else None,
    )
    inserted = db.session.execute(
        insert_ignoring_conflicts(SmsMessage.__table__).values(**values).returning(SmsMessage.id)
    ).scalar()
    db.session.flush()
    return inserted


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
