"""Forms of the client-facing gallery pages."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.forms_common import single_line
from app.galleries.clients import InvalidEmail, normalize_email
from app.i18n import client_languages

CONSENT_TEXT = _l("Yes, %(studio)s may email me news and offers. I can unsubscribe at any time.")


class RegistrationForm(FlaskForm):
    """Name, email, language and an explicit, unticked marketing consent."""

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

    def __init__(self, studio, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices(studio)
        self.consent_text = str(CONSENT_TEXT % {"studio": studio.name})
        self.marketing_consent.label.text = self.consent_text

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
