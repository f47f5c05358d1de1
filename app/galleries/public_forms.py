"""Forms of the client-facing gallery pages."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.forms_common import single_line
from app.galleries.clients import InvalidEmail, normalize_email
from app.i18n import client_languages
from app.sms.phone import PhoneRefused, default_region, normalize_phone

CONSENT_TEXT = _l("Yes, %(studio)s may email me news and offers. I can unsubscribe at any time.")
# Stored with the consent, in the page's language: what the client ticked.
SMS_CONSENT_TEXT = _l("Send me text messages about my orders and photos")


def phone_field(label=None, description=None):
    """An optional mobile number as typed; ``check_phone`` turns it into E.164."""
    return StringField(
        label or _l("Mobile number"),
        validators=[Optional(), Length(max=40), single_line("text")],
        description=description,
    )


def sms_consent_field():
    """Unticked: texts only when the client asks for them (shown once a number is typed)."""
    return BooleanField(SMS_CONSENT_TEXT, default=False)


def check_phone(form, region):
    """Normalize ``form.phone`` to E.164 (read in ``region`` without a country code; None when
    left empty) and require a number for the SMS consent. Problems go on the phone field;
    returns whether there were none."""
    field = form.phone
    if field.errors:
        return False
    typed = (field.data or "").strip()
    if not typed:
        field.data = None
        if form.sms_consent.data:
            field.errors.append(_l("Please enter your mobile number to receive text messages."))
            return False
        return True
    try:
        field.data = normalize_phone(typed, region)
    except PhoneRefused as error:
        field.errors.append(str(error))
        return False
    return True


class RegistrationForm(FlaskForm):
    """Name, email, language and an explicit, unticked marketing consent; an optional mobile
    number (E.164 once valid) and its own unticked SMS consent."""

    name = StringField(
        _l("Your name"),
        validators=[DataRequired(_l("Please enter your name.")), Length(max=200), single_line()],
    )
    email = StringField(
        _l("Your email"), validators=[DataRequired(_l("Please enter your email.")), Length(max=254)]
    )
    language = SelectField(
        _l("Language"), validate_choice=False, description=_l("Of these pages and of our emails to you.")
    )
    marketing_consent = BooleanField(default=False)
    phone = phone_field(description=_l("Optional: for text messages about your orders and photos."))
    sms_consent = sms_consent_field()

    def __init__(self, studio, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices(studio)
        self.consent_text = str(CONSENT_TEXT % {"studio": studio.name})
        self.marketing_consent.label.text = self.consent_text
        self.sms_consent_text = str(SMS_CONSENT_TEXT)
        self._phone_region = default_region(studio)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        return check_phone(self, self._phone_region) and valid

    def validate_language(self, field):
        _offered(field)

    def validate_email(self, field):
        try:
            field.data = normalize_email(field.data)
        except InvalidEmail as error:
            raise ValidationError(str(error)) from None


def language_choices(studio):
    """(code, name) of the languages ``studio`` offers its clients, its own language first."""
    names = current_app.config["LANGUAGES"]
    return [(code, names.get(code, code)) for code in client_languages(studio)]


def _offered(field):
    if field.data not in dict(field.choices):
        raise ValidationError(
            _l(
                "Please choose one of the languages in the list: %(languages)s.",
                languages=", ".join(name for _code, name in field.choices),
            )
        )


class LanguageForm(FlaskForm):
    """The language switcher of a studio's pages: the language, and the page to go back to."""

    language = SelectField(_l("Language"), validate_choice=False)
    next = HiddenField()

    def __init__(self, studio, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices(studio)

    def validate_language(self, field):
        _offered(field)


class GalleryPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Gallery password"), validators=[DataRequired(_l("Please enter the gallery password."))]
    )


class CardCodeForm(FlaskForm):
    code = StringField(
        _l("Your card code"),
        validators=[DataRequired(_l("Please enter the code printed on your card.")), Length(max=40)],
    )
