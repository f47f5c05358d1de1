"""The campaign engine: which workflow email is due for whom, and when.

One function, ``due_occurrences``, answers both "what is due now" (the tick, over a window of
due times, all galleries) and "what will be due when" (a gallery's timeline, no window). It reads
occurrences with indexed range queries, one per distinct (trigger, rule, days, send time,
timezone) in use, so a tick's cost follows what can be due in its window, never the history.

The tick then checks each due (email, occurrence) against the gallery's state, expands its
recipients and the recipient filter at that moment in a few set-based queries, renders each
message and queues it with a deterministic key: a second tick, in this process or another,
queues nothing more.
"""

import gc
from collections import Counter, defaultdict
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import islice
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from app.accounts.models import Studio
from app.database import (
    among,
    insert_ignoring_conflicts,
    insert_many_ignoring_conflicts,
    refresh_planner_statistics,
    writer_transactions,
)
from app.extensions import db
from app.galleries.models import Client, Gallery, GalleryStatus, Registration
from app.mailing.models import MailKind, Suppression
from app.mailing.outbox import address_of, message_base, message_row, queue_many_once
from app.mailing.services import studio_senders
from app.shop.models import Cart, Order, OrderItem, OrderStatus, Promotion
from app.workflows.models import (
    CampaignOccurrence,
    EngineState,
    GalleryWorkflow,
    OccurrenceKind,
    Purpose,
    RecipientFilter,
    Rule,
    Trigger,
    Workflow,
    WorkflowEmail,
)
from app.workflows.relevance import skip_reason
from app.workflows.rendering import personalize, prepare, share
from app.workflows.schedule import due_at, merge_ranges, occurrence_ranges
from app.workflows.values import Links, cart_states, running_promotions
from app.workflows.variables import (
    LOCALE_VARIABLES,
    PROMOTION_VARIABLES,
    RECIPIENT_VARIABLES,
    recipient_values,
    variables_in,
)

K = OccurrenceKind


@dataclass(frozen=True)
class Source:
    """Where a trigger's occurrences live: their id, instant, gallery and (per-client) client."""

    kind: str
    id: sa.ColumnElement
    at: sa.ColumnElement
    gallery_id: sa.ColumnElement
    client_id: sa.ColumnElement | None = None
    still_valid: tuple = ()
    # When the row last changed: a date moved into the recent past is read over the whole
    # catch-up window (see ``_occurrences``).
    changed_at: sa.ColumnElement | None = None


SOURCES = {
    Trigger.SALE_START: Source(K.GALLERY, Gallery.id, Gallery.sale_starts_at, Gallery.id,
                               changed_at=Gallery.updated_at),
    Trigger.SALE_END: Source(K.GALLERY, Gallery.id, Gallery.sale_ends_at, Gallery.id,
                             changed_at=Gallery.updated_at),
    Trigger.ARCHIVE: Source(K.GALLERY, Gallery.id, Gallery.archives_at, Gallery.id,
                            changed_at=Gallery.updated_at),
    Trigger.PROMOTION_EXPIRY: Source(K.PROMOTION, Promotion.id, Promotion.ends_at,
                                     Promotion.gallery_id, None, (Promotion.removed_at.is_(None),)),
    Trigger.REGISTRATION: Source(K.REGISTRATION, Registration.id, Registration.registered_at,
                                 Registration.gallery_id, Registration.client_id),
    Trigger.ORDER: Source(K.ORDER, Order.id, Order.placed_at, Order.gallery_id, Order.client_id,
                          (Order.status != OrderStatus.CANCELLED,)),
    # Closed carts too: their emails are recorded as skipped ("ordered", "cart_gone").
    Trigger.CART: Source(K.CART, Cart.id, Cart.first_item_at, Cart.gallery_id, Cart.client_id),
}


# What a message needs of a client or a gallery, as plain rows: loading thousands of ORM objects
# would cost more than rendering their messages.
CLIENT_COLUMNS = (Client.id, Client.studio_id, Client.email, Client.name, Client.language,
                  Client.marketing_consent)


GALLERY_COLUMNS = (Gallery.id, Gallery.studio_id, Gallery.title, Gallery.status,
                   Gallery.sale_starts_at, Gallery.sale_ends_at, Gallery.archives_at)


class GalleryRow(NamedTuple):
    """What a message and the conditions at due time read of a gallery (thousands per tick)."""

    id: int
    studio_id: int
    title: str
    status: str
    sale_starts_at: object
    sale_ends_at: object
    archives_at: object


class ClientRow(NamedTuple):
    id: int
    studio_id: int
    email: str
    name: str
    language: str | None
    marketing_consent: bool


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


@contextmanager
def gc_paused():
    """Hold the cyclic garbage collector while a tick loads, builds and inserts its rows: it
    would otherwise walk every object of the process again and again as thousands of rows (no
    cycles among them) pile up, which costs a third of a large tick. Reference counting still
    frees memory."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def catch_up_window():
    return timedelta(hours=current_app.config["CAMPAIGN_CATCH_UP_HOURS"])


# ------------------------------------------------------------------ finding occurrences


def _combinations(gallery_id=None):
    """{(trigger, rule, days, send time): [timezones]} of the emails of assigned workflows."""
    query = (sa.select(WorkflowEmail.trigger, WorkflowEmail.rule, WorkflowEmail.days,
                       WorkflowEmail.send_time, Studio.timezone)
             .join(Workflow, Workflow.id == WorkflowEmail.workflow_id)
             .join(Studio, Studio.id == Workflow.studio_id)
             .distinct().order_by(WorkflowEmail.trigger, WorkflowEmail.rule, WorkflowEmail.days,
                                  WorkflowEmail.send_time, Studio.timezone))
    if gallery_id is None:
        query = query.where(sa.exists().where(GalleryWorkflow.workflow_id == Workflow.id))
    else:
        query = query.join(GalleryWorkflow, GalleryWorkflow.workflow_id == Workflow.id).where(
            GalleryWorkflow.gallery_id == gallery_id)
    grouped = defaultdict(list)
    for trigger, rule, days, send_time, timezone in db.session.execute(query):
        grouped[(trigger, rule, days, send_time)].append(timezone)
    return grouped


def _in_ranges(column, index, prefix, count):
    """``column`` inside one of ``count`` ranges (parameters ``c{index}_{prefix}low_N`` /
    ``high_N``): one term each, so that an OR of them is read as index ranges."""
    return [sa.and_(column >= sa.bindparam(f"c{index}_{prefix}low_{number}", type_=column.type),
                    column < sa.bindparam(f"c{index}_{prefix}high_{number}", type_=column.type))
            for number in range(count)]


def _occurrences(index, source, rule, range_count, by_gallery, skip_processed, changed_count=0):
    """The ``index``-th branch's occurrences in the window (ranges ``c{index}_low_N`` /
    ``_high_N``), a subquery read first: an index range read on the occurrence instant. With
    ``changed_count``, also those of rows changed since ``c{index}_changed`` in the ranges of the
    whole catch-up window (``c{index}_wlow_N`` / ``_whigh_N``): a date moved into the recent
    past. Each term is an AND with a range of the instant, so the OR stays index ranges."""
    # A typed NULL: PostgreSQL would otherwise take a gallery-wide branch's NULL for text and
    # refuse the union with a per-client branch's integer.
    client_column = (source.client_id if source.client_id is not None
                     else sa.cast(sa.null(), sa.Integer))
    query = sa.select(
        source.id.label("id"), source.at.label("at"), source.gallery_id.label("gallery_id"),
        client_column.label("client_id")).where(source.at.is_not(None), *source.still_valid)
    if range_count:
        terms = _in_ranges(source.at, index, "", range_count)
        if changed_count:
            changed = source.changed_at >= sa.bindparam(f"c{index}_changed",
                                                        type_=source.changed_at.type)
            terms += [sa.and_(changed, term)
                      for term in _in_ranges(source.at, index, "w", changed_count)]
        query = query.where(sa.or_(*terms))
    if by_gallery:
        query = query.where(source.gallery_id == sa.bindparam("gallery_id"))
    if skip_processed and rule == Rule.INSTANT and source.client_id is not None:
        query = query.where(_not_dealt_with_at_its_instant(source))
    # OFFSET 0 keeps SQLite from merging the subquery into the branch's joins, after which it
    # started some branches from the workflow emails and sought the window in each of their
    # galleries: 10 ms for the registrations of a tick with nothing in the window (0.02 ms read
    # from the instant's index), 56 ms instead of 32 with 20,000 in it.
    return query.offset(0).subquery(f"occurrence_{index}")


def _no_record(*conditions):
    """NOT EXISTS a campaign_occurrence record meeting ``conditions``, checked row by row
    through the record's occurrence id. ``OFFSET 0`` keeps PostgreSQL from turning it into a
    join planned from statistics: right after a burst they still say the table holds no such
    records, and the planner then scanned every record of the kind (or of the email) for each
    row, 10,000 x 30,000 (two minutes for one tick)."""
    return ~sa.select(sa.literal(1)).where(*conditions).offset(0).exists()


def _not_dealt_with_at_its_instant(source):
    """True for a registration, order or cart no tick dealt with at its very instant. A tick's
    record due at the instant means that tick's window held the instant and the tick saw the
    row, so it dealt with every instant email of it. Checked before the workflow emails are
    joined: the ticks of the next minutes (the overlap) then drop a burst of 10,000
    registrations in one index lookup each instead of five joins (a third of a second on
    PostgreSQL). A "send now" record proves nothing of the other emails; gallery and promotion
    dates can move, so their occurrences are not checked so."""
    return _no_record(
        CampaignOccurrence.occurrence_id == source.id,
        CampaignOccurrence.occurrence_kind == source.kind,
        CampaignOccurrence.due_at == source.at,
        CampaignOccurrence.manual.is_(False))


def _candidate_query(index, trigger, rule, days, send_time, range_count, changed_count,
                     by_gallery, skip_processed):
    """The occurrences of one (trigger, rule, days, send time), the ``index``-th branch of its
    query, with their workflow, the window's ranges and the gallery as parameters. Joined in
    the order written: occurrences in the window first, then their gallery's workflow emails,
    then whether the tick dealt with that (email, occurrence) already. The workflow's studio
    (its timezone) is read afterwards for the rows found: two joins less for every row."""
    source = SOURCES[Trigger(trigger)]
    occurrence = _occurrences(index, source, rule, range_count, by_gallery, skip_processed,
                              changed_count)
    query = (
        sa.select(sa.literal_column(str(index), sa.Integer), WorkflowEmail.id, occurrence.c.id,
                  occurrence.c.at, occurrence.c.gallery_id, GalleryWorkflow.workflow_id,
                  occurrence.c.client_id)
        .select_from(occurrence)
        .join(GalleryWorkflow, GalleryWorkflow.gallery_id == occurrence.c.gallery_id)
        .join(WorkflowEmail, WorkflowEmail.workflow_id == GalleryWorkflow.workflow_id)
        .where(WorkflowEmail.trigger == trigger, WorkflowEmail.rule == rule,
               WorkflowEmail.days == days))
    query = query.where(WorkflowEmail.send_time.is_(None) if send_time is None
                        else WorkflowEmail.send_time == send_time)
    if skip_processed:
        query = query.where(_no_record(
            CampaignOccurrence.occurrence_id == occurrence.c.id,
            CampaignOccurrence.occurrence_kind == source.kind,
            CampaignOccurrence.workflow_email_id == WorkflowEmail.id))
    return query


@lru_cache(maxsize=256)
def _candidates_query(shapes, by_gallery, skip_processed):
    """One UNION ALL over the combinations' queries (``shapes``: (combination, range count,
    changed range count)):
    one round trip for a tick. Built once per shape, so that a tick with nothing due costs the
    query's execution, not its construction."""
    return sa.union_all(*[
        _candidate_query(index, *combination, range_count, changed_count, by_gallery,
                         skip_processed)
        for index, (combination, range_count, changed_count) in enumerate(shapes)])


COMBINATIONS_PER_QUERY = 100  # SQLite allows 500 terms in a compound SELECT
# An empty range, for the unused slots below.
_NOTHING = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 1, tzinfo=UTC))


def _range_slots(ranges):
    """Ranges padded with empty ones to 2, 4, 8...: most ticks then have the same query shape
    as the last one, and building and compiling a new one costs a quarter of a second."""
    if ranges is None:
        return ()
    slots = 2
    while slots < len(ranges):
        slots *= 2
    return tuple(ranges) + (_NOTHING,) * (slots - len(ranges))


@contextmanager
def _in_written_order():
    """On PostgreSQL, join each branch in the order written: the occurrences in the window
    first (an index range read), then their gallery's workflow emails. That is the plan we want
    whatever the data, and searching for it in every branch of the union took ten times longer
    than running the query (160 ms against 12 ms at 10,000 galleries)."""
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
    padded = [(combination, _range_slots(ranges), _range_slots(changed))
              for combination, ranges, changed in combination_ranges]
    for start in range(0, len(padded), COMBINATIONS_PER_QUERY):
        chunk = padded[start:start + COMBINATIONS_PER_QUERY]
        shapes = tuple((tuple(combination), len(ranges), len(changed))
                       for combination, ranges, changed in chunk)
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
    return merge_ranges([occurrence_range for timezone in timezones for occurrence_range in
                         occurrence_ranges(rule, days, send_time, timezone, window_start,
                                           window_end)])


def _workflow_timezones(workflow_ids):
    """{workflow id: its studio's timezone}."""
    if not workflow_ids:
        return {}
    return dict(db.session.execute(
        sa.select(Workflow.id, Studio.timezone).join(Studio, Studio.id == Workflow.studio_id)
        .where(among(Workflow.id, workflow_ids))).all())


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
    if (changed_window_start is None or SOURCES[trigger].changed_at is None
            or not changed_window_start < start):
        return None
    return _window_ranges(*combination[1:], timezones, changed_window_start, window_end)


def _changed_since(gallery_ids, since):
    """The galleries among these changed (``updated_at``) since ``since``."""
    if not gallery_ids:
        return set()
    return set(db.session.scalars(sa.select(Gallery.id).where(
        among(Gallery.id, gallery_ids), Gallery.updated_at >= since)))


def due_occurrences(window_start=None, window_end=None, gallery_id=None, skip_processed=True,
                    client_window_start=None, changed_window_start=None):
    """Every (email, occurrence) due in (window_start, window_end] (or at any time when no
    window is given), for all galleries or one; for registrations, orders and carts from
    ``client_window_start`` when given. With ``changed_window_start`` (the start of the
    catch-up window), gallery dates of galleries changed since ``window_start`` and promotion
    ends are read from there: a date moved into the recent past still sends what fell due."""
    starts = _starts(window_start, client_window_start, changed_window_start)
    combination_ranges = [
        (combination,
         _window_ranges(*combination[1:], timezones, starts[Trigger(combination[0])],
                        window_end),
         _changed_ranges(combination, timezones, starts, changed_window_start, window_end))
        for combination, timezones in _combinations(gallery_id).items()]
    kinds = {trigger: source.kind for trigger, source in SOURCES.items()}
    candidates = list(_candidates(combination_ranges, gallery_id, skip_processed, window_start))
    timezones = _workflow_timezones({row[5] for _combination, row in candidates})
    found, if_changed = [], []
    for combination, (_branch, email_id, occurrence_id, at, gallery, workflow_id,
                      client) in candidates:
        trigger, rule, days, send_time = combination
        due = due_at(rule, days, send_time, at, timezones[workflow_id])
        start = starts[trigger]
        occurrence = DueOccurrence(email_id, trigger, kinds[trigger], occurrence_id, at,
                                   gallery, client, due)
        if start is None or start < due <= window_end:
            found.append(occurrence)
        elif (SOURCES[Trigger(trigger)].changed_at is not None
              and changed_window_start is not None and changed_window_start < due <= start):
            if_changed.append(occurrence)
    if if_changed:
        changed = _changed_since({o.gallery_id for o in if_changed}, window_start)
        found += [o for o in if_changed if o.gallery_id in changed]
    return sorted(found, key=lambda item: (item.due_at, item.email_id, item.occurrence_id))


# ------------------------------------------------------------------ conditions at due time


def gallery_takes_campaigns(gallery, trigger, now):
    """Campaign mail goes to published galleries that are not archived; the archiving trigger
    itself still speaks about an archived gallery."""
    if trigger == Trigger.ARCHIVE:
        return gallery.status in (GalleryStatus.PUBLISHED, GalleryStatus.ARCHIVED)
    archived = gallery.status == GalleryStatus.ARCHIVED or (
        gallery.archives_at is not None and gallery.archives_at <= now)
    return gallery.status == GalleryStatus.PUBLISHED and not archived


def _gallery_registrants(gallery_ids):
    """{gallery_id: [(client row, registered_at)]} for the given galleries."""
    grouped = defaultdict(list)
    if not gallery_ids:
        return grouped
    rows = db.session.execute(
        sa.select(Registration.gallery_id, Registration.registered_at, *CLIENT_COLUMNS)
        .join(Client, Client.id == Registration.client_id)
        .where(among(Registration.gallery_id, gallery_ids)))
    for gallery_id, registered_at, *client in rows:
        grouped[gallery_id].append((ClientRow(*client), registered_at))
    return grouped


def _clients(client_ids):
    if not client_ids:
        return {}
    return {row.id: ClientRow(*row) for row in db.session.execute(
        sa.select(*CLIENT_COLUMNS).where(among(Client.id, client_ids)))}


def _ordered_pairs(client_ids, now):
    """{(client_id, gallery_id)} with a non-cancelled order placed by ``now``."""
    if not client_ids:
        return set()
    return set(db.session.execute(
        sa.select(Order.client_id, OrderItem.gallery_id).join(
            OrderItem, OrderItem.order_id == Order.id)
        .where(among(Order.client_id, client_ids), Order.status != OrderStatus.CANCELLED,
               Order.placed_at <= now).distinct()).all())


def _suppressed(studio_ids, clients):
    """{(studio id, address)} of these clients that get no more campaign mail: read for the
    tick's recipients only, not every address the studios ever suppressed."""
    addresses = {client.email.lower() for client in clients}
    if not studio_ids or not addresses:
        return set()
    return set(db.session.execute(sa.select(Suppression.studio_id, Suppression.email).where(
        Suppression.studio_id.in_(list(studio_ids)), among(Suppression.email, addresses))))


def _passes_filter(recipient_filter, client_id, gallery_id, ordered):
    if recipient_filter == RecipientFilter.ORDERED:
        return (client_id, gallery_id) in ordered
    if recipient_filter == RecipientFilter.NOT_ORDERED:
        return (client_id, gallery_id) not in ordered
    return True


# ------------------------------------------------------------------ the tick


@dataclass
class TickResult:
    queued: Counter = field(default_factory=Counter)       # messages, per trigger
    occurrences: Counter = field(default_factory=Counter)  # (email, occurrence) pairs, per trigger
    waiting: int = 0  # due, but the gallery is not taking campaign mail right now
    skipped: Counter = field(default_factory=Counter)  # occurrences, per skip reason
    without_consent: int = 0  # recipients left out of marketing emails
    planned: list = field(default_factory=list)  # dry run: (due occurrence, recipient emails)

    def summary(self):
        per_trigger = ", ".join(f"{trigger} {count}" for trigger, count in
                                sorted(self.queued.items())) or "nothing due"
        skipped = ", ".join(f"{reason} {count}" for reason, count in sorted(self.skipped.items()))
        return (f"queued {sum(self.queued.values())} emails for "
                f"{sum(self.occurrences.values())} occurrences ({per_trigger}); "
                f"{self.waiting} waiting on their gallery"
                + (f"; skipped {skipped}" if skipped else "")
                + (f"; {self.without_consent} without consent" if self.without_consent else ""))


@dataclass
class _Context:
    emails: dict
    galleries: dict
    studios: dict
    promotions: dict
    orders: dict
    registrants: dict
    clients: dict
    ordered: set
    suppressed: set
    senders: dict
    running: dict  # (gallery id, due time): the promotion running then
    carts: dict  # cart id: values.CartState
    plans: dict = field(default_factory=dict)  # (email id, language): _EmailPlan
    gallery_parts: dict = field(default_factory=dict)  # see _gallery_part
    links: Links = field(default_factory=Links)


def _load_context(due, now):
    emails = {email.id: email for email in db.session.scalars(
        sa.select(WorkflowEmail).where(among(WorkflowEmail.id, {d.email_id for d in due})))}
    galleries = {row.id: GalleryRow(*row) for row in db.session.execute(
        sa.select(*GALLERY_COLUMNS).where(among(Gallery.id, {d.gallery_id for d in due})))}
    studios = {studio.id: studio for studio in db.session.scalars(
        sa.select(Studio).where(among(Studio.id, {g.studio_id for g in galleries.values()})))}
    promotion_ids = {d.occurrence_id for d in due if d.kind == K.PROMOTION}
    promotions = {p.id: p for p in db.session.scalars(
        sa.select(Promotion).where(among(Promotion.id, promotion_ids)))} if promotion_ids else {}
    order_ids = {d.occurrence_id for d in due if d.kind == K.ORDER}
    orders = {o.id: o for o in db.session.scalars(
        sa.select(Order).where(among(Order.id, order_ids)))} if order_ids else {}
    wide = {d.gallery_id for d in due if d.client_id is None}
    registrants = _gallery_registrants(wide)
    clients = _clients({d.client_id for d in due if d.client_id is not None})
    senders = studio_senders(studios.values())
    carts = cart_states({d.occurrence_id for d in due if d.kind == K.CART})
    return _Context(emails, galleries, studios, promotions, orders, registrants, clients,
                    _ordered_pairs(_filtered_clients(due, emails, registrants), now),
                    _suppressed(set(studios), _all_clients(clients, registrants)), senders,
                    running_promotions(_promotion_moments(due, emails)), carts)


def _promotion_moments(due, emails):
    """The (gallery, due time) pairs whose running promotion an email names; a promotion's own
    expiry email names the promotion ending instead."""
    naming = {email_id for email_id, email in emails.items()
              if email.trigger != Trigger.PROMOTION_EXPIRY
              and PROMOTION_VARIABLES.intersection(variables_in(email.subject + email.body_html))}
    return {(d.gallery_id, d.due_at) for d in due if d.email_id in naming}


def occurrence_promotion(occurrence, context):
    """The promotion an occurrence's %promotion_...% variables name: the one ending (promotion
    expiry) or the one running in its gallery at its due time."""
    if occurrence.kind == K.PROMOTION:
        return context.promotions.get(occurrence.occurrence_id)
    return context.running.get((occurrence.gallery_id, occurrence.due_at))


def _filtered_clients(due, emails, registrants):
    """The clients whose orders matter: those of emails sent to clients who ordered (or not)."""
    filtering = {email_id for email_id, email in emails.items()
                 if email.recipient_filter != RecipientFilter.ALL}
    filtered = [d for d in due if d.email_id in filtering] if filtering else []
    found = {d.client_id for d in filtered if d.client_id is not None}
    for gallery_id in {d.gallery_id for d in filtered if d.client_id is None}:
        found.update(client.id for client, _registered in registrants.get(gallery_id, ()))
    return found


def _all_clients(clients, registrants):
    yield from clients.values()
    for registered in registrants.values():
        for client, _registered_at in registered:
            yield client


def _recipients(occurrence, email, context, manual=False):
    """The clients this occurrence goes to now (see ``_audience``)."""
    return _audience(occurrence, email, context, manual)[0]


def _audience(occurrence, email, context, manual=False):
    """(The clients this occurrence goes to now, how many were left out for want of consent):
    the gallery's clients registered by the due time (or, sent on purpose later, registered
    now), after the filter and suppressions; a marketing email only to those who consented to
    news and offers. The filter is read now, when the message is queued."""
    gallery = context.galleries[occurrence.gallery_id]
    if occurrence.client_id is None:
        candidates = [client for client, registered_at in
                      context.registrants.get(gallery.id, [])
                      if manual or registered_at <= occurrence.due_at]
    else:
        candidates = [context.clients[occurrence.client_id]]
    recipient_filter, suppressed = email.recipient_filter, context.suppressed
    chosen = [client for client in candidates
              if (recipient_filter == RecipientFilter.ALL
                  or _passes_filter(recipient_filter, client.id, gallery.id, context.ordered))
              and not (suppressed and (gallery.studio_id, client.email.lower()) in suppressed)]
    if email.purpose == Purpose.SERVICE:
        return chosen, 0
    consenting = [client for client in chosen if client.marketing_consent]
    return consenting, len(chosen) - len(consenting)


def dedup_key(email_id, kind, occurrence_id, client_id):
    """One message per (workflow email, occurrence, recipient), whatever runs the tick."""
    return f"wf{email_id}:{kind}{occurrence_id}:c{client_id}"


@dataclass(frozen=True)
class _Part:
    """How a message of a workflow email is filled: its templates (None: the email's own) and
    the variables left to compute for each recipient."""

    templates: tuple | None
    own_variables: tuple
    own_in_language: bool  # some of those are written in the recipient's language


@dataclass(frozen=True)
class _EmailPlan:
    """What every message of one workflow email in one language shares: worked out once per
    tick, so that per recipient only the values, the substitution and the row remain."""

    prepared: object
    whole: _Part  # every variable per recipient
    row_base: dict  # outbox.message_base: what every row of this email shares
    unsubscribe_mailto: str
    catch_up: timedelta


def _plan(email, studio, language, context, now):
    key = (email.id, language)
    plan = context.plans.get(key)
    if plan is None:
        prepared = prepare(email.subject, email.body_html, language)
        row_base = message_base(kind=MailKind.CAMPAIGN, studio_id=studio.id,
                                sender=context.senders[studio.id], now=now,
                                reply_to=studio.email, source=f"workflow_email:{email.id}")
        whole = _Part(None, prepared.variables,
                      bool(LOCALE_VARIABLES.intersection(prepared.variables)))
        plan = context.plans[key] = _EmailPlan(
            prepared, whole, row_base,
            f"<mailto:{unsubscribe_mailbox()}?subject=unsubscribe>", catch_up_window())
    return plan


def _gallery_part(plan, email, gallery, studio, language, promotion, context):
    """The part of a gallery-wide occurrence (a sale start, a promotion's end...): the values
    its recipients share (the gallery's title and dates, the studio's name) filled in once.
    A registration, an order or a cart has one recipient: nothing to share, and preparing the
    part would cost more than filling the whole email (tried: 9 us a message more)."""
    key = (email.id, language, gallery.id, promotion.id if promotion else None)
    part = context.gallery_parts.get(key)
    if part is None:
        variables = plan.prepared.variables
        with force_locale(language) if plan.whole.own_in_language else nullcontext():
            shared = recipient_values(
                [name for name in variables if name not in RECIPIENT_VARIABLES], studio=studio,
                gallery=gallery, client=None, language=language, promotion=promotion,
                links=context.links)
        own = tuple(name for name in variables if name in RECIPIENT_VARIABLES)
        part = context.gallery_parts[key] = _Part(
            share(plan.prepared, shared), own, bool(LOCALE_VARIABLES.intersection(own)))
    return part


def _message_row(occurrence, email, client, context, now):
    gallery = context.galleries[occurrence.gallery_id]
    studio = context.studios[gallery.studio_id]
    language = client.language or studio.language
    plan = _plan(email, studio, language, context, now)
    promotion = occurrence_promotion(occurrence, context)
    part = (plan.whole if occurrence.client_id is not None
            else _gallery_part(plan, email, gallery, studio, language, promotion, context))
    # Switching the locale costs more than the rest of a message: only values that show a date
    # or an amount do it.
    with force_locale(language) if part.own_in_language else nullcontext():
        values = recipient_values(
            part.own_variables, studio=studio, gallery=gallery, client=client,
            language=language, promotion=promotion,
            order=context.orders.get(occurrence.occurrence_id)
            if occurrence.kind == K.ORDER else None,
            cart_total_minor=_cart_total(occurrence, context), links=context.links)
    subject, html, text = personalize(plan.prepared, values, part.templates)
    unsubscribe = (values.get("unsubscribe_link")
                   or context.links.unsubscribe(studio.id, client.email))
    headers = {
        "X-Proofsheet-Studio": str(studio.id),
        "List-Unsubscribe": f"<{unsubscribe}>, {plan.unsubscribe_mailto}",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return message_row(
        plan.row_base, recipient=client.email, recipient_name=client.name, subject=subject,
        html=html, text=text, headers=headers,
        dedup_key=dedup_key(email.id, occurrence.kind, occurrence.occurrence_id, client.id),
        gallery_id=gallery.id, expires_at=occurrence.due_at + plan.catch_up)


def _cart_total(occurrence, context):
    cart = context.carts.get(occurrence.occurrence_id) if occurrence.kind == K.CART else None
    return cart.total_minor if cart is not None else None


def unsubscribe_mailbox():
    return address_of(current_app.config["MAIL_DEFAULT_SENDER"])


RECORD_COLUMNS = ("workflow_email_id", "occurrence_kind", "occurrence_id", "gallery_id",
                  "due_at", "processed_at", "recipients", "manual", "missed", "skip_reason",
                  "without_consent")


def _occurrence_record(occurrence, recipients, now, manual=False, missed=False,
                       skip_reason=None, without_consent=0):
    """A ``campaign_occurrence`` row, in ``RECORD_COLUMNS`` order."""
    return (occurrence.email_id, occurrence.kind, occurrence.occurrence_id,
            occurrence.gallery_id, occurrence.due_at, now, recipients, manual, missed,
            skip_reason, without_consent)


# Rows are built and inserted this many at a time: memory already touched is reused for the
# next batch instead of growing by tens of megabytes of rendered messages.
INSERT_BATCH = 1000


def queue_occurrences(due, now, dry_run=False, manual=False, result=None):
    """Queue the messages of these due occurrences (recipients and filters read at ``now``)."""
    result = result or TickResult()
    if not due:
        return result
    with gc_paused():
        context = _load_context(due, now)
        records = []
        rows = _message_rows(due, context, result, records, now, dry_run, manual)
        for batch in iter(lambda: list(islice(rows, INSERT_BATCH)), []):
            queue_many_once(batch)
        if records and not dry_run:
            _record_occurrences(records)
    return result


def _record_occurrences(records):
    insert_many_ignoring_conflicts(records, CampaignOccurrence.__table__, RECORD_COLUMNS)


def _message_rows(due, context, result, records, now, dry_run, manual):
    """Yield the outbox rows of these occurrences; append their records to ``records``."""
    for occurrence in due:
        gallery = context.galleries[occurrence.gallery_id]
        email = context.emails[occurrence.email_id]
        reason = skip_reason(email, gallery, now, context.carts.get(occurrence.occurrence_id)
                             if occurrence.kind == K.CART else None)
        if reason:  # no longer makes sense (the sale closed, the cart is gone): never sent
            result.skipped[reason] += 1
            if not dry_run:
                records.append(_occurrence_record(occurrence, 0, now, manual,
                                                  skip_reason=reason))
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
            records.append(_occurrence_record(occurrence, len(recipients), now, manual,
                                              without_consent=without_consent))
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
    db.session.execute(insert_ignoring_conflicts(EngineState.__table__).values(
        key=WATERMARK, value=now))
    db.session.execute(sa.update(EngineState).where(
        EngineState.key == WATERMARK, EngineState.value < now).values(value=now)
        .execution_options(synchronize_session=False))


STATISTICS = "planner_statistics"
STATISTICS_EVERY = timedelta(hours=1)


def _refresh_statistics_hourly(now):
    """Tables grow all the time; the planner's picture of them is refreshed once an hour, by
    whichever tick comes first."""
    mark = db.session.scalar(sa.select(EngineState.value).where(EngineState.key == STATISTICS))
    if mark is not None and mark <= now < mark + STATISTICS_EVERY:
        return
    refresh_planner_statistics()
    db.session.execute(insert_ignoring_conflicts(EngineState.__table__).values(
        key=STATISTICS, value=now))
    db.session.execute(sa.update(EngineState).where(EngineState.key == STATISTICS)
                       .values(value=now).execution_options(synchronize_session=False))


def tick(now, dry_run=False):
    """Queue every workflow email that fell due since the last tick (at most the catch-up
    window before ``now``). Flushes only.

    An email is judged at its due time: if its gallery does not take campaign mail then, it is
    missed (shown so, with "send now"), not sent later by surprise. On SQLite the transaction
    starts as a writer: it reads, then inserts, while other processes may be writing.
    """
    with writer_transactions(), gc_paused():  # reading 10,000 due rows makes objects too
        if not dry_run:
            _refresh_statistics_hourly(now)
        start, client_start = window_starts(now)
        due = due_occurrences(start, now, client_window_start=client_start,
                              changed_window_start=now - catch_up_window())
        result = queue_occurrences(due, now, dry_run=dry_run)
        if not dry_run:
            _advance_watermark(now)
        return result
