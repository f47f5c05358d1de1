"""Why a message was not sent, as the outboxes store it and as people read it.

The dispatchers write fixed English reasons into ``last_error`` (the mail or SMS server's own
reply is appended as it came: it is the provider's words, in whatever language it speaks).
Pages show them with ``shown_reason``, in the reader's language; a reason written by an older
version, or a server's reply alone, is shown as stored.
"""

import re

from flask_babel import lazy_gettext as _l

# Stored in last_error. Changing one leaves older rows shown as stored (in English).
UNSUBSCRIBED_OR_BOUNCED = "The address unsubscribed or bounced."
EXPIRED = "Expired before it could be sent."
ORDERED_MEANWHILE = "ordered meanwhile"
SMS_OPTED_OUT = "Not sent: the number replied STOP."
SERVER_REFUSED_STUDIO = "The mail server refused to send for this studio: "
SMS_MAYBE_SENT = "The provider did not answer after receiving the text; it may have been sent. "

_FIXED = {
    UNSUBSCRIBED_OR_BOUNCED: _l("Not sent: the address unsubscribed or bounced."),
    EXPIRED: _l("Not sent: it expired before it could be sent."),
    ORDERED_MEANWHILE: _l("Not sent: the client ordered meanwhile."),
    SMS_OPTED_OUT: _l("Not sent: the number replied STOP."),
}
_PATTERNS = (
    (
        re.compile(re.escape(SERVER_REFUSED_STUDIO) + r"(?P<reply>.*)", re.S),
        _l("The mail server refused to send for this studio: %(reply)s"),
    ),
    (
        re.compile(re.escape(SMS_MAYBE_SENT) + r"(?P<reply>.*)", re.S),
        _l(
            "The provider did not answer after receiving the text; it may have been sent. "
            "Check before sending it again. (%(reply)s)"
        ),
    ),
    (re.compile(r"soft bounce (?P<n>\d+): (?P<reply>.*)", re.S), _l("Soft bounce %(n)s: %(reply)s")),
    (re.compile(r"bounced: (?P<reply>.*)", re.S), _l("Bounced: %(reply)s")),
    (
        re.compile(r"complained: (?P<kind>\S+) report from the recipient's mailbox provider", re.S),
        _l("The recipient's mailbox provider sent a complaint (%(kind)s report)."),
    ),
)


def shown_reason(stored):
    """``stored`` (an outbox row's last_error) in the page's language."""
    if not stored:
        return ""
    fixed = _FIXED.get(stored)
    if fixed is not None:
        return str(fixed)
    for pattern, wording in _PATTERNS:
        found = pattern.fullmatch(stored)
        if found:
            return str(wording) % found.groupdict()
    return stored
