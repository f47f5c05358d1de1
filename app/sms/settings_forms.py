"""Settings → Text messages: the studio's SMS provider, and the test text."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from app.forms_common import single_line
from app.sms.phone import PhoneRefused, normalize_phone

DEFAULT = "default"
PROVIDERS = ("46elks", "twilio")
_ALPHANUMERIC_SENDER = re.compile(r"[A-Za-z0-9]{1,11}")
_TWILIO_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")


def sender_problem(text):
    """``text`` as a sender (E.164 number or alphanumeric sender ID) and None, or None and the
    reason it cannot be one."""
    text = (text or "").strip()
    if text.startswith("+") or (text and not re.search(r"[A-Za-z]", text)):
        try:
            return normalize_phone(text), None
        except PhoneRefused as refusal:
            return None, str(refusal)
    if not _ALPHANUMERIC_SENDER.fullmatch(text):
        return None, _l(
            "A sender name has 1 to 11 letters (A-Z, no accents) or digits, with no spaces, "
            "e.g. Northlight. Or enter a phone number with its country code, e.g. +46 70 123 45 67."
        )
    return text, None


class SmsSettingsForm(FlaskForm):
    provider = SelectField(
        _l("Provider"),
        choices=[
            SelectChoice(DEFAULT, _l("Proofsheet’s (no account needed)")),
            SelectChoice("46elks", _l("46elks")),
            SelectChoice("twilio", _l("Twilio")),
        ],
        default=DEFAULT,
    )
    username = StringField(
        _l("Account (46elks API username or Twilio Account SID)"),
        validators=[Length(max=64), single_line("text")],
    )
    password = PasswordField(
        _l("Secret (46elks API password or Twilio Auth Token)"),
        validators=[Length(max=255)],
        description=_l("Stored encrypted. Leave empty to keep the current one."),
    )
    sender = StringField(
        _l("Sender"),
        validators=[Length(max=32), single_line("text")],
        description=_l(
            "Your provider’s phone number with its country code (+46 76 686 10 04), or a name of "
            "up to 11 letters and digits (Northlight) where your provider and the country allow it."
        ),
    )
    rate_per_minute = IntegerField(
        _l("Texts per minute at most"),
        default=60,
        validators=[
            InputRequired(_l("Please enter how many texts may go out per minute (1 to 1000).")),
            NumberRange(1, 1000, _l("Enter a number of texts per minute from 1 to 1000.")),
        ],
    )

    def __init__(self, *args, saved_provider=None, has_password=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.saved_provider, self.has_password = saved_provider, has_password

    @property
    def own_provider(self):
        return self.provider.data in PROVIDERS

    def validate_username(self, field):
        field.data = (field.data or "").strip()
        if not self.own_provider:
            return
        if not field.data:
            raise ValidationError(_l("Please enter your account with this provider."))
        if self.provider.data == "twilio" and not _TWILIO_ACCOUNT_SID.fullmatch(field.data):
            raise ValidationError(
                _l(
                    "A Twilio Account SID is AC followed by 32 hexadecimal characters (0-9, a-f), "
                    "as shown in your Twilio console."
                )
            )

    def validate_password(self, field):
        if not self.own_provider or field.data:
            return
        if not self.has_password or self.saved_provider != self.provider.data:
            raise ValidationError(_l("Please enter the secret of this account."))

    def validate_sender(self, field):
        if not self.own_provider:
            return
        if not (field.data or "").strip():
            raise ValidationError(_l("Please enter the sender your texts come from."))
        sender, problem = sender_problem(field.data)
        if problem:
            raise ValidationError(problem)
        field.data = sender

    def values(self):
        return {
            "provider": self.provider.data,
            "username": self.username.data,
            "password": self.password.data or None,
            "sender": self.sender.data,
            "rate_per_minute": self.rate_per_minute.data,
        }


class TestTextForm(FlaskForm):
    to = StringField(
        _l("Send a test text to"),
        validators=[DataRequired(_l("Please enter a mobile number.")), Length(max=40)],
    )
