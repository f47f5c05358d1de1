"""Test sends are limited per studio, so the form cannot be used to send mail in bulk."""

import pytest
import sqlalchemy as sa

from app.extensions import db, limiter
from app.mailing.models import OutboxMessage
from tests.workflow_factories import make_workflow


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "TEST_SEND_RATE_LIMIT": "2 per hour"}


def test_test_sends_are_rate_limited_per_studio(app, client, logged_in, mail_outbox):
    limiter.reset()  # the memory storage outlives one app
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start")])
    url = f"/admin/workflows/{workflow.id}/emails/{workflow.emails[0].id}/test"
    answers = [client.post(url, data={"to": f"me{n}@example.com"}) for n in range(3)]
    assert [answer.status_code for answer in answers] == [302, 302, 429]
    assert b"sent many test emails" in answers[2].data
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 2
    mail_outbox.wait_for(2)
