"""A scriptable SMTP server for dispatcher tests: it can refuse recipients, stall, or be down."""

import asyncio
import threading

from aiosmtpd.controller import Controller


class ScriptedHandler:
    """Accepts everything unless told otherwise.

    ``rcpt_replies``: {address: "451 4.7.1 Try later"}; an entry is used ``times`` times then
    removed when given as (reply, times). ``data_replies``: {address: reply} given to the final
    dot of a message to that address (after DATA); ``mail_replies``: {sender: reply} to MAIL
    FROM. ``stall_after_data``: seconds to wait before answering the final dot (makes the
    client time out after it sent the message).
    """

    def __init__(self):
        self.received = []
        self.rcpt_replies = {}
        self.data_replies = {}
        self.mail_replies = {}
        self.stall_after_data = 0
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        scripted = self.mail_replies.get(address)
        if scripted:
            return scripted
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            scripted = self.rcpt_replies.get(address)
            if isinstance(scripted, tuple):
                reply, times = scripted
                if times <= 1:
                    self.rcpt_replies.pop(address)
                else:
                    self.rcpt_replies[address] = (reply, times - 1)
                scripted = reply
        if scripted:
            return scripted
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.stall_after_data:
            await asyncio.sleep(self.stall_after_data)
        refusals = [self.data_replies[rcpt] for rcpt in envelope.rcpt_tos if rcpt in self.data_replies]
        if refusals:
            return refusals[0]
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Queued"


def start_scripted_server(port, **smtp_options):
    """``smtp_options`` go to aiosmtpd's SMTP (e.g. ``enable_SMTPUTF8=True``)."""
    handler = ScriptedHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    controller.handler_ref = handler
    return controller
