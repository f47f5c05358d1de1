"""A gallery's email timeline: which workflow emails go out when, to how many clients right now,
and which were sent or missed. It asks the engine's own ``due_occurrences`` (no window), so the
timeline and the tick cannot disagree."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.workflows.engine import (
    SOURCES,
    DueOccurrence,
    _load_context,
    _recipients,
    due_occurrences,
    gallery_takes_campaigns,
    queue_occurrences,
)
from app.workflows.models import CampaignOccurrence, OccurrenceKind, Trigger, WorkflowEmail
from app.workflows.services import gallery_workflow

SENT, UPCOMING, DUE, MISSED = "sent", "upcoming", "due", "missed"
PER_CLIENT = {OccurrenceKind.REGISTRATION, OccurrenceKind.ORDER, OccurrenceKind.CART}


@dataclass
class TimelineEntry:
    """One email meeting one gallery-wide occurrence (a date, a promotion)."""

    email: WorkflowEmail
    occurrence: DueOccurrence
    state: str
    recipients: int  # sent: how many it went to; otherwise: how many it would reach now
    sent_at: object = None


@dataclass
class ClientEmailSummary:
    """One per-client email (after registration, order, cart) summed over its occurrences."""

    email: WorkflowEmail
    counts: dict = field(default_factory=lambda: defaultdict(int))
    next_due_at: object = None
    missed: list = field(default_factory=list)


@dataclass
class Timeline:
    workflow: object
    entries: list
    client_emails: list


def _processed(gallery_id, occurrences):
    keys = {(o.email_id, o.kind, o.occurrence_id) for o in occurrences}
    if not keys:
        return {}
    rows = db.session.scalars(sa.select(CampaignOccurrence).where(
        CampaignOccurrence.gallery_id == gallery_id))
    return {(r.workflow_email_id, r.occurrence_kind, r.occurrence_id): r for r in rows
            if (r.workflow_email_id, r.occurrence_kind, r.occurrence_id) in keys}


TICK_GRACE = timedelta(minutes=2)  # the scheduler ticks every minute


def _state(occurrence, record, gallery, now):
    """Sent; upcoming; due this minute (the next tick sends it); or missed: its moment passed
    while its gallery was not taking campaign mail, or the scheduler was stopped too long."""
    if record is not None:
        return MISSED if record.missed else SENT
    if occurrence.due_at > now:
        return UPCOMING
    recent = now - occurrence.due_at <= TICK_GRACE
    return DUE if recent and gallery_takes_campaigns(gallery, occurrence.trigger, now) else MISSED


def gallery_timeline(gallery, now):
    """The timeline of ``gallery``'s workflow at ``now`` (None when it has no workflow)."""
    workflow = gallery_workflow(gallery.id)
    if workflow is None:
        return None
    occurrences = due_occurrences(gallery_id=gallery.id, skip_processed=False)
    processed = _processed(gallery.id, occurrences)
    emails = {email.id: email for email in workflow.emails}
    wide = [o for o in occurrences if o.kind not in PER_CLIENT and o.email_id in emails]
    context = _load_context(wide, now) if wide else None
    entries = []
    for occurrence in wide:
        record = processed.get((occurrence.email_id, occurrence.kind, occurrence.occurrence_id))
        email = emails[occurrence.email_id]
        state = _state(occurrence, record, gallery, now)
        # Sent: how many it went to. Otherwise: how many it would reach (a missed one, sent
        # now, goes to today's clients).
        count = record.recipients if state == SENT else len(
            _recipients(occurrence, email, context, manual=state == MISSED))
        entries.append(TimelineEntry(email, occurrence, state, count,
                                     record.processed_at if state == SENT else None))
    summaries = {email.id: ClientEmailSummary(email) for email in workflow.emails
                 if SOURCES[Trigger(email.trigger)].kind in PER_CLIENT}
    for occurrence in occurrences:
        summary = summaries.get(occurrence.email_id)
        if summary is None:
            continue
        record = processed.get((occurrence.email_id, occurrence.kind, occurrence.occurrence_id))
        state = _state(occurrence, record, gallery, now)
        summary.counts[state] += 1
        if state == UPCOMING and (summary.next_due_at is None or
                                  occurrence.due_at < summary.next_due_at):
            summary.next_due_at = occurrence.due_at
        if state == MISSED:
            summary.missed.append(occurrence)
    return Timeline(workflow, entries, list(summaries.values()))


def send_missed(gallery, email_id, kind, occurrence_id, now):
    """Send a missed occurrence on purpose (recipients and filter read now). Returns how many
    messages were queued, or None when it is not a missed occurrence of this gallery."""
    candidates = [o for o in due_occurrences(gallery_id=gallery.id, skip_processed=False)
                  if (o.email_id, o.kind, o.occurrence_id) == (email_id, kind, occurrence_id)]
    if not candidates or candidates[0].due_at > now:
        return None
    record = db.session.get(CampaignOccurrence, (email_id, kind, occurrence_id))
    if record is not None and not record.missed:
        return None  # sent already: never twice
    if record is not None:
        db.session.delete(record)
        db.session.flush()
    result = queue_occurrences(candidates, now, manual=True)
    return sum(result.queued.values())
