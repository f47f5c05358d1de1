"""Transactional mail for the feature packages: render a template pair and send it.

``send_email`` is the one door every feature uses for now; the campaign engine's outbox will sit
behind it later without the callers changing. Send after the request's commit (indico's rule), so
a rolled-back change never leaves an email behind.
"""

from email.utils import formataddr, parseaddr

from flask import current_app, render_template

from app.mailing.transport import build_message, send_message


def platform_sender(display_name=None):
    """The platform's From address, shown with the studio's name when one is given."""
    name, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return formataddr((display_name or name, address))


def send_email(*, to, subject, template, studio_id=None, sender_name=None, reply_to=None,
               **context):
    """Render ``templates/email/<template>.html`` and ``.txt`` with ``context`` and send them.

    ``studio_id`` tags the message (header X-Proofsheet-Studio) so a studio's mailbox shows
    only its own mail. Returns the message that was sent.
    """
    context.setdefault("subject", subject)
    html = render_template(f"email/{template}.html", **context)
    text = render_template(f"email/{template}.txt", **context)
    headers = {"X-Proofsheet-Studio": str(studio_id)} if studio_id is not None else {}
    message = build_message(to=to, subject=subject, html=html, text=text,
                            sender=platform_sender(sender_name), reply_to=reply_to,
                            headers=headers)
    send_message(message)
    return message
