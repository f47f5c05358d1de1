"""Jinja filters and globals shared by every template."""

from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from flask_babel import format_date, get_locale, get_timezone

from app.i18n import with_variables
from app.reasons import shown_reason
from app.shop.addresses import shown_region


def localtime(moment, timezone_name=None, format="medium"):
    """A UTC instant as date and time (no seconds) in a studio's timezone, or the request's:
    "Dec 14, 2026, 10:24 PM"; format "long" spells the month: "December 14, 2026, 10:24 PM"."""
    if moment is None:
        return ""
    zone = ZoneInfo(timezone_name) if timezone_name else get_timezone()
    local = moment.astimezone(zone)
    locale = get_locale() or "en"
    date_format = "long" if format == "long" else "medium"
    return (
        f"{babel_dates.format_date(local.date(), date_format, locale=locale)}, "
        f"{babel_dates.format_time(local, 'short', tzinfo=zone, locale=locale)}"
    )


def localdate(value, format="medium"):
    return "" if value is None else format_date(value, format)


def money(minor, currency):
    """Integer minor units as money in the current locale: 1250, "EUR" -> "€12.50"."""
    from app.shop.money import format_money

    return format_money(minor or 0, currency, str(get_locale() or "en"))


def amount_input(minor, currency):
    """Minor units as a price field shows them for typing: "0.00", "0,00" on a Swedish page."""
    from app.shop.money import amount_text

    return amount_text(minor, currency)


def phone(number):
    """An E.164 number as people read it ("+46 70 123 45 67"); other text as it is."""
    from app.sms.phone import display_phone

    return display_phone(number) if number and number.startswith("+") else number or ""


def country_name(code):
    """An ISO country code as the country's name in the page's language ("SE" -> "Sverige")."""
    from app.shop.addresses import country_name as name_of

    return name_of(code) if code else ""


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
    app.jinja_env.filters["with_variables"] = with_variables
    app.jinja_env.filters["country_name"] = country_name
    app.jinja_env.filters["amount_input"] = amount_input
    app.jinja_env.filters["phone"] = phone
    app.jinja_env.filters["reason"] = shown_reason
    app.jinja_env.filters["region_name"] = shown_region
    app.jinja_env.globals["url_if"] = url_if
    app.jinja_env.globals["current_locale_code"] = lambda: str(get_locale() or "en")
