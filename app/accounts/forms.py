"""Forms of sign-up, log-in, password reset, the studio profile and invitations."""

from babel.numbers import get_currency_name, list_currencies
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from app.accounts.services import find_user_by_email
from app.timeutil import timezone_names

COMMON_CURRENCIES = ["EUR", "USD", "GBP", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK",
                     "NZD", "JPY"]
MIN_PASSWORD = 10


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


def _password_field(label=None):
    return PasswordField(label or _l("Password"), validators=[
        DataRequired(_l("Please choose a password.")),
        Length(min=MIN_PASSWORD, max=200,
               message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD))])


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
        DataRequired(_l("Please enter your studio's name.")), Length(max=120)])
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Please enter your name.")),
                                                    Length(max=120)])
    email = StringField(_l("Email"), validators=[DataRequired(_l("Please enter your email."))])
    password = _password_field()
    confirm = PasswordField(_l("Password again"), validators=[
        EqualTo("password", _l("The two passwords are not the same."))])
    timezone = SelectField(_l("Timezone"), default="Europe/London",
                           description=_l("Sale dates and send times are read in this timezone."))
    currency = SelectField(_l("Currency"), default="EUR")
    language = SelectField(_l("Language"), default="en")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._fill_studio_choices()

    def validate_email(self, field):
        _normalized_email(field)
        if find_user_by_email(field.data) is not None:
            raise ValidationError(_l("An account already uses this email. Log in instead, or "
                                     "reset your password."))


class LoginForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(_l("Please enter your email."))])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Please enter your password."))])
    remember = BooleanField(_l("Keep me logged in on this device"))
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(_l("Please enter your email."))])


class ResetPasswordForm(FlaskForm):
    password = _password_field(_l("New password"))
    confirm = PasswordField(_l("New password again"), validators=[
        EqualTo("password", _l("The two passwords are not the same."))])


class StudioSettingsForm(StudioFieldsMixin, FlaskForm):
    name = StringField(_l("Studio name"), validators=[
        DataRequired(_l("Please enter your studio's name.")), Length(max=120)])
    email = StringField(_l("Contact email"), validators=[
        DataRequired(_l("Please enter the studio's email."))],
        description=_l("Clients' replies go here."))
    timezone = SelectField(_l("Timezone"))
    currency = SelectField(_l("Currency"))
    language = SelectField(_l("Language"))
    watermark_text = StringField(_l("Watermark on previews"), validators=[Optional(),
                                                                         Length(max=80)],
                                 description=_l("Leave empty to use the studio's name. New "
                                                "uploads use it."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._fill_studio_choices()

    def validate_email(self, field):
        _normalized_email(field)


class ProfileForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Please enter your name.")),
                                                    Length(max=120)])


class ChangePasswordForm(FlaskForm):
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


class AcceptInvitationForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Please enter your name.")),
                                                    Length(max=120)])
    password = _password_field()
    confirm = PasswordField(_l("Password again"), validators=[
        EqualTo("password", _l("The two passwords are not the same."))])
