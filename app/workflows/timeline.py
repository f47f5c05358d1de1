"""A gallery's email timeline: which workflow emails go out when, to how many clients right now,
and which were sent, missed or skipped (and why). It asks the engine's own ``due_occurrences``
(no window) and ``relevance.skip_reason``, so the timeline and the tick cannot disagree."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.mailing.models import MailKind, MailState, OutboxMessage
from app.reasons import ORDERED_MEANWHILE
from app.workflows.audience import _audience, _load_context, gallery_takes_campaigns
from app.workflows.due import SOURCES, DueOccurrence, due_occurrences
from app.workflows.engine import queue_occurrences
from app.workflows.models import CampaignOccurrence, OccurrenceKind, Trigger, WorkflowEmail
from app.workflows.relevance import UNPUBLISHED, skip_reason
from app.workflows.services import gallery_workflow
from app.workflows.values import cart_states

SENT, UPCOMING, DUE, MISSED, SKIPPED = "sent", "upcoming", "due", "missed", "skipped"
# A queued message dropped when its client ordered before it went out (see relevance.py).
ORDERED_MEANWHILE_REASON = "ordered_meanwhile"
PER_CLIENT = {OccurrenceKind.REGISTRATION, OccurrenceKind.ORDER, OccurrenceKind.CART}


@dataclass
class TimelineEntry:
    """One email meeting one gallery-wide occurrence (a date, a promotion)."""

    email: WorkflowEmail
    occurrence: DueOccurrence
    state: str
    recipients: int  # sent: how many it went to; otherwise: how many it would reach now
    sent_at: object = None
    reason: str | None = None  # skipped: why (relevance.SALE_CLOSED...)
    without_consent: int = 0  # left out of a marketing email: no consent to news and offers
    ordered_meanwhile: int = 0  # queued, then dropped: the client ordered before it went out


@dataclass
class ClientEmailSummary:
    """One per-client email (after registration, order, cart) summed over its occurrences."""

    email: WorkflowEmail
    counts: dict = field(default_factory=lambda: defaultdict(int))
    next_due_at: object = None
    missed: list = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason: how many


@dataclass
class Timeline:
    workflow: object
    entries: list
    client_emails: list


def _processed(gallery_id, occurrences):
    keys = {(o.email_id, o.kind, o.occurrence_id) for o in occurrences}
    if not keys:
        return {}
    rows = db.session.scalars(
        sa.select(CampaignOccurrence).where(CampaignOccurrence.gallery_id == gallery_id)
    )
    return {
        (r.workflow_email_id, r.occurrence_kind, r.occurrence_id): r
        for r in rows
        if (r.workflow_email_id, r.occurrence_kind, r.occurrence_id) in keys
    }


TICK_GRACE = timedelta(minutes=2)  # the scheduler ticks every minute


def _state(occurrence, record, gallery, now):
    """Sent; skipped on purpose; upcoming; due this minute (the next tick sends it); or missed:
    its moment passed while its gallery was not taking campaign mail, or the scheduler was
    stopped too long."""
    if record is not None:
        if record.skip_reason:
            return SKIPPED
        return MISSED if record.missed else SENT
    if occurrence.due_at > now:
        return UPCOMING
    recent = now - occurrence.due_at <= TICK_GRACE
    return DUE if recent and gallery_takes_campaigns(gallery, occurrence.trigger, now) else MISSED


def _expected_skip(occurrence, email, gallery, carts, now):
    """Why an occurrence not dealt with yet will be skipped: judged now once due, and at its due
    time by the dates for an upcoming one (whether the gallery is published then, nobody
    knows yet)."""
    cart = carts.get(occurrence.occurrence_id) if occurrence.kind == OccurrenceKind.CART else None
    if occurrence.due_at <= now:
        return skip_reason(email, gallery, now, cart)
    reason = skip_reason(email, gallery, occurrence.due_at, cart)
    return None if reason == UNPUBLISHED else reason


def _ordered_meanwhile(gallery_id):
    """{(email id, kind, occurrence id): messages dropped because the client ordered}."""
    keys = db.session.scalars(
        sa.select(OutboxMessage.dedup_key).where(
            OutboxMessage.gallery_id == gallery_id,
            OutboxMessage.kind == MailKind.CAMPAIGN,
            OutboxMessage.state == MailState.SKIPPED,
            OutboxMessage.last_error == ORDERED_MEANWHILE,
        )
    )
    counts = Counter()
    for key in keys:  # wf<email>:<kind><occurrence>:c<client>, see messages.dedup_key
        email_part, occurrence_part, _client = key.split(":")
        kind = occurrence_part.rstrip("0123456789")
        counts[(int(email_part[2:]), kind, int(occurrence_part[len(kind) :]))] += 1
    return counts


@dataclass
class _Facts:
    """What the timeline reads once for a gallery."""

    gallery: object
    emails: dict
    processed: dict
    carts: dict
    dropped: Counter
    now: object

    def judge(self, occurrence):
        """(state, skip reason, record) of one occurrence."""
        key = (occurrence.email_id, occurrence.kind, occurrence.occurrence_id)
        record = self.processed.get(key)
        state = _state(occurrence, record, self.gallery, self.now)
        if record is not None:
            reason = record.skip_reason
            if state == SENT and record.recipients and self.dropped[key] >= record.recipients:
                state, reason = SKIPPED, ORDERED_MEANWHILE_REASON
            return state, reason, record
        reason = _expected_skip(
            occurrence, self.emails[occurrence.email_id], self.gallery, self.carts, self.now
        )
        return (SKIPPED, reason, None) if reason else (state, None, None)


def _entry(occurrence, facts, context):
    state, reason, record = facts.judge(occurrence)
    email = facts.emails[occurrence.email_id]
    key = (occurrence.email_id, occurrence.kind, occurrence.occurrence_id)
    if state == SENT:  # how many it went to
        return TimelineEntry(
            email,
            occurrence,
            state,
            record.recipients,
            record.processed_at,
            without_consent=record.without_consent,
            ordered_meanwhile=facts.dropped[key],
        )
    if state == SKIPPED:
        return TimelineEntry(email, occurrence, state, 0, reason=reason)
    # How many it would reach now (a missed one, sent now, goes to today's clients).
    recipients, without_consent = _audience(occurrence, email, context, manual=state == MISSED)
    return TimelineEntry(email, occurrence, state, len(recipients), without_consent=without_consent)


def _summarize(summary, occurrence, facts):
    state, reason, _record = facts.judge(occurrence)
    summary.counts[state] += 1
    if state == SKIPPED:
        summary.skipped[reason] += 1
    if state == UPCOMING and (summary.next_due_at is None or occurrence.due_at < summary.next_due_at):
        summary.next_due_at = occurrence.due_at
    if state == MISSED:
        summary.missed.append(occurrence)


def gallery_timeline(gallery, now):
    """The timeline of ``gallery``'s workflow at ``now`` (None when it has no workflow)."""
    workflow = gallery_workflow(gallery.id)
    if workflow is None:
        return None
    emails = {email.id: email for email in workflow.emails}
    occurrences = [
        o for o in due_occurrences(gallery_id=gallery.id, skip_processed=False) if o.email_id in emails
    ]
    facts = _Facts(
        gallery,
        emails,
        _processed(gallery.id, occurrences),
        cart_states({o.occurrence_id for o in occurrences if o.kind == OccurrenceKind.CART}),
        _ordered_meanwhile(gallery.id),
        now,
    )
    wide = [o for o in occurrences if o.kind not in PER_CLIENT]
    context = _load_context(wide, now) if wide else None
    entries = [_entry(occurrence, facts, context) for occurrence in wide]
    summaries = {
        email.id: ClientEmailSummary(email)
        for email in workflow.emails
        if SOURCES[Trigger(email.trigger)].kind in PER_CLIENT
    }
    for occurrence in occurrences:
        if occurrence.email_id in summaries:
            _summarize(summaries[occurrence.email_id], occurrence, facts)
    return Timeline(workflow, entries, list(summaries.values()))


def send_missed(gallery, email_id, kind, occurrence_id, now):
    """Send a missed occurrence on purpose (recipients and filter read now). Returns how many
    messages were queued, or None when it is not a missed occurrence of this gallery."""
    candidates = [
        o
        for o in due_occurrences(gallery_id=gallery.id, skip_processed=False)
        if (o.email_id, o.kind, o.occurrence_id) == (email_id, kind, occurrence_id)
    ]
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
