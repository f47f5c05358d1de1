"""Computing the %variables% for one recipient: only those the email uses."""

from zoneinfo import ZoneInfo

from flask_babel import format_date

from app.shop.models import DiscountKind
from app.shop.money import format_money
from app.urls import external_url_with

# The variables written differently per language (dates, amounts).
LOCALE_VARIABLES = frozenset({"sale_start_date", "sale_end_date", "archive_date",
                              "promotion_discount", "promotion_end_date", "cart_total",
                              "order_total"})


def _local_date(moment, studio, language=None):
    """A date in the studio's timezone, in the current locale (the caller forces the client's)."""
    if moment is None:
        return ""
    return format_date(moment.astimezone(ZoneInfo(studio.timezone)).date(), "long")


def promotion_discount_text(promotion, studio, language):
    if promotion.discount_kind == DiscountKind.PERCENT:
        value = promotion.discount_value / 100
        return f"{value:g} %"
    return format_money(promotion.discount_value, studio.currency, language)


def unsubscribe_url(studio_id, email):
    from app.mailing.unsubscribe import unsubscribe_token

    return external_url_with("mailing_public.unsubscribe", "token",
                             unsubscribe_token(studio_id, email))


def client_link(client, gallery, next_page=None):
    """A private link that signs the client in (from the client side of galleries)."""
    from app.galleries import clients

    return clients.sign_in_url(client, gallery, next_page=next_page)


class _For:
    """Everything a variable may be computed from, for one recipient."""

    __slots__ = ("studio", "gallery", "client", "language", "promotion", "order",
                 "cart_total_minor")

    def __init__(self, studio, gallery, client, language, promotion, order, cart_total_minor):
        self.studio, self.gallery, self.client, self.language = studio, gallery, client, language
        self.promotion, self.order, self.cart_total_minor = promotion, order, cart_total_minor


def _date(moment, r):
    return _local_date(moment, r.studio, r.language)


# Made once, not per recipient: the tick computes these for thousands of messages.
PRODUCERS = {
    "client_name": lambda r: r.client.name,
    "client_email": lambda r: r.client.email,
    "gallery_title": lambda r: r.gallery.title,
    "gallery_link": lambda r: client_link(r.client, r.gallery),
    "sale_start_date": lambda r: _date(r.gallery.sale_starts_at, r),
    "sale_end_date": lambda r: _date(r.gallery.sale_ends_at, r),
    "archive_date": lambda r: _date(r.gallery.archives_at, r),
    "promotion_name": lambda r: r.promotion.name if r.promotion else "",
    "promotion_discount": lambda r: (promotion_discount_text(r.promotion, r.studio, r.language)
                                     if r.promotion else ""),
    "promotion_end_date": lambda r: _date(r.promotion.ends_at if r.promotion else None, r),
    "cart_link": lambda r: client_link(r.client, r.gallery, next_page="cart"),
    "cart_total": lambda r: (format_money(r.cart_total_minor, r.studio.currency, r.language)
                             if r.cart_total_minor is not None else ""),
    "order_number": lambda r: r.order.number if r.order else "",
    "order_total": lambda r: (format_money(r.order.total_minor, r.order.currency, r.language)
                              if r.order else ""),
    "order_link": lambda r: client_link(r.client, r.gallery, next_page="orders"),
    "studio_name": lambda r: r.studio.name,
    "studio_email": lambda r: r.studio.email,
    "unsubscribe_link": lambda r: unsubscribe_url(r.studio.id, r.client.email),
}


def recipient_values(needed, *, studio, gallery, client, language, promotion=None, order=None,
                     cart_total_minor=None):
    """The values of the variables in ``needed`` for this recipient."""
    recipient = _For(studio, gallery, client, language, promotion, order, cart_total_minor)
    return {name: PRODUCERS[name](recipient) for name in needed if name in PRODUCERS}
