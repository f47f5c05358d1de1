"""What order emails say: the events, their standard wording, the %variables% and rendering.

The standard subject and body of each event are gettext strings, so each language has its own;
a studio may replace them, language by language, with its own wording (``OrderEmailWording``),
edited with the same editor as workflow emails and sanitized the same way. A client gets the
emails in their own language when the studio offers it, else in the studio's language.
"""

import re
from dataclasses import dataclass
from datetime import date

import css_inline
from flask import render_template
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from app.i18n import client_languages, with_variables
from app.mailing.placeholders import substitute
from app.mailing.plain_text import html_to_text
from app.sanitize import sanitize
from app.shop.client_services import my_orders_token
from app.shop.models import OrderStatus
from app.shop.money import format_money
from app.shop.orders import STATUS_LABELS, tracking_url
from app.shop.payments import PROVIDERS
from app.urls import external_url

NEVER, ALWAYS, REQUESTED = "never", "always", "requested"
NO_ATTACHMENT, CONFIRMATION_PDF, INVOICE_PDF = "", "confirmation", "invoice"


@dataclass(frozen=True)
class Default:
    mode: str
    to_operators: bool
    subject: object
    body: object


DEFAULTS = {
    "placed": Default(
        ALWAYS,
        True,
        _l("Your order %(order_number)s"),
        _l(
            "<p>Hello %(client_name)s,</p><p>Thank you for your order %(order_number)s. Here is what "
            "you ordered:</p>%(order_items)s<p>%(payment_instructions)s</p>"
            '<p><a href="%(order_link)s">Follow my orders</a></p>'
        ),
    ),
    "paid": Default(
        REQUESTED,
        False,
        _l("Payment received for order %(order_number)s"),
        _l(
            "<p>Hello %(client_name)s,</p><p>We received your payment for order %(order_number)s "
            "(%(order_total)s). We are preparing it now.</p>"
            '<p><a href="%(order_link)s">Follow my orders</a></p>'
        ),
    ),
    "in_production": Default(
        REQUESTED,
        False,
        _l("Order %(order_number)s is being prepared"),
        _l("<p>Hello %(client_name)s,</p><p>Your order %(order_number)s is in production at our lab.</p>"),
    ),
    "shipped": Default(
        ALWAYS,
        False,
        _l("Order %(order_number)s is on its way"),
        _l(
            "<p>Hello %(client_name)s,</p><p>Your order %(order_number)s has been shipped with "
            "%(carrier)s (tracking number %(tracking_number)s).</p>"
            '<p><a href="%(tracking_link)s">Track your parcel</a></p>'
        ),
    ),
    "ready_for_pickup": Default(
        ALWAYS,
        False,
        _l("Order %(order_number)s is ready for pickup"),
        _l(
            "<p>Hello %(client_name)s,</p><p>Your order %(order_number)s is ready: you can pick it "
            "up at the studio.</p>"
        ),
    ),
    "delivered": Default(
        REQUESTED,
        False,
        _l("Order %(order_number)s was delivered"),
        _l(
            "<p>Hello %(client_name)s,</p><p>Your order %(order_number)s was delivered. We hope you "
            "love your photos!</p>"
        ),
    ),
    "cancelled": Default(
        ALWAYS,
        True,
        _l("Order %(order_number)s was cancelled"),
        _l("<p>Hello %(client_name)s,</p><p>Your order %(order_number)s was cancelled: %(reason)s</p>"),
    ),
    "delivery_changed": Default(
        REQUESTED,
        False,
        _l("Order %(order_number)s: new expected delivery date"),
        _l(
            "<p>Hello %(client_name)s,</p><p>Your order %(order_number)s is now expected on "
            '%(expected_delivery)s.</p><p><a href="%(order_link)s">Follow my orders</a></p>'
        ),
    ),
    "refunded": Default(
        ALWAYS,
        False,
        _l("Refund for order %(order_number)s"),
        _l(
            "<p>Hello %(client_name)s,</p><p>We refunded %(refund_amount)s of your order "
            "%(order_number)s to your card. Depending on your bank, it shows on your account within "
            'a few days.</p><p><a href="%(order_link)s">Follow my orders</a></p>'
        ),
    ),
    "download_ready": Default(
        ALWAYS,
        False,
        _l("Your photos from order %(order_number)s are ready to download"),
        _l(
            "<p>Hello %(client_name)s,</p><p>Your digital photos from order %(order_number)s are "
            'ready.</p><p><a href="%(download_link)s">Download your photos</a></p>'
            "<p>The download links work for a week; your orders page always makes new ones.</p>"
        ),
    ),
}
EVENTS = list(DEFAULTS)
EVENT_LABELS: dict[str, object] = {
    "placed": _l("Order placed"),
    **{status.value: STATUS_LABELS[status] for status in OrderStatus if status.value in DEFAULTS},
    "delivery_changed": _l("Expected delivery date changed"),
    "refunded": _l("Refunded"),
    "download_ready": _l("Download ready"),
}
MODE_LABELS = {
    NEVER: _l("Never"),
    ALWAYS: _l("Always"),
    REQUESTED: _l("When the client asked for status emails"),
}
ATTACHMENT_LABELS = {
    NO_ATTACHMENT: _l("No attachment"),
    CONFIRMATION_PDF: _l("Order confirmation (PDF)"),
    INVOICE_PDF: _l("Invoice (PDF)"),
}


@dataclass(frozen=True)
class OrderVariable:
    name: str
    description: object
    sample: str


VARIABLES = [
    OrderVariable("client_name", _l("The client's name"), "Alex Martin"),
    OrderVariable("client_email", _l("The client's email address"), "alex.martin@example.com"),
    OrderVariable("order_number", _l("The order's number"), "2027-00042"),
    OrderVariable("order_date", _l("When the order was placed"), "12 March 2027"),
    OrderVariable("order_total", _l("The order's total"), "€58.90"),
    OrderVariable("order_items", _l("The ordered items with their prices and the total"), ""),
    OrderVariable("status", _l("The order's status"), "Shipped"),
    OrderVariable("carrier", _l("The carrier"), "DHL"),
    OrderVariable("tracking_number", _l("The tracking number"), "JD014600006281234567"),
    OrderVariable(
        "tracking_link",
        _l("Link to follow the parcel (the carrier's page when we know it, else the client's orders)"),
        "https://www.dhl.com/en/express/tracking.html?AWB=JD014600006281234567",
    ),
    OrderVariable("expected_delivery", _l("The expected delivery date"), "20 March 2027"),
    OrderVariable("order_link", _l("Link to the client's orders"), "https://photos.example.com/orders"),
    OrderVariable("download_link", _l("Link to the client's downloads"), "https://photos.example.com/orders"),
    OrderVariable(
        "payment_instructions",
        _l("How to pay (for orders not paid yet)"),
        "Please transfer the total with your order number as the reference.",
    ),
    OrderVariable("reason", _l("Why the order was cancelled"), "Requested by the client"),
    OrderVariable("refund_amount", _l("The amount refunded (refund emails)"), "€12.00"),
    OrderVariable("studio_name", _l("Your studio's name"), "Northlight Studio"),
]
LINK_VARIABLES = frozenset({"order_link", "tracking_link", "download_link"})  # https URLs


def sanitize_order_body(html):
    """``app.sanitize.sanitize`` for an order email: its link variables may start a URL."""
    return sanitize(html, LINK_VARIABLES)


def standard_subject(event):
    """The standard subject of ``event`` in the current locale (``force_locale``)."""
    return with_variables(DEFAULTS[event].subject)


def standard_body(event):
    """The standard body of ``event`` in the current locale (``force_locale``)."""
    return with_variables(DEFAULTS[event].body)


# The editor (Quill) gives every link rel and target attributes and may wrap a variable that
# stands between paragraphs in a paragraph of its own: neither is a change of wording.
_LINK_NOISE = re.compile(r'\s(?:rel|target)="[^"]*"')
_PARAGRAPHS = re.compile(r"</?p>")


def _comparable(body):
    html = _PARAGRAPHS.sub(" ", _LINK_NOISE.sub("", sanitize_order_body(body)))
    return " ".join(html.split())


def is_standard_wording(subject, body, standard):
    """Whether (subject, body) says what the ``standard`` (subject, body) says."""
    return one_line(subject) == one_line(standard[0]) and _comparable(body) == _comparable(standard[1])


# ------------------------------------------------------------------ languages


def email_language(order, studio):
    """The language of the client's emails about ``order``: the client's when the studio offers
    it, else the studio's."""
    language = order.client.language if order.client is not None else None
    return language if language in client_languages(studio) else studio.language


# ------------------------------------------------------------------ values


def _items_table(order, locale):
    money = lambda minor: escape(format_money(minor, order.currency, locale))  # noqa: E731
    rows = [(f"{item.quantity} × {item.product_name}", money(item.line_total_minor)) for item in order.items]
    if order.promotion_discount_minor:
        rows.append((_("Promotion"), "−" + money(order.promotion_discount_minor)))
    if order.coupon_discount_minor:
        rows.append(
            (_("Coupon %(code)s", code=order.coupon_code or ""), "−" + money(order.coupon_discount_minor))
        )
    if order.shipping_minor:
        rows.append((_("Shipping"), money(order.shipping_minor)))
    cells = "".join(
        f'<tr><td style="padding:4px 0">{escape(label)}</td>'
        f'<td style="padding:4px 0" align="right">{amount}</td></tr>'
        for label, amount in rows
    )
    total = (
        f'<tr><td style="padding:4px 0"><strong>{escape(_("Total"))}</strong></td>'
        f'<td style="padding:4px 0" align="right"><strong>{money(order.total_minor)}'
        "</strong></td></tr>"
    )
    return Markup(
        '<table role="presentation" width="100%" cellspacing="0" '
        f'style="border-collapse:collapse">{cells}{total}</table>'
    )


def order_values(order, studio, language, reason=None, refund_minor=None):
    """Every variable's value for ``order``, in ``language``; call inside that locale
    (``force_locale(language)``: labels and dates follow it)."""
    orders_link = external_url("shop.my_orders", token=my_orders_token(studio.id, order.client_id))
    locale = language or studio.language or "en"
    provider = PROVIDERS.get(order.payment_method)
    instructions = provider.start(order).instructions if provider and order.status == OrderStatus.NEW else ""
    return {
        "client_name": order.contact_name,
        "client_email": order.contact_email,
        "order_number": order.number,
        "order_date": format_date(order.placed_at.date(), "long"),
        "order_total": format_money(order.total_minor, order.currency, locale),
        "order_items": _items_table(order, locale),
        "status": str(STATUS_LABELS.get(order.status, order.status)),
        "carrier": order.carrier or "",
        "tracking_number": order.tracking_number or "",
        "tracking_link": tracking_url(order) or orders_link,
        "expected_delivery": (
            format_date(order.expected_delivery_on, "long") if order.expected_delivery_on else ""
        ),
        "order_link": orders_link,
        "download_link": orders_link,
        "payment_instructions": instructions,
        "reason": reason or order.cancel_reason or "",
        "studio_name": studio.name,
        "refund_amount": format_money(
            refund_minor if refund_minor is not None else order.refunded_minor, order.currency, locale
        ),
    }


def sample_values(studio, language):
    """Values for a preview when the studio has no order yet (amounts and dates in
    ``language``; call inside that locale)."""
    money = lambda minor: format_money(minor, studio.currency, language)  # noqa: E731
    values = {variable.name: variable.sample for variable in VARIABLES}
    values.update(
        {
            "studio_name": studio.name,
            "order_total": money(5890),
            "refund_amount": money(1200),
            "order_date": format_date(date(2027, 3, 12), "long"),
            "expected_delivery": format_date(date(2027, 3, 20), "long"),
            "status": str(STATUS_LABELS[OrderStatus.SHIPPED]),
        }
    )
    print_label, download_label = _("Print"), _("Digital download")
    rows = [(f"2 × {print_label} 13×18", money(1600)), (f"1 × {download_label}", money(1200))]
    cells = "".join(
        f'<tr><td>{escape(label)}</td><td align="right">{escape(amount)}</td></tr>' for label, amount in rows
    )
    values["order_items"] = Markup(
        f'<table role="presentation" width="100%">{cells}<tr><td><strong>{escape(_("Total"))}'
        f'</strong></td><td align="right"><strong>{escape(money(2800))}</strong></td></tr></table>'
    )
    return values


# ------------------------------------------------------------------ rendering


@dataclass(frozen=True)
class RenderedOrderEmail:
    subject: str
    body: str  # the sanitized body with values, before the layout (what a reviewer edits)
    html: str
    text: str


def one_line(value):
    return " ".join(str(value).split())


def render_subject(subject_template, values):
    return one_line(substitute(subject_template, {k: one_line(v) for k, v in values.items()}, html=False))


def lay_out(subject, body, studio, language=None):
    """The message around an already-filled body: layout, inlined CSS and the text part, in
    ``language`` (the studio's when None)."""
    with force_locale(language or studio.language):
        html = render_template("email/plain_html.html", body=Markup(body), subject=subject, studio=studio)
    html = css_inline.inline(html)
    return html, html_to_text(html)


def render_order_email(subject_template, body_template, values, studio, language=None):
    """Fill a template with ``values``: the studio's HTML is sanitized first, values escaped
    (the items table is ours, so it goes in as it is); the layout is in ``language``."""
    subject = render_subject(subject_template, values)
    body = substitute(sanitize_order_body(body_template), values)
    html, text = lay_out(subject, body, studio, language)
    return RenderedOrderEmail(subject, body, html, text)
