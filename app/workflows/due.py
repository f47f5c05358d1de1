"""Which workflow emails are due, and when.

One function, ``due_occurrences``, answers both "what is due now" (the tick, over a window of
due times, all galleries) and "what will be due when" (a gallery's timeline, no window). It reads
occurrences with indexed range queries, one per distinct (trigger, rule, days, send time,
timezone) in use, so a tick's cost follows what can be due in its window, never the history.
A trigger's occurrences are described by its ``Source`` in ``SOURCES``.
"""

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import QueryableAttribute

from app.accounts.models import Studio
from app.database import among
from app.extensions import db
from app.galleries.models import Gallery, Registration
from app.shop.models import Cart, Order, OrderStatus, Promotion
from app.workflows.models import (
    CampaignOccurrence,
    GalleryWorkflow,
    OccurrenceKind,
    Rule,
    Trigger,
    Workflow,
    WorkflowEmail,
)
from app.workflows.schedule import due_at, merge_ranges, occurrence_ranges

K = OccurrenceKind


# A mapped attribute (Gallery.sale_starts_at) or any column expression.
Column = sa.ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True)
class Source:
    """Where a trigger's occurrences live: their id, instant, gallery and (per-client) client."""

    kind: str
    id: Column
    at: Column
    gallery_id: Column
    client_id: Column | None = None
    still_valid: tuple = ()
    # When the row last changed: a date moved into the recent past is read over the whole
    # catch-up window (see ``_occurrences``).
    changed_at: Column | None = None


SOURCES = {
    Trigger.SALE_START: Source(
        K.GALLERY, Gallery.id, Gallery.sale_starts_at, Gallery.id, changed_at=Gallery.updated_at
    ),
    Trigger.SALE_END: Source(
        K.GALLERY, Gallery.id, Gallery.sale_ends_at, Gallery.id, changed_at=Gallery.updated_at
    ),
    Trigger.ARCHIVE: Source(
        K.GALLERY, Gallery.id, Gallery.archives_at, Gallery.id, changed_at=Gallery.updated_at
    ),
    Trigger.PROMOTION_EXPIRY: Source(
        K.PROMOTION,
        Promotion.id,
        Promotion.ends_at,
        Promotion.gallery_id,
        None,
        (Promotion.removed_at.is_(None),),
    ),
    Trigger.REGISTRATION: Source(
        K.REGISTRATION,
        Registration.id,
        Registration.registered_at,
        Registration.gallery_id,
        Registration.client_id,
        # A class list's parents: "after registration" once they register themselves.
        (Registration.pre_registered.is_(False),),
    ),
    Trigger.ORDER: Source(
        K.ORDER,
        Order.id,
        Order.placed_at,
        Order.gallery_id,
        Order.client_id,
        (Order.status != OrderStatus.CANCELLED,),
    ),
    # Closed carts too: their emails are recorded as skipped ("ordered", "cart_gone").
    Trigger.CART: Source(K.CART, Cart.id, Cart.first_item_at, Cart.gallery_id, Cart.client_id),
}


class DueOccurrence(NamedTuple):
    """A workflow email meeting one occurrence: due at ``due_at`` for ``client_id`` (or for the
    gallery's registered clients when ``client_id`` is None). A tuple: a tick makes thousands."""

    email_id: int
    trigger: str
    kind: str
    occurrence_id: int
    occurrence_at: object
    gallery_id: int
    client_id: int | None
    due_at: object


def catch_up_window():
    """How far back a tick looks for what fell due (CAMPAIGN_CATCH_UP_HOURS)."""
    return timedelta(hours=current_app.config["CAMPAIGN_CATCH_UP_HOURS"])


def _combinations(gallery_id=None):
    """{(trigger, rule, days, send time): [timezones]} of the emails of assigned workflows."""
    query = (
        sa.select(
            WorkflowEmail.trigger,
            WorkflowEmail.rule,
            WorkflowEmail.days,
            WorkflowEmail.send_time,
            Studio.timezone,
        )
        .join(Workflow, Workflow.id == WorkflowEmail.workflow_id)
        .join(Studio, Studio.id == Workflow.studio_id)
        .distinct()
        .order_by(
            WorkflowEmail.trigger,
            WorkflowEmail.rule,
            WorkflowEmail.days,
            WorkflowEmail.send_time,
            Studio.timezone,
        )
    )
    if gallery_id is None:
        query = query.where(sa.exists().where(GalleryWorkflow.workflow_id == Workflow.id))
    else:
        query = query.join(GalleryWorkflow, GalleryWorkflow.workflow_id == Workflow.id).where(
            GalleryWorkflow.gallery_id == gallery_id
        )
    grouped = defaultdict(list)
    for trigger, rule, days, send_time, timezone in db.session.execute(query):
        grouped[(trigger, rule, days, send_time)].append(timezone)
    return grouped


def _in_ranges(column, index, prefix, count):
    """``column`` inside one of ``count`` ranges (parameters ``c{index}_{prefix}low_N`` /
    ``high_N``): one term each, so that an OR of them is read as index ranges."""
    return [
        sa.and_(
            column >= sa.bindparam(f"c{index}_{prefix}low_{number}", type_=column.type),
            column < sa.bindparam(f"c{index}_{prefix}high_{number}", type_=column.type),
        )
        for number in range(count)
    ]


def _occurrences(index, source, rule, range_count, by_gallery, skip_processed, changed_count=0):
    """The ``index``-th branch's occurrences in the window (ranges ``c{index}_low_N`` /
    ``_high_N``), a subquery read first: an index range read on the occurrence instant. With
    ``changed_count``, also those of rows changed since ``c{index}_changed`` in the ranges of the
    whole catch-up window (``c{index}_wlow_N`` / ``_whigh_N``): a date moved into the recent
    past. Each term is an AND with a range of the instant, so the OR stays index ranges."""
    # A typed NULL: PostgreSQL would otherwise take a gallery-wide branch's NULL for text and
    # refuse the union with a per-client branch's integer.
    client_column = source.client_id if source.client_id is not None else sa.cast(sa.null(), sa.Integer)
    query = sa.select(
        source.id.label("id"),
        source.at.label("at"),
        source.gallery_id.label("gallery_id"),
        client_column.label("client_id"),
    ).where(source.at.is_not(None), *source.still_valid)
    if range_count:
        terms = _in_ranges(source.at, index, "", range_count)
        if changed_count:
            changed = source.changed_at >= sa.bindparam(f"c{index}_changed", type_=source.changed_at.type)
            terms += [sa.and_(changed, term) for term in _in_ranges(source.at, index, "w", changed_count)]
        query = query.where(sa.or_(*terms))
    if by_gallery:
        query = query.where(source.gallery_id == sa.bindparam("gallery_id"))
    if skip_processed and rule == Rule.INSTANT and source.client_id is not None:
        # Speed: the overlap's re-read burst is dropped here, one index lookup a row, before any join.
        query = query.where(_not_dealt_with_at_its_instant(source))
    # Speed: OFFSET 0 keeps SQLite from merging this into the joins and seeking the window per gallery.
    return query.offset(0).subquery(f"occurrence_{index}")


def _no_record(*conditions):
    """NOT EXISTS a campaign_occurrence record meeting ``conditions``, checked row by row
    through the record's occurrence id. Right after a burst the planner's statistics still say
    the table holds no such records; planned as a join from them, the query scanned every record
    of the kind (or of the email) for each row."""
    # Speed: OFFSET 0 keeps PostgreSQL from planning this as a join from those stale statistics.
    return ~sa.select(sa.literal(1)).where(*conditions).offset(0).exists()


def _not_dealt_with_at_its_instant(source):
    """True for a registration, order or cart no tick dealt with at its very instant. A tick's
    record due at the instant means that tick's window held the instant and the tick saw the
    row, so it dealt with every instant email of it. Checked before the workflow emails are
    joined: the ticks of the next minutes (the overlap) then drop a burst of registrations in
    one index lookup each instead of five joins. A "send now" record proves nothing of the
    other emails; gallery and promotion dates can move, so their occurrences are not checked
    so."""
    return _no_record(
        CampaignOccurrence.occurrence_id == source.id,
        CampaignOccurrence.occurrence_kind == source.kind,
        CampaignOccurrence.due_at == source.at,
        CampaignOccurrence.manual.is_(False),
    )


def _candidate_query(
    index, trigger, rule, days, send_time, range_count, changed_count, by_gallery, skip_processed
):
    """The occurrences of one (trigger, rule, days, send time), the ``index``-th branch of its
    query, with their workflow, the window's ranges and the gallery as parameters. Joined in
    the order written: occurrences in the window first, then their gallery's workflow emails,
    then whether the tick dealt with that (email, occurrence) already. The workflow's studio
    (its timezone) is read afterwards for the rows found: two joins less for every row."""
    source = SOURCES[Trigger(trigger)]
    occurrence = _occurrences(index, source, rule, range_count, by_gallery, skip_processed, changed_count)
    query = (
        sa.select(
            sa.literal_column(str(index), sa.Integer),
            WorkflowEmail.id,
            occurrence.c.id,
            occurrence.c.at,
            occurrence.c.gallery_id,
            GalleryWorkflow.workflow_id,
            occurrence.c.client_id,
        )
        .select_from(occurrence)
        .join(GalleryWorkflow, GalleryWorkflow.gallery_id == occurrence.c.gallery_id)
        .join(WorkflowEmail, WorkflowEmail.workflow_id == GalleryWorkflow.workflow_id)
        .where(WorkflowEmail.trigger == trigger, WorkflowEmail.rule == rule, WorkflowEmail.days == days)
    )
    query = query.where(
        WorkflowEmail.send_time.is_(None) if send_time is None else WorkflowEmail.send_time == send_time
    )
    if skip_processed:
        query = query.where(
            _no_record(
                CampaignOccurrence.occurrence_id == occurrence.c.id,
                CampaignOccurrence.occurrence_kind == source.kind,
                CampaignOccurrence.workflow_email_id == WorkflowEmail.id,
            )
        )
    return query


# Speed: built and compiled once per shape, so a tick with nothing due costs only the query's run.
@lru_cache(maxsize=256)
def _candidates_query(shapes, by_gallery, skip_processed):
    """One UNION ALL over the combinations' queries (``shapes``: (combination, range count,
    changed range count)): one round trip for a tick."""
    return sa.union_all(
        *[
            _candidate_query(index, *combination, range_count, changed_count, by_gallery, skip_processed)
            for index, (combination, range_count, changed_count) in enumerate(shapes)
        ]
    )


COMBINATIONS_PER_QUERY = 100  # SQLite allows 500 terms in a compound SELECT
# An empty range, for the unused slots below.
_NOTHING = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 1, tzinfo=UTC))


# Speed: padded ranges keep most ticks on the last tick's query shape, already compiled.
def _range_slots(ranges):
    """Ranges padded with empty ones to 2, 4, 8...: most ticks then have the same query shape
    as the last one (see ``_candidates_query``)."""
    if ranges is None:
        return ()
    slots = 2
    while slots < len(ranges):
        slots *= 2
    return tuple(ranges) + (_NOTHING,) * (slots - len(ranges))


# Speed: PostgreSQL searched join orders for the union's branches longer than it ran them.
@contextmanager
def _in_written_order():
    """On PostgreSQL, join each branch in the order written: the occurrences in the window
    first (an index range read), then their gallery's workflow emails. That is the plan we want
    whatever the data, and searching for it in every branch of the union takes longer than
    running the query."""
    if db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    db.session.execute(sa.text("SET LOCAL join_collapse_limit = 1"))
    try:
        yield
    finally:  # the rest of the transaction (a page, the tick's inserts) plans as usual
        db.session.execute(sa.text("SET LOCAL join_collapse_limit TO DEFAULT"))


def _candidates(combination_ranges, gallery_id, skip_processed, changed_since=None):
    """Yield (combination, row) for every occurrence of these (combination, ranges, ranges for
    rows changed since ``changed_since``); a row is (branch, email id, occurrence id,
    occurrence instant, gallery id, workflow id, client id)."""
    padded = [
        (combination, _range_slots(ranges), _range_slots(changed))
        for combination, ranges, changed in combination_ranges
    ]
    for start in range(0, len(padded), COMBINATIONS_PER_QUERY):
        chunk = padded[start : start + COMBINATIONS_PER_QUERY]
        shapes = tuple(
            (tuple(combination), len(ranges), len(changed)) for combination, ranges, changed in chunk
        )
        parameters = {"gallery_id": gallery_id} if gallery_id is not None else {}
        for index, (_combination, ranges, changed) in enumerate(chunk):
            for prefix, some in (("", ranges), ("w", changed)):
                for number, (low, high) in enumerate(some):
                    parameters[f"c{index}_{prefix}low_{number}"] = low
                    parameters[f"c{index}_{prefix}high_{number}"] = high
            if changed:
                parameters[f"c{index}_changed"] = changed_since
        query = _candidates_query(shapes, gallery_id is not None, skip_processed)
        with _in_written_order():
            rows = db.session.execute(query, parameters).all()
        for row in rows:
            yield chunk[row[0]][0], row


def _window_ranges(rule, days, send_time, timezones, window_start, window_end):
    """The occurrence ranges to read for these studios' timezones (their union: each row is
    then checked against its own timezone's due time)."""
    if window_start is None:
        return None
    return merge_ranges(
        [
            occurrence_range
            for timezone in timezones
            for occurrence_range in occurrence_ranges(
                rule, days, send_time, timezone, window_start, window_end
            )
        ]
    )


def _workflow_timezones(workflow_ids):
    """{workflow id: its studio's timezone}."""
    if not workflow_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Workflow.id, Studio.timezone)
            .join(Studio, Studio.id == Workflow.studio_id)
            .where(among(Workflow.id, workflow_ids))
        ).all()
    )


def _starts(window_start, client_window_start, changed_window_start):
    """{trigger: where its due times are read from}. A promotion has no ``updated_at``: its end
    (a few per day) is read over the whole catch-up window every tick, so an end moved into the
    recent past is seen; what was dealt with is excluded by its record."""
    starts = {}
    for trigger, source in SOURCES.items():
        if source.client_id is not None:
            starts[trigger] = client_window_start or window_start
        elif trigger == Trigger.PROMOTION_EXPIRY:
            starts[trigger] = changed_window_start or window_start
        else:
            starts[trigger] = window_start
    return starts


def _changed_ranges(combination, timezones, starts, changed_window_start, window_end):
    """The whole catch-up window's ranges for a gallery date (read for galleries changed since
    the tick's own start), or None."""
    trigger = Trigger(combination[0])
    start = starts[trigger]
    if (
        changed_window_start is None
        or SOURCES[trigger].changed_at is None
        or not changed_window_start < start
    ):
        return None
    return _window_ranges(*combination[1:], timezones, changed_window_start, window_end)


def _changed_since(gallery_ids, since):
    """The galleries among these changed (``updated_at``) since ``since``."""
    if not gallery_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(Gallery.id).where(among(Gallery.id, gallery_ids), Gallery.updated_at >= since)
        )
    )


def due_occurrences(
    window_start=None,
    window_end=None,
    gallery_id=None,
    skip_processed=True,
    client_window_start=None,
    changed_window_start=None,
):
    """Every (email, occurrence) due in (window_start, window_end] (or at any time when no
    window is given), for all galleries or one; for registrations, orders and carts from
    ``client_window_start`` when given. With ``changed_window_start`` (the start of the
    catch-up window), gallery dates of galleries changed since ``window_start`` and promotion
    ends are read from there: a date moved into the recent past still sends what fell due."""
    starts = _starts(window_start, client_window_start, changed_window_start)
    combination_ranges = [
        (
            combination,
            _window_ranges(*combination[1:], timezones, starts[Trigger(combination[0])], window_end),
            _changed_ranges(combination, timezones, starts, changed_window_start, window_end),
        )
        for combination, timezones in _combinations(gallery_id).items()
    ]
    kinds = {trigger: source.kind for trigger, source in SOURCES.items()}
    candidates = list(_candidates(combination_ranges, gallery_id, skip_processed, window_start))
    timezones = _workflow_timezones({row[5] for _combination, row in candidates})
    found, if_changed = [], []
    for combination, (_branch, email_id, occurrence_id, at, gallery, workflow_id, client) in candidates:
        trigger, rule, days, send_time = combination
        due = due_at(rule, days, send_time, at, timezones[workflow_id])
        start = starts[trigger]
        occurrence = DueOccurrence(email_id, trigger, kinds[trigger], occurrence_id, at, gallery, client, due)
        if start is None or start < due <= window_end:
            found.append(occurrence)
        elif (
            SOURCES[Trigger(trigger)].changed_at is not None
            and changed_window_start is not None
            and changed_window_start < due <= start
        ):
            if_changed.append(occurrence)
    if if_changed:
        changed = _changed_since({o.gallery_id for o in if_changed}, window_start)
        found += [o for o in if_changed if o.gallery_id in changed]
    return sorted(found, key=lambda item: (item.due_at, item.email_id, item.occurrence_id))
