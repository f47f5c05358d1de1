"""Money: integer minor units in a currency, formatted for a locale, and amounts typed by the
studio read in the language of the page ("1 250,00" in Swedish, "1.250,00" in German,
"1,250.00" in English)."""

import re
from decimal import Decimal

from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    get_currency_precision,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

MAX_MINOR = 100_000_000  # a million in a two-decimal currency: far above any real price
SPACES = " \u00a0\u202f"  # what people type between thousands, and what the locales print
TYPED_NUMBER = re.compile(r"^[+-]?[\d.,'’" + SPACES + "]+$")


class AmountError(ValueError):
    """A typed amount that is refused; ``str()`` is the message for the form."""


def current_locale(locale=None):
    """``locale``, else the page's (flask_babel), else English outside a request."""
    return str(locale or get_locale() or "en")


def minor_to_decimal(minor, currency):
    return Decimal(minor).scaleb(-get_currency_precision(currency))


def decimal_to_minor(amount, currency):
    """A decimal amount typed in a form as minor units; refuses more decimals than the currency."""
    precision = get_currency_precision(currency)
    scaled = Decimal(amount).scaleb(precision)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{currency} amounts have at most {precision} decimals")
    return int(scaled)


def format_money(minor, currency, locale="en"):
    return format_currency(minor_to_decimal(minor, currency), currency, locale=locale)


def _pattern(places):
    return "0." + "0" * places if places else "0"


def amount_text(minor, currency, locale=None):
    """Minor units as a form shows them for typing again: "9.00" in English, "9,00" in Swedish
    (no thousands separator, the currency's decimals)."""
    places = get_currency_precision(currency)
    return format_decimal(
        minor_to_decimal(minor, currency), format=_pattern(places), locale=current_locale(locale)
    )


def typed_decimal(text, locale=None):
    """A number typed in the locale's format as a ``Decimal``; ``AmountError`` if it cannot be
    read without guessing ("1,250" in English is 1250, "1,25" is refused, never read as 1.25).
    Any kind of space is accepted between thousands where the locale groups with a space."""
    locale = current_locale(locale)
    text = (text or "").strip()
    group = get_group_symbol(locale)
    if group in SPACES:
        text = re.sub(f"[{SPACES}]", group, text)
    if not TYPED_NUMBER.match(text):
        raise AmountError(text)
    try:
        number = parse_decimal(text, locale=locale, strict=True)
    except NumberFormatError:
        raise AmountError(text) from None
    if not number.is_finite():
        raise AmountError(text)
    return number


def parse_amount(text, currency, allow_zero=True, locale=None):
    """A typed amount as minor units, or ``AmountError`` saying what is wrong with it."""
    locale = current_locale(locale)
    try:
        amount = typed_decimal(text, locale)
    except AmountError:
        example = format_decimal(
            Decimal("12.50"), format=_pattern(get_currency_precision(currency)), locale=locale
        )
        raise AmountError(
            _l(
                "Enter an amount like %(example)s (with “%(decimal)s” before the decimals).",
                example=example,
                decimal=get_decimal_symbol(locale),
            )
        ) from None
    if amount < 0:
        raise AmountError(_l("The amount cannot be negative."))
    try:
        minor = decimal_to_minor(amount, currency)
    except ValueError:
        raise AmountError(
            _l(
                "%(currency)s amounts have at most %(places)d decimals.",
                currency=currency,
                places=get_currency_precision(currency),
            )
        ) from None
    if minor == 0 and not allow_zero:
        raise AmountError(_l("The amount must be more than zero."))
    if minor > MAX_MINOR:
        raise AmountError(_l("This amount is too large."))
    return minor
