"""Forms of the client's shop: adding to the cart, quantities, checkout."""

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.forms_common import single_line
from app.galleries.public_forms import SMS_CONSENT_TEXT, check_phone, phone_field, sms_consent_field
from app.i18n import email_problem
from app.shop.addresses import address_problems, region_fields
from app.shop.cart import MAX_QUANTITY


class AddToCartForm(FlaskForm):
    gallery_id = HiddenField(validators=[DataRequired()])
    photo_id = HiddenField(validators=[DataRequired()])
    product_id = SelectField(_l("Product"), coerce=int, validate_choice=False)
    quantity = IntegerField(
        _l("Quantity"),
        default=1,
        validators=[
            DataRequired(_l("Please enter a quantity.")),
            NumberRange(
                1, MAX_QUANTITY, _l("Please enter a quantity between 1 and %(max)d.", max=MAX_QUANTITY)
            ),
        ],
    )


class QuantityForm(FlaskForm):
    quantity = IntegerField(
        _l("Quantity"),
        validators=[
            NumberRange(
                0, MAX_QUANTITY, _l("Please enter a quantity between 0 and %(max)d.", max=MAX_QUANTITY)
            )
        ],
    )


class CouponForm(FlaskForm):
    coupon_code = StringField(_l("Coupon code"), validators=[Optional(), Length(max=40)])


class CheckoutForm(FlaskForm):
    name = StringField(
        _l("Full name"),
        validators=[DataRequired(_l("Please enter your name.")), Length(max=200), single_line()],
    )
    email = StringField(_l("Email"), validators=[DataRequired(_l("Please enter your email."))])
    phone = phone_field(
        _l("Phone (optional)"), _l("A mobile number: for the carrier, and for texts about your order.")
    )
    sms_consent = sms_consent_field()
    delivery_method = RadioField(
        _l("Delivery"),
        choices=[
            SelectChoice("shipping", _l("Ship to my address")),
            SelectChoice("pickup", _l("Pick up at the studio")),
        ],
        default="shipping",
    )
    # Address lines are printed one per line on invoices and labels.
    address_line1 = StringField(_l("Address"), validators=[Length(max=200), single_line("text")])
    address_line2 = StringField(
        _l("Address line 2"), validators=[Optional(), Length(max=200), single_line("text")]
    )
    postal_code = StringField(_l("Postal code"), validators=[Length(max=20), single_line("text")])
    city = StringField(_l("City"), validators=[Length(max=120), single_line("text")])
    country = SelectField(_l("Country"), validators=[Optional()])
    # The state, province, oblast... of the countries whose postal format has one; its label and
    # list follow the chosen country (``region_setup``), text where the data lists no regions.
    region = StringField(_l("Region"), validators=[Optional(), Length(max=120), single_line("text")])
    coupon_code = StringField(_l("Coupon code"), validators=[Optional(), Length(max=40)])
    notify_status_changes = BooleanField(_l("Email me when my order status changes"))
    payment_method = RadioField(
        _l("Payment"), validators=[DataRequired(_l("Please choose a payment method."))]
    )

    def validate_email(self, field):
        try:
            field.data = validate_email(field.data, check_deliverability=False).normalized.lower()
        except EmailNotValidError as error:
            raise ValidationError(email_problem(error)) from None

    def __init__(self, *args, phone_region=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sms_consent_text = str(SMS_CONSENT_TEXT)
        self._phone_region = phone_region  # the studio's (default_region), without a delivery country

    def validate(self, extra_validators=None):
        """The fields, then the phone number (read in the delivery country, else the studio's)
        and the delivery address as a whole for its country (postal code format, required
        parts): each problem is shown on its own field."""
        valid = super().validate(extra_validators)
        shipping = self.delivery_method.data == "shipping" and self._needs_address
        region = (self.country.data if shipping else None) or self._phone_region
        valid = check_phone(self, region) and valid
        if not shipping:
            return valid
        problems = address_problems(
            self.country.data,
            self.address_line1.data,
            self.address_line2.data,
            self.postal_code.data,
            self.city.data,
            region=self.region.data or "",
        )
        for name, message in problems.items():
            if not self[name].errors:
                self[name].errors.append(message)
        return valid and not problems

    _needs_address = True

    def region_setup(self):
        """The region field for the country chosen now: {"label", "choices", "required",
        "shown"}; without a region in that country's format, a text field (for a reader without
        JavaScript who changes country) that the script hides."""
        field = region_fields().get((self.country.data or "").upper())
        if field is None:
            return {"label": str(self.region.label.text), "choices": [], "required": False, "shown": False}
        return {**field, "shown": True}

    def region_fields(self):
        """Every country's region field, for the checkout's script (``app.shop.addresses``)."""
        return region_fields()
