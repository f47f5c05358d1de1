"""Absolute links for emails, QR codes and anything read outside the browser.

They are built from BASE_URL (the site's public address), not from the request's host, so a
link in an email works wherever the email was queued: in a request, a job or the CLI.
"""

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint, **values):
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)
