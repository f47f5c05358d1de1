"""Absolute links for emails, QR codes and anything read outside the browser.

They are built from BASE_URL (the site's public address), not from the request's host, so a
link in an email works wherever the email was queued: in a request, a job or the CLI.
"""

from urllib.parse import urlsplit

from flask import current_app


def _adapter(app):
    """The URL adapter bound to BASE_URL, made once per app and address (binding is costly,
    and the tick builds several links per message)."""
    cached = app.extensions.get("proofsheet_url_adapter")
    if cached is None or cached[0] != app.config["BASE_URL"]:
        base = urlsplit(app.config["BASE_URL"])
        adapter = app.url_map.bind(
            base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
        )
        cached = app.extensions["proofsheet_url_adapter"] = (app.config["BASE_URL"], adapter)
    return cached[1]


def external_url(endpoint, **values):
    return _adapter(current_app._get_current_object()).build(endpoint, values, force_external=True)


_PLACEHOLDER = "PROOFSHEET-PLACEHOLDER"


def external_url_with(endpoint, name, value):
    """``external_url(endpoint, **{name: value})`` for a URL-safe ``value``, built from a cached
    template: the tick makes thousands of links that differ only by their token."""
    app = current_app._get_current_object()
    templates = app.extensions.setdefault("proofsheet_url_templates", {})
    key = (app.config["BASE_URL"], endpoint, name)
    if key not in templates:
        templates[key] = external_url(endpoint, **{name: _PLACEHOLDER})
    return templates[key].replace(_PLACEHOLDER, value)


def external_url_around(endpoint, name):
    """(before, after) such that ``external_url(endpoint, **{name: value})`` is
    ``before + value + after`` for a URL-safe value: for makers of thousands of links."""
    before, _placeholder, after = external_url_with(endpoint, name, _PLACEHOLDER).partition(_PLACEHOLDER)
    return before, after
