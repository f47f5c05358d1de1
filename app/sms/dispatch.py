"""Sending queued texts: claimed under a lease (so any number of processes may dispatch at once
and a dispatcher that dies leaves its texts to be claimed again), limited per studio per minute,
retried with backoff on the provider's temporary errors, failed with its reason otherwise.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.database import begin_write, writer_transactions
from app.extensions import db
from app.mailing.crypto import decrypt
from app.reasons import SMS_MAYBE_SENT
from app.sms.models import SmsMessage, SmsState, StudioSmsSettings
from app.sms.providers import FortySixElksProvider, SinkProvider, SmsSendFailure, TwilioProvider

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)


@dataclass
class SmsDispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0  # the provider may have taken them: not sent again
    deferred: int = 0
    errors: list = field(default_factory=list)


def backoff_delay(attempts, rng=random):
    """1, 2, 4 ... minutes (±20 %), at most an hour."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP) * rng.uniform(0.8, 1.2)


def provider_for(studio_id, config=None):
    """The studio's own provider when it set one up (46elks or Twilio), else the platform's
    (SMS_PROVIDER: "sink", the embedded default, or "46elks" with SMS_46ELKS_USERNAME /
    SMS_46ELKS_PASSWORD)."""
    config = config or current_app.config
    own = db.session.get(StudioSmsSettings, studio_id) if studio_id is not None else None
    if own is not None and own.provider == "46elks":
        return FortySixElksProvider(
            config["SMS_46ELKS_API_URL"],
            own.username,
            decrypt(own.password_encrypted) or "",
            own.sender,
            timeout=config["SMS_TIMEOUT"],
        )
    if own is not None and own.provider == "twilio":
        return TwilioProvider(
            config["SMS_TWILIO_API_BASE"],
            own.username,
            decrypt(own.password_encrypted) or "",
            own.sender,
            timeout=config["SMS_TIMEOUT"],
        )
    if config["SMS_PROVIDER"] == "46elks":
        return FortySixElksProvider(
            config["SMS_46ELKS_API_URL"],
            config["SMS_46ELKS_USERNAME"],
            config["SMS_46ELKS_PASSWORD"],
            config["SMS_DEFAULT_SENDER"],
            timeout=config["SMS_TIMEOUT"],
        )
    return SinkProvider(config["SMS_SINK_FOLDER"], config["SMS_DEFAULT_SENDER"], studio_id)


def _rate_of(studio_id, config):
    own = db.session.get(StudioSmsSettings, studio_id) if studio_id is not None else None
    return own.rate_per_minute if own is not None else config["SMS_STUDIO_RATE_PER_MINUTE"]


def _claimable(now):
    due = sa.and_(SmsMessage.state == SmsState.QUEUED, SmsMessage.due_at <= now)
    abandoned = sa.and_(SmsMessage.state == SmsState.SENDING, SmsMessage.lease_until < now)
    return sa.or_(due, abandoned)


def _recently_sent(studio_id, now):
    """Texts of ``studio_id`` sent in the last minute or being sent now (under a lease)."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SmsMessage)
        .where(
            SmsMessage.studio_id == studio_id,
            sa.or_(
                SmsMessage.sent_at > now - timedelta(minutes=1),
                sa.and_(SmsMessage.state == SmsState.SENDING, SmsMessage.lease_until >= now),
            ),
        )
    )


def claim(now, worker, limit=100, config=None, ids=None):
    """Claim up to ``limit`` due texts for ``worker`` within each studio's rate, and commit.

    One writer transaction (SQLite's write lock; PostgreSQL's SKIP LOCKED rows): the rate is
    counted and the claim made together, so two dispatchers never both use a minute's quota
    on SQLite. (On PostgreSQL two claims may overlap by the texts they lock at once.)"""
    config = config or current_app.config
    db.session.commit()
    begin_write()
    query = (
        sa.select(SmsMessage).where(_claimable(now)).order_by(SmsMessage.due_at, SmsMessage.id).limit(limit)
    )
    if ids is not None:  # a person waits for these (a test text): send them alone
        query = query.where(SmsMessage.id.in_(ids))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    candidates = db.session.scalars(query).all()
    by_studio = defaultdict(list)
    for row in candidates:
        by_studio[row.studio_id].append(row)
    claimed, deferred = [], 0
    next_minute = now + timedelta(minutes=1)
    for studio_id, rows in by_studio.items():
        room = max(0, _rate_of(studio_id, config) - _recently_sent(studio_id, now))
        for row in rows[room:]:
            row.due_at, deferred = next_minute, deferred + 1
        for row in rows[:room]:
            row.state, row.lease_until, row.leased_by = SmsState.SENDING, now + LEASE, worker
            claimed.append(row.id)
    db.session.commit()
    return claimed, deferred


def _record_failure(row, failure, now, result):
    row.lease_until, row.leased_by, row.last_error = None, None, str(failure)
    row.attempts += 1
    if failure.maybe_sent:
        row.state, row.last_error = SmsState.UNKNOWN, f"{SMS_MAYBE_SENT}{failure}"
        result.unknown += 1
    elif failure.temporary and row.attempts < MAX_ATTEMPTS:
        row.state, row.due_at = SmsState.QUEUED, now + backoff_delay(row.attempts)
        result.retried += 1
    else:
        row.state = SmsState.FAILED
        result.failed += 1


def dispatch_sms(now, worker="sms-dispatcher", limit=100, ids=None):
    """Send the texts due at ``now``. Returns an ``SmsDispatchResult``."""
    result = SmsDispatchResult()
    with writer_transactions():
        claimed, result.deferred = claim(now, worker, limit, ids=ids)
        rows = (
            db.session.scalars(
                sa.select(SmsMessage).where(SmsMessage.id.in_(claimed)).order_by(SmsMessage.id)
            ).all()
            if claimed
            else []
        )
        providers = {}
        for row in rows:
            provider = providers.get(row.studio_id) or providers.setdefault(
                row.studio_id, provider_for(row.studio_id)
            )
            try:
                row.provider_message_id = provider.send(row.recipient, row.body, now) or None
            except SmsSendFailure as failure:
                _record_failure(row, failure, now, result)
                result.errors.append(str(failure))
            else:
                row.state, row.sent_at, row.lease_until = SmsState.SENT, now, None
                row.attempts += 1
                result.sent += 1
            # Each outcome at once: a dispatcher that dies loses at most the text in flight
            # (sent again when its lease runs out), never a batch.
            db.session.commit()
    return result
