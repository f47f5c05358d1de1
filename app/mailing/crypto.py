"""Secrets at rest (a studio's SMTP password, Stripe keys, DKIM private keys): Fernet with a key
derived from SECRET_KEY.

Tokens made under an old key (in SECRET_KEY_FALLBACKS) still decrypt after a rotation
(``MultiFernet``): a lost DKIM key would mean new DNS records for every studio.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def _fernet_for(secret_key):
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"proofsheet-smtp-password", info=b"studio smtp password"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _fernet():
    """The current key first (it encrypts), then the old ones (they only decrypt)."""
    config = current_app.config
    keys = [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or ())]
    return MultiFernet([_fernet_for(key) for key in keys])


def encrypt(secret):
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token):
    """The secret, or None when no configured key made it (the studio must type it again)."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None
