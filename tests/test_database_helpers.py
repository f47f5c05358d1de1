"""app.database helpers that the campaign tick leans on, on SQLite and PostgreSQL."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.database import among, insert_many_ignoring_conflicts
from app.extensions import db
from app.galleries.models import Client
from app.mailing.models import MailKind, MailState, OutboxMessage
from app.workflows.models import CampaignOccurrence
from tests.factories import NOW, make_gallery
from tests.workflow_factories import make_workflow


def test_among_matches_exactly_the_given_ids_and_texts_in_one_parameter(owner):
    studio = owner.studio
    db.session.add_all(
        Client(studio_id=studio.id, email=f"c{i}@example.com", name=f"C {i}", language="en", created_at=NOW)
        for i in range(1200)
    )
    db.session.commit()
    ids = db.session.scalars(sa.select(Client.id).order_by(Client.id)).all()
    wanted = set(ids[::3]) | {10**9}  # an id that does not exist is simply not found
    query = sa.select(Client.id).where(among(Client.id, wanted))
    assert set(db.session.scalars(query)) == set(ids[::3])
    assert len(query.compile(db.session.get_bind()).params) == 1  # one bound parameter
    emails = ["c5@example.com", "c7@example.com", 'it\'s "quoted"@example.com']
    assert set(db.session.scalars(sa.select(Client.email).where(among(Client.email, emails)))) == {
        "c5@example.com",
        "c7@example.com",
    }
    assert db.session.scalars(sa.select(Client.id).where(among(Client.id, []))).all() == []


def _outbox_row(studio_id, index, created_at, due_at, expires_at=None):
    return dict(
        studio_id=studio_id,
        kind=MailKind.CAMPAIGN,
        state=MailState.QUEUED,
        dedup_key=f"k{index}",
        sender="Studio <studio@example.com>",
        recipient=f"r{index}@example.com",
        recipient_name=f'Zoë "{index}"',
        reply_to=None,
        cc="",
        subject=f"Hello {index}",
        html="<p>%</p>",
        text="100 %",
        headers={"X-Index": str(index), "X-Accent": "é"},
        message_id=f"<m{index}@example.com>",
        created_at=created_at,
        due_at=due_at,
        expires_at=expires_at,
        attempts=0,
        gallery_id=None,
        source="test",
        is_sensitive=False,
    )


def _stored(model, order_by):
    columns = [column for column in model.__table__.columns if column.name != "id"]
    return db.session.execute(sa.select(*columns).order_by(order_by)).all()


def test_insert_many_stores_what_sqlalchemys_own_insert_stores(owner):
    """Same rows, one half through SQLAlchemy's executemany and one through the helper: the
    stored values (read back raw, timestamps as the database keeps them) are the same."""
    studio_id = owner.studio.id
    shared = NOW + timedelta(minutes=1)  # one object in many rows, as a tick's ``now``
    # Equal but distinct objects, a value that comes back after another, None, other zones.
    paris = ZoneInfo("Europe/Paris")
    moments = [
        shared,
        shared,
        NOW.astimezone(paris),
        shared,
        None,
        (shared + timedelta(microseconds=7)).astimezone(paris),
    ]
    rows = [
        _outbox_row(studio_id, index, shared, NOW + timedelta(seconds=index), moment)
        for index, moment in enumerate(moments)
    ]
    db.session.execute(sa.insert(OutboxMessage.__table__), rows)
    expected = _stored(OutboxMessage, OutboxMessage.id)
    db.session.rollback()

    assert insert_many_ignoring_conflicts(rows, OutboxMessage.__table__) == len(rows)
    assert _stored(OutboxMessage, OutboxMessage.id) == expected
    raw = db.session.execute(
        sa.text("SELECT CAST(created_at AS TEXT), CAST(expires_at AS TEXT) FROM outbox_message ORDER BY id")
    ).all()
    raw_expected = {row for row in raw}
    db.session.rollback()
    db.session.execute(sa.insert(OutboxMessage.__table__), rows)
    assert {
        row
        for row in db.session.execute(
            sa.text("SELECT CAST(created_at AS TEXT), CAST(expires_at AS TEXT) FROM outbox_message")
        )
    } == raw_expected
    loaded = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [message.expires_at for message in loaded] == moments
    assert loaded[0].headers == {"X-Index": "0", "X-Accent": "é"}


def test_insert_many_skips_conflicts_counts_inserts_and_takes_tuples(owner):
    columns = (
        "workflow_email_id",
        "occurrence_kind",
        "occurrence_id",
        "gallery_id",
        "due_at",
        "processed_at",
        "recipients",
        "manual",
        "missed",
    )
    gallery = make_gallery(owner.studio)
    email = make_workflow(owner.studio, emails=[dict(trigger="registration")]).emails[0]
    records = [
        (email.id, "registration", index, gallery.id, NOW, NOW, 1, False, index == 2) for index in range(4)
    ]
    assert insert_many_ignoring_conflicts(records[:2], CampaignOccurrence.__table__, columns) == 2
    assert insert_many_ignoring_conflicts(records, CampaignOccurrence.__table__, columns) == 2
    assert insert_many_ignoring_conflicts([], CampaignOccurrence.__table__, columns) == 0
    db.session.commit()
    stored = db.session.scalars(
        sa.select(CampaignOccurrence).order_by(CampaignOccurrence.occurrence_id)
    ).all()
    assert [(r.occurrence_id, r.missed, r.due_at) for r in stored] == [
        (0, False, NOW),
        (1, False, NOW),
        (2, True, NOW),
        (3, False, NOW),
    ]


def test_insert_many_refuses_to_leave_out_a_column_with_a_python_default(owner):
    row = _outbox_row(owner.studio.id, 1, NOW, NOW)
    del row["attempts"]
    with pytest.raises(ValueError, match="attempts"):
        insert_many_ignoring_conflicts([row], OutboxMessage.__table__)
