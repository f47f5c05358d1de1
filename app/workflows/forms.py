"""Forms of the workflow builder."""

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.forms_common import single_line
from app.i18n import email_problem
from app.request_limits import rich_text_within_limit
from app.sms.phone import PhoneRefused, normalize_phone
from app.workflows.describe import FILTER_LABELS, RULE_LABELS, TRIGGER_LABELS
from app.workflows.models import Purpose
from app.workflows.services import EMAIL_FIELDS, default_purpose, email_settings_problems, text_problems
from app.workflows.sms import sms_problems
from app.workflows.translations import has_text

SMS_MAX_LENGTH = 1000  # far beyond what the length check lets through: a bound on the request


def _sms_body_field():
    return TextAreaField(_l("Text message"), validators=[Length(max=SMS_MAX_LENGTH)])


class TitleForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(_l("Please give the workflow a title.")),
            Length(max=120),
            single_line("title"),
        ],
    )


class EmailForm(FlaskForm):
    """One email of a workflow; every rule is checked by ``email_settings_problems``."""

    trigger = SelectField(_l("When"), choices=[SelectChoice(k.value, v) for k, v in TRIGGER_LABELS.items()])
    rule = SelectField(_l("Rule"), choices=[SelectChoice(k.value, v) for k, v in RULE_LABELS.items()])
    days = IntegerField(_l("Days"), default=0, validators=[Optional()])
    send_time = TimeField(
        _l("Send at"), validators=[Optional()], description=_l("In your studio's timezone.")
    )
    recipient_filter = SelectField(
        _l("To"), choices=[SelectChoice(k.value, v) for k, v in FILTER_LABELS.items()]
    )
    purpose = RadioField(
        _l("Kind of email"),
        choices=[
            SelectChoice(
                Purpose.SERVICE.value,
                _l(
                    "Service: about the gallery itself (it is "
                    "ready, it will be archived), sent to every "
                    "client"
                ),
            ),
            SelectChoice(Purpose.MARKETING.value, _l("Marketing: promotions and reminders")),
        ],
        description=_l("Marketing emails go only to clients who ticked “news and offers”."),
    )
    subject = StringField(_l("Subject"), validators=[Length(max=200), single_line("subject")])
    body_html = HiddenField(_l("Message"), validators=[rich_text_within_limit])
    sms_enabled = BooleanField(_l("Also send a text message"))
    sms_body = _sms_body_field()

    def __init__(self, *args, language="en", **kwargs):
        super().__init__(*args, **kwargs)
        self.language = language  # the studio's: a marketing text's stop line is counted in it

    def validate(self, extra_validators=None):
        if self.purpose.data is None:  # not chosen (an older page): the likely one
            self.purpose.data = default_purpose(self.trigger.data, self.rule.data, self.recipient_filter.data)
        valid = super().validate(extra_validators)
        if self.rule.data == "instant":
            self.days.data, self.send_time.data = 0, None
        problems = email_settings_problems(
            self.trigger.data,
            self.rule.data,
            self.days.data,
            self.send_time.data,
            self.recipient_filter.data,
            self.subject.data,
            self.body_html.data,
        )
        if not has_text(self.body_html.data):
            problems.setdefault("body_html", _l("Please write the message."))
        sms = sms_problems(self.sms_body.data, self.purpose.data, self.language, bool(self.sms_enabled.data))
        if sms:
            problems["sms_body"] = sms[0]
        for name, message in problems.items():
            getattr(self, name).errors = [*getattr(self, name).errors, str(message)]
        return valid and not problems

    def values(self):
        return {name: getattr(self, name).data for name in EMAIL_FIELDS}


class TranslationForm(FlaskForm):
    """An email's subject, message and text message in one more client language (fields named
    ``<language>-subject``, ``<language>-body_html`` and ``<language>-sms_body``): subject and
    message empty, its clients get the default language's text; else the same rules as the
    default text. An empty text message: the default language's."""

    class Meta:
        csrf = False  # part of the email form, which carries the token

    subject = StringField(_l("Subject"), validators=[Length(max=200), single_line("subject")])
    body_html = HiddenField(_l("Message"), validators=[rich_text_within_limit])
    sms_body = _sms_body_field()

    def __init__(self, language, default_language_name, **kwargs):
        super().__init__(prefix=language, **kwargs)
        self.language, self.default_language_name = language, default_language_name
        self.purpose = Purpose.MARKETING  # the email's, set by the route before validating

    @property
    def is_empty(self):
        return not (self.subject.data or "").strip() and not has_text(self.body_html.data)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        sms = sms_problems(self.sms_body.data, self.purpose, self.language, required=False)
        if self.is_empty:
            if (self.sms_body.data or "").strip():
                sms = sms or [
                    _l(
                        "Please write the subject and message in this language too, or empty "
                        "this text message to send the %(language)s one.",
                        language=self.default_language_name,
                    )
                ]
            self.sms_body.errors = [*self.sms_body.errors, *map(str, sms)]
            return valid and not sms
        problems = text_problems(self.subject.data, self.body_html.data)
        if sms:
            problems["sms_body"] = sms[0]
        if not (self.subject.data or "").strip():
            problems["subject"] = _l(
                "Please write the subject too, or empty the message to send the %(language)s text.",
                language=self.default_language_name,
            )
        if not has_text(self.body_html.data):
            problems.setdefault(
                "body_html",
                _l(
                    "Please write the message too, or empty the subject to send the %(language)s text.",
                    language=self.default_language_name,
                ),
            )
        for name, message in problems.items():
            getattr(self, name).errors = [*getattr(self, name).errors, str(message)]
        return valid and not problems

    def text(self):
        return self.subject.data or "", self.body_html.data or ""

    def sms_text(self):
        return self.sms_body.data or ""


class TestSendForm(FlaskForm):
    to = StringField(_l("Send a test to"), validators=[DataRequired(_l("Please enter an email address."))])
    # The choices are the studio's client languages (set by the route); empty: the studio's.
    language = SelectField(_l("Language"), validate_choice=False)
    # Offered when the email has a text message: its test goes to this number too.
    phone = StringField(_l("And text a test to"), validators=[Optional()])

    def __init__(self, *args, phone_region=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.phone_region = phone_region  # the studio's country: a number typed without its code

    def validate_phone(self, field):
        try:
            field.data = normalize_phone(field.data.strip(), self.phone_region)
        except PhoneRefused as refused:
            raise ValidationError(str(refused)) from None

    def validate_language(self, field):
        if field.data and field.data not in {choice[0] for choice in field.choices or ()}:
            raise ValidationError(_l("Choose one of your clients' languages."))

    def validate_to(self, field):
        try:
            field.data = validate_email(field.data.strip(), check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ValidationError(email_problem(error)) from None


class ImageForm(FlaskForm):
    image = FileField(validators=[FileRequired(_l("Choose an image."))])


class GalleryWorkflowForm(FlaskForm):
    workflow = SelectField(_l("Email workflow"), validate_choice=False)
