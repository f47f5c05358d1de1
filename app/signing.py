"""Signed tokens for links (sign-in, unsubscribe, downloads...), made fast enough for the tick.

itsdangerous does the signing; it derives its key from the secret on every call, which the
campaign tick would do twice per message. These serializers are built once per (secret, salt)
and keep the derived key.

The tick's two links per message (sign-in and unsubscribe) use ``signer``/``timestamp_signer``
on a short text value instead of a serializer: a serializer's JSON, zlib and base64 layers cost
more than the signature itself, and the HMAC is computed by OpenSSL in one call.
"""

import hmac
from functools import cached_property, lru_cache

from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from itsdangerous.signer import HMACAlgorithm, Signer
from itsdangerous.timed import TimestampSigner


class _OneShotHMAC(HMACAlgorithm):
    """The same signature as itsdangerous's HMAC, computed by ``hmac.digest`` (OpenSSL, one
    call) rather than through an ``hmac.HMAC`` object per token."""

    def get_signature(self, key, value):
        return hmac.digest(key, value, self.digest_method)


class _KeyCachingSigner(Signer):
    @cached_property
    def _derived_key(self):
        return super().derive_key()

    def derive_key(self, secret_key=None):
        if secret_key is not None:
            return super().derive_key(secret_key)
        return self._derived_key


class _KeyCachingTimestampSigner(TimestampSigner, _KeyCachingSigner):
    pass


class _ReusedSignerMixin:
    """itsdangerous makes a new signer (and derives its key again) for every token."""

    def make_signer(self, salt=None):
        if salt is not None and salt != self.salt:
            return super().make_signer(salt)
        if "_reused_signer" not in self.__dict__:
            self.__dict__["_reused_signer"] = super().make_signer(salt)
        return self.__dict__["_reused_signer"]


class _Serializer(_ReusedSignerMixin, URLSafeSerializer):
    pass


class _TimedSerializer(_ReusedSignerMixin, URLSafeTimedSerializer):
    pass


@lru_cache(maxsize=64)
def serializer(secret_key, salt):
    """A URL-safe serializer for tokens that do not expire (receipts, unsubscribe)."""
    return _Serializer(secret_key, salt=salt, signer=_KeyCachingSigner)


@lru_cache(maxsize=64)
def timed_serializer(secret_key, salt):
    """A URL-safe serializer whose tokens carry their time, for links that expire."""
    return _TimedSerializer(secret_key, salt=salt, signer=_KeyCachingTimestampSigner)


@lru_cache(maxsize=64)
def signer(secret_key, salt):
    """Signs a short text value (``value.signature``); tokens never expire."""
    return _KeyCachingSigner(secret_key, salt=salt, algorithm=_OneShotHMAC())


@lru_cache(maxsize=64)
def timestamp_signer(secret_key, salt):
    """Signs a short text value with its time (``value.time.signature``), for links that
    expire."""
    return _KeyCachingTimestampSigner(secret_key, salt=salt, algorithm=_OneShotHMAC())
