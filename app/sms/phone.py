"""Phone numbers as people type them, stored in E.164 (phonenumbers: Google's libphonenumber)."""

import phonenumbers
from flask_babel import gettext as _

from app.i18n import studio_territory


class PhoneRefused(ValueError):
    """Not a number we can text; the message says why."""


def default_region(studio):
    """Where a number typed without its country code is read: the studio's country, else the
    territory its language is most likely spoken in (sv -> SE), else None."""
    territory = studio_territory(studio)
    return territory if territory in phonenumbers.SUPPORTED_REGIONS else None


def normalize_phone(text, default_region=None):
    """``text`` ("070-123 45 67", "+46 70 123 45 67") as E.164 ("+46701234567"), read in
    ``default_region`` (the studio's country) when it has no country code. Numbers that cannot
    receive texts (landlines where the library knows it) are refused."""
    try:
        number = phonenumbers.parse(text or "", (default_region or "").upper() or None)
    except phonenumbers.NumberParseException:
        raise PhoneRefused(
            _("This is not a phone number we can read. Include the country code, e.g. +46 70 123 45 67.")
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneRefused(
            _("This phone number is not valid. Check it, with its country code, e.g. +46 70 123 45 67.")
        )
    kind = phonenumbers.number_type(number)
    if kind in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.VOIP,
        phonenumbers.PhoneNumberType.TOLL_FREE,
    ):
        raise PhoneRefused(_("This number cannot receive text messages: enter a mobile number."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164):
    """``+46701234567`` as people read it: "+46 70 123 45 67"."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
