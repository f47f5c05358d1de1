"""Why a message was not sent: stored in English by the dispatchers, shown in the reader's
language, with a server's own reply kept as it came."""

import pytest
from flask_babel import force_locale

from app.reasons import (
    EXPIRED,
    ORDERED_MEANWHILE,
    SERVER_REFUSED_STUDIO,
    SMS_MAYBE_SENT,
    SMS_OPTED_OUT,
    UNSUBSCRIBED_OR_BOUNCED,
    shown_reason,
)

pytestmark = pytest.mark.no_database


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (UNSUBSCRIBED_OR_BOUNCED, "Not sent: the address unsubscribed or bounced."),
        (EXPIRED, "Not sent: it expired before it could be sent."),
        (ORDERED_MEANWHILE, "Not sent: the client ordered meanwhile."),
        (SMS_OPTED_OUT, "Not sent: the number replied STOP."),
        (
            SERVER_REFUSED_STUDIO + "535 5.7.8 Authentication failed",
            "The mail server refused to send for this studio: 535 5.7.8 Authentication failed",
        ),
        ("soft bounce 2: 4.2.2 smtp; 452 Mailbox full", "Soft bounce 2: 4.2.2 smtp; 452 Mailbox full"),
        ("bounced: 5.1.1 smtp; 550 No such user", "Bounced: 5.1.1 smtp; 550 No such user"),
        (
            "complained: abuse report from the recipient's mailbox provider",
            "The recipient's mailbox provider sent a complaint (abuse report).",
        ),
        (
            SMS_MAYBE_SENT + "46elks did not answer: timed out",
            "The provider did not answer after receiving the text; it may have been sent. "
            "Check before sending it again. (46elks did not answer: timed out)",
        ),
        ("550 5.7.1 Relaying denied", "550 5.7.1 Relaying denied"),  # a server's reply alone
        (None, ""),
    ],
)
def test_stored_reasons_are_shown_in_words(app, stored, shown):
    with app.test_request_context():
        assert shown_reason(stored) == shown


@pytest.mark.parametrize("language", ["sv", "fr", "de", "ru"])
def test_a_reason_is_shown_in_the_readers_language_and_the_server_reply_as_it_came(app, language):
    with app.test_request_context(), force_locale(language):
        assert shown_reason(SMS_OPTED_OUT) != SMS_OPTED_OUT
        refused = shown_reason(SERVER_REFUSED_STUDIO + "535 5.7.8 Authentication failed")
        assert refused.endswith("535 5.7.8 Authentication failed")
        assert not refused.startswith(SERVER_REFUSED_STUDIO)
