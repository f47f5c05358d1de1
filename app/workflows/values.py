"""What the %variables% are computed from (see ``variables.REGISTRY`` for the variables
themselves): formatting, the signed links, and the set-based loaders of the data an email's
due time decides (the promotion running then, a cart's total), shared by the tick and the
preview so that both read exactly the same values."""

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import format_date

from app.database import among
from app.extensions import db
from app.shop.models import Cart, CartItem, DiscountKind, Product, Promotion
from app.shop.money import format_money
from app.shop.pricing import percent_text
from app.urls import external_url_around


def local_date(moment, studio):
    """A date in the studio's timezone, in the current locale (the caller forces the client's)."""
    if moment is None:
        return ""
    return format_date(moment.astimezone(ZoneInfo(studio.timezone)).date(), "long")


def promotion_discount_text(promotion, studio, language):
    if promotion.discount_kind == DiscountKind.PERCENT:
        return percent_text(promotion.discount_value, language)
    return format_money(promotion.discount_value, studio.currency, language)


def unsubscribe_url_maker():
    """A function (studio id, address) -> the one-click unsubscribe link, with its signer and
    URL looked up once (see ``Links``)."""
    from app.mailing.unsubscribe import unsubscribe_signer, unsubscribe_token

    signer = unsubscribe_signer()
    before, after = external_url_around("mailing_public.unsubscribe", "token")

    def make(studio_id, email):
        return f"{before}{unsubscribe_token(studio_id, email, signer)}{after}"

    return make


class Links:
    """The signed links of messages (sign-in with a page to open, unsubscribe), with their
    signers and URLs looked up once: the campaign tick makes two per message, and the lookups
    cost more than the signatures (25 us of a message's 85 before)."""

    __slots__ = ("sign_in", "unsubscribe")

    def __init__(self):
        from app.galleries.clients import sign_in_url_maker

        self.sign_in = sign_in_url_maker()  # (client, gallery, next_page=None)
        self.unsubscribe = unsubscribe_url_maker()  # (studio_id, email)


class VariableData:
    """Everything a variable may be computed from, for one recipient."""

    __slots__ = ("studio", "gallery", "client", "language", "promotion", "order", "cart_total_minor", "links")

    def __init__(
        self, studio, gallery, client, language, promotion=None, order=None, cart_total_minor=None, links=None
    ):
        self.studio, self.gallery, self.client, self.language = studio, gallery, client, language
        self.promotion, self.order, self.cart_total_minor = promotion, order, cart_total_minor
        self.links = links if links is not None else Links()


# ------------------------------------------------------------------ set-based loaders


def _running_at(promotions, moment):
    """The promotion running at ``moment`` (the one ending first when several are), or None."""
    running = [p for p in promotions if p.starts_at <= moment < p.ends_at]
    return min(running, key=lambda p: (p.ends_at, p.id)) if running else None


def running_promotions(gallery_moments):
    """{(gallery id, moment): the promotion running in that gallery at that moment} for a set
    of (gallery id, moment) pairs, in one query; pairs with none are left out. Removed
    promotions never run."""
    pairs = set(gallery_moments)
    if not pairs:
        return {}
    moments = [moment for _gallery, moment in pairs]
    rows = db.session.scalars(
        sa.select(Promotion).where(
            among(Promotion.gallery_id, {gallery for gallery, _moment in pairs}),
            Promotion.removed_at.is_(None),
            Promotion.starts_at <= max(moments),
            Promotion.ends_at > min(moments),
        )
    )
    by_gallery = {}
    for promotion in rows:
        by_gallery.setdefault(promotion.gallery_id, []).append(promotion)
    found = {}
    for gallery_id, moment in pairs:
        promotion = _running_at(by_gallery.get(gallery_id, ()), moment)
        if promotion is not None:
            found[(gallery_id, moment)] = promotion
    return found


class CartState:
    """What the tick needs of a cart: whether it is still open, and its total."""

    __slots__ = ("id", "closed_at", "closed_reason", "total_minor")

    def __init__(self, id, closed_at, closed_reason, total_minor):  # noqa: A002
        self.id, self.closed_at, self.closed_reason = id, closed_at, closed_reason
        self.total_minor = total_minor


def cart_states(cart_ids):
    """{cart id: CartState} in one query. The total is the sum of the items at their products'
    prices (before promotions, coupons and shipping: what the cart holds); None when it holds
    nothing."""
    if not cart_ids:
        return {}
    total = sa.func.sum(Product.price_minor * CartItem.quantity)
    rows = db.session.execute(
        sa.select(Cart.id, Cart.closed_at, Cart.closed_reason, total)
        .outerjoin(CartItem, CartItem.cart_id == Cart.id)
        .outerjoin(Product, Product.id == CartItem.product_id)
        .where(among(Cart.id, set(cart_ids)))
        .group_by(Cart.id, Cart.closed_at, Cart.closed_reason)
    )
    return {row[0]: CartState(*row) for row in rows}
