"""Several processes running tick + dispatch at once against one database: every due email
reaches the SMTP server exactly once (SQLite and PostgreSQL)."""

import multiprocessing
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.galleries.models import Client, Registration
from app.mailing.models import MailState, OutboxMessage
from app.workflows.models import Trigger
from tests import factories
from tests.test_campaign_engine import SALE_START
from tests.workflow_factories import assign, make_workflow

PROCESSES = 4
CLIENTS = 1000


def _tick_and_dispatch(database_url, smtp_port, instance, worker, start_at):
    """One process: a few scheduler cycles, as a gunicorn worker or `flask scheduler run` would."""
    from app import create_app
    from app.mailing.dispatch import dispatch
    from app.workflows.engine import tick

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "MAIL_PORT": smtp_port,
            "BASE_URL": "http://localhost",
            "MAIL_STUDIO_RATE_PER_MINUTE": 100_000,
        },
        instance_path=instance,
    )
    with app.app_context():
        for step in range(6):
            now = start_at + timedelta(seconds=20 * step)
            tick(now)
            db.session.commit()
            dispatch(now, worker=worker, limit=150)
        db.session.remove()
        db.engine.dispose()


def test_four_processes_deliver_each_due_email_exactly_once(app, owner, mail_outbox, tmp_path):
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
    workflow = make_workflow(
        owner.studio,
        emails=[
            dict(
                trigger=Trigger.SALE_START,
                subject="Photos of %gallery_title%",
                body_html="<p>Hello %client_name%</p>",
            )
        ],
    )
    assign(gallery, workflow)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    db.engine.dispose()

    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=_tick_and_dispatch,
            args=(url, app.config["MAIL_PORT"], str(tmp_path / f"i{n}"), f"worker-{n}", SALE_START),
        )
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=240)
    assert all(worker.exitcode == 0 for worker in workers)

    received = Counter(rcpt for mail in mail_outbox.wait_for(CLIENTS, timeout=30) for rcpt in mail.rcpt_tos)
    assert len(received) == CLIENTS
    assert set(received.values()) == {1}, received.most_common(3)
    states = dict(
        db.session.execute(
            sa.select(OutboxMessage.state, sa.func.count()).group_by(OutboxMessage.state)
        ).all()
    )
    assert states == {MailState.SENT: CLIENTS}
