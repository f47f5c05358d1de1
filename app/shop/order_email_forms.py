"""Forms of Settings → Order emails and of the review queue."""

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from app.forms_common import single_line
from app.i18n import email_problem
from app.mailing.placeholders import PLACEHOLDER
from app.request_limits import rich_text_within_limit
from app.shop.order_email_content import (
    ATTACHMENT_LABELS,
    EVENTS,
    MODE_LABELS,
    VARIABLES,
    sanitize_order_body,
)
from app.shop.order_sms import MAX_SEGMENTS, SMS_MODE_LABELS, clean_text, segments_with, unknown_variables

EMPTY_BODIES = {"", "<p><br></p>", "<p></p>"}


def _known_variables(form, field):
    known = {variable.name for variable in VARIABLES}
    unknown = sorted({name for name in PLACEHOLDER.findall(field.data or "")} - known)
    if unknown:
        raise ValidationError(
            _l(
                "Unknown variable %(names)s: use the ones listed beside the editor.",
                names=", ".join(f"%{name}%" for name in unknown),
            )
        )


def _rich_body(form, field):
    if sanitize_order_body(field.data or "").strip() in EMPTY_BODIES:
        raise ValidationError(_l("Please write the message."))


class OrderEmailRulesForm(FlaskForm):
    """One row per event: when to send, to whom, review first, which PDF to attach."""

    invoice_details = TextAreaField(
        _l("Your details on invoices"),
        validators=[Length(max=1000)],
        description=_l("Address, company and tax numbers, as they must appear on invoices."),
    )

    @classmethod
    def for_events(cls, settings, formdata=None):
        """A form class with the event fields, filled from ``settings`` (event → setting)."""

        class Rules(cls):
            pass

        for event in EVENTS:
            setattr(
                Rules,
                f"{event}_mode",
                SelectField(choices=[SelectChoice(value, label) for value, label in MODE_LABELS.items()]),
            )
            setattr(
                Rules,
                f"{event}_sms",
                SelectField(choices=[SelectChoice(value, label) for value, label in SMS_MODE_LABELS.items()]),
            )
            setattr(Rules, f"{event}_client", BooleanField())
            setattr(Rules, f"{event}_operators", BooleanField())
            setattr(Rules, f"{event}_review", BooleanField())
            setattr(
                Rules,
                f"{event}_attachment",
                SelectField(
                    choices=[SelectChoice(value, label) for value, label in ATTACHMENT_LABELS.items()]
                ),
            )
        data = {}
        for event, setting in settings.items():
            data.update(
                {
                    f"{event}_mode": setting.mode,
                    f"{event}_sms": setting.sms_mode or "never",
                    f"{event}_client": setting.to_client,
                    f"{event}_operators": setting.to_operators,
                    f"{event}_review": setting.review,
                    f"{event}_attachment": setting.attachment or "",
                }
            )
        return Rules(formdata=formdata, data=data)

    def event_values(self, event):
        return {
            "mode": self[f"{event}_mode"].data,
            "to_client": self[f"{event}_client"].data,
            "to_operators": self[f"{event}_operators"].data,
            "review": self[f"{event}_review"].data,
            "attachment": self[f"{event}_attachment"].data,
            "sms_mode": self[f"{event}_sms"].data,
        }


class OrderEmailTemplateForm(FlaskForm):
    """The studio's wording of one order email."""

    subject = StringField(
        _l("Subject"),
        validators=[
            DataRequired(_l("Please write a subject.")),
            Length(max=200),
            single_line("subject"),
            _known_variables,
        ],
    )
    body_html = HiddenField(_l("Message"), validators=[rich_text_within_limit, _rich_body, _known_variables])


class OrderSmsForm(FlaskForm):
    """The studio's text message for one order event in one language. Its length is judged
    filled with ``values`` (the preview's: the latest order's, else samples), since a link or
    a name counts as much as what the studio types."""

    sms_body = TextAreaField(
        _l("Text message"),
        validators=[DataRequired(_l("Please write the text.")), Length(max=1000)],
    )

    def __init__(self, *args, values=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.values = values or {}

    def validate_sms_body(self, field):
        unknown = unknown_variables(field.data)
        if unknown:
            raise ValidationError(
                _l(
                    "Unknown variable %(names)s: a text can use the ones listed below it.",
                    names=", ".join(f"%{name}%" for name in unknown),
                )
            )
        count = segments_with(clean_text(field.data), self.values)
        if count.segments > MAX_SEGMENTS:
            raise ValidationError(
                _l(
                    "Too long: filled in, this text is sent as %(segments)s text messages; at most "
                    "%(most)s are allowed (459 characters, or 201 with an emoji or a non-Latin "
                    "letter). Please shorten it.",
                    segments=count.segments,
                    most=MAX_SEGMENTS,
                )
            )


def parse_addresses(text):
    """(addresses, problems) from "a@x; b@y": each refused address is named."""
    addresses, problems = [], []
    for address in [part.strip() for part in (text or "").replace(",", ";").split(";") if part.strip()]:
        try:
            addresses.append(validate_email(address, check_deliverability=False).normalized)
        except EmailNotValidError as error:
            problems.append(_("%(address)s: %(problem)s", address=address, problem=email_problem(error)))
    return addresses, problems


class ReviewForm(FlaskForm):
    """A held order email, as the operator sends it."""

    subject = StringField(
        _l("Subject"),
        validators=[DataRequired(_l("Please write a subject.")), Length(max=998), single_line("subject")],
    )
    body_html = HiddenField(_l("Message"), validators=[rich_text_within_limit, _rich_body])
    cc = StringField(_l("CC"), description=_l("Separate several addresses with ;"))
    attachments = MultipleFileField(_l("Attach files"), description=_l("PDF, JPEG or PNG, up to 10 MB each."))

    def validate_cc(self, field):
        addresses, problems = parse_addresses(field.data)
        if problems:
            raise ValidationError("; ".join(problems))
        field.addresses = addresses
