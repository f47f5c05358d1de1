"""Locale and timezone selection for Flask-Babel."""

from flask import current_app, g, has_request_context, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user


def client_languages(studio):
    """The languages ``studio``'s clients may choose, as codes: the studio's own language first,
    then the others it offers in the site's order (``Studio.client_languages``; empty: all)."""
    languages = list(current_app.config["LANGUAGES"])
    chosen = {code.strip() for code in (studio.client_languages or "").split(",")} - {""}
    offered = [code for code in languages if code in chosen]  # the site's order, whatever stored
    return [studio.language] + [code for code in offered or languages if code != studio.language]


def client_languages_setting(codes, studio_language):
    """What ``Studio.client_languages`` stores for the chosen ``codes``: the codes in the site's
    order, comma-separated, the studio's language always among them; "" when all are chosen."""
    languages = list(current_app.config["LANGUAGES"])
    chosen = set(codes) | {studio_language}
    if set(languages) <= chosen:
        return ""
    return ",".join(code for code in languages if code in chosen)


def select_locale():
    """The language of this page.

    A studio's client pages (``g.studio``, set by the public routes): the language chosen in
    this browser when the studio offers it, else the browser's best among the studio's client
    languages, else the studio's language. Staff pages: the staff member's own language, else
    their studio's. Any other page: the language chosen in this browser, else the browser's.
    Outside a request (CLI, scheduled jobs) the caller sets the locale with
    ``flask_babel.force_locale``; otherwise the default applies.
    """
    if not has_request_context():
        return None
    languages = list(current_app.config["LANGUAGES"])
    chosen = session.get("client_language")
    studio = g.get("studio")
    if studio is not None:
        offered = client_languages(studio)
        if chosen in offered:
            return chosen
        return request.accept_languages.best_match(offered, default=studio.language)
    if current_user and current_user.is_authenticated:
        if current_user.language in languages:
            return current_user.language
        return current_user.studio.language
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages)


def select_timezone():
    """Times are shown in the studio's timezone: the staff's own, or the gallery's studio."""
    if not has_request_context():
        return None
    if current_user and current_user.is_authenticated:
        return current_user.studio.timezone
    studio = g.get("studio")
    return studio.timezone if studio is not None else None


# email-validator explains a refused address in English. Its usual explanations, in the words
# it uses (so English is unchanged), for the catalogues; a rarer one is shown as it comes.
_EMAIL_PROBLEMS = {
    "An email address must have an @-sign.": _l("An email address must have an @-sign."),
    "There must be something before the @-sign.": _l("There must be something before the @-sign."),
    "There must be something after the @-sign.": _l("There must be something after the @-sign."),
    "An email address cannot have two periods in a row.": _l(
        "An email address cannot have two periods in a row."
    ),
    "An email address cannot end with a period.": _l("An email address cannot end with a period."),
    "An email address cannot start with a period.": _l("An email address cannot start with a period."),
    "An email address cannot have a period immediately after the @-sign.": _l(
        "An email address cannot have a period immediately after the @-sign."
    ),
    "An email address cannot have a period immediately before the @-sign.": _l(
        "An email address cannot have a period immediately before the @-sign."
    ),
    "The part after the @-sign is not valid. It should have a period.": _l(
        "The part after the @-sign is not valid. It should have a period."
    ),
    "The part after the @-sign is not valid. It is not within a valid top-level domain.": _l(
        "The part after the @-sign is not valid. It is not within a valid top-level domain."
    ),
    "The email address contains invalid characters before the @-sign.": _l(
        "The email address contains invalid characters before the @-sign."
    ),
    "The part after the @-sign contains invalid characters.": _l(
        "The part after the @-sign contains invalid characters."
    ),
    "The email address contains an invalid character.": _l(
        "The email address contains an invalid character."
    ),
    "There can't be anything after the email address.": _l(
        "There can't be anything after the email address."
    ),
    "The email address is too long.": _l("The email address is too long."),
}


def email_problem(error):
    """Why email-validator refused an address (``EmailNotValidError``), in the current language
    when it is one of its usual explanations."""
    text = str(error)
    if text in _EMAIL_PROBLEMS:
        return str(_EMAIL_PROBLEMS[text])
    for english, translated in _EMAIL_PROBLEMS.items():
        # With details: "... before the @-sign: SPACE.", "... too long (4 characters too many)."
        if text.startswith((english[:-1] + ": ", english[:-1] + " (")):
            return str(translated)[:-1] + text[len(english) - 1 :]
    return text if text else _("This is not a valid email address.")


class _VariableTokens(dict):
    """``%(name)s`` -> ``%name%``, whatever the name."""

    def __missing__(self, name):
        return f"%{name}%"


def with_variables(message):
    """A translated message whose %variables% are written ``%(name)s`` in the catalogues (so
    that translators and Babel's checks see named placeholders, not printf codes such as the
    "% i" of "%order_number% is"), with its variables back as ``%name%``."""
    return str(message) % _VariableTokens()


def language_name(code):
    """A language's name in the page's language, as a sentence uses it: "Swedish", "svenska" on
    a Swedish page. (Pickers that clients use show each language in itself: LANGUAGES.)"""
    from babel import Locale, UnknownLocaleError
    from flask_babel import get_locale

    try:
        return Locale.parse(code).get_display_name(get_locale() or "en") or code
    except (ValueError, UnknownLocaleError):
        return code


# A language whose speakers mostly live in one country: someone writing it without saying where
# they are is most likely there (sv -> SE, de -> DE...). English is spoken in too many to guess.
_NO_HOME_TERRITORY = frozenset({"en"})


def home_territory(language):
    """The country ``language`` is most likely written in ("sv" -> "SE"), or None (English, an
    unknown language)."""
    from babel import Locale, UnknownLocaleError
    from babel.core import get_global

    try:
        code = Locale.parse(language or "").language
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    if code in _NO_HOME_TERRITORY:
        return None
    likely = get_global("likely_subtags").get(code)
    return Locale.parse(likely).territory if likely else None


def studio_territory(studio):
    """Where a studio works: its country, else its language's home territory, else None."""
    return studio.country.upper() if studio.country else home_territory(studio.language)
