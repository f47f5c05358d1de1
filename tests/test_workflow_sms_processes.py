"""Four processes ticking the campaign engine and dispatching texts at once against one
database: every workflow email's text reaches the SMS sink exactly once (SQLite and
PostgreSQL)."""

import json
import multiprocessing
from collections import Counter
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db
from app.galleries.models import Client, Registration
from app.sms.models import SmsMessage, SmsState
from app.workflows.models import Trigger
from tests import factories
from tests.test_campaign_engine import SALE_START
from tests.workflow_factories import assign, make_workflow

PROCESSES = 4
CLIENTS = 300


def _tick_and_dispatch_texts(database_url, instance, worker, start_at):
    """One process: a few scheduler cycles (the campaign tick, then the sms-cycle job)."""
    from app import create_app
    from app.sms.dispatch import dispatch_sms
    from app.workflows.engine import tick

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "BASE_URL": "http://localhost",
            "SMS_STUDIO_RATE_PER_MINUTE": 100_000,
        },
        instance_path=instance,
    )
    with app.app_context():
        for step in range(6):
            now = start_at + timedelta(seconds=20 * step)
            tick(now)
            db.session.commit()
            dispatch_sms(now, worker=worker, limit=60)
        db.session.remove()
        db.engine.dispose()


def test_four_processes_send_each_workflow_text_exactly_once(app, owner):
    gallery = factories.make_gallery(
        owner.studio,
        sale_starts_at=SALE_START,
        sale_ends_at=SALE_START + timedelta(days=20),
        archives_at=SALE_START + timedelta(days=60),
    )
    at = SALE_START - timedelta(days=3)
    db.session.execute(
        sa.insert(Client.__table__),
        [
            dict(
                studio_id=owner.studio_id,
                email=f"parent{i}@example.com",
                name=f"Parent {i}",
                language="en",
                marketing_consent=False,
                phone=f"+4670{i:07d}",
                sms_consent_at=at,
                created_at=at,
            )
            for i in range(CLIENTS)
        ],
    )
    client_ids = db.session.scalars(sa.select(Client.id)).all()
    db.session.execute(
        sa.insert(Registration.__table__),
        [dict(client_id=client_id, gallery_id=gallery.id, registered_at=at) for client_id in client_ids],
    )
    db.session.commit()
    workflow = make_workflow(owner.studio, emails=[dict(trigger=Trigger.SALE_START)])
    workflow.emails[0].sms_enabled = True
    workflow.emails[0].sms_body = "Hello %client_name%: %gallery_link%"
    db.session.commit()
    assign(gallery, workflow)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    db.engine.dispose()

    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=_tick_and_dispatch_texts, args=(url, app.instance_path, f"worker-{n}", SALE_START)
        )
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=240)
    assert all(worker.exitcode == 0 for worker in workers)

    received = Counter(
        json.loads(path.read_text(encoding="utf-8"))["to"]
        for path in Path(app.config["SMS_SINK_FOLDER"]).glob("*.json")
    )
    assert len(received) == CLIENTS
    assert set(received.values()) == {1}, received.most_common(3)
    states = dict(
        db.session.execute(sa.select(SmsMessage.state, sa.func.count()).group_by(SmsMessage.state)).all()
    )
    assert states == {SmsState.SENT: CLIENTS}
