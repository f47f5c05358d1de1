"""What the "Email activity" page needs from the outbox, scoped to one studio.

Plain values only (gallery ids, sources): the page in the workflows package adds the names.
"""

import sqlalchemy as sa
from flask_babel import gettext as _

from app.extensions import db
from app.mailing.models import MailState, OutboxMessage, StudioMailState

LISTED_STATES = [
    MailState.QUEUED,
    MailState.HELD,
    MailState.SENDING,
    MailState.FAILED,
    MailState.UNKNOWN,
    MailState.SENT,
    MailState.SKIPPED,
    MailState.CANCELLED,
]


class ActionRefused(ValueError):
    """The row is not in a state that allows this action."""


def state_counts(studio_id, gallery_id=None, sources=None):
    """{state: number of messages} for the studio, a gallery, or some sources."""
    query = (
        sa.select(OutboxMessage.state, sa.func.count())
        .where(OutboxMessage.studio_id == studio_id)
        .group_by(OutboxMessage.state)
    )
    return dict(db.session.execute(_filtered(query, gallery_id, sources)).all())


def _filtered(query, gallery_id, sources):
    if gallery_id is not None:
        query = query.where(OutboxMessage.gallery_id == gallery_id)
    if sources is not None:
        query = query.where(OutboxMessage.source.in_(sources))
    return query


def messages(studio_id, state, gallery_id=None, sources=None, limit=100, offset=0):
    """A page of the studio's messages in ``state``, newest (or soonest, when queued) first."""
    order = (
        OutboxMessage.due_at.asc()
        if state == MailState.QUEUED
        else sa.func.coalesce(OutboxMessage.sent_at, OutboxMessage.due_at).desc()
    )
    query = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.studio_id == studio_id, OutboxMessage.state == state)
        .order_by(order, OutboxMessage.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return db.session.scalars(_filtered(query, gallery_id, sources)).all()


def owned_message(studio_id, message_id):
    row = db.session.get(OutboxMessage, message_id)
    return row if row is not None and row.studio_id == studio_id else None


def retry(row, now):
    """Send a failed (or unknown) message again, now, as a fresh set of attempts."""
    if row.state not in (MailState.FAILED, MailState.UNKNOWN):
        raise ActionRefused(_("Only failed messages can be retried."))
    row.state, row.due_at, row.attempts, row.expires_at = MailState.QUEUED, now, 0, None
    row.lease_until = row.leased_by = None


def cancel(row):
    if row.state not in (MailState.QUEUED, MailState.HELD):
        raise ActionRefused(_("Only messages that wait to be sent can be cancelled."))
    row.state = MailState.CANCELLED


def mark_delivered(row, now):
    """An operator checked that an "unknown" message did arrive."""
    if row.state != MailState.UNKNOWN:
        raise ActionRefused(_("Only messages in doubt can be marked as delivered."))
    row.state, row.sent_at = MailState.SENT, now


def pause_state(studio_id):
    state = db.session.get(StudioMailState, studio_id)
    return state if state is not None and state.paused_at is not None else None
