"""Forms of sign-up, log-in, password reset, the studio profile and invitations."""

import gzip
import unicodedata
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.numbers import get_currency_name, get_territory_currencies, list_currencies
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import get_locale, lazy_ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from app.accounts.services import find_user_by_email
from app.forms_common import single_line
from app.i18n import client_languages as offered_languages
from app.i18n import email_problem, home_territory
from app.timeutil import timezone_names

COMMON_CURRENCIES = [
    "EUR",
    "USD",
    "GBP",
    "CHF",
    "CAD",
    "AUD",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CZK",
    "NZD",
    "JPY",
]
MIN_PASSWORD = 10
# Django's list of 20,000 common passwords, lower-cased (BSD licence: common-passwords-LICENSE.txt
# beside it).
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")
# Two-letter codes of CLDR's territory names that are no country: unknown region, European
# Union, eurozone, United Nations, outlying Oceania and the pseudo-locales' regions.
NOT_COUNTRIES = frozenset({"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"})


def currency_choices():
    common = [(code, f"{code} – {get_currency_name(code, locale='en')}") for code in COMMON_CURRENCIES]
    others = sorted(
        (code, f"{code} – {get_currency_name(code, locale='en')}")
        for code in list_currencies()
        if code not in COMMON_CURRENCIES and len(code) == 3
    )
    return common + others


def _sort_key(name):
    """Alphabetical order that ignores case and accents ("Åland" beside "Albania", "Égypte"
    among the E), which is close to every language's collation without ICU."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=16)
def _countries(locale):
    names = Locale.parse(locale).territories
    return tuple(
        sorted(
            (
                (code, name)
                for code, name in names.items()
                if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
            ),
            key=lambda choice: _sort_key(choice[1]),
        )
    )


def country_choices():
    """Every country as (ISO alpha-2 code, name in the page's language), by name."""
    return list(_countries(str(get_locale() or "en")))


def _normalized_email(field):
    try:
        field.data = validate_email((field.data or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValidationError(email_problem(error)) from None


@lru_cache(maxsize=1)
def common_passwords():
    """The shipped list of common passwords, read once per process."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines)


def password_problem(password, email=None):
    """Why ``password`` is refused (a message), or None. Long enough is checked by the field.

    Compared lower-cased and stripped, as Django does: its list is lower-cased.
    """
    folded = password.strip().lower()
    if folded in common_passwords():
        return _l("This password is too common: choose one that is harder to guess.")
    if email and folded in {email.lower(), email.lower().rpartition("@")[0]}:
        return _l("Your password cannot be your email address, nor the part before the @.")
    return None


def _password_policy(form, field):
    if len(field.data or "") < MIN_PASSWORD:
        return  # Length already says so: one message at a time
    problem = password_problem(field.data, form.password_email())
    if problem:
        raise ValidationError(problem)


def _password_field(label=None):
    return PasswordField(
        label or _l("Password"),
        validators=[
            DataRequired(_l("Please choose a password.")),
            Length(
                min=MIN_PASSWORD, max=200, message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD)
            ),
            _password_policy,
        ],
    )


class NewPasswordMixin:
    """A form choosing a password for the account of ``email`` (passed when building the form,
    or the logged-in user's); the password may not be that address nor its local part."""

    def __init__(self, *args, email=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._account_email = email

    def password_email(self):
        if self._account_email:
            return self._account_email
        return current_user.email if current_user.is_authenticated else None


class StudioFieldsMixin:
    def _fill_studio_choices(self):
        self.timezone.choices = [(name, name.replace("_", " ")) for name in timezone_names()]
        self.currency.choices = currency_choices()
        self.language.choices = list(current_app.config["LANGUAGES"].items())

    def validate_timezone(self, field):
        if field.data not in timezone_names():
            raise ValidationError(_l("Choose a timezone from the list."))


class SignupForm(StudioFieldsMixin, FlaskForm):
    studio_name = StringField(
        _l("Studio name"),
        validators=[DataRequired(_l("Please enter your studio's name.")), Length(max=120), single_line()],
    )
    name = StringField(
        _l("Your name"),
        validators=[DataRequired(_l("Please enter your name.")), Length(max=120), single_line()],
    )
    email = StringField(_l("Email"), validators=[DataRequired(_l("Please enter your email."))])
    password = _password_field()
    confirm = PasswordField(
        _l("Password again"), validators=[EqualTo("password", _l("The two passwords are not the same."))]
    )
    timezone = SelectField(
        _l("Timezone"),
        default="Europe/London",
        description=_l("Sale dates and send times are read in this timezone."),
    )
    currency = SelectField(_l("Currency"), default="EUR")
    language = SelectField(_l("Language"), default="en")

    def __init__(self, *args, reveal_taken_email=True, **kwargs):
        super().__init__(*args, **kwargs)
        self._fill_studio_choices()
        if not self.is_submitted():
            self._default_to_the_page_language()
        # False when sign-ups are confirmed by email: the page then never says whether an
        # address has an account (the email to that address does).
        self.reveal_taken_email = reveal_taken_email

    def _default_to_the_page_language(self):
        """A photographer reading the sign-up page in Swedish gets a Swedish studio paid in
        kronor unless they choose otherwise."""
        page = str(get_locale() or "en")
        if page in current_app.config["LANGUAGES"]:
            self.language.data = page
        territory = home_territory(page)  # none for English: EUR stays
        currencies = get_territory_currencies(territory) if territory else []
        if currencies and currencies[0] in dict(self.currency.choices):
            self.currency.data = currencies[0]

    def validate_email(self, field):
        _normalized_email(field)
        if self.reveal_taken_email and find_user_by_email(field.data) is not None:
            raise ValidationError(
                _l("An account already uses this email. Log in instead, or reset your password.")
            )

    def password_email(self):
        # The email field comes first, so it is already validated (and normalized) here.
        return self.email.data


class LoginForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(_l("Please enter your email."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Please enter your password."))])
    remember = BooleanField(_l("Keep me logged in on this device"))
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(_l("Please enter your email."))])


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    password = _password_field(_l("New password"))
    confirm = PasswordField(
        _l("New password again"), validators=[EqualTo("password", _l("The two passwords are not the same."))]
    )


def _code_or_empty(value):
    return value or ""


class StudioSettingsForm(StudioFieldsMixin, FlaskForm):
    name = StringField(
        _l("Studio name"),
        validators=[DataRequired(_l("Please enter your studio's name.")), Length(max=120), single_line()],
    )
    email = StringField(
        _l("Contact email"),
        validators=[DataRequired(_l("Please enter the studio's email."))],
        description=_l("Clients' replies go here."),
    )
    timezone = SelectField(_l("Timezone"))
    currency = SelectField(_l("Currency"))
    language = SelectField(
        _l("Language"),
        description=_l("Clients see it unless they choose another; so do staff who have not chosen theirs."),
    )
    client_languages = SelectMultipleField(
        _l("Languages your clients may choose"),
        validate_choice=False,
        description=_l(
            "On your gallery pages and registration forms. Your studio's language is always offered."
        ),
    )
    country = SelectField(_l("Country"), coerce=_code_or_empty, validate_choice=False)
    watermark_text = StringField(
        _l("Watermark on previews"),
        validators=[Optional(), Length(max=80), single_line("text")],
        description=_l("Leave empty to use the studio's name. New uploads use it."),
    )
    postal_address = TextAreaField(
        _l("Postal address"),
        validators=[Length(max=300)],
        description=_l(
            "Shown at the foot of every campaign email, as the law and Gmail's rules "
            "for bulk mail require. Campaign emails go out only once it is set."
        ),
    )

    def __init__(self, *args, **kwargs):
        self.campaign_galleries = kwargs.pop("campaign_galleries", 0)
        super().__init__(*args, **kwargs)
        studio = kwargs.get("obj")
        if studio is not None and getattr(self.client_languages, "raw_data", None) is None:
            # Not sent back: the stored text ("" for all) as the codes the checkboxes show.
            self.client_languages.data = offered_languages(studio)
        self._fill_studio_choices()
        self.client_languages.choices = self.language.choices
        self.country.choices = [("", _("Choose a country"))] + country_choices()

    def validate_email(self, field):
        _normalized_email(field)

    def validate_client_languages(self, field):
        known = current_app.config["LANGUAGES"]
        unknown = [code for code in field.data or [] if code not in known]
        if unknown:
            raise ValidationError(
                _l(
                    "%(code)s is not one of the languages Proofsheet offers: choose among %(languages)s.",
                    code=unknown[0],
                    languages=", ".join(known.values()),
                )
            )

    def validate_country(self, field):
        if field.data and field.data not in dict(country_choices()):
            raise ValidationError(_l("Choose a country from the list."))

    def validate_postal_address(self, field):
        field.data = postal_address_text(field.data)
        if not field.data and self.campaign_galleries:
            raise ValidationError(
                lazy_ngettext(
                    "Your campaign emails need it: %(num)d gallery uses a workflow. Choose "
                    "“No emails” for it first if you want to remove the address.",
                    "Your campaign emails need it: %(num)d galleries use a workflow. Choose "
                    "“No emails” for them first if you want to remove the address.",
                    self.campaign_galleries,
                )
            )


def postal_address_text(text):
    """The address as lines without surrounding blanks or empty lines ('' when empty)."""
    lines = [" ".join(line.split()) for line in (text or "").splitlines()]
    return "\n".join(line for line in lines if line)


class ProfileForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[DataRequired(_l("Please enter your name.")), Length(max=120), single_line()],
    )
    language = SelectField(
        _l("Your language"),
        coerce=_code_or_empty,
        validate_choice=False,
        description=_l("Of the pages you see here. Clients see theirs."),
    )

    def __init__(self, *args, studio_language="en", **kwargs):
        super().__init__(*args, **kwargs)
        languages = current_app.config["LANGUAGES"]
        studio_choice = _(
            "Studio's language (%(language)s)", language=languages.get(studio_language, studio_language)
        )
        self.language.choices = [("", studio_choice), *languages.items()]

    def validate_language(self, field):
        if field.data and field.data not in current_app.config["LANGUAGES"]:
            raise ValidationError(_l("Choose a language from the list."))


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Please enter your current password."))]
    )
    password = _password_field(_l("New password"))
    confirm = PasswordField(
        _l("New password again"), validators=[EqualTo("password", _l("The two passwords are not the same."))]
    )


class InviteForm(FlaskForm):
    email = StringField(_l("Operator's email"), validators=[DataRequired(_l("Please enter an email."))])

    def validate_email(self, field):
        _normalized_email(field)
        if find_user_by_email(field.data) is not None:
            raise ValidationError(_l("This person already has a Proofsheet account."))


class AcceptInvitationForm(NewPasswordMixin, FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[DataRequired(_l("Please enter your name.")), Length(max=120), single_line()],
    )
    password = _password_field()
    confirm = PasswordField(
        _l("Password again"), validators=[EqualTo("password", _l("The two passwords are not the same."))]
    )


class ConfirmSignupForm(FlaskForm):
    """Only a button: the emailed sign-up link creates the studio when a person presses it."""
