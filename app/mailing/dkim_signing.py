"""DKIM signatures (dkimpy) on the messages we send.

A message is signed with its studio's key when its From address is on the studio's verified
sender domain, else with the platform's key (MAIL_DKIM_DOMAIN, MAIL_DKIM_SELECTOR and
MAIL_DKIM_PRIVATE_KEY_FILE, all three or none) when From is on the platform's domain. The
signature covers the headers receivers show or act on, the unsubscribe headers included
(RFC 8058 asks for List-Unsubscribe and List-Unsubscribe-Post to be signed).
"""

from dataclasses import dataclass
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path

import dkim

from app.mailing import sender_domains

SIGNED_HEADERS = tuple(
    name.encode("ascii")
    for name in (
        "from",
        "to",
        "cc",
        "reply-to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "feedback-id",
        "auto-submitted",
    )
)


@dataclass(frozen=True)
class Signer:
    domain: str
    selector: str
    private_key: bytes  # PEM

    def sign(self, message):
        """``message`` with a DKIM-Signature header in front."""
        signature = dkim.sign(
            message,
            self.selector.encode("ascii"),
            self.domain.encode("ascii"),
            self.private_key,
            include_headers=list(SIGNED_HEADERS),
        )
        return signature + message


@lru_cache(maxsize=8)
def _read_key_file(path):
    return Path(path).read_bytes()


def platform_signer(config):
    """The platform's Signer, or None when no platform key is configured."""
    domain, selector = config.get("MAIL_DKIM_DOMAIN"), config.get("MAIL_DKIM_SELECTOR")
    key_file = config.get("MAIL_DKIM_PRIVATE_KEY_FILE")
    if not (domain and selector and key_file):
        return None
    return Signer(domain.lower(), selector, _read_key_file(key_file))


def studio_signers(studio_ids):
    """{studio id: Signer} of the studios with a verified domain whose key decrypts."""
    signers = {}
    for studio_id, row in sender_domains.verified_domains(studio_ids).items():
        key = sender_domains.private_key(row)
        if key:
            signers[studio_id] = Signer(row.domain, row.dkim_selector, key.encode("ascii"))
    return signers


def signer_for(sender, studio_id, signers, platform):
    """The Signer for a message from ``sender`` (a From header) of ``studio_id``, or None."""
    address = parseaddr(sender)[1]
    own = signers.get(studio_id)
    if own is not None and sender_domains.is_aligned(address, own.domain):
        return own
    if platform is not None and sender_domains.is_aligned(address, platform.domain):
        return platform
    return None
