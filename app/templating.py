"""Jinja filters and globals shared by every template."""

from zoneinfo import ZoneInfo

from flask_babel import format_date, format_datetime, get_locale


def localtime(moment, timezone_name=None, format="medium"):
    """Format a UTC instant in a studio's timezone (or the request's selected one)."""
    if moment is None:
        return ""
    if timezone_name:
        return format_datetime(moment.astimezone(ZoneInfo(timezone_name)).replace(tzinfo=None),
                               format, rebase=False)
    return format_datetime(moment, format)


def localdate(value, format="medium"):
    return "" if value is None else format_date(value, format)


def money(minor, currency):
    """Integer minor units as money in the current locale: 1250, "EUR" -> "€12.50"."""
    from app.shop.money import format_money

    return format_money(minor or 0, currency, str(get_locale() or "en"))


def url_if(endpoint, **values):
    """The URL of ``endpoint``, or None when that page is not installed (optional features)."""
    from flask import url_for
    from werkzeug.routing import BuildError

    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def init_app(app):
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["localdate"] = localdate
    app.jinja_env.filters["money"] = money
    app.jinja_env.globals["url_if"] = url_if
    app.jinja_env.globals["current_locale_code"] = lambda: str(get_locale() or "en")
