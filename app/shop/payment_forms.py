"""Forms of the payment pages: the studio's settings, a gallery's methods, a refund."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms_common import single_line
from app.shop.admin_forms import MoneyField, amount_text
from app.shop.payment_bank import normalized_bic, normalized_iban
from app.shop.payment_settings import METHOD_KEYS, stripe_secret_key, stripe_webhook_secret

SECRET_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_")


def _mode(key):
    return "test" if "_test_" in key else "live"


class PaymentSettingsForm(FlaskForm):
    card_enabled = BooleanField(_l("Accept cards through Stripe Checkout"))
    stripe_publishable_key = StringField(
        _l("Publishable key"), validators=[Optional(), Length(max=255), single_line("text")]
    )
    stripe_secret_key = PasswordField(
        _l("Secret key"), validators=[Optional(), Length(max=255), single_line("text")]
    )
    stripe_webhook_secret = PasswordField(
        _l("Webhook signing secret"), validators=[Optional(), Length(max=255), single_line("text")]
    )
    bank_transfer_enabled = BooleanField(_l("Accept bank transfers"))
    bank_account_holder = StringField(
        _l("Account holder"), validators=[Optional(), Length(max=70), single_line()]
    )
    bank_iban = StringField(_l("IBAN"), validators=[Optional(), Length(max=50), single_line("text")])
    bank_bic = StringField(_l("BIC"), validators=[Optional(), Length(max=20), single_line("text")])
    bank_other_details = TextAreaField(
        _l("Other account details"),
        validators=[Optional(), Length(max=500)],
        description=_l("National details instead of an IBAN, e.g. “Bankgiro 5050-1055”."),
    )
    pay_at_pickup_enabled = BooleanField(_l("Allow paying at pickup"))

    def __init__(self, row, **kwargs):
        super().__init__(obj=row, **kwargs)
        self._row = row

    def validate_stripe_publishable_key(self, field):
        if field.data and not field.data.startswith(("pk_test_", "pk_live_")):
            raise ValidationError(_l("A publishable key starts with pk_test_ or pk_live_."))

    def validate_stripe_secret_key(self, field):
        if field.data and not field.data.startswith(SECRET_PREFIXES):
            raise ValidationError(
                _l("A secret key starts with sk_test_ or sk_live_ (or rk_ for a restricted key).")
            )
        publishable = self.stripe_publishable_key.data or ""
        secret = field.data or (self._row.stripe_key_prefix if self._row else "")
        if publishable and secret and _mode(publishable) != _mode(secret):
            raise ValidationError(
                _l("The publishable and secret keys must both be test keys or both live keys.")
            )

    def validate_stripe_webhook_secret(self, field):
        if field.data and not field.data.startswith("whsec_"):
            raise ValidationError(_l("A webhook signing secret starts with whsec_."))

    def validate_card_enabled(self, field):
        if not field.data:
            return
        if not (self.stripe_secret_key.data or stripe_secret_key(self._row)):
            raise ValidationError(_l("Enter your Stripe secret key to accept cards."))
        if not (self.stripe_webhook_secret.data or stripe_webhook_secret(self._row)):
            raise ValidationError(
                _l(
                    "Enter the webhook signing secret to accept cards: "
                    "orders become paid only from Stripe's signed webhook."
                )
            )

    def validate_bank_iban(self, field):
        if field.data:
            try:
                field.data = normalized_iban(field.data)
            except ValueError as error:
                raise ValidationError(str(error)) from None
            if not (self.bank_account_holder.data or "").strip():
                self.bank_account_holder.errors = list(self.bank_account_holder.errors) + [
                    _l("Enter the account holder's name, as the bank knows it.")
                ]
                raise ValidationError(_l("An IBAN needs the account holder's name."))

    def validate_bank_bic(self, field):
        if field.data:
            try:
                field.data = normalized_bic(field.data)
            except ValueError as error:
                raise ValidationError(str(error)) from None

    def values(self):
        """What ``payment_settings.save_settings`` stores (secrets blank: keep the stored)."""
        return {
            "card_enabled": self.card_enabled.data,
            "stripe_publishable_key": (self.stripe_publishable_key.data or "").strip(),
            "stripe_secret_key": (self.stripe_secret_key.data or "").strip(),
            "stripe_webhook_secret": (self.stripe_webhook_secret.data or "").strip(),
            "bank_transfer_enabled": self.bank_transfer_enabled.data,
            "bank_account_holder": (self.bank_account_holder.data or "").strip(),
            "bank_iban": self.bank_iban.data or "",
            "bank_bic": self.bank_bic.data or "",
            "bank_other_details": (self.bank_other_details.data or "").strip(),
            "pay_at_pickup_enabled": self.pay_at_pickup_enabled.data,
        }


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class GalleryPaymentMethodsForm(FlaskForm):
    mode = RadioField(
        _l("Payment methods"),
        choices=[
            SelectChoice("studio", _l("Every method the studio accepts")),
            SelectChoice("chosen", _l("Only these:")),
        ],
        default="studio",
    )
    methods = MultiCheckboxField(_l("Methods"), choices=[])

    def __init__(self, labels, choice=None, **kwargs):
        super().__init__(**kwargs)
        self.methods.choices = [SelectChoice(key, labels[key]) for key in METHOD_KEYS]
        if kwargs.get("formdata", True) is None or not self.is_submitted():
            self.mode.data = "studio" if choice is None else "chosen"
            self.methods.data = list(choice or [])

    def validate_methods(self, field):
        if self.mode.data == "chosen" and not field.data:
            raise ValidationError(_l("Choose at least one payment method."))

    def chosen(self):
        return None if self.mode.data == "studio" else list(self.methods.data)


class RefundForm(FlaskForm):
    amount = MoneyField(_l("Amount to refund"), required=True)
    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=200), single_line()])

    def __init__(self, order, refundable_minor, **kwargs):
        self.currency, self._refundable = order.currency, refundable_minor
        super().__init__(**kwargs)

    def validate_amount(self, field):
        if field.minor is not None and field.minor <= 0:
            raise ValidationError(_l("The amount must be more than zero."))
        if field.minor is not None and field.minor > self._refundable:
            raise ValidationError(
                _l(
                    "At most %(amount)s can still be refunded.",
                    amount=amount_text(self._refundable, self.currency),
                )
            )
