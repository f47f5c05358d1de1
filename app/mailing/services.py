"""Transactional mail for the feature packages: render a template pair, queue it, send it.

``send_email`` is the one door every feature uses. The message goes into the outbox (so it is
retried, logged and visible) in the request's transaction; the route commits, then ``send_now``
sends it at once (indico's rule: a rolled-back change never leaves an email behind). If the
server is down, the dispatcher retries it later::

    message = send_email(to=..., subject=..., template=..., now=now)
    db.session.commit()
    send_now([message], now)
"""

from flask import render_template

from app.mailing.dispatch import dispatch
from app.mailing.email_layout import studio_has_own_server
from app.mailing.identity import platform_sender, studio_identity
from app.mailing.models import MailKind
from app.mailing.outbox import queue_message


def studio_sender(studio_id):
    """The From address of a studio's mail (see identity.py)."""
    return studio_identity(studio_id).sender


def render_email(template, **context):
    """The HTML and text of ``templates/email/<template>.html`` and ``.txt``."""
    return (
        render_template(f"email/{template}.html", **context),
        render_template(f"email/{template}.txt", **context),
    )


def send_email(
    *,
    to,
    subject,
    template,
    now,
    studio_id=None,
    sender_name=None,
    reply_to=None,
    kind=MailKind.TRANSACTIONAL,
    gallery_id=None,
    source=None,
    sensitive=False,
    **context,
):
    """Render and queue one message due at ``now``; returns its outbox row (flushed, not
    committed: the caller commits, then ``send_now``).

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
    tagged = studio_id is not None and not sensitive
    headers = {"X-Proofsheet-Studio": str(studio_id)} if tagged else {}
    if studio_id is None:
        sender = platform_sender(sender_name)
    else:
        identity = studio_identity(studio_id, platform_only=sensitive)
        sender, reply_to = identity.sender, reply_to or identity.reply_to
    row = queue_message(
        kind=kind,
        studio_id=studio_id,
        sender=sender,
        recipient=to,
        subject=subject,
        html=html,
        text=text,
        now=now,
        reply_to=reply_to,
        headers=headers,
        gallery_id=gallery_id,
        source=source,
        is_sensitive=sensitive,
    )
    return row


def send_now(messages, now):
    """Send ``messages`` (rows from ``send_email``) at once, after the caller's commit; those
    the server refuses for now stay queued for the dispatcher. Returns the ``DispatchResult``,
    or None when there is nothing to send."""
    ids = [message.id for message in messages]
    return dispatch(now, worker="request", ids=ids) if ids else None
