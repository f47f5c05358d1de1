"""Computing the %variables% for one recipient: only those the email uses."""

from zoneinfo import ZoneInfo

from flask_babel import format_date

from app.shop.models import DiscountKind
from app.shop.money import format_money
from app.urls import external_url_with


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


def recipient_values(needed, *, studio, gallery, client, language, promotion=None, order=None,
                     cart_total_minor=None):
    """The values of the variables in ``needed`` for this recipient."""
    producers = {
        "client_name": lambda: client.name,
        "client_email": lambda: client.email,
        "gallery_title": lambda: gallery.title,
        "gallery_link": lambda: client_link(client, gallery),
        "sale_start_date": lambda: _local_date(gallery.sale_starts_at, studio, language),
        "sale_end_date": lambda: _local_date(gallery.sale_ends_at, studio, language),
        "archive_date": lambda: _local_date(gallery.archives_at, studio, language),
        "promotion_name": lambda: promotion.name if promotion else "",
        "promotion_discount": lambda: (promotion_discount_text(promotion, studio, language)
                                       if promotion else ""),
        "promotion_end_date": lambda: _local_date(promotion.ends_at if promotion else None,
                                                  studio, language),
        "cart_link": lambda: client_link(client, gallery, next_page="cart"),
        "cart_total": lambda: (format_money(cart_total_minor, studio.currency, language)
                               if cart_total_minor is not None else ""),
        "order_number": lambda: order.number if order else "",
        "order_total": lambda: (format_money(order.total_minor, order.currency, language)
                                if order else ""),
        "order_link": lambda: client_link(client, gallery, next_page="orders"),
        "studio_name": lambda: studio.name,
        "studio_email": lambda: studio.email,
        "unsubscribe_link": lambda: unsubscribe_url(studio.id, client.email),
    }
    return {name: producers[name]() for name in needed if name in producers}
