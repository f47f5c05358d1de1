"""Forms of sign-up, log-in, password reset, the studio profile and invitations."""

import gzip
from functools import lru_cache
from pathlib import Path

from babel.numbers import get_currency_name, list_currencies
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from app.accounts.services import find_user_by_email
from app.forms_common import single_line
from app.timeutil import timezone_names

COMMON_CURRENCIES = ["EUR", "USD", "GBP", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK",
                     "NZD", "JPY"]
MIN_PASSWORD = 10
# Django's list of 20,000 common passwords, lower-cased (BSD licence: common-passwords-LICENSE.txt
# beside it).
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")


def currency_choices():
    common = [(code, f"{code} – {get_currency_name(code, locale='en')}") for code in COMMON_CURRENCIES]
    others = sorted((code, f"{code} – {get_currency_name(code, locale='en')}")
                    for code in list_currencies() if code not in COMMON_CURRENCIES and len(code) == 3)
    return common + others


def _normalized_email(field):
    try:
        field.data = validate_email((field.data or "").strip(),
                                    check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValidationError(str(error)) from None


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
    return PasswordField(label or _l("Password"), validators=[
        DataRequired(_l("Please choose a password.")),
        Length(min=MIN_PASSWORD, max=200,
               message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD)),
        _password_policy])


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
    studio_name = StringField(_l("Studio name"), validators=[
        DataRequired(_l("Please enter your studio's name.")), Length(max=120), single_line()])
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Please enter your name.")),
                                                    Length(max=120), single_line()])
    email = StringField(_l("Email"), validators=[DataRequired(_l("Please enter your email."))])
    password = _password_field()
    confirm = PasswordField(_l("Password again"), validators=[
        EqualTo("password", _l("The two passwords are not the same."))])
    timezone = SelectField(_l("Timezone"), default="Europe/London",
                           description=_l("Sale dates and send times are read in this timezone."))
    currency = SelectField(_l("Currency"), default="EUR")
    language = SelectField(_l("Language"), default="en")

    def __init__(self, *args, reveal_taken_email=True, **kwargs):
        super().__init__(*args, **kwargs)
        self._fill_studio_choices()
        # False when sign-ups are confirmed by email: the page then never says whether an
        # address has an account (the email to that address does).
        self.reveal_taken_email = reveal_taken_email

    def validate_email(self, field):
        _normalized_email(field)
        if self.reveal_taken_email and find_user_by_email(field.data) is not None:
            raise ValidationError(_l("An account already uses this email. Log in instead, or "
                                     "reset your password."))

    def password_email(self):
        # The email field comes first, so it is already validated (and normalized) here.
        return self.email.data


class LoginForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(_l("Please enter your email."))])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Please enter your password."))])
    remember = BooleanField(_l("Keep me logged in on this device"))
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(_l("Please enter your email."))])


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    password = _password_field(_l("New password"))
    confirm = PasswordField(_l("New password again"), validators=[
        EqualTo("password", _l("The two passwords are not the same."))])


class StudioSettingsForm(StudioFieldsMixin, FlaskForm):
    name = StringField(_l("Studio name"), validators=[
        DataRequired(_l("Please enter your studio's name.")), Length(max=120), single_line()])
    email = StringField(_l("Contact email"), validators=[
        DataRequired(_l("Please enter the studio's email."))],
        description=_l("Clients' replies go here."))
    timezone = SelectField(_l("Timezone"))
    currency = SelectField(_l("Currency"))
    language = SelectField(_l("Language"))
    watermark_text = StringField(_l("Watermark on previews"),
                                 validators=[Optional(), Length(max=80), single_line("text")],
                                 description=_l("Leave empty to use the studio's name. New "
                                                "uploads use it."))
    postal_address = TextAreaField(
        _l("Postal address"), validators=[Length(max=300)],
        description=_l("Shown at the foot of every campaign email, as the law and Gmail's rules "
                       "for bulk mail require. Campaign emails go out only once it is set."))

    def __init__(self, *args, **kwargs):
        self.campaign_galleries = kwargs.pop("campaign_galleries", 0)
        super().__init__(*args, **kwargs)
        self._fill_studio_choices()

    def validate_email(self, field):
        _normalized_email(field)

    def validate_postal_address(self, field):
        field.data = postal_address_text(field.data)
        if not field.data and self.campaign_galleries:
            raise ValidationError(lazy_ngettext(
                "Your campaign emails need it: %(num)d gallery uses a workflow. Choose "
                "“No emails” for it first if you want to remove the address.",
                "Your campaign emails need it: %(num)d galleries use a workflow. Choose "
                "“No emails” for them first if you want to remove the address.",
                self.campaign_galleries))


def postal_address_text(text):
    """The address as lines without surrounding blanks or empty lines ('' when empty)."""
    lines = [" ".join(line.split()) for line in (text or "").splitlines()]
    return "\n".join(line for line in lines if line)


class ProfileForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Please enter your name.")),
                                                    Length(max=120), single_line()])


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Please enter your current password."))])
    password = _password_field(_l("New password"))
    confirm = PasswordField(_l("New password again"), validators=[
        EqualTo("password", _l("The two passwords are not the same."))])


class InviteForm(FlaskForm):
    email = StringField(_l("Operator's email"), validators=[
        DataRequired(_l("Please enter an email."))])

    def validate_email(self, field):
        _normalized_email(field)
        if find_user_by_email(field.data) is not None:
            raise ValidationError(_l("This person already has a Proofsheet account."))


class AcceptInvitationForm(NewPasswordMixin, FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Please enter your name.")),
                                                    Length(max=120), single_line()])
    password = _password_field()
    confirm = PasswordField(_l("Password again"), validators=[
        EqualTo("password", _l("The two passwords are not the same."))])


class ConfirmSignupForm(FlaskForm):
    """Only a button: the emailed sign-up link creates the studio when a person presses it."""
