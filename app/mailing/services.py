"""Transactional mail for the feature packages: render a template pair, queue it, send it.

``send_email`` is the one door every feature uses. The message goes into the outbox (so it is
retried, logged and visible) and is sent at once; if the server is down, the dispatcher retries
it later. Call it after the request's commit (indico's rule): a rolled-back change never leaves
an email behind.
"""

from flask import render_template

from app.extensions import db
from app.mailing.dispatch import dispatch
from app.mailing.email_layout import studio_has_own_server
from app.mailing.identity import platform_sender, studio_identity
from app.mailing.models import MailKind
from app.mailing.outbox import queue_message
from app.timeutil import now as clock_now


def studio_sender(studio_id):
    """The From address of a studio's mail (see identity.py)."""
    return studio_identity(studio_id).sender


def render_email(template, **context):
    """The HTML and text of ``templates/email/<template>.html`` and ``.txt``."""
    return (render_template(f"email/{template}.html", **context),
            render_template(f"email/{template}.txt", **context))


def send_email(*, to, subject, template, studio_id=None, sender_name=None, reply_to=None,
               kind=MailKind.TRANSACTIONAL, gallery_id=None, source=None, sensitive=False,
               **context):
    """Render, queue and send one message now; returns its outbox row.

    A studio's message is from the studio's identity (identity.py: its own address where that
    passes DMARC, else "Studio via Proofsheet"), replies to its "Replies go to" unless
    ``reply_to`` is given; ``sender_name`` names the platform's sender for mail of no studio.

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
    if studio_id is None:
        sender = platform_sender(sender_name)
    else:
        identity = studio_identity(studio_id, platform_only=sensitive)
        sender, reply_to = identity.sender, reply_to or identity.reply_to
    row = queue_message(kind=kind, studio_id=studio_id, sender=sender, recipient=to,
                        subject=subject, html=html, text=text, now=now, reply_to=reply_to,
                        headers=headers, gallery_id=gallery_id, source=source,
                        is_sensitive=sensitive)
    db.session.commit()
    dispatch(now, worker="request", ids=[row.id])
    return row
