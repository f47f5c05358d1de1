"""Command-line commands: `flask serve` (the embedded all-in-one site) and `flask seed-demo`."""

import click
from flask import current_app
from flask_migrate import upgrade


def register_commands(app):
    app.cli.add_command(serve)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--sink/--no-sink", default=True, show_default=True,
              help="Start the local SMTP sink (only used when MAIL_SINK_ENABLED).")
def serve(host, port, sink):
    """Upgrade the database, start the local mail sink, and serve the site (embedded default)."""
    app = current_app._get_current_object()
    upgrade()
    controller = None
    if sink and app.config["MAIL_SINK_ENABLED"]:
        from app.mailing.sink import start_sink

        controller = start_sink(app.config["MAIL_SINK_FOLDER"], port=app.config["MAIL_PORT"])
        click.echo(f"Local mail sink on 127.0.0.1:{app.config['MAIL_PORT']}; "
                   f"read it at http://{host}:{port}/admin/mail")
    try:
        # No reloader: it would start the sink and the scheduler twice.
        app.run(host=host, port=port, use_reloader=False, threaded=True)
    finally:
        if controller:
            controller.stop()
