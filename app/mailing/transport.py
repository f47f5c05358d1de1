"""Build a message's bytes and hand them to an SMTP server.

This is the one small sending function the foundation needs; the outbox (campaign engine issue)
will call it. It imports no feature package: it takes addresses, subject, HTML and text.

Flask-Mail manages the server settings and connection. We build the MIME ourselves with
``email.policy.SMTP``: importing Flask-Mail 0.10 re-registers Python's utf-8 charset so that its
own ``MIMEText`` parts go out as unwrapped 8bit, and CSS-inlined HTML would then carry lines far
over the 998-character limit of RFC 5322. ``EmailMessage.set_content`` under ``policy.SMTP``
chooses quoted-printable or base64 itself and ends every line in CRLF.
"""

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from flask import current_app
from flask_mail import Mail

mail = Mail()


class HeaderInjectionError(ValueError):
    """A header value carried a line break."""


def _header(value):
    value = str(value)
    if "\r" in value or "\n" in value:
        raise HeaderInjectionError(f"line break in header value {value!r}")
    return value


def build_message(*, to, subject, html, text, sender=None, reply_to=None, headers=None,
                  sent_at=None):
    """Assemble a multipart/alternative message and return it as an ``EmailMessage``."""
    message = EmailMessage(policy=SMTP)
    message["From"] = _header(sender or current_app.config["MAIL_DEFAULT_SENDER"])
    message["To"] = _header(to if isinstance(to, str) else formataddr(to))
    message["Subject"] = _header(subject)
    if reply_to:
        message["Reply-To"] = _header(reply_to)
    message["Date"] = format_datetime(sent_at) if sent_at else format_datetime(None, usegmt=True)
    message["Message-ID"] = make_msgid(domain="proofsheet.local")
    for name, value in (headers or {}).items():
        message[_header(name)] = _header(value)
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message


def send_message(message):
    """Send one built message through the platform's configured server."""
    with mail.connect() as connection:
        if connection.host is None:  # MAIL_SUPPRESS_SEND: configured not to send
            return
        connection.host.send_message(message)
