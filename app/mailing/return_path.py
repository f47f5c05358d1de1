"""The platform's inbound addresses on its bounce domain, each naming one outbox message.

``bounce+<id>-<signature>@<bounce domain>`` is a message's envelope sender (VERP: a bounce
comes back to an address that says which message, hence which recipient and studio, failed);
``unsubscribe+<id>-<signature>@<bounce domain>`` is the mailto of its List-Unsubscribe. The
signature (an HMAC of the purpose and the id, keyed from SECRET_KEY) means nobody can
suppress an address, or unsubscribe someone, by writing to a guessed address.

The signature is lower-case hex, not base64: local parts pass through MTAs that may fold case.
Both addresses exist only while the inbound receiver (inbound.py) is configured: an address
nobody reads would turn bounces and unsubscribe mails into lost mail.
"""

import hmac
import re
from functools import lru_cache
from hashlib import sha256

from flask import current_app

from app.signing import signing_keys

BOUNCE, UNSUBSCRIBE = "bounce", "unsubscribe"
_SIGNATURE_LENGTH = 20  # 80 bits: far beyond guessing over SMTP
_LOCAL_PART = re.compile(r"(bounce|unsubscribe)\+(\d{1,18})-([0-9a-f]{20})", re.IGNORECASE)


def receiver_domain(config=None):
    """The bounce domain when the inbound receiver is configured (MAIL_BOUNCE_DOMAIN and
    MAIL_INBOUND_PORT), else None: then no message names an address there."""
    config = config or current_app.config
    domain = (config.get("MAIL_BOUNCE_DOMAIN") or "").strip().lower()
    return domain if domain and config.get("MAIL_INBOUND_PORT") else None


@lru_cache(maxsize=16)
def _prepared(secret_key):
    key = hmac.new(str(secret_key).encode("utf-8"), b"proofsheet-return-path", sha256).digest()
    return hmac.new(key, digestmod="sha256")


def _signature(secret_key, purpose, message_id):
    mac = _prepared(secret_key).copy()  # the key's state prepared once: one copy per message
    mac.update(f"{purpose}:{message_id}".encode("ascii"))
    return mac.hexdigest()[:_SIGNATURE_LENGTH]


def address_for(purpose, message_id, domain, secret_key=None):
    """``<purpose>+<id>-<signature>@<domain>`` for one outbox message."""
    secret_key = secret_key or current_app.config["SECRET_KEY"]
    return f"{purpose}+{message_id}-{_signature(secret_key, purpose, message_id)}@{domain}"


def _verification_keys():
    return reversed(signing_keys())  # SECRET_KEY first, then its fallbacks


def read_address(address, domain=None):
    """(purpose, outbox message id) for one of our addresses with a valid signature (made with
    SECRET_KEY or one of SECRET_KEY_FALLBACKS), else None."""
    domain = domain or receiver_domain()
    local, _at, address_domain = address.strip().strip("<>").rpartition("@")
    if not domain or address_domain.lower() != domain:
        return None
    match = _LOCAL_PART.fullmatch(local)
    if match is None:
        return None
    purpose, message_id, signature = match.group(1).lower(), int(match.group(2)), match.group(3)
    for key in _verification_keys():
        if hmac.compare_digest(_signature(key, purpose, message_id), signature.lower()):
            return purpose, message_id
    return None


def find_addresses(text, domain=None):
    """Every valid (purpose, id) named by one of our addresses in ``text`` (the headers of a
    message quoted in a complaint: its Return-Path, its List-Unsubscribe)."""
    domain = domain or receiver_domain()
    if not domain:
        return []
    pattern = _LOCAL_PART.pattern + "@" + re.escape(domain)
    found = (read_address(match.group(0), domain) for match in re.finditer(pattern, text, re.IGNORECASE))
    return list(dict.fromkeys(item for item in found if item is not None))
