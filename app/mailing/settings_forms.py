"""Settings → Email."""

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.forms_common import single_line
from app.i18n import email_problem
from app.mailing.studio_settings import cc_list, refused_host_error


def _valid_address(value):
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValidationError(
            _l("%(address)s: %(reason)s", address=value, reason=email_problem(error))
        ) from None


class MailSettingsForm(FlaskForm):
    sender_email = StringField(
        _l("Send from (email address)"),
        validators=[DataRequired(_l("Please enter the address your emails come from."))],
    )
    sender_name = StringField(_l("“From” name"), validators=[Optional(), Length(max=120), single_line()])
    reply_to = StringField(_l("Replies go to (optional)"), validators=[Optional()])
    default_cc = StringField(
        _l("Always copy (CC)"),
        validators=[Optional(), Length(max=1000)],
        description=_l("Several addresses separated by semicolons."),
    )
    allow_operator_cc = BooleanField(_l("Operators may add CC addresses"))
    allow_operator_attachments = BooleanField(_l("Operators may attach files"))
    smtp_host = StringField(
        _l("SMTP server"),
        validators=[Optional(), Length(max=255), single_line("text")],
        description=_l("Leave empty to send through Proofsheet's server."),
    )
    security = SelectField(
        _l("Security"),
        choices=[
            SelectChoice("starttls", _l("STARTTLS (port 587)")),
            SelectChoice("ssl", _l("SSL/TLS (port 465)")),
            SelectChoice("none", _l("None (port 25)")),
        ],
        default="starttls",
    )
    smtp_port = IntegerField(
        _l("Port"),
        default=587,
        validators=[Optional(), NumberRange(1, 65535, _l("A port is a number from 1 to 65535."))],
    )
    allow_self_signed = BooleanField(_l("Allow a self-signed certificate"))
    username = StringField(
        _l("Username (leave empty for no login)"),
        validators=[Optional(), Length(max=255), single_line("text")],
    )
    password = PasswordField(
        _l("Password"),
        validators=[Length(max=255)],
        description=_l("Stored encrypted. Leave empty to keep the current one."),
    )

    def __init__(self, *args, has_password=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_password = has_password

    def validate_sender_email(self, field):
        field.data = _valid_address(field.data.strip())

    def validate_reply_to(self, field):
        if field.data:
            field.data = _valid_address(field.data.strip())

    def validate_default_cc(self, field):
        field.data = "; ".join(_valid_address(address) for address in cc_list(field.data))

    def validate_smtp_host(self, field):
        """Refuse a server on a private or local network now, not at the first dispatch."""
        host = (field.data or "").strip()
        if host:
            refusal = refused_host_error(host, self.smtp_port.data or 587)
            if refusal:
                raise ValidationError(refusal)

    def validate_smtp_port(self, field):
        if self.smtp_host.data and not field.data:
            raise ValidationError(_l("Please enter the server's port."))

    def validate_password(self, field):
        if self.username.data and not field.data and not self.has_password:
            raise ValidationError(_l("Please enter the password for this username."))

    def values(self):
        return {
            name: getattr(self, name).data
            for name in (
                "sender_email",
                "sender_name",
                "reply_to",
                "default_cc",
                "allow_operator_cc",
                "allow_operator_attachments",
                "smtp_host",
                "security",
                "smtp_port",
                "allow_self_signed",
                "username",
                "password",
            )
        } | {
            "smtp_host": (self.smtp_host.data or "").strip() or None,
            "smtp_port": self.smtp_port.data or 587,
            "sender_name": (self.sender_name.data or "").strip(),
            "reply_to": self.reply_to.data or None,
        }


class TestMessageForm(FlaskForm):
    to = StringField(
        _l("Send a test message to"), validators=[DataRequired(_l("Please enter an email address."))]
    )

    def validate_to(self, field):
        field.data = _valid_address(field.data.strip())


class SenderDomainForm(FlaskForm):
    domain = StringField(
        _l("Your domain"),
        validators=[
            DataRequired(_l("Please enter your domain, for example yourstudio.com.")),
            Length(max=253),
            single_line(),
        ],
        description=_l("The part after the @ of the address your emails come from."),
    )
