"""Building a message's bytes and talking SMTP.

We build MIME with ``email.policy.SMTP``: importing Flask-Mail 0.10 re-registers Python's utf-8
charset so that ``MIMEText`` parts go out as unwrapped 8bit, and CSS-inlined HTML would then carry
lines far over the 998-character limit of RFC 5322. ``EmailMessage.set_content`` under
``policy.SMTP`` picks quoted-printable and ends every line in CRLF, whatever was imported.

Flask-Mail holds the platform server's settings (MAIL_SERVER, MAIL_PORT, ...). The conversation
itself is ours (``SmtpConnection``): the dispatcher must know whether a failure came before the
message's final dot (safe to retry) or after it (the server may have accepted it: RFC 1047).
"""

import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from flask import current_app
from flask_mail import Mail

from app.mailing.addresses import HostNotAllowed, HostPolicy
from app.mailing.deliverability import ehlo_name
from app.mailing.wire import has_line_break

mail = Mail()


# An address smtplib would quote as it is: skip its parser (a dispatcher quotes two per message).
_PLAIN_ADDRESS = re.compile(r"[^\s<>()\",;:\\\[\]@]+@[^\s<>()\",;:\\\[\]@]+")


def quote_address(address):
    """``smtplib.quoteaddr``, without parsing a plain ``local@domain``."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


class HeaderInjectionError(ValueError):
    """A header value carried a line break."""


def _header(value):
    value = str(value)
    if has_line_break(value):
        raise HeaderInjectionError(f"line break in header value {value!r}")
    return value


def build_message(
    *,
    to,
    subject,
    html,
    text,
    sender=None,
    reply_to=None,
    headers=None,
    sent_at=None,
    message_id=None,
    cc=None,
):
    """Assemble a multipart/alternative message and return it as an ``EmailMessage``."""
    message = EmailMessage(policy=SMTP)
    message["From"] = _header(sender or current_app.config["MAIL_DEFAULT_SENDER"])
    message["To"] = _header(to if isinstance(to, str) else formataddr(to))
    if cc:
        message["Cc"] = _header(cc)
    message["Subject"] = _header(subject)
    if reply_to:
        message["Reply-To"] = _header(reply_to)
    message["Date"] = format_datetime(sent_at) if sent_at else format_datetime(None, usegmt=True)
    message["Message-ID"] = _header(message_id or make_msgid(domain="proofsheet.local"))
    message["MIME-Version"] = "1.0"
    for name, value in (headers or {}).items():
        message[_header(name)] = _header(value)
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to connect: the platform's server, or later a studio's own."""

    host: str
    port: int
    security: str = "none"  # none / starttls / ssl
    username: str | None = None
    password: str | None = None
    allow_self_signed: bool = False
    timeout: float = 30
    # A studio's server: its addresses are checked before connecting (see addresses.py). None
    # for the platform's own server, which the operator configured.
    policy: HostPolicy | None = None
    # The name we give in EHLO (MAIL_EHLO_NAME, else BASE_URL's host); None: the machine's FQDN,
    # which on a container is a random id that spam filters hold against us.
    ehlo_name: str | None = None

    @classmethod
    def from_config(cls, config):
        security = "ssl" if config["MAIL_USE_SSL"] else "starttls" if config["MAIL_USE_TLS"] else "none"
        return cls(
            host=config["MAIL_SERVER"],
            port=int(config["MAIL_PORT"]),
            security=security,
            username=config.get("MAIL_USERNAME"),
            password=config.get("MAIL_PASSWORD"),
            timeout=float(config.get("MAIL_TIMEOUT", 30)),
            ehlo_name=ehlo_name(config),
        )


class SendFailure(Exception):
    """A message was not accepted. ``phase`` says how far it got ("connect", "tls", "auth",
    "mail", "rcpt", "data", "reply"...); ``code`` is the SMTP reply. ``recipient``: the address
    a RCPT refusal was about (a message may have Cc recipients). ``permanent``: this message can
    never go through this server, whatever the reply code says (none was sent)."""

    def __init__(self, phase, code=None, reply="", after_final_dot=False, recipient=None, permanent=False):
        super().__init__(f"{code or ''} {reply}".strip() or phase)
        self.phase, self.code, self.reply = phase, code, reply
        self.after_final_dot, self.recipient, self.permanent = after_final_dot, recipient, permanent

    @property
    def enhanced_status(self):
        """The RFC 3463 enhanced status code (e.g. "5.1.1") at the start of the reply, if any."""
        match = re.match(r"\s*([245]\.\d{1,3}\.\d{1,3})", self.reply or "")
        return match.group(1) if match else None


INTERNATIONAL_ADDRESS_REFUSED = (
    "The mail server cannot deliver to internationalised addresses (it does not offer SMTPUTF8)."
)


def needs_smtputf8(sender, recipients):
    """Whether an envelope address is not ASCII (``ёлка@пример.рф``): only a server that
    offers SMTPUTF8 may be given it."""
    return not sender.isascii() or not all(recipient.isascii() for recipient in recipients)


def _tls_context(settings):
    context = ssl.create_default_context()
    if settings.allow_self_signed:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class _PinnedSMTP(smtplib.SMTP):
    """An SMTP client that connects to addresses checked beforehand instead of resolving the
    host again: the name's DNS answer may change between the check and the connect. TLS
    (STARTTLS here, implicit TLS in the subclass) still verifies the certificate against the
    host name: smtplib wraps with ``server_hostname=self._host``, set to the typed name."""

    pinned = ()

    def _get_socket(self, host, port, timeout):
        error = None
        for resolved in self.pinned:  # in the resolver's order, like socket.create_connection
            sock = socket.socket(resolved.family, socket.SOCK_STREAM)
            try:
                if timeout is not None:
                    sock.settimeout(timeout)
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect(resolved.sockaddr)
                return sock
            except OSError as failed:
                sock.close()
                error = failed
        raise error or OSError(f"no address to connect to for {host}")


class _PinnedSMTP_SSL(smtplib.SMTP_SSL, _PinnedSMTP):  # noqa: N801 (smtplib's naming)
    """Implicit TLS over a pinned connection: SMTP_SSL wraps the socket _PinnedSMTP opens."""


def _connect_pinned(settings, pinned):
    """Open an SMTP client to ``pinned`` (checked addresses of ``settings.host``)."""
    if settings.security == "ssl":
        smtp = _PinnedSMTP_SSL(timeout=settings.timeout, context=_tls_context(settings))
    else:
        smtp = _PinnedSMTP(timeout=settings.timeout)
    smtp.pinned = pinned
    # smtplib keeps the name its constructor was given for TLS (server_hostname, SNI); ours was
    # built without one so that the addresses could be set before connecting.
    smtp._host = settings.host
    # What smtplib.SMTP(host, port) does, once the addresses are set.
    code, greeting = smtp.connect(settings.host, settings.port)
    if code != 220:
        smtp.close()
        raise smtplib.SMTPConnectError(code, greeting)
    return smtp


def _connect(settings):
    """An SMTP client connected to the settings' server (greeting read)."""
    if settings.policy is not None:
        return _connect_pinned(settings, settings.policy.check(settings.host, settings.port))
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=_tls_context(settings)
        )
    return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)


def _decode(reply):
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _log_in(smtp, username, password):
    """Log in with one mechanism the server offers (PLAIN, then LOGIN, then CRAM-MD5).

    smtplib's login() tries every mechanism in turn after a refusal, and some servers then wait
    for an answer it never sends: a wrong password would hang until the timeout."""
    offered = smtp.esmtp_features.get("auth", "").upper().split()
    for mechanism in ("PLAIN", "LOGIN", "CRAM-MD5"):
        if mechanism in offered:
            smtp.user, smtp.password = username, password
            method = getattr(smtp, "auth_" + mechanism.lower().replace("-", "_"))
            return smtp.auth(mechanism, method, initial_response_ok=mechanism != "CRAM-MD5")
    return smtp.login(username, password)  # let smtplib say what is wrong


class SmtpConnection:
    """One SMTP session, reused for a batch of messages."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.smtp = None
        self._announced = None

    def open(self):
        """Connect, negotiate TLS and log in; a failure says in which phase it happened
        ("connect", "tls" or "auth")."""
        s, phase = self.settings, "connect"
        try:
            self.smtp = _connect(s)
            if s.ehlo_name:
                self.smtp.local_hostname = s.ehlo_name  # also what smtplib's own HELO would say
            self.smtp.ehlo(self.smtp.local_hostname)
            if s.security == "starttls":
                phase = "tls"
                self.smtp.starttls(context=_tls_context(s))
                self.smtp.ehlo(self.smtp.local_hostname)
            if s.username:
                phase = "auth"
                _log_in(self.smtp, s.username, s.password or "")
        except HostNotAllowed as error:
            raise SendFailure(phase, None, str(error)) from error
        except smtplib.SMTPResponseException as error:
            self.close()
            if error.smtp_code < 0:
                # Not an SMTP reply at all: some other service's banner (SSH, Redis...). It is
                # not repeated anywhere: the studio would read other servers' banners through us.
                raise SendFailure(phase, None, "The server did not answer like an SMTP server.") from error
            raise SendFailure(phase, error.smtp_code, _decode(error.smtp_error)) from error
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise SendFailure(phase, None, f"{type(error).__name__}: {error}") from error
        return self

    def close(self):
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    def announce(self, sender, recipients=()):
        """Send the next message's MAIL FROM now and read its reply in ``send``: the caller
        records the previous outcome in its database while the server answers. A message to
        or from an internationalised address is not announced: its MAIL FROM needs SMTPUTF8."""
        if self.smtp is None or needs_smtputf8(sender, recipients):
            return
        try:
            self.smtp.putcmd("mail", f"FROM:{quote_address(sender)}")
        except OSError:
            self.close()
            return
        self._announced = sender

    def send(self, sender, recipients, data: bytes, meanwhile=None):
        """Send one message's bytes (CRLF line ends). Raises ``SendFailure``.

        ``meanwhile`` is called once the message is sent, while the server takes it in and
        before its reply is read: the dispatcher builds the next message then."""
        smtp = self.smtp
        assert smtp is not None, "send() on a closed connection: open() it first"
        announced, self._announced = self._announced, None
        utf8 = needs_smtputf8(sender, recipients)
        try:
            if announced is not None and (announced != sender or utf8):
                smtp.getreply()  # announced another transaction: drop it
                smtp.rset()
                announced = None
            if utf8 and not smtp.has_extn("smtputf8"):
                raise SendFailure("mail", None, INTERNATIONAL_ADDRESS_REFUSED, permanent=True)
            if announced is not None:
                self._expect(smtp.getreply(), (250,), "mail")
            else:
                self._mail_from(sender, utf8)
            for recipient in recipients:
                self._expect(
                    smtp.docmd("rcpt", f"TO:{quote_address(recipient)}"), (250, 251), "rcpt", recipient
                )
            self._expect(smtp.docmd("data"), (354,), "data")
        except SendFailure:
            self._reset()
            raise
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise SendFailure("connection", None, f"{type(error).__name__}: {error}") from error
        self._send_body(data, meanwhile)

    def _send_body(self, data, meanwhile=None):
        """Dot-stuff, send the final dot, and read the reply: what happens after the dot is
        ambiguous when the reply never comes."""
        body = re.sub(rb"(?m)^\.", b"..", data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        try:
            self.smtp.send(body + b".\r\n")
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise SendFailure("body", None, f"{type(error).__name__}: {error}") from error
        if meanwhile is not None:
            meanwhile()
        try:
            code, reply = self.smtp.getreply()
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise SendFailure(
                "reply", None, f"{type(error).__name__}: {error}", after_final_dot=True
            ) from error
        if code != 250:
            raise SendFailure("reply", code, _decode(reply))

    def _mail_from(self, sender, utf8):
        """MAIL FROM, with SMTPUTF8 (RFC 6531) when an address is not ASCII: the commands and
        the message's headers then carry UTF-8 (smtplib's rset() switches back to ASCII)."""
        option = ""
        if utf8:
            self.smtp.command_encoding, option = "utf-8", " SMTPUTF8"
        self._expect(self.smtp.docmd("mail", f"FROM:{quote_address(sender)}{option}"), (250,), "mail")

    @staticmethod
    def _expect(answer, accepted, phase, recipient=None):
        code, reply = answer
        if code not in accepted:
            raise SendFailure(phase, code, _decode(reply), recipient=recipient)

    def _reset(self):
        try:
            self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()
