"""The inbound receiver: an SMTP server (aiosmtpd) for the platform's bounce domain.

Started with the scheduler (``flask scheduler run``, and ``flask serve``) when MAIL_INBOUND_PORT
is set. The bounce domain's MX (or the platform's MTA, forwarding that domain) points at it.
It takes mail only for the signed ``bounce+``/``unsubscribe+`` addresses and ``complaints@``
of MAIL_BOUNCE_DOMAIN: anything else is refused at RCPT (550), so it is never an open relay
and a forged bounce changes nothing. What arrives is handled by ``feedback.receive`` in a
worker thread (database work never blocks the SMTP event loop) and committed before we answer
250: a failure answers 451, so the sender's MTA tries again.
"""

import asyncio

from aiosmtpd.controller import Controller

from app import timeutil
from app.database import writer_transactions
from app.extensions import db
from app.mailing import feedback

MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # a bounce quotes the original: ours are far smaller


class InboundHandler:
    """aiosmtpd handler acting on bounces, complaints and unsubscribe mails."""

    def __init__(self, app):
        self.app = app

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.app.app_context():
            accepted = feedback.accepts(address)
        if not accepted:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self.process, list(envelope.rcpt_tos), raw)
        except Exception:  # noqa: BLE001 (logged; the sending MTA retries after a 451)
            self.app.logger.exception("inbound mail could not be processed")
            return "451 4.3.0 Could not process the message, try again later"
        return "250 OK"

    def process(self, recipients, raw):
        """Act on one message and commit (in a worker thread, with its own session)."""
        with self.app.app_context(), writer_transactions():
            try:
                outcomes = feedback.receive(recipients, raw, timeutil.now())
                db.session.commit()
                return outcomes
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()


def start_inbound(app):
    """Start the receiver in a background thread when MAIL_INBOUND_PORT is set; returns its
    controller (``.stop()``), or None when it is off."""
    port = int(app.config.get("MAIL_INBOUND_PORT") or 0)
    if not port:
        return None
    if not app.config.get("MAIL_BOUNCE_DOMAIN"):
        app.logger.warning(
            "MAIL_INBOUND_PORT is set without MAIL_BOUNCE_DOMAIN: the inbound "
            "receiver would accept nothing, so it is not started."
        )
        return None
    controller = Controller(
        InboundHandler(app),
        hostname=app.config["MAIL_INBOUND_HOST"],
        port=port,
        data_size_limit=MAX_MESSAGE_BYTES,
        server_hostname=app.config["MAIL_BOUNCE_DOMAIN"],
    )
    controller.start()
    return controller
