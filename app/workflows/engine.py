"""The campaign tick: queue every workflow email that fell due since the last tick.

The tick finds what is due (``due.due_occurrences``), checks each due (email, occurrence)
against the gallery's state, expands its recipients and the recipient filter at that moment
(``audience``), renders each message (``messages``) and queues it with a deterministic key: a
second tick, in this process or another, queues nothing more. Each (email, occurrence) dealt
with is recorded in ``campaign_occurrence``: queued, skipped or missed.
"""

import gc
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice

import sqlalchemy as sa

from app.database import (
    insert_ignoring_conflicts,
    insert_many_ignoring_conflicts,
    refresh_planner_statistics,
    writer_transactions,
)
from app.extensions import db
from app.mailing.outbox import queue_many_once
from app.workflows.audience import _audience, _load_context, gallery_takes_campaigns
from app.workflows.due import catch_up_window, due_occurrences
from app.workflows.messages import _message_row
from app.workflows.models import CampaignOccurrence, EngineState, OccurrenceKind
from app.workflows.relevance import skip_reason
from app.workflows.sms import PendingTexts, queue_texts, texting

K = OccurrenceKind


# Speed: the cyclic collector would walk the whole process again and again as a tick's rows pile up.
@contextmanager
def gc_paused():
    """Hold the cyclic garbage collector while a tick loads, builds and inserts its rows: it
    would otherwise walk every object of the process again and again as thousands of rows (no
    cycles among them) pile up. Reference counting still frees memory."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class TickResult:
    queued: Counter = field(default_factory=Counter)  # messages, per trigger
    occurrences: Counter = field(default_factory=Counter)  # (email, occurrence) pairs, per trigger
    waiting: int = 0  # due, but the gallery is not taking campaign mail right now
    skipped: Counter = field(default_factory=Counter)  # occurrences, per skip reason
    without_consent: int = 0  # recipients left out of marketing emails
    texts: int = 0  # text messages queued with the emails (their SMS variant)
    planned: list = field(default_factory=list)  # dry run: (due occurrence, recipient emails)

    def summary(self):
        per_trigger = (
            ", ".join(f"{trigger} {count}" for trigger, count in sorted(self.queued.items())) or "nothing due"
        )
        skipped = ", ".join(f"{reason} {count}" for reason, count in sorted(self.skipped.items()))
        return (
            f"queued {sum(self.queued.values())} emails for "
            f"{sum(self.occurrences.values())} occurrences ({per_trigger}); "
            f"{self.waiting} waiting on their gallery"
            + (f"; skipped {skipped}" if skipped else "")
            + (f"; {self.without_consent} without consent" if self.without_consent else "")
            + (f"; {self.texts} text messages" if self.texts else "")
        )


RECORD_COLUMNS = (
    "workflow_email_id",
    "occurrence_kind",
    "occurrence_id",
    "gallery_id",
    "due_at",
    "processed_at",
    "recipients",
    "manual",
    "missed",
    "skip_reason",
    "without_consent",
)


def _occurrence_record(
    occurrence, recipients, now, manual=False, missed=False, skip_reason=None, without_consent=0
):
    """A ``campaign_occurrence`` row, in ``RECORD_COLUMNS`` order."""
    return (
        occurrence.email_id,
        occurrence.kind,
        occurrence.occurrence_id,
        occurrence.gallery_id,
        occurrence.due_at,
        now,
        recipients,
        manual,
        missed,
        skip_reason,
        without_consent,
    )


# Speed: rows are built and inserted this many at a time, reusing memory instead of growing with them.
INSERT_BATCH = 1000


def queue_occurrences(due, now, dry_run=False, manual=False, result=None):
    """Queue the messages of these due occurrences (recipients and filters read at ``now``)."""
    result = result or TickResult()
    if not due:
        return result
    with gc_paused():
        context = _load_context(due, now)
        records = []
        # Only a batch with an SMS variant gathers texts: the email-only tick pays nothing more.
        texts = PendingTexts([]) if not dry_run and texting(context.emails) else None
        rows = _message_rows(due, context, result, records, now, dry_run, manual, texts)
        for batch in iter(lambda: list(islice(rows, INSERT_BATCH)), []):
            queue_many_once(batch)
        if texts is not None and texts.items:
            result.texts += queue_texts(texts, context, now)
        if records and not dry_run:
            _record_occurrences(records)
    return result


# Speed: one bulk insert of every record (see database.insert_many_ignoring_conflicts).
def _record_occurrences(records):
    insert_many_ignoring_conflicts(records, CampaignOccurrence.__table__, RECORD_COLUMNS)


def _message_rows(due, context, result, records, now, dry_run, manual, texts=None):
    """Yield the outbox rows of these occurrences; append their records to ``records`` and,
    for emails with an SMS variant, their recipients to ``texts``."""
    for occurrence in due:
        gallery = context.galleries[occurrence.gallery_id]
        email = context.emails[occurrence.email_id]
        reason = skip_reason(
            email,
            gallery,
            now,
            context.carts.get(occurrence.occurrence_id) if occurrence.kind == K.CART else None,
        )
        if reason:  # no longer makes sense (the sale closed, the cart is gone): never sent
            result.skipped[reason] += 1
            if not dry_run:
                records.append(_occurrence_record(occurrence, 0, now, manual, skip_reason=reason))
            continue
        if not manual and not gallery_takes_campaigns(gallery, occurrence.trigger, now):
            result.waiting += 1
            if not dry_run:
                records.append(_occurrence_record(occurrence, 0, now, missed=True))
            continue
        recipients, without_consent = _audience(occurrence, email, context, manual)
        result.without_consent += without_consent
        if dry_run:
            result.planned.append((occurrence, [client.email for client in recipients]))
        else:
            for client in recipients:
                yield _message_row(occurrence, email, client, context, now)
            if texts is not None and email.sms_enabled:
                texts.add(occurrence, email, recipients)
            records.append(
                _occurrence_record(occurrence, len(recipients), now, manual, without_consent=without_consent)
            )
        result.queued[occurrence.trigger] += len(recipients)
        result.occurrences[occurrence.trigger] += 1


WATERMARK = "tick_watermark"
# Ticks overlap: an occurrence committed a little after its own timestamp, or a clock a little
# behind another process's, is still seen by the next tick. A registration, order or cart is
# stamped and committed by one request, seconds apart (a worker is stopped after 30 s, SQLite
# waits 15 s for its write lock); a gallery's or a promotion's date is typed by a photographer,
# who may set it a few minutes back ("the sale starts now"). Every occurrence read again costs
# the tick an index lookup: a burst of registrations is read by one more tick, not five.
OVERLAP = timedelta(minutes=5)
CLIENT_OVERLAP = timedelta(minutes=1)


def window_starts(now):
    """Where this tick starts looking (for gallery and promotion dates, and for registrations,
    orders and carts): just before the last tick, or the catch-up window after a pause (a
    restart, a stopped scheduler), or when stepping back in time (--now)."""
    earliest = now - catch_up_window()
    mark = db.session.get(EngineState, WATERMARK)
    if mark is None or mark.value > now:
        return earliest, earliest
    return max(earliest, mark.value - OVERLAP), max(earliest, mark.value - CLIENT_OVERLAP)


def _advance_watermark(now):
    db.session.execute(insert_ignoring_conflicts(EngineState.__table__).values(key=WATERMARK, value=now))
    db.session.execute(
        sa.update(EngineState)
        .where(EngineState.key == WATERMARK, EngineState.value < now)
        .values(value=now)
        .execution_options(synchronize_session=False)
    )


STATISTICS = "planner_statistics"
STATISTICS_EVERY = timedelta(hours=1)


# Speed: without fresh ANALYZE statistics SQLite starts the tick's range queries from the wrong table.
def _refresh_statistics_hourly(now):
    """Tables grow all the time; the planner's picture of them is refreshed once an hour, by
    whichever tick comes first."""
    mark = db.session.scalar(sa.select(EngineState.value).where(EngineState.key == STATISTICS))
    if mark is not None and mark <= now < mark + STATISTICS_EVERY:
        return
    refresh_planner_statistics()
    db.session.execute(insert_ignoring_conflicts(EngineState.__table__).values(key=STATISTICS, value=now))
    db.session.execute(
        sa.update(EngineState)
        .where(EngineState.key == STATISTICS)
        .values(value=now)
        .execution_options(synchronize_session=False)
    )


def tick(now, dry_run=False):
    """Queue every workflow email that fell due since the last tick (at most the catch-up
    window before ``now``). Flushes only.

    An email is judged at its due time: if its gallery does not take campaign mail then, it is
    missed (shown so, with "send now"), not sent later by surprise. On SQLite the transaction
    starts as a writer: it reads, then inserts, while other processes may be writing.
    """
    with writer_transactions(), gc_paused():  # reading the due rows makes thousands of objects too
        if not dry_run:
            _refresh_statistics_hourly(now)
        start, client_start = window_starts(now)
        due = due_occurrences(
            start, now, client_window_start=client_start, changed_window_start=now - catch_up_window()
        )
        result = queue_occurrences(due, now, dry_run=dry_run)
        if not dry_run:
            _advance_watermark(now)
        return result
