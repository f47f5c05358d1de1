"""Money display: integer minor units in a currency, formatted for a locale."""

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision


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
