"""Command-line commands: `flask serve` (the embedded all-in-one site) and `flask seed-demo`."""

import contextlib

import click
from flask import current_app
from flask_migrate import upgrade
from werkzeug.serving import run_simple


def register_commands(app):
    from app.mailing.cli import emails

    app.cli.add_command(serve)
    app.cli.add_command(emails)
    app.cli.add_command(scheduler)
    app.cli.add_command(seed_demo)


@click.command("seed-demo")
@click.option("--now", "now_text", help="Pretend it is this instant (ISO-8601), for scenarios.")
def seed_demo(now_text):
    """Create the demo studio (galleries, QR cards, clients, shop, workflow) to look around."""
    from app.demo import DEMO_EMAIL, DEMO_PASSWORD, DemoExists, create_demo
    from app.extensions import db
    from app.mailing.cli import parse_now

    try:
        create_demo(parse_now(now_text))
    except DemoExists:
        click.echo(f"The demo studio already exists. Log in with {DEMO_EMAIL} / {DEMO_PASSWORD}.")
        return
    db.session.commit()
    click.echo(f"Demo studio created. Log in at /login with {DEMO_EMAIL} / {DEMO_PASSWORD}.")


def _start_inbound(app):
    """The inbound receiver of bounces and complaints, when MAIL_INBOUND_PORT is set."""
    from app.mailing.inbound import start_inbound

    controller = start_inbound(app)
    if controller is not None:
        click.echo(
            f"Inbound mail receiver on {app.config['MAIL_INBOUND_HOST']}:"
            f"{app.config['MAIL_INBOUND_PORT']} for {app.config['MAIL_BOUNCE_DOMAIN']}"
        )
    return controller


def _clean_at_start(app):
    from app.galleries.storage import clean_at_start
    from app.timeutil import now

    clean_at_start(app, now())


@click.group("scheduler")
def scheduler():
    """Run the periodic jobs (campaign tick and mail dispatch)."""


@scheduler.command("run")
def scheduler_run():
    """Run the scheduler in this process until stopped (production: its own process), with
    the inbound mail receiver when MAIL_INBOUND_PORT is set."""
    from app.jobs import run_blocking_scheduler

    app = current_app._get_current_object()
    _clean_at_start(app)
    inbound = _start_inbound(app)
    click.echo("Scheduler running: mail cycle every minute. Ctrl+C to stop.")
    try:
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            run_blocking_scheduler(app)
    finally:
        if inbound:
            inbound.stop()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option(
    "--sink/--no-sink",
    default=True,
    show_default=True,
    help="Start the local SMTP sink (only used when MAIL_SINK_ENABLED).",
)
@click.option(
    "--scheduler/--no-scheduler",
    "with_scheduler",
    default=True,
    show_default=True,
    help="Run the campaign and mail jobs in this process.",
)
def serve(host, port, sink, with_scheduler):
    """Upgrade the database, start the local mail sink, the scheduler (with the inbound mail
    receiver when MAIL_INBOUND_PORT is set), and serve the site."""
    app = current_app._get_current_object()
    upgrade()
    _clean_at_start(app)
    controller = background = inbound = None
    if sink and app.config["MAIL_SINK_ENABLED"]:
        from app.mailing.sink import start_sink

        controller = start_sink(app.config["MAIL_SINK_FOLDER"], port=app.config["MAIL_PORT"])
        click.echo(
            f"Local mail sink on 127.0.0.1:{app.config['MAIL_PORT']}; "
            f"read it at http://{host}:{port}/admin/mail"
        )
    if with_scheduler:
        from app.jobs import start_background_scheduler

        background = start_background_scheduler(app)
        inbound = _start_inbound(app)
    try:
        # Werkzeug's server directly (app.run refuses to run inside a `flask` command), without
        # the reloader: it would start the sink and the scheduler twice.
        click.echo(f"Proofsheet on http://{host}:{port}  (Ctrl+C to stop)")
        run_simple(host, port, app, use_reloader=False, threaded=True)
    finally:
        if background:
            background.shutdown(wait=False)
        if inbound:
            inbound.stop()
        if controller:
            controller.stop()
