"""Forms of the client sign-in pages: the emailed code, the link's confirmation, a new link."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.galleries.clients import InvalidEmail, normalize_email


class SignInCodeForm(FlaskForm):
    code = StringField(
        _l("The 6-digit code from the email"),
        validators=[DataRequired(_l("Please type the code from the email.")), Length(max=20)],
    )


class ConfirmSignInForm(FlaskForm):
    """Only a button: mail scanners open links, a person presses the button."""


class NewLinkForm(FlaskForm):
    email = StringField(
        _l("Your email"), validators=[DataRequired(_l("Please enter your email.")), Length(max=254)]
    )

    def validate_email(self, field):
        try:
            field.data = normalize_email(field.data)
        except InvalidEmail as error:
            raise ValidationError(str(error)) from None
