"""Studio email settings: sender identity, the studio's SMTP server, and testing it."""

import smtplib
import socket
import ssl

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.mailing.addresses import HostNotAllowed, HostPolicy
from app.mailing.crypto import decrypt, encrypt
from app.mailing.deliverability import ehlo_name
from app.mailing.models import MailState, OutboxMessage, StudioMailSettings, StudioMailState
from app.mailing.transport import SendFailure, SmtpConnection, SmtpSettings


def settings_of(studio_id):
    return db.session.get(StudioMailSettings, studio_id)


def smtp_settings(row):
    """The SmtpSettings of a studio's own server, or None when it has none."""
    if row is None or not row.smtp_host:
        return None
    return SmtpSettings(
        host=row.smtp_host,
        port=row.smtp_port,
        security=row.security,
        username=row.username or None,
        password=decrypt(row.password_encrypted) if row.password_encrypted else None,
        allow_self_signed=row.allow_self_signed,
        timeout=float(current_app.config["MAIL_TIMEOUT"]),
        policy=host_policy(),
        ehlo_name=ehlo_name(current_app.config),
    )


def host_policy():
    """Where studios' own servers may be, from the platform's config (addresses.py)."""
    return HostPolicy.from_config(current_app.config)


def refused_host_error(host, port):
    """Why ``host`` may not be a studio's server, or None. A name that does not resolve is not
    refused here: "Test connection" explains it, and DNS may come back."""
    try:
        host_policy().check(host, port)
    except HostNotAllowed as refusal:
        return host_refusal(refusal)
    except OSError:
        return None
    return None


def host_refusal(refusal):
    """``HostNotAllowed`` in the page's language."""
    return _(
        "%(host)s is on a private or local network: Proofsheet connects only to mail servers "
        "on the public internet. Use your email provider's public SMTP server.",
        host=refusal.host,
    )


def cc_list(text):
    return [address.strip() for address in (text or "").split(";") if address.strip()]


def save_settings(studio_id, values, now):
    """Create or update the studio's settings; a blank password keeps the stored one."""
    row = settings_of(studio_id) or StudioMailSettings(studio_id=studio_id)
    password = values.pop("password", None)
    for name, value in values.items():
        setattr(row, name, value)
    if values.get("username") in (None, ""):
        row.username, row.password_encrypted = None, None
    elif password:
        row.password_encrypted = encrypt(password)
    row.updated_at = now
    db.session.add(row)
    db.session.flush()
    retry_waiting_mail(studio_id, now)
    return row


def retry_waiting_mail(studio_id, now):
    """New settings are the fix the waiting mail was waiting for: send it at the next dispatch
    instead of after its backoff, and lift a pause the old server caused."""
    from app.mailing.dispatch import resume_studio

    db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.studio_id == studio_id,
            OutboxMessage.state == MailState.QUEUED,
            OutboxMessage.last_error.is_not(None),
            OutboxMessage.due_at > now,
        )
        .values(due_at=now)
        .execution_options(synchronize_session=False)
    )
    if db.session.get(StudioMailState, studio_id) is not None:
        resume_studio(studio_id)


def _timed_out(error):
    """smtplib reports a read that timed out as "connection unexpectedly closed": look at what
    it was handling."""
    while error is not None:
        if isinstance(error, (TimeoutError, socket.timeout)):
            return True
        error = error.__cause__ or error.__context__
    return False


def explain(failure):
    """What went wrong with an SMTP server, in plain words of ours: never the server's own text
    (its banner or replies), or "Test connection" would read any service's banner for whoever
    types its address."""
    cause = failure.__cause__
    if isinstance(cause, HostNotAllowed):
        return host_refusal(cause)
    hint = _("Check the server name, port and security in your settings.")
    if isinstance(cause, socket.gaierror):
        return _("The server name was not found (DNS).") + " " + hint
    if isinstance(cause, ConnectionRefusedError):
        return _("The server refused the connection on this port.") + " " + hint
    if _timed_out(cause):
        return _("The server did not answer in time.") + " " + hint
    if isinstance(cause, ssl.SSLCertVerificationError):
        return _(
            "The server's TLS certificate is not trusted (self-signed or for another name). "
            "Ask your provider, or allow self-signed certificates if you trust this server."
        )
    if isinstance(cause, ssl.SSLError):
        return _("The secure (TLS) connection failed.") + " " + hint
    if isinstance(cause, smtplib.SMTPNotSupportedError):
        return _("The server does not offer STARTTLS: choose another security mode or port.")
    if isinstance(cause, smtplib.SMTPAuthenticationError) or failure.code in (534, 535):
        return _("The server refused the username or password.")
    if isinstance(cause, smtplib.SMTPServerDisconnected):
        return _(
            "The server closed the connection. It may expect TLS from the start "
            "(SSL/TLS, port 465) or STARTTLS (port 587)."
        )
    if isinstance(cause, OSError) and not isinstance(cause, smtplib.SMTPException):
        return _("Could not connect to the server.") + " " + hint
    return (
        _(
            "The server did not accept the connection setup. It may not be an SMTP server, or "
            "expect another security mode."
        )
        + " "
        + hint
    )


def check_connection(settings):
    """Connect, negotiate TLS, authenticate. Returns (True, message) or (False, explanation)."""
    try:
        with SmtpConnection(settings):
            pass
    except SendFailure as failure:
        return False, explain(failure)
    server = f"{settings.host}:{settings.port}"
    secure, logged_in = settings.security != "none", bool(settings.username)
    if secure and logged_in:
        return True, _("Connected to %(server)s with TLS and logged in.", server=server)
    if secure:
        return True, _("Connected to %(server)s with TLS.", server=server)
    if logged_in:
        return True, _("Connected to %(server)s and logged in.", server=server)
    return True, _("Connected to %(server)s.", server=server)
