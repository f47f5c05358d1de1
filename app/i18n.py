"""Locale and timezone selection for Flask-Babel."""

from flask import current_app, g, has_request_context, request, session
from flask_login import current_user


def select_locale():
    """Staff see their studio's language; clients theirs; everyone else their browser's.

    Outside a request (CLI, scheduled jobs) the caller sets the locale with
    ``flask_babel.force_locale``; otherwise the default applies.
    """
    if not has_request_context():
        return None
    languages = list(current_app.config["LANGUAGES"])
    if current_user and current_user.is_authenticated:
        return current_user.studio.language
    if session.get("client_language") in languages:
        return session["client_language"]
    return request.accept_languages.best_match(languages)


def select_timezone():
    """Times are shown in the studio's timezone: the staff's own, or the gallery's studio."""
    if not has_request_context():
        return None
    if current_user and current_user.is_authenticated:
        return current_user.studio.timezone
    studio = g.get("studio")
    return studio.timezone if studio is not None else None
