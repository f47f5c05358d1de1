"""Rate limits on the forms that send mail or check a secret, per address and per network
address, with one friendly page when reached (``accounts.routes.too_many_requests``).

Each limit's value is a setting, so an operator can loosen it (a school whose parents all come
through one network address) without touching code. Limits shared by several routes count
together: registering on a gallery, on a QR card and asking for a new link all send the same
kind of message to an address.
"""

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from app.extensions import limiter

_TOO_MANY = _l("Too many attempts. Please wait a little and try again.")


def _address_key(field):
    def key():
        typed = (request.form.get(field) or "").strip().lower()
        return f"address:{typed}"

    return key


def _setting(name):
    return lambda: current_app.config[name]


def per_ip(setting, scope):
    """At most ``config[setting]`` POSTs from one network address, counted over ``scope``."""
    return limiter.shared_limit(
        _setting(setting), scope=scope, key_func=get_remote_address, methods=["POST"], error_message=_TOO_MANY
    )


def per_address(setting, scope, field="email"):
    """At most ``config[setting]`` POSTs naming one email address in ``field``."""
    return limiter.shared_limit(
        _setting(setting),
        scope=f"{scope}-address",
        key_func=_address_key(field),
        methods=["POST"],
        error_message=_TOO_MANY,
        exempt_when=lambda: not (request.form.get(field) or "").strip(),
    )
