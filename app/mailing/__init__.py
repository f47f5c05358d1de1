"""Sending mail. Imports no feature package: it takes plain values (addresses, subject, HTML).

For now: the transport (build and send one message) and the local sink with its mailbox page.
"""

from flask import Blueprint

bp = Blueprint("mailing", __name__, url_prefix="/admin/mail")
public_bp = Blueprint("mailing_public", __name__)

from app.mailing import domain_routes, email_layout, routes, settings_routes  # noqa: E402,F401
