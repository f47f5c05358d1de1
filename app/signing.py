"""Signed tokens for links (sign-in, unsubscribe, downloads...), made fast enough for the tick.

itsdangerous does the signing; it derives its key from the secret on every call, which the
campaign tick would do twice per message. These serializers are built once per (secret, salt)
and keep the derived key.

Keys rotate with SECRET_KEY_FALLBACKS (Flask 3.1's setting for sessions, read here for our
tokens too): ``signing_keys()`` is the fallbacks then SECRET_KEY, and itsdangerous signs with
the last key only and verifies with each, so links sent before a rotation keep working while
new ones carry the new key.

The tick's two links per message (sign-in and unsubscribe) use ``signer``/``timestamp_signer``
on a short text value instead of a serializer: a serializer's JSON, zlib and base64 layers cost
more than the signature itself, and the HMAC is computed by OpenSSL in one call.
"""

import base64
import hashlib
import hmac
from functools import cached_property, lru_cache

from flask import current_app
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from itsdangerous.encoding import int_to_bytes
from itsdangerous.signer import HMACAlgorithm, Signer
from itsdangerous.timed import TimestampSigner


class _PreparedHMAC(HMACAlgorithm):
    """The same signature as itsdangerous's HMAC, from an HMAC state prepared once per key and
    copied per token: looking the algorithm up for a new HMAC costs more than hashing a short
    token."""

    def __init__(self, digest_method=None):
        super().__init__(digest_method)
        self._prepared = {}

    def get_signature(self, key, value):
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepared[key] = _c_hmac(key, self.digest_method)
        mac = prepared.copy()
        mac.update(value)
        return mac.digest()


def _c_hmac(key, digest_method):
    """An HMAC prepared for ``key``, through the standard library's public ``hmac.new`` (given a
    digest's name it runs on OpenSSL). Reaching for CPython's private ``_hmac`` object saved
    about 0.8 us a token: not worth depending on an internal that may go."""
    return hmac.new(key, digestmod=digest_method().name)


def signing_keys(config=None):
    """(SECRET_KEY_FALLBACKS..., SECRET_KEY), the order Flask gives its session signer: pass it
    as the secret key of a signer or serializer (a tuple, so the cached ones below take it)."""
    config = config if config is not None else current_app.config
    fallbacks = config.get("SECRET_KEY_FALLBACKS") or ()
    if isinstance(fallbacks, str):  # PROOFSHEET_SECRET_KEY_FALLBACKS="old1,old2"
        fallbacks = [key.strip() for key in fallbacks.split(",") if key.strip()]
    return (*fallbacks, config["SECRET_KEY"])


class _KeyCachingSigner(Signer):
    @cached_property
    def _derived_key(self):
        return super().derive_key()  # the newest key: the only one ever signed with

    def derive_key(self, secret_key=None):
        if secret_key is None:
            return self._derived_key
        derived = self.__dict__.setdefault("_derived_keys", {})  # verifying tries each key
        if secret_key not in derived:
            derived[secret_key] = super().derive_key(secret_key)
        return derived[secret_key]


class _KeyCachingTimestampSigner(TimestampSigner, _KeyCachingSigner):
    pass


class _OneStepSigner(_KeyCachingSigner):
    """``Signer.sign`` in one step: the same bytes (``value.signature``) without
    itsdangerous's per-call conversions, for the tick's two links per message. Verifying is
    itsdangerous's own ``unsign``."""

    @cached_property
    def _separator(self):
        return self.sep.encode("ascii") if isinstance(self.sep, str) else self.sep

    def _signature(self, value):
        mac = self.algorithm.get_signature(self._derived_key, value)
        return base64.urlsafe_b64encode(mac).rstrip(b"=")

    def sign(self, value):
        value = value.encode("utf-8") if isinstance(value, str) else value
        return value + self._separator + self._signature(value)


class _OneStepTimestampSigner(TimestampSigner, _OneStepSigner):
    _stamp = (None, b"")  # (a time in seconds, its encoding): thousands of tokens share one

    def sign(self, value):
        value = value.encode("utf-8") if isinstance(value, str) else value
        seconds = self.get_timestamp()
        stamp = self._stamp
        if stamp[0] != seconds:
            stamp = self._stamp = (seconds, base64.urlsafe_b64encode(int_to_bytes(seconds)).rstrip(b"="))
        return _OneStepSigner.sign(self, value + self._separator + stamp[1])


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
    return _OneStepSigner(secret_key, salt=salt, algorithm=_PreparedHMAC())


@lru_cache(maxsize=64)
def timestamp_signer(secret_key, salt):
    """Signs a short text value with its time (``value.time.signature``), for links that
    expire."""
    return _OneStepTimestampSigner(secret_key, salt=salt, algorithm=_PreparedHMAC())


def token_digest(token):
    """What we store of a random one-time token (a sign-up or sign-in link): its SHA-256, so a
    copy of the database opens nothing. A random token needs no key."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()
