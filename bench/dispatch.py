"""Time the dispatcher: send 10,000 queued campaign messages (MIME building included) to an
SMTP sink in another process, against the floor: a bare smtplib loop sending prebuilt bytes over
one reused connection to the same sink. Then again with several dispatcher processes.
Prints the figures; asserts nothing.
Usage (from the project root): .venv/bin/python -m bench.dispatch [--db postgresql]
    [--count N] [--processes N] [--reply-delay-ms MS]
"""

import multiprocessing
import smtplib
import subprocess
import sys
import time
from datetime import UTC, datetime

import sqlalchemy as sa

from app.accounts.models import Studio
from app.extensions import db
from app.mailing.dispatch import dispatch, message_bytes
from app.mailing.models import MailState, OutboxMessage
from app.mailing.outbox import message_values
from app.workflows.rendering import personalize, prepare
from app.workflows.templates import TEMPLATES, render_body
from bench.common import bench_app, free_port, parse_args, quiet_alembic

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)


def start_sink(reply_delay_ms=0):
    port = free_port()
    handler = (
        ["bench.slow_sink.SlowSink", str(reply_delay_ms)] if reply_delay_ms else ["aiosmtpd.handlers.Sink"]
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", *handler],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            smtplib.SMTP("127.0.0.1", port, timeout=1).quit()
            return process, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the SMTP sink did not start")


def queue_campaign(count):
    """``count`` rendered campaign messages in the outbox, as the tick leaves them."""
    db.session.add(
        Studio(
            id=1,
            name="Northlight",
            slug="northlight",
            email="hi@northlight.test",
            timezone="Europe/Paris",
            currency="EUR",
            language="en",
            created_at=NOW,
        )
    )
    db.session.flush()
    email = TEMPLATES["school"].emails[0]
    prepared = prepare(str(email.subject), render_body(email.body_html), "en")
    rows = []
    for index in range(count):
        values = {
            "client_name": f"Parent {index}",
            "gallery_title": "Riverside Primary",
            "gallery_link": f"https://photos.example.com/g/x?t={index:020d}",
            "sale_end_date": "21 March 2027",
            "studio_name": "Northlight",
            "unsubscribe_link": f"https://photos.example.com/unsubscribe/{index:030d}",
        }
        subject, html, text = personalize(prepared, values)
        rows.append(
            message_values(
                kind="campaign",
                studio_id=1,
                sender="Northlight <studio@northlight.test>",
                recipient=f"parent{index}@example.com",
                recipient_name=f"Parent {index}",
                subject=subject,
                html=html,
                text=text,
                now=NOW,
                dedup_key=f"bench:{index}",
                headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
            )
        )
    db.session.execute(sa.insert(OutboxMessage.__table__), rows)
    db.session.commit()


def floor(port, payloads):
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for sender, recipient, data in payloads:
            connection.sendmail(sender, [recipient], data)
    return time.perf_counter() - start


# Rows a parallel worker claims at a time: small enough that every worker gets a share.
PARALLEL_BATCH = 100


def _worker(database_url, port, instance, worker, ready, go):
    from app import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench",
            "MAIL_PORT": port,
            "MAIL_STUDIO_RATE_PER_MINUTE": 10**9,
        },
        instance_path=instance,
    )
    with app.app_context():
        ready.release()
        go.wait()
        while dispatch(NOW, worker=worker, limit=PARALLEL_BATCH).sent:
            pass


def parallel(app, port, processes):
    """Seconds for ``processes`` dispatchers to send everything, timed from when all of them
    are started and ready (starting Python and the app is not sending)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    context = multiprocessing.get_context("spawn")
    ready, go = context.Semaphore(0), context.Event()
    workers = [
        context.Process(target=_worker, args=(url, port, app.instance_path, f"w{i}", ready, go))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    for _worker_process in workers:
        ready.acquire()
    start = time.perf_counter()
    go.set()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


def reset():
    db.session.execute(
        sa.update(OutboxMessage).values(state=MailState.QUEUED, attempts=0, lease_until=None, sent_at=None)
    )
    db.session.commit()


def main():
    quiet_alembic()
    args = parse_args(
        __doc__.splitlines()[0],
        count=(int, 10_000, "messages"),
        processes=(int, 2, "dispatcher processes for the parallel run"),
        reply_delay_ms=(
            float,
            0,
            "the sink answers each message this late, as a server across a network (bench/slow_sink.py)",
        ),
    )
    sink, port = start_sink(args.reply_delay_ms)
    try:
        with bench_app(args.db, MAIL_PORT=port, MAIL_STUDIO_RATE_PER_MINUTE=10**9) as app:
            queue_campaign(args.count)
            rows = db.session.scalars(sa.select(OutboxMessage)).all()
            payloads = [(r.sender, r.recipient, message_bytes(r, NOW)) for r in rows]
            db.session.rollback()
            floor_seconds = floor(port, payloads)
            start = time.perf_counter()
            while dispatch(NOW, worker="bench", limit=1000).sent:
                pass
            one_seconds = time.perf_counter() - start
            sent = db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.state == MailState.SENT))
            reset()
            many_seconds = parallel(app, port, args.processes)
            db.session.expire_all()
            sent_many = db.session.scalar(
                sa.select(sa.func.count()).where(OutboxMessage.state == MailState.SENT)
            )
    finally:
        sink.terminate()
    floor_rate, one_rate = args.count / floor_seconds, sent / one_seconds
    delay = f", sink answering after {args.reply_delay_ms:g} ms" if args.reply_delay_ms else ""
    print(f"database: {args.db}, {args.count} messages of {len(payloads[0][2])} bytes{delay}")
    print(f"floor (prebuilt bytes, one connection): {floor_rate:,.0f} msg/s")
    print(
        f"one dispatcher: {one_rate:,.0f} msg/s = {one_rate / floor_rate:.0%} of the floor "
        f"(aim >= 70 %), {sent} sent"
    )
    print(f"{args.processes} dispatcher processes: {sent_many / many_seconds:,.0f} msg/s, {sent_many} sent")


if __name__ == "__main__":
    main()
