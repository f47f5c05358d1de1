"""`flask emails dispatch/status` and the scheduler's mail cycle."""

from datetime import timedelta

import pytest

from app.extensions import db
from app.jobs import JOB_DEFAULTS, JOBS, mail_cycle
from app.mailing.models import MailKind, MailState, OutboxMessage
from app.mailing.outbox import queue_message
from tests.factories import NOW


def _queue(owner, due_at=NOW):
    row = queue_message(
        kind=MailKind.TRANSACTIONAL,
        studio_id=owner.studio_id,
        sender="studio@northlight.test",
        recipient="client@example.com",
        subject="Hello",
        html="<p>Hi</p>",
        text="Hi",
        now=NOW,
        due_at=due_at,
    )
    db.session.commit()
    return row


def test_dispatch_command_sends_what_is_due_at_the_given_instant(runner, owner, mail_outbox):
    _queue(owner, due_at=NOW + timedelta(hours=1))
    early = runner.invoke(args=["emails", "dispatch", "--now", NOW.isoformat()])
    assert early.exit_code == 0 and "sent 0" in early.output
    late = runner.invoke(args=["emails", "dispatch", "--now", (NOW + timedelta(hours=1)).isoformat()])
    assert "sent 1" in late.output
    assert mail_outbox.wait_for(1)[0].subject == "Hello"


@pytest.mark.no_database
def test_dispatch_command_refuses_a_bad_instant_clearly(runner):
    result = runner.invoke(args=["emails", "dispatch", "--now", "next tuesday"])
    assert result.exit_code == 2 and "not an ISO-8601 date and time" in result.output


def test_status_command_counts_messages_by_state(runner, owner):
    _queue(owner)
    result = runner.invoke(args=["emails", "status"])
    assert "queued 1" in result.output and "sent 0" in result.output


def test_mail_cycle_job_sends_queued_mail(app, owner, mail_outbox):
    row = _queue(owner)
    mail_cycle(app)
    mail_outbox.wait_for(1)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).state == MailState.SENT


def test_jobs_are_declared_with_stable_ids_and_generous_misfire_grace():
    assert [job_id for job_id, _, _ in JOBS] == [
        "mail-cycle",
        "sender-domains",
        "sms-cycle",
        "photo-processing",
        "stale-uploads",
    ]
    assert JOB_DEFAULTS["misfire_grace_time"] >= 60
    assert JOB_DEFAULTS["coalesce"] is True and JOB_DEFAULTS["max_instances"] == 1
