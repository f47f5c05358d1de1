"""Configuration defaults.

Order of precedence (lowest first): these defaults, ``instance/config.py``, environment variables
(``PROOFSHEET_<NAME>`` and ``DATABASE_URL``), then the ``test_config`` passed to ``create_app``.
Nothing here reads the environment at import time: ``load_environment`` is called by the factory.
"""

import json
import os
from typing import Any
from urllib.parse import urlsplit

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,  # generated into instance/secret_key on first start when not configured
    # Old keys, after a rotation: sessions (Flask 3.1) and our signed links (app/signing.py) made
    # with them still verify; only SECRET_KEY signs. Comma-separated in the environment.
    "SECRET_KEY_FALLBACKS": [],
    "SQLALCHEMY_DATABASE_URI": None,  # defaults to sqlite:///<instance>/proofsheet.db
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "UPLOAD_FOLDER": None,  # defaults to <instance>/uploads
    "MAIL_SINK_FOLDER": None,  # defaults to <instance>/mail-sink
    # Request size limits (app/request_limits.py). Every route accepts MAX_CONTENT_LENGTH: forms,
    # log-ins and rich-text saves (MAX_RICH_TEXT_BYTES of HTML, about three times that once
    # URL-encoded, fits). Only the routes that receive files accept more: the photo upload (one
    # photo per request from the browser uploader, several from the form fallback) and the
    # other file forms (a CSV of labels, an image for a message, review attachments).
    # Flask's MAX_FORM_MEMORY_SIZE (500 kB per text field of a multipart form) and MAX_FORM_PARTS
    # (1,000) keep their defaults: no form of ours comes near them.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_UPLOAD_REQUEST_BYTES": 512 * 1024 * 1024,
    "MAX_FILE_REQUEST_BYTES": 64 * 1024 * 1024,
    "MAX_RICH_TEXT_BYTES": 200_000,  # the HTML of an email body, as submitted
    "MAX_PHOTO_BYTES": 50 * 1024 * 1024,
    "MAX_PHOTO_PIXELS": 100_000_000,
    # Memory one photo may take while it is processed (bench/photo_memory.py). A JPEG is decoded
    # straight at 1/2 to 1/8 scale (100 megapixels: under 100 MB); PNG and WebP are decoded
    # whole, so the largest accepted depends on the colour mode (PNG: about 53 megapixels in
    # RGB, 29 with transparency; a 100-megapixel RGBA PNG took 1.6 GB); so does a progressive
    # JPEG (about 80), whose decoder keeps every coefficient. Refused with a message saying so.
    "MAX_PHOTO_DECODE_BYTES": 256 * 1024 * 1024,
    "THUMBNAIL_SIZE": 480,
    "PREVIEW_SIZE": 1600,
    # Mail: the platform's default server. The embedded default is the local sink started by
    # `flask serve` (make run), whose messages photographers read at /admin/mail.
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": 8025,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": "Proofsheet <no-reply@proofsheet.local>",
    "MAIL_TIMEOUT": 30,
    # A studio's own SMTP server must be on the public internet (loopback, private, link-local
    # and metadata addresses are refused, so "Test connection" cannot probe our network). List
    # here the IP addresses, CIDR networks or host names studios may use anyway, e.g.
    # ["10.0.5.0/24", "mail.internal"] (comma-separated in PROOFSHEET_SMTP_ALLOW_PRIVATE_HOSTS).
    # MAIL_SERVER:MAIL_PORT is always allowed; metadata addresses never are.
    "SMTP_ALLOW_PRIVATE_HOSTS": [],
    # Per-studio send rate shared by every dispatcher process (messages per minute).
    "MAIL_STUDIO_RATE_PER_MINUTE": 1200,
    # Deliverability (README, "Deliverability"). The name given in EHLO: empty for BASE_URL's host.
    "MAIL_EHLO_NAME": "",
    # The platform's bounce domain: with the inbound receiver on, each message goes out with
    # the envelope sender bounce+<signed id>@<domain> and a List-Unsubscribe mailto there.
    "MAIL_BOUNCE_DOMAIN": "",
    # The inbound SMTP receiver of bounces, complaints and unsubscribe mails, started with the
    # scheduler (and `flask serve`) when MAIL_INBOUND_PORT is set; 0 = off.
    "MAIL_INBOUND_HOST": "127.0.0.1",
    "MAIL_INBOUND_PORT": 0,
    # The platform's own DKIM key, for mail from its address ("Studio via Proofsheet"): all
    # three or none. Studios' own domains get their keys on Settings -> Email -> Sender domain.
    "MAIL_DKIM_DOMAIN": "",
    "MAIL_DKIM_SELECTOR": "",
    "MAIL_DKIM_PRIVATE_KEY_FILE": "",
    # What studios' SPF records must include for the platform's server; empty for
    # "include:<BASE_URL's host>".
    "MAIL_SPF_INCLUDE": "",
    # DNS servers for checking studios' sender domains ("host" or "host:port", comma-separated);
    # empty for the system's.
    "DNS_NAMESERVERS": "",
    # Text messages (app/sms): "sink" (the embedded default, read on the admin's Phone page) or
    # "46elks" for the platform's own account; studios may set up their own.
    # Photos are processed by the scheduler's photo-processing job; a web process without a
    # scheduler of its own also processes its new uploads in a background thread unless this is
    # false (production with `flask scheduler run` beside gunicorn: set it to false there).
    "PHOTO_PROCESSING_IN_WEB": True,
    "SMS_PROVIDER": "sink",
    "SMS_SINK_FOLDER": None,  # defaults to <instance>/sms-sink
    "SMS_DEFAULT_SENDER": "Proofsheet",
    "SMS_46ELKS_API_URL": "https://api.46elks.com/a1/sms",
    "SMS_46ELKS_USERNAME": "",
    "SMS_46ELKS_PASSWORD": "",
    "SMS_TWILIO_API_BASE": "https://api.twilio.com",
    "SMS_TIMEOUT": 15,
    "SMS_STUDIO_RATE_PER_MINUTE": 60,
    # The platform's name in "Studio via <name>" senders and the footer of its mail.
    "PLATFORM_NAME": "Proofsheet",
    # True when the platform's mail goes to the local sink (the in-browser mailbox is shown).
    "MAIL_SINK_ENABLED": True,
    "BASE_URL": "http://127.0.0.1:5000",  # used in links inside emails and QR codes
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,  # set PROOFSHEET_SESSION_COOKIE_SECURE=true behind HTTPS
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 30,
    "WTF_CSRF_TIME_LIMIT": None,  # tokens live as long as the session
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    # Forms that email a link or a code (app/ratelimits.py). Per network address the limits are
    # loose: a school's parents may all come through one address on the school's network.
    "PASSWORD_RESET_RATE_LIMIT_PER_IP": "10 per minute;50 per hour",
    "PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS": "3 per 15 minutes;10 per day",
    "CLIENT_SIGN_IN_RATE_LIMIT_PER_IP": "30 per minute;300 per hour",
    "CLIENT_SIGN_IN_RATE_LIMIT_PER_ADDRESS": "5 per 15 minutes;20 per day",
    # Typing sign-in codes: each emailed code also dies after 5 wrong tries.
    "CLIENT_SIGN_IN_CODE_RATE_LIMIT": "20 per minute;100 per hour",
    "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "UTC",
    # The languages offered (issue 18), each named in itself; English is the source language.
    # Their catalogues are app/translations/<code>/LC_MESSAGES/messages.po, compiled to .mo by
    # make (the Makefile's messages, catalogues and compile-catalogues). A language without a
    # compiled catalogue shows English.
    "LANGUAGES": {"en": "English", "sv": "Svenska", "fr": "Français", "de": "Deutsch", "ru": "Русский"},
    "BABEL_TRANSLATION_DIRECTORIES": "translations",  # relative to app/: app/translations
    "PASSWORD_RESET_MAX_AGE": 60 * 60 * 2,
    "INVITATION_MAX_AGE": 60 * 60 * 24 * 7,
    # Sign-ups wait for the link emailed to the address (so the page never tells whether an
    # address has an account): None = whenever mail really goes out (not with the embedded sink,
    # whose mail nobody could read before having an account), True / False to force it.
    "SIGNUP_EMAIL_CONFIRMATION": None,
    "SIGNUP_LINK_MAX_AGE": 60 * 60 * 24,
    "CLIENT_LINK_MAX_AGE": 60 * 60 * 24 * 365,
    # A client's one-time sign-in link and code (sent when registering or asking for a new link).
    "CLIENT_SIGN_IN_CODE_MAX_AGE": 15 * 60,
    # The private "my orders" link; an expired one offers to email a new one.
    "MY_ORDERS_LINK_MAX_AGE": 60 * 60 * 24 * 90,
    # A workflow email whose due time is older than this is not sent by the tick: it is shown
    # to the photographer as missed, with a way to send it on purpose.
    "CAMPAIGN_CATCH_UP_HOURS": 24,
    # Card payments (app/shop/stripe_checkout.py): Stripe's API address, changed only by tests
    # (a local server playing Stripe); how long a Checkout Session stays open (Stripe allows 30
    # minutes to 24 hours): an abandoned one then cancels its order and frees its coupon use.
    "STRIPE_API_BASE": "https://api.stripe.com",
    "STRIPE_CHECKOUT_EXPIRY_MINUTES": 60,
}

_BOOLEAN_WORDS = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def parse_env_value(name, raw):
    """Turn an environment string into the type of the default it overrides."""
    default = DEFAULTS.get(name)
    if isinstance(default, bool):
        if raw.lower() not in _BOOLEAN_WORDS:
            raise ValueError(f"PROOFSHEET_{name} must be true or false, not {raw!r}")
        return _BOOLEAN_WORDS[raw.lower()]
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"PROOFSHEET_{name} must be a whole number, not {raw!r}") from None
    if isinstance(default, dict):
        return json.loads(raw)
    if isinstance(default, list):
        return [entry.strip() for entry in raw.split(",") if entry.strip()]
    return raw


_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def insecure_base_url(config):
    """Whether BASE_URL sends people's links in clear text to a public host (http://, not
    localhost): sign-in links and session cookies could then be read on the way."""
    url = urlsplit(config.get("BASE_URL") or "")
    return url.scheme == "http" and (url.hostname or "") not in _LOCAL_HOSTS


def warn_if_insecure_base_url(app):
    """Log a warning at start-up, and show the owner a banner on the admin pages (base.html),
    while ``insecure_base_url``."""
    if insecure_base_url(app.config):
        app.logger.warning(
            "BASE_URL is %s: links in emails and QR codes go over plain http. "
            "Serve the site over HTTPS and set BASE_URL to https://...",
            app.config["BASE_URL"],
        )
    app.jinja_env.globals["insecure_base_url"] = lambda: insecure_base_url(app.config)


def load_environment(config, environ=None):
    """Apply PROOFSHEET_* variables and DATABASE_URL to ``config``."""
    environ = os.environ if environ is None else environ
    for key, raw in environ.items():
        if key.startswith("PROOFSHEET_"):
            name = key.removeprefix("PROOFSHEET_")
            config[name] = parse_env_value(name, raw)
    if environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(environ["DATABASE_URL"])


def normalize_database_url(url):
    """Use psycopg 3 for PostgreSQL URLs written the usual way (postgres://, postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url
