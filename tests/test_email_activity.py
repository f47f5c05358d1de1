"""The "Email activity" page: states, filters, retry, cancel, resume; scoped to the studio."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.mailing.models import MailKind, MailState, OutboxMessage, StudioMailState
from app.mailing.outbox import queue_message
from tests import factories
from tests.factories import NOW


def _message(studio_id, state=MailState.QUEUED, subject="Hello", gallery_id=None, error=None, source=None):
    row = queue_message(
        kind=MailKind.CAMPAIGN,
        studio_id=studio_id,
        sender="s@x.test",
        recipient="client@example.com",
        subject=subject,
        html="<p>Hi</p>",
        text="Hi",
        now=NOW,
        gallery_id=gallery_id,
        source=source,
    )
    row.state, row.last_error = state, error
    db.session.commit()
    return row


def test_failed_messages_show_the_server_reply_and_can_be_retried(client, logged_in):
    row = _message(logged_in.studio_id, MailState.FAILED, error="550 5.1.1 No such user")
    page = client.get("/admin/activity/?state=failed")
    assert page.status_code == 200
    assert b"550 5.1.1 No such user" in page.data and b"Retry" in page.data
    assert client.post(f"/admin/activity/messages/{row.id}/retry").status_code == 302
    db.session.expire_all()
    refreshed = db.session.get(OutboxMessage, row.id)
    assert refreshed.state == MailState.QUEUED and refreshed.attempts == 0


def test_queued_messages_can_be_cancelled_but_sent_ones_cannot(client, logged_in):
    queued = _message(logged_in.studio_id)
    sent = _message(logged_in.studio_id, MailState.SENT)
    client.post(f"/admin/activity/messages/{queued.id}/cancel")
    page = client.post(f"/admin/activity/messages/{sent.id}/cancel", follow_redirects=True)
    assert b"Only messages that wait to be sent can be cancelled" in page.data
    db.session.expire_all()
    assert db.session.get(OutboxMessage, queued.id).state == MailState.CANCELLED
    assert db.session.get(OutboxMessage, sent.id).state == MailState.SENT


def test_filter_by_gallery(client, logged_in):
    first = factories.make_gallery(logged_in.studio, title="First")
    second = factories.make_gallery(logged_in.studio, title="Second")
    _message(logged_in.studio_id, MailState.SENT, subject="About first", gallery_id=first.id)
    _message(logged_in.studio_id, MailState.SENT, subject="About second", gallery_id=second.id)
    page = client.get(f"/admin/activity/?state=sent&gallery={first.id}")
    assert b"About first" in page.data and b"About second" not in page.data


def test_paused_studio_sees_why_and_can_resume(client, logged_in):
    db.session.add(
        StudioMailState(
            studio_id=logged_in.studio_id,
            sent_in_window=0,
            paused_at=NOW,
            pause_reason="550 5.7.1 Relaying denied",
        )
    )
    db.session.commit()
    page = client.get("/admin/activity/")
    assert b"Sending is paused" in page.data and b"5.7.1 Relaying denied" in page.data
    client.post("/admin/activity/resume")
    db.session.expire_all()
    assert db.session.get(StudioMailState, logged_in.studio_id).paused_at is None


def test_another_studios_messages_and_filters_answer_404(client, logged_in, other_owner):
    theirs = _message(other_owner.studio_id, MailState.FAILED)
    their_gallery = factories.make_gallery(other_owner.studio, title="Theirs")
    for method, url in [
        ("get", f"/admin/activity/messages/{theirs.id}"),
        ("post", f"/admin/activity/messages/{theirs.id}/retry"),
        ("post", f"/admin/activity/messages/{theirs.id}/cancel"),
        ("post", f"/admin/activity/messages/{theirs.id}/delivered"),
        ("get", f"/admin/activity/?gallery={their_gallery.id}"),
    ]:
        assert getattr(client, method)(url).status_code == 404, url
    assert client.get("/admin/activity/?state=failed").data.count(b"Retry") == 0
    db.session.expire_all()
    assert (
        db.session.scalar(sa.select(OutboxMessage.state).where(OutboxMessage.id == theirs.id))
        == MailState.FAILED
    )


@pytest.mark.parametrize("path", ["/admin/activity/", "/admin/mail/"])
@pytest.mark.no_database
def test_pages_need_a_login(client, path):
    assert client.get(path).status_code in (302, 401)
