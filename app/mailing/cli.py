"""`flask emails ...`: operate the outbox from a shell, a script or a test."""

from datetime import UTC, datetime

import click
import sqlalchemy as sa

from app import timeutil
from app.extensions import db
from app.mailing.dispatch import dispatch
from app.mailing.models import MailState, OutboxMessage


def parse_now(value):
    """--now as ISO-8601; a value without an offset is read as UTC."""
    if value is None:
        return timeutil.now()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO-8601 date and time, e.g. 2027-03-01T09:00:00+01:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.group("emails")
def emails():
    """Queue, send and inspect email."""


@emails.command("dispatch")
@click.option("--now", "now_text", help="Send what is due at this instant (ISO-8601).")
@click.option("--limit", default=1000, show_default=True, help="At most this many messages.")
def dispatch_command(now_text, limit):
    """Send what is queued and due; print sent / retried / failed counts."""
    result = dispatch(parse_now(now_text), worker="cli", limit=limit)
    click.echo(result.summary())
    for error in result.errors[:5]:
        click.echo(f"  error: {error}", err=True)


@emails.command("status")
def status_command():
    """Print how many messages the outbox holds in each state."""
    counts = dict(
        db.session.execute(
            sa.select(OutboxMessage.state, sa.func.count()).group_by(OutboxMessage.state)
        ).all()
    )
    click.echo("  ".join(f"{state.value} {counts.get(state.value, 0)}" for state in MailState))


@emails.command("tick")
@click.option("--now", "now_text", help="Queue what is due at this instant (ISO-8601).")
@click.option("--dry-run", is_flag=True, help="List what is due without queueing it.")
def tick_command(now_text, dry_run):
    """Queue the workflow emails that are due; print one summary line with counts per trigger."""
    from app.workflows.engine import tick

    now = parse_now(now_text)
    result = tick(now, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
        for occurrence, recipients in result.planned:
            click.echo(
                f"  {occurrence.due_at.isoformat()} email {occurrence.email_id} "
                f"{occurrence.trigger} {occurrence.kind} {occurrence.occurrence_id}: "
                f"{len(recipients)} recipient(s)"
            )
        click.echo("dry run: " + result.summary())
        return
    db.session.commit()
    click.echo(result.summary())


@emails.command("show-private")
@click.option("--to", "recipient", required=True, help="The recipient's email address.")
def show_private_command(recipient):
    """Print the newest message with a private link or code sent to an address (a sign-in code,
    a password reset). Nobody in a studio can read these in the site; whoever runs the server
    can, e.g. to try a client's registration on a local setup."""
    row = db.session.scalar(
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.is_sensitive.is_(True),
            sa.func.lower(OutboxMessage.recipient) == recipient.strip().lower(),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    if row is None:
        raise click.ClickException(f"no message with a private link or code was sent to {recipient}")
    click.echo(f"Subject: {row.subject}\n\n{row.text}")
