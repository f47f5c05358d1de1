"""Forms of the photographer's shop pages.

Prices are typed as decimals in the studio's currency, written as the page's language writes
them ("1,250.00" in English, "1 250,00" in Swedish and French, "1.250,00" in German), and stored
as integer minor units; percentages are typed as "12.5" ("12,5") and stored as basis points.
Date-times are typed in the studio's timezone and stored in UTC.
"""

from datetime import timedelta
from decimal import Decimal

from babel.numbers import format_decimal
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app.forms_common import sane_date, single_line, year_in_range
from app.shop import admin_services as services
from app.shop import money
from app.shop.models import DigitalScope, DiscountKind, OrderStatus, ProductKind
from app.shop.orders import STATUS_LABELS, TRACKING_URLS, allowed_next_statuses
from app.timeutil import from_local, local_midnight, to_local

DATETIME_FORMAT = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
OTHER_CARRIER = "other"


def parse_amount(text, currency, allow_zero=True, locale=None):
    """A typed amount (in the page's language, see ``money.parse_amount``) as minor units, or
    ``ValidationError`` saying what is wrong with it."""
    try:
        return money.parse_amount(text, currency, allow_zero, locale)
    except money.AmountError as error:
        raise ValidationError(error.args[0]) from None


def parse_percent(text, locale=None):
    """A typed percentage ("12.5", "12,5 %" in Swedish) as basis points (1250): more than 0,
    at most 100."""
    text = (text or "").strip().rstrip("%").strip()
    try:
        percent = money.typed_decimal(text, locale)
    except money.AmountError:
        raise ValidationError(
            _l("Enter a percentage like %(example)s.", example=percent_text(1250, locale))
        ) from None
    if not 0 < percent <= 100:
        raise ValidationError(_l("A percentage must be more than 0 and at most 100."))
    basis_points = percent * 100
    if basis_points != basis_points.to_integral_value():
        raise ValidationError(_l("Use at most two decimals in a percentage."))
    return int(basis_points)


def amount_text(minor, currency):
    """Minor units as the form shows them, in the page's language: "9.00", "9,00"."""
    return money.amount_text(minor, currency)


def percent_text(basis_points, locale=None):
    """Basis points as the form shows them, to be typed again: "12.5", "12,5"."""
    return format_decimal(
        Decimal(basis_points).scaleb(-2), format="0.##", locale=money.current_locale(locale)
    )


class MoneyField(StringField):
    """An amount in the form's currency (``form.currency``); ``.minor`` is the parsed value.

    Empty means 0 unless ``required``.
    """

    def __init__(self, label=None, validators=None, required=False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.required, self.minor = required, None

    def pre_validate(self, form):
        self.minor = None
        if not (self.data or "").strip():
            if self.required:
                raise ValidationError(_l("Enter an amount."))
            self.minor = 0
            return
        self.minor = parse_amount(self.data, form.currency)


class StudioForm(FlaskForm):
    """A form knowing the studio (currency, timezone)."""

    def __init__(self, studio, *args, **kwargs):
        self.studio, self.currency = studio, studio.currency
        super().__init__(*args, **kwargs)

    def utc(self, field):
        return from_local(field.data, self.studio.timezone)

    def show_local(self, field, moment):
        if not self.is_submitted():
            field.data = to_local(moment, self.studio.timezone)


# ------------------------------------------------------------------ price lists and products


class PriceListForm(StudioForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the price list a name.")), Length(max=120), single_line()],
        description=_l("For you only, for example “School 2026” or “Weddings”."),
    )
    shipping = MoneyField(
        _l("Shipping cost"),
        description=_l("Charged once per order with prints or packages. Leave empty for free shipping."),
    )
    allows_pickup = BooleanField(_l("Clients may pick their order up at the studio instead"))
    pickup_instructions = TextAreaField(
        _l("Pickup instructions"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Where and when, shown at checkout."),
    )

    def __init__(self, studio, price_list=None, **kwargs):
        super().__init__(studio, obj=price_list, **kwargs)
        if price_list is not None and not self.is_submitted():
            self.shipping.data = amount_text(price_list.shipping_minor, self.currency)

    def to_data(self):
        return services.PriceListData(
            name=self.name.data.strip(),
            shipping_minor=self.shipping.minor,
            allows_pickup=self.allows_pickup.data,
            pickup_instructions=(self.pickup_instructions.data or "").strip(),
        )


KIND_LABELS = {
    ProductKind.PRINT: _l("Print"),
    ProductKind.DIGITAL: _l("Digital download"),
    ProductKind.PACKAGE: _l("Package"),
}
SCOPE_LABELS = {
    DigitalScope.PHOTO: _l("The photo it is ordered for"),
    DigitalScope.CARD: _l("Every photo of the client's QR card"),
    DigitalScope.GALLERY: _l("Every photo of the gallery the client can see"),
}


class ProductForm(StudioForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(kind, label) for kind, label in KIND_LABELS.items()])
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the product a name.")), Length(max=120), single_line()],
        description=_l("What clients see, for example “Print 13 × 18 cm”."),
    )
    price = MoneyField(_l("Price"), required=True)
    print_size = StringField(_l("Print size"), validators=[Length(max=40), single_line("text")])
    paper = StringField(
        _l("Paper"),
        validators=[Length(max=40), single_line("text")],
        description=_l("For example lustre, matte or glossy."),
    )
    digital_scope = SelectField(
        _l("The download contains"),
        choices=[SelectChoice(scope, label) for scope, label in SCOPE_LABELS.items()],
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])
    includes_download = BooleanField(_l("Includes the digital file of the photo"))
    is_active = BooleanField(_l("On sale"), default=True)

    def __init__(self, studio, product=None, kind=None, **kwargs):
        super().__init__(studio, obj=product, **kwargs)
        if not self.is_submitted():
            if product is not None:
                self.price.data = amount_text(product.price_minor, self.currency)
            elif kind in KIND_LABELS:
                self.kind.data = kind

    def validate_print_size(self, field):
        if self.kind.data == ProductKind.PRINT and not (field.data or "").strip():
            raise ValidationError(_l("Enter the print size, for example 13 × 18 cm."))

    def validate_description(self, field):
        if self.kind.data == ProductKind.PACKAGE and not (field.data or "").strip():
            raise ValidationError(_l("Describe what the package contains."))

    def to_data(self):
        def text(field):
            return (field.data or "").strip()

        return services.ProductData(
            kind=self.kind.data,
            name=text(self.name),
            description=text(self.description),
            print_size=text(self.print_size) or None,
            paper=text(self.paper) or None,
            digital_scope=self.digital_scope.data,
            includes_download=self.includes_download.data,
            price_minor=self.price.minor,
            is_active=self.is_active.data,
        )


class GalleryPricingForm(FlaskForm):
    """The price lists a gallery sells from; only the studio's own lists are offered."""

    price_list = SelectField(_l("Price list"), coerce=int)
    group_price_list = SelectField(
        _l("Price list for group photos"),
        coerce=int,
        description=_l(
            "Photos on several QR cards (class or team photos) are sold from this list. "
            "Leave on “Same as above” to use the main list."
        ),
    )

    def __init__(self, price_lists, gallery, pricing=None, **kwargs):
        super().__init__(**kwargs)
        options = [SelectChoice(price_list.id, price_list.name) for price_list in price_lists]
        self.price_list.choices = [SelectChoice(0, _l("None: nothing is for sale")), *options]
        self.group_price_list.choices = [SelectChoice(0, _l("Same as above")), *options]
        if not gallery.is_qr:
            del self.group_price_list
        if pricing is not None and not self.is_submitted():
            self.price_list.data = pricing.price_list_id or 0
            if gallery.is_qr:
                self.group_price_list.data = pricing.group_price_list_id or 0

    def chosen(self):
        group = self.group_price_list.data if "group_price_list" in self else 0
        return self.price_list.data or None, group or None


# ------------------------------------------------------------------ promotions and coupons


class DiscountForm(StudioForm):
    """Shared by promotions and coupons: a percent or fixed discount and a minimum order."""

    discount_kind = SelectField(
        _l("Discount"),
        choices=[
            SelectChoice(DiscountKind.PERCENT, _l("Percentage off")),
            SelectChoice(DiscountKind.FIXED, _l("Fixed amount off")),
        ],
    )
    discount = StringField(_l("Value"), description=_l("A percentage (12.5) or an amount in your currency."))
    minimum_order = MoneyField(_l("Minimum order"), description=_l("Leave empty for no minimum."))

    def __init__(self, studio, row=None, **kwargs):
        super().__init__(studio, obj=row, **kwargs)
        self.discount_value = None
        if row is not None and not self.is_submitted():
            percent = row.discount_kind == DiscountKind.PERCENT
            self.discount.data = (
                percent_text(row.discount_value)
                if percent
                else amount_text(row.discount_value, self.currency)
            )
            self.minimum_order.data = (
                amount_text(row.minimum_order_minor, self.currency) if row.minimum_order_minor else ""
            )

    def validate_discount(self, field):
        if not (field.data or "").strip():
            raise ValidationError(_l("Enter the discount."))
        if self.discount_kind.data == DiscountKind.PERCENT:
            self.discount_value = parse_percent(field.data)
        else:
            self.discount_value = parse_amount(field.data, self.currency, allow_zero=False)


class PromotionForm(DiscountForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the promotion a name.")), Length(max=120), single_line()],
        description=_l("Shown to clients in the gallery's banner, for example “Early bird”."),
    )
    starts_at = DateTimeLocalField(
        _l("Starts"),
        format=DATETIME_FORMAT,
        validators=[DataRequired(_l("Enter when the promotion starts.")), sane_date()],
    )
    ends_at = DateTimeLocalField(
        _l("Ends"),
        format=DATETIME_FORMAT,
        validators=[DataRequired(_l("Every promotion needs an end: enter when it ends.")), sane_date()],
        description=_l("Clients on your email workflows are reminded before it ends."),
    )

    def __init__(self, studio, promotion=None, now=None, **kwargs):
        super().__init__(studio, promotion, **kwargs)
        if promotion is not None:
            self.show_local(self.starts_at, promotion.starts_at)
            self.show_local(self.ends_at, promotion.ends_at)
        elif now is not None:
            self.show_local(self.starts_at, now.replace(second=0, microsecond=0))

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and self.utc(field) <= self.utc(self.starts_at):
            raise ValidationError(_l("The promotion must end after it starts."))

    def to_data(self):
        return services.PromotionData(
            name=self.name.data.strip(),
            discount_kind=self.discount_kind.data,
            discount_value=self.discount_value,
            minimum_order_minor=self.minimum_order.minor,
            starts_at=self.utc(self.starts_at),
            ends_at=self.utc(self.ends_at),
        )


class CouponForm(DiscountForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(_l("Enter the code clients will type.")),
            Length(max=40),
            single_line("text"),
            Regexp(
                r"^\s*[A-Za-z0-9_-]+\s*$",
                message=_l("Use only letters, digits, hyphens and underscores (for example SPRING-10)."),
            ),
        ],
        description=_l("Clients type it at checkout; upper and lower case are the same."),
    )
    valid_from = DateTimeLocalField(
        _l("Valid from"),
        format=DATETIME_FORMAT,
        validators=[Optional(), sane_date()],
        description=_l("Leave empty: valid at once."),
    )
    valid_until = DateTimeLocalField(
        _l("Valid until"),
        format=DATETIME_FORMAT,
        validators=[Optional(), sane_date()],
        description=_l("Leave empty: no end date."),
    )
    usage_limit = IntegerField(
        _l("Usage limit"),
        validators=[Optional(), NumberRange(min=1, message=_l("The limit must be at least 1."))],
        description=_l("How many orders may use it in total. Leave empty for no limit."),
    )

    def __init__(self, studio, coupon=None, **kwargs):
        super().__init__(studio, coupon, **kwargs)
        self.coupon = coupon
        if coupon is not None:
            self.show_local(self.valid_from, coupon.valid_from)
            self.show_local(self.valid_until, coupon.valid_until)

    def validate_code(self, field):
        field.data = services.normalize_code(field.data)
        exclude = self.coupon.id if self.coupon else None
        if field.data and services.coupon_code_taken(self.studio.id, field.data, exclude):
            raise ValidationError(
                _l("You already have a coupon %(code)s. Choose another code.", code=field.data)
            )

    def validate_valid_until(self, field):
        if field.data and self.valid_from.data and self.utc(field) <= self.utc(self.valid_from):
            raise ValidationError(_l("The end of validity must come after its start."))

    def validate_usage_limit(self, field):
        if self.coupon is not None and field.data is not None and field.data < self.coupon.times_used:
            raise ValidationError(
                lazy_ngettext(
                    "Already used %(num)d time: the limit cannot be lower.",
                    "Already used %(num)d times: the limit cannot be lower.",
                    self.coupon.times_used,
                )
            )

    def to_data(self):
        return services.CouponData(
            code=self.code.data,
            discount_kind=self.discount_kind.data,
            discount_value=self.discount_value,
            minimum_order_minor=self.minimum_order.minor,
            valid_from=self.utc(self.valid_from),
            valid_until=self.utc(self.valid_until),
            usage_limit=self.usage_limit.data,
        )


# ------------------------------------------------------------------ orders


class OrderFilterForm(FlaskForm):
    """The order list's filters, read from the query string (GET: no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)])
    gallery = SelectField(_l("Gallery"), coerce=int, validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)
    client = SelectField(_l("Client"), coerce=int, validate_choice=False)
    placed_from = DateField(_l("Placed from"), validators=[Optional(), sane_date()])
    placed_to = DateField(_l("Placed until"), validators=[Optional(), sane_date()])

    def __init__(self, galleries, clients, **kwargs):
        super().__init__(**kwargs)
        self.gallery.choices = [
            SelectChoice(0, _l("All galleries")),
            *(SelectChoice(row.id, row.title) for row in galleries),
        ]
        self.status.choices = [
            SelectChoice("", _l("All statuses")),
            *(SelectChoice(s.value, STATUS_LABELS[s]) for s in OrderStatus),
        ]
        self.client.choices = [
            SelectChoice(0, _l("All clients")),
            *(SelectChoice(row.id, f"{row.name} <{row.email}>") for row in clients),
        ]

    def _int(self, field):
        try:
            return int(field.data or 0) or None
        except (TypeError, ValueError):
            return None

    def filters(self, timezone):
        """The filters, with the placed dates as UTC instants of the studio's local days."""
        # A date that does not parse arrives as None and simply filters nothing; so does one out
        # of the sane years (this GET form is not validated; converting year 1 would overflow).
        placed_from, placed_to = (
            field.data if year_in_range(field.data) else None for field in (self.placed_from, self.placed_to)
        )
        status = self.status.data if self.status.data in set(OrderStatus) else None
        return services.OrderFilters(
            search=(self.q.data or "").strip()[:200],
            gallery_id=self._int(self.gallery),
            status=status,
            client_id=self._int(self.client),
            placed_from=local_midnight(placed_from, timezone) if placed_from else None,
            placed_before=local_midnight(placed_to + timedelta(days=1), timezone) if placed_to else None,
        )


class StatusChangeForm(FlaskForm):
    """Move an order on. The status is checked by the shop's rules, which explain any refusal."""

    status = SelectField(_l("New status"), validate_choice=False)
    carrier = SelectField(
        _l("Carrier"),
        choices=[
            SelectChoice("", _l("Choose a carrier")),
            *(SelectChoice(name, name) for name in TRACKING_URLS),
            SelectChoice(OTHER_CARRIER, _l("Other")),
        ],
        default="",
    )
    other_carrier = StringField(_l("Carrier name"), validators=[Length(max=60), single_line()])
    tracking_number = StringField(_l("Tracking number"), validators=[Length(max=80), single_line("text")])
    reason = TextAreaField(_l("Reason for the cancellation"), validators=[Length(max=2000)])
    note = StringField(
        _l("Note for the history (optional)"), validators=[Length(max=500), single_line("text")]
    )

    def __init__(self, order, **kwargs):
        super().__init__(**kwargs)
        self.status.choices = [SelectChoice(s.value, STATUS_LABELS[s]) for s in allowed_next_statuses(order)]

    def validate_status(self, field):
        if field.data not in set(OrderStatus):
            raise ValidationError(_l("Choose the order's new status."))

    def carrier_name(self):
        if self.carrier.data == OTHER_CARRIER:
            return (self.other_carrier.data or "").strip()
        return self.carrier.data or ""


class ExpectedDeliveryForm(FlaskForm):
    expected_delivery_on = DateField(
        _l("Expected delivery"),
        validators=[Optional(), sane_date()],
        description=_l("Shown to the client. Leave empty to clear it."),
    )


class ConfirmForm(FlaskForm):
    """An empty form: a CSRF-checked POST for actions like delete, move, deactivate."""
