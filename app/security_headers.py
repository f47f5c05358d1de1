"""Security headers on every response: pages, static files, redirects and error pages.

One ``after_request`` rather than Flask-Talisman: Talisman redirects to HTTPS by default, sets
SESSION_COOKIE_SECURE and SESSION_COOKIE_SAMESITE in the config from its own arguments, and
sends HSTS from ``request.is_secure`` or an unchecked X-Forwarded-Proto; here HTTPS is the
operator's choice, said once by SESSION_COOKIE_SECURE. Its last release is from 2023, and what
we need is the few fixed headers below.
"""

from flask import current_app

# No inline script anywhere: behaviour lives in app/static/js and reads server values from
# data-* attributes. Styles may be inline: Quill writes style attributes, and email previews
# (iframe srcdoc, which inherits this policy) carry the inlined CSS of a mail. Images may come
# over https: a campaign email may show an image by URL (the sanitizer keeps http/https
# sources), and its preview should show what the client will see. A srcdoc frame is not a
# fetch, so frame-src needs nothing beyond 'self'.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https:",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}

HSTS = "max-age=31536000; includeSubDomains"


def init_app(app):
    """Add the headers to every response of ``app``."""
    app.after_request(add_security_headers)


def add_security_headers(response):
    """Set the security headers a view has not set itself; HSTS only behind HTTPS.

    Flask runs this for error handlers' responses too (404, 400, 429, 500), and for static
    files, which are served by a view.
    """
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    # SESSION_COOKIE_SECURE is how the operator says the site is served over HTTPS only;
    # over plain HTTP, HSTS would be ignored at best.
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
