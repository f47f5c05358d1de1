"""The dispatcher: claim due outbox rows under a lease, send them, record each outcome.

Any number of dispatchers (web requests, the scheduler, ``flask emails dispatch``) may run at
once. A claim is one short transaction: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, BEGIN
IMMEDIATE on SQLite. Rows stay ``sending`` under a lease while they are worked on; a dispatcher
that dies leaves them to be claimed again when the lease runs out. Each outcome is committed
right after the server's reply, never once per batch.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.database import (
    autocommit_connection,
    begin_write,
    insert_ignoring_conflicts,
    writer_transactions,
)
from app.extensions import db
from app.mailing import deliverability, return_path, wire
from app.mailing.models import MailKind, MailState, OutboxMessage, StudioMailState, Suppression
from app.mailing.outbox import address_of
from app.mailing.studio_settings import settings_of, smtp_settings
from app.mailing.transport import SendFailure, SmtpConnection, SmtpSettings
from app.reasons import EXPIRED, SERVER_REFUSED_STUDIO, UNSUBSCRIBED_OR_BOUNCED
from app.timeutil import UTCDateTime

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
SETUP_PHASES = ("connect", "tls", "auth")  # the server's settings, not this message, are wrong
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)  # a fixed mail server should not wait longer than this


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: int = 0
    deferred: int = 0  # put back without an attempt (rate limit, paused studio)
    errors: list = field(default_factory=list)

    def merge(self, other):
        for name in ("sent", "retried", "failed", "unknown", "skipped", "deferred"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    def summary(self):
        return (
            f"sent {self.sent}, retried {self.retried}, failed {self.failed}, "
            f"unknown {self.unknown}, skipped {self.skipped}, deferred {self.deferred}"
        )


def backoff_delay(attempts, rng=random):
    """Exponential backoff with ±20 % jitter: 1, 2, 4 ... minutes, at most an hour."""
    delay = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)
    return delay * rng.uniform(0.8, 1.2)


# ------------------------------------------------------------------ before claiming


def skip_unwanted(now):
    """Mark queued campaign mail to suppressed addresses, and expired mail, as skipped."""
    suppressed = sa.exists().where(
        Suppression.studio_id == OutboxMessage.studio_id,
        Suppression.email == sa.func.lower(OutboxMessage.recipient),
    )
    skipped = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.state == MailState.QUEUED, OutboxMessage.kind == MailKind.CAMPAIGN, suppressed)
        .values(state=MailState.SKIPPED, last_error=UNSUBSCRIBED_OR_BOUNCED)
        .execution_options(synchronize_session=False)
    ).rowcount
    expired = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.state == MailState.QUEUED,
            OutboxMessage.expires_at.is_not(None),
            OutboxMessage.expires_at <= now,
        )
        .values(state=MailState.SKIPPED, last_error=EXPIRED)
        .execution_options(synchronize_session=False)
    ).rowcount
    return skipped + expired


def _claimable(now):
    due = sa.and_(OutboxMessage.state == MailState.QUEUED, OutboxMessage.due_at <= now)
    abandoned = sa.and_(OutboxMessage.state == MailState.SENDING, OutboxMessage.lease_until < now)
    paused = sa.exists().where(
        StudioMailState.studio_id == OutboxMessage.studio_id, StudioMailState.paused_at.is_not(None)
    )
    # A studio paused by its own server's refusal still gets its sign-in codes and resets out:
    # those go through the platform's server.
    return sa.and_(sa.or_(due, abandoned), sa.or_(~paused, OutboxMessage.is_sensitive))


def claim(now, worker, limit=200, ids=None):
    """Claim up to ``limit`` due rows for ``worker`` and commit; returns their ids."""
    db.session.commit()
    begin_write()
    candidates = (
        sa.select(OutboxMessage.id)
        .where(_claimable(now))
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
    )
    if ids is not None:
        candidates = candidates.where(OutboxMessage.id.in_(ids))
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    claimed = db.session.scalars(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates.scalar_subquery()))
        .values(state=MailState.SENDING, lease_until=now + LEASE, leased_by=worker)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(claimed)


# ------------------------------------------------------------------ rate and pauses


def _studio_state(studio_id):
    db.session.execute(
        insert_ignoring_conflicts(StudioMailState.__table__).values(studio_id=studio_id, sent_in_window=0)
    )
    query = sa.select(StudioMailState).where(StudioMailState.studio_id == studio_id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return db.session.scalar(query.execution_options(populate_existing=True))


def reserve_send_slots(studio_id, wanted, now, per_minute):
    """Grant up to ``wanted`` sends in the studio's current minute, across every process.

    Returns (granted, paused_reason). Commits: the reservation must be visible to others at once.
    """
    db.session.commit()
    state = _studio_state(studio_id)
    if state.paused_at is not None:
        db.session.commit()
        return 0, state.pause_reason
    window = now.replace(second=0, microsecond=0)
    if state.window_start is None or state.window_start < window:
        state.window_start, state.sent_in_window = window, 0
    granted = max(0, min(wanted, per_minute - state.sent_in_window))
    state.sent_in_window += granted
    db.session.commit()
    return granted, None


def pause_studio(studio_id, reason, now):
    state = _studio_state(studio_id)
    state.paused_at, state.pause_reason = now, reason


def resume_studio(studio_id):
    """Let a paused studio send again (after its settings were fixed)."""
    state = _studio_state(studio_id)
    state.paused_at = state.pause_reason = None


# ------------------------------------------------------------------ outcomes


def _release(rows, due_at, reason=None):
    for row in rows:
        row.state, row.lease_until, row.leased_by, row.due_at = MailState.QUEUED, None, None, due_at
        if reason:
            row.last_error = reason


_OUTBOX = cast(sa.Table, OutboxMessage.__table__)
_MARK_SENT = (
    sa.update(_OUTBOX)
    .where(_OUTBOX.c.id == sa.bindparam("row_id"))
    .values(
        state=MailState.SENT.value,
        sent_at=sa.bindparam("sent_now", type_=UTCDateTime()),
        lease_until=None,
        last_error=None,
        attempts=_OUTBOX.c.attempts + 1,
    )
)


def _record_sent(outcomes, row, now):
    """Mark one row sent with a single UPDATE that commits by itself (the hot path: no ORM
    flush, no BEGIN/COMMIT around it, per message)."""
    outcomes.execute(_MARK_SENT, {"row_id": row.id, "sent_now": now})
    # Keep the loaded row in step without a flush: it is only read from now on.
    set_committed_value(row, "state", MailState.SENT)
    set_committed_value(row, "sent_at", now)


def _is_setup_failure(failure):
    """A server we could not reach, talk TLS with or log in to (DNS, refused, timeout, a
    dropped connection: ``code`` None), as opposed to its reply about this message."""
    return failure.code is None or failure.phase in SETUP_PHASES


def setup_backoff(row, now, rng=random):
    """The wait after a setup failure. Those are not counted in ``attempts`` (which is the
    4xx budget), so the wait grows with how long the message has waited instead: as long
    again (1, 2, 4 ... minutes for a server down since it was queued), at most an hour."""
    waited = max(now - row.created_at, timedelta(0))
    return min(max(waited, BACKOFF_BASE), BACKOFF_CAP) * rng.uniform(0.8, 1.2)


def _record_retry_or_fail(row, failure, now, result):
    """Retry later, or give up: a server's 4xx reply about the message counts towards
    ``MAX_ATTEMPTS``; a server we cannot reach or log in to never does (not even in
    ``attempts``), so a misconfigured or unreachable server loses nothing, however long it lasts:
    the row waits, with the error shown, until the server answers, it expires (campaign mail)
    or someone cancels it."""
    row.lease_until = None
    row.last_error = str(failure)
    out_of_time = row.expires_at is not None and row.expires_at <= now
    setting_up = _is_setup_failure(failure)
    if not setting_up:
        row.attempts += 1
    gave_up = not setting_up and row.attempts >= MAX_ATTEMPTS
    if gave_up or out_of_time:
        row.state = MailState.FAILED
        result.failed += 1
        return
    delay = setup_backoff(row, now) if setting_up else backoff_delay(row.attempts)
    row.state, row.due_at = MailState.QUEUED, now + delay
    result.retried += 1


# A refusal at these stages is about the studio (its server, login or sender), not a recipient.
STUDIO_PHASES = (*SETUP_PHASES, "mail")
HARD_BOUNCE_CODES = (550, 551, 553)  # without an enhanced code: no such mailbox, or similar


def is_hard_bounce(failure):
    """The address does not exist or cannot take mail (RFC 3463 5.1.x, 5.2.1 "mailbox
    disabled"; 550/551/553 from a server that gives no enhanced code): suppress it."""
    status = failure.enhanced_status
    if status is None:
        return failure.code in HARD_BOUNCE_CODES
    return status.startswith("5.1.") or status == "5.2.1"


def _record_failure(row, failure, now, result):
    """Sort a refusal into retry, failure, bounce, pause or unknown, by the SMTP stage it came
    at: a policy refusal (5.7.x) of the connection, login or sender pauses the studio; a refusal
    of a recipient or of the message fails that one message (pausing there would pause again
    at once after "Resume": the same message is sent first)."""
    if failure.after_final_dot:
        row.state, row.lease_until, row.last_error = (
            MailState.UNKNOWN,
            None,
            (
                "The server did not answer after receiving the message; it may have been "
                f"delivered. Check before sending again. ({failure})"
            ),
        )
        row.attempts += 1
        result.unknown += 1
        return "continue"
    if failure.permanent:
        _record_failed(row, str(failure), result)
        return "continue"
    if failure.code is None or 400 <= failure.code < 500:
        _record_retry_or_fail(row, failure, now, result)
        return "stop" if failure.code is None else "continue"
    if _pauses_studio(row, failure):
        _pause_for(row, failure, now, result)
        return "pause"
    row.attempts += 1
    _record_failed(row, str(failure), result)
    if failure.phase not in STUDIO_PHASES and is_hard_bounce(failure):
        _suppress_bounced(row, failure, now)
    return "continue"


def _pauses_studio(row, failure):
    """A studio's server refusing the studio itself (5.7.x at connect, TLS, login or MAIL
    FROM). Sensitive mail goes through the platform's server: it never pauses a studio."""
    status = failure.enhanced_status or ""
    return (
        status.startswith("5.7.")
        and failure.phase in STUDIO_PHASES
        and not row.is_sensitive
        and row.studio_id is not None
    )


def _pause_for(row, failure, now, result):
    reason = f"{SERVER_REFUSED_STUDIO}{failure}"
    pause_studio(row.studio_id, reason, now)
    _release([row], now, reason)
    result.deferred += 1


def _record_failed(row, reason, result):
    row.state, row.lease_until, row.last_error = MailState.FAILED, None, reason
    result.failed += 1


def _suppress_bounced(row, failure, now):
    """No more campaign mail to a bounced address from this studio (the refused one: a RCPT
    refusal may be about a Cc)."""
    if row.studio_id is None:
        return
    address = failure.recipient if failure.phase == "rcpt" and failure.recipient else row.recipient
    db.session.execute(
        insert_ignoring_conflicts(Suppression.__table__).values(
            studio_id=row.studio_id,
            email=address.lower(),
            reason="bounced",
            detail=str(failure),
            created_at=now,
        )
    )


# ------------------------------------------------------------------ sending


def message_bytes(row, now, context=None):
    """The row's message on the wire (see wire.py); ``now`` is its Date. ``context``: the
    dispatch's ``deliverability.SendContext`` (read for this row's studio when not given)."""
    to = (row.recipient_name or "", row.recipient)  # a mailbox: no need to parse it again
    context = context or deliverability.send_context([row.studio_id])
    data = wire.message_bytes(
        sender=row.sender,
        to=to,
        subject=row.subject,
        html=row.html,
        text=row.text,
        message_id=row.message_id,
        sent_at=now,
        reply_to=row.reply_to,
        cc=row.cc or None,
        headers=deliverability.headers_for(row, context),
        attachments=[(a.filename, a.content_type, a.data) for a in row.attachments],
    )
    return deliverability.signed(data, row, context)


def _recipients(row):
    return [row.recipient] + [address.strip() for address in row.cc.split(",") if address.strip()]


def _envelope_sender(row, verp_domain=None):
    """MAIL FROM: the message's own signed bounce address on the platform's bounce domain
    (VERP: a bounce then says which message failed), else the From address."""
    if verp_domain:
        return return_path.address_for(return_path.BOUNCE, row.id, verp_domain)
    return address_of(row.sender)


def settings_for_studio(studio_id, sensitive=False):
    """The SMTP server a studio's mail goes through: its own when configured, else the
    platform's. Messages carrying a secret always take the platform's: a studio's server (and
    whoever runs it) never sees another person's sign-in link or reset token."""
    own = smtp_settings(settings_of(studio_id)) if studio_id is not None and not sensitive else None
    return own or SmtpSettings.from_config(current_app.config)


def _send_batch(studio_id, rows, now, result, sensitive=False, context=None):
    """Send one studio's rows over one connection, committing each outcome as it comes."""
    settings = settings_for_studio(studio_id, sensitive)
    try:
        connection = SmtpConnection(settings).open()
    except SendFailure as failure:
        _record_setup_failure(rows, failure, now, result)
        result.errors.append(str(failure))
        db.session.commit()
        return
    # The session must not hold SQLite's write lock while ``outcomes`` records each sending.
    db.session.commit()
    with autocommit_connection() as outcomes:
        _send_rows(
            connection, outcomes, rows, now, result, context, verp_domain=_verp_domain(settings, context)
        )


def _verp_domain(settings, context):
    """The bounce domain when the batch goes through the platform's server (a studio's own
    server may refuse, or rewrite, an envelope sender outside its domains: its bounces go to
    the studio's address as before)."""
    if settings.policy is not None:  # a studio's own server (the platform's has no policy)
        return None
    return context.receiver if context is not None else return_path.receiver_domain()


def _record_setup_failure(rows, failure, now, result):
    """The connection, TLS or login failed: a policy refusal (5.7.x: "authentication
    failed", "must use TLS") pauses the studio with every row kept; anything else is retried."""
    if rows and _pauses_studio(rows[0], failure):
        _pause_for(rows[0], failure, now, result)
        _release(rows[1:], now, rows[0].last_error)
        result.deferred += len(rows) - 1
        return
    for row in rows:
        _record_retry_or_fail(row, failure, now, result)


class _Unbuildable:
    """A row whose bytes could not be made (a line break in stored data, a bad address...)."""

    def __init__(self, error):
        self.reason = f"Not sent: the message could not be built. {error}"


def _build(row, now, context):
    """The row's bytes, or an ``_Unbuildable``: one message that cannot be built fails alone
    and never stops its batch (this also runs while the server takes in the previous one)."""
    try:
        return message_bytes(row, now, context)
    except Exception as error:  # noqa: BLE001 (any data problem of one message is its own)
        current_app.logger.warning("outbox message %s cannot be built: %r", row.id, error)
        return _Unbuildable(error)


def _send_rows(connection, outcomes, rows, now, result, context=None, verp_domain=None):
    upcoming = {}  # row id: its bytes, built while the server was busy with the previous one
    context = context or deliverability.send_context({row.studio_id for row in rows})

    def build(row):
        upcoming[row.id] = _build(row, now, context)

    try:
        for index, row in enumerate(rows):
            following = rows[index + 1] if index + 1 < len(rows) else None
            data = upcoming.pop(row.id, None) or _build(row, now, context)
            if isinstance(data, _Unbuildable):
                _record_failed(row, data.reason, result)
                db.session.commit()
                continue
            try:
                connection.send(
                    _envelope_sender(row, verp_domain),
                    _recipients(row),
                    data,
                    meanwhile=(lambda row=following: build(row)) if following else None,
                )
            except SendFailure as failure:
                verdict = _record_failure(row, failure, now, result)
                db.session.commit()
                if verdict in ("stop", "pause"):
                    _release(rows[index + 1 :], now if verdict == "pause" else now + backoff_delay(1))
                    result.deferred += len(rows) - index - 1
                    db.session.commit()
                    return
                if connection.smtp is None:
                    connection.open()
                continue
            if following is not None and not isinstance(upcoming.get(following.id), _Unbuildable):
                # overlap: the server reads MAIL FROM while we commit
                connection.announce(_envelope_sender(following, verp_domain), _recipients(following))
            _record_sent(outcomes, row, now)
            result.sent += 1
    except SendFailure as failure:  # reconnecting failed
        remaining = [row for row in rows if row.state == MailState.SENDING]
        for row in remaining:
            _record_retry_or_fail(row, failure, now, result)
        db.session.commit()
    finally:
        connection.close()


def dispatch(now, worker="dispatcher", limit=200, ids=None):
    """Send what is queued and due at ``now``. Returns a ``DispatchResult``.

    Rows stay loaded across commits (we own them under the lease), so no transaction is open
    while we talk to the SMTP server; each outcome is one short writer transaction.
    """
    session = db.session()
    keep_loaded = session.expire_on_commit
    session.expire_on_commit = False
    try:
        with writer_transactions():
            return _dispatch(now, worker, limit, ids)
    finally:
        session.expire_on_commit = keep_loaded


def _dispatch(now, worker, limit, ids):
    result = DispatchResult()
    result.skipped += skip_unwanted(now)
    db.session.commit()
    claimed = claim(now, worker, limit, ids)
    if not claimed:
        return result
    # Attachments (file contents) are loaded here only, for the rows being sent.
    rows = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.id.in_(claimed))
        .options(selectinload(OutboxMessage.attachments))
        .order_by(OutboxMessage.id)
        # The claim changed them behind the ORM's back: a row this session
        # already held must not keep its old state in memory.
        .execution_options(populate_existing=True)
    ).all()
    by_studio = defaultdict(list)
    for row in rows:
        by_studio[row.studio_id, row.is_sensitive].append(row)
    per_minute = current_app.config["MAIL_STUDIO_RATE_PER_MINUTE"]
    context = deliverability.send_context([studio_id for studio_id, _sensitive in by_studio])
    for (studio_id, sensitive), studio_rows in by_studio.items():
        if studio_id is not None and not sensitive:  # the rate protects the studio's server
            granted, paused = reserve_send_slots(studio_id, len(studio_rows), now, per_minute)
            if granted < len(studio_rows):
                later = studio_rows[granted:]
                next_window = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
                _release(later, now if paused else next_window, paused)
                result.deferred += len(later)
                db.session.commit()
                studio_rows = studio_rows[:granted]
        if studio_rows:
            _send_batch_alone(studio_id, studio_rows, now, result, sensitive, context)
    return result


def _send_batch_alone(studio_id, rows, now, result, sensitive, context):
    """``_send_batch``, where a fault nobody foresaw stops this batch only, never the other
    studios' mail: its rows stay leased and are tried again when the lease runs out."""
    try:
        _send_batch(studio_id, rows, now, result, sensitive, context)
    except Exception as error:  # noqa: BLE001 (logged; the other studios must still be served)
        current_app.logger.exception("dispatching studio %s's mail failed", studio_id)
        db.session.rollback()
        result.errors.append(f"{type(error).__name__}: {error}")
