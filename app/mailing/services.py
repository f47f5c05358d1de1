"""Transactional mail for the feature packages: render a template pair, queue it, send it.

``send_email`` is the one door every feature uses. The message goes into the outbox (so it is
retried, logged and visible) and is sent at once; if the server is down, the dispatcher retries
it later. Call it after the request's commit (indico's rule): a rolled-back change never leaves
an email behind.
"""

from email.utils import formataddr, parseaddr
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app, render_template

from app.extensions import db
from app.mailing.dispatch import dispatch
from app.mailing.email_layout import studio_has_own_server
from app.mailing.models import MailKind, StudioMailSettings
from app.mailing.outbox import queue_message
from app.timeutil import now as clock_now


def studio_sender(studio_id, display_name=None):
    """The From address of a studio's mail: its own sender when configured, else the
    platform's shown with the studio's name."""
    from app.mailing.studio_settings import sender_for, settings_of

    fallback = platform_sender(display_name)
    return sender_for(settings_of(studio_id), fallback) if studio_id is not None else fallback


def studio_senders(studios):
    """{studio id: From address} for many studios, in one query (the tick's batch)."""
    from app.mailing.studio_settings import sender_for

    ids = [studio.id for studio in studios]
    own = {row.studio_id: row for row in db.session.scalars(
        sa.select(StudioMailSettings).where(StudioMailSettings.studio_id.in_(ids)))} if ids else {}
    return {studio.id: sender_for(own.get(studio.id), platform_sender(studio.name))
            for studio in studios}


def platform_sender(display_name=None):
    """The platform's From address, shown with the studio's name when one is given."""
    return _sender(current_app.config["MAIL_DEFAULT_SENDER"], display_name)


@lru_cache(maxsize=1024)
def _sender(default_sender, display_name):
    name, address = parseaddr(default_sender)
    return formataddr((display_name or name, address))


def render_email(template, **context):
    """The HTML and text of ``templates/email/<template>.html`` and ``.txt``."""
    return (render_template(f"email/{template}.html", **context),
            render_template(f"email/{template}.txt", **context))


def send_email(*, to, subject, template, studio_id=None, sender_name=None, reply_to=None,
               kind=MailKind.TRANSACTIONAL, gallery_id=None, source=None, sensitive=False,
               **context):
    """Render, queue and send one message now; returns its outbox row.

    ``studio_id`` tags the message (header X-Proofsheet-Studio) so a studio's mailbox and
    activity pages show only its own mail. A ``sensitive`` message carries a secret (a reset
    link, a sign-in link or code, an invitation): it goes from the platform's address through the
    platform's server, is left out of the studio's mailbox, and the activity pages show that it
    was sent, never its body.
    """
    context.setdefault("subject", subject)
    context.setdefault("sent_through_studio_server", not sensitive and studio_has_own_server(studio_id))
    html, text = render_email(template, **context)
    now = clock_now()
    tagged = studio_id is not None and not sensitive
    headers = {"X-Proofsheet-Studio": str(studio_id)} if tagged else {}
    sender = platform_sender(sender_name) if sensitive else studio_sender(studio_id, sender_name)
    row = queue_message(kind=kind, studio_id=studio_id, sender=sender, recipient=to,
                        subject=subject, html=html, text=text, now=now, reply_to=reply_to,
                        headers=headers, gallery_id=gallery_id, source=source,
                        is_sensitive=sensitive)
    db.session.commit()
    dispatch(now, worker="request", ids=[row.id])
    return row
