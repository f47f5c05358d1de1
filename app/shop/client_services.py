"""Client-side shop helpers: the client's identity in a studio, signed links, downloads."""

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.extensions import db
from app.galleries.models import CardClaim, Photo, card_photo
from app.shop.models import DigitalScope, Order, OrderStatus
from app.signing import signing_keys

DOWNLOAD_MAX_AGE = 60 * 60 * 24 * 7  # a download link works for a week; "my orders" makes new ones
_ORDERS_SALT = "proofsheet-my-orders"
_DOWNLOAD_SALT = "proofsheet-download"


def _orders_serializer():
    """Signs with SECRET_KEY; verifies with it and SECRET_KEY_FALLBACKS."""
    return URLSafeTimedSerializer(signing_keys(), salt=_ORDERS_SALT)


def my_orders_token(studio_id, client_id):
    """The private "my orders" link's token; it works for MY_ORDERS_LINK_MAX_AGE (90 days by
    default) and until the studio revokes the client's links; the client can ask for a new one."""
    return _orders_serializer().dumps([studio_id, client_id])


class OrdersLinkRefused(Exception):  # noqa: N818
    """An expired, revoked or forged "my orders" link; ``studio_id`` when it can be told."""

    def __init__(self, reason, studio_id=None):
        super().__init__(reason)
        self.reason, self.studio_id = reason, studio_id


def _studio_of_expired(error):
    """The studio of a link whose signature is right but too old (to offer a new link)."""
    try:
        return int(_orders_serializer().load_payload(error.payload)[0])
    except (BadSignature, TypeError, ValueError, IndexError, KeyError):
        return None


def client_for_orders_link(token):
    """The client a "my orders" link shows, or raise ``OrdersLinkRefused``."""
    from app.galleries.clients import Client, revoked_since

    try:
        (studio_id, client_id), issued = _orders_serializer().loads(
            token, max_age=current_app.config["MY_ORDERS_LINK_MAX_AGE"], return_timestamp=True
        )
    except SignatureExpired as error:
        raise OrdersLinkRefused("expired", _studio_of_expired(error)) from None
    except (BadSignature, ValueError, TypeError):
        raise OrdersLinkRefused("invalid") from None
    client = db.session.get(Client, int(client_id))
    if client is None or client.studio_id != int(studio_id):
        raise OrdersLinkRefused("invalid")
    if revoked_since(client, issued.timestamp()):
        raise OrdersLinkRefused("expired", client.studio_id)
    return client


def read_my_orders_token(token):
    """(studio_id, client_id) of a valid "my orders" link, or None."""
    try:
        client = client_for_orders_link(token)
    except OrdersLinkRefused:
        return None
    return client.studio_id, client.id


def client_orders(studio_id, client_id):
    return db.session.scalars(
        sa.select(Order)
        .where(Order.studio_id == studio_id, Order.client_id == client_id)
        .order_by(Order.placed_at.desc())
    ).all()


def download_token(order_id, photo_id):
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_DOWNLOAD_SALT).dumps(
        [order_id, photo_id]
    )


class DownloadRefused(Exception):
    """The link is expired, forged, or the order does not (or no longer) entitle the photo."""


def read_download_token(token):
    serializer = URLSafeTimedSerializer(signing_keys(), salt=_DOWNLOAD_SALT)
    try:
        order_id, photo_id = serializer.loads(token, max_age=DOWNLOAD_MAX_AGE)
    except SignatureExpired:
        raise DownloadRefused("expired") from None
    except (BadSignature, ValueError, TypeError):
        raise DownloadRefused("invalid") from None
    return int(order_id), int(photo_id)


PAID_STATES = {
    OrderStatus.PAID,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.SHIPPED,
    OrderStatus.READY_FOR_PICKUP,
    OrderStatus.DELIVERED,
}


def _gallery_photos_for(client_id, item):
    """Every photo of the gallery the client may see: in a QR gallery, those of their cards."""
    query = sa.select(Photo.id).where(Photo.gallery_id == item.gallery_id, Photo.shown_to_clients_clause())
    if item.gallery is not None and item.gallery.is_qr:
        held = sa.select(CardClaim.card_id).where(CardClaim.client_id == client_id)
        query = query.join(card_photo, card_photo.c.photo_id == Photo.id).where(
            card_photo.c.card_id.in_(held)
        )
    return db.session.scalars(query.order_by(Photo.position, Photo.id))


def downloadable_photos(order):
    """The photos a paid order delivers as full-resolution files, in gallery order."""
    if order.status not in PAID_STATES:
        return []
    photo_ids = []
    for item in order.items:
        if not item.delivers_download:
            continue
        scope = item.digital_scope or DigitalScope.PHOTO
        if scope == DigitalScope.PHOTO and item.photo_id:
            photo_ids.append(item.photo_id)
        elif scope == DigitalScope.CARD and item.card_id:
            photo_ids.extend(
                db.session.scalars(
                    sa.select(card_photo.c.photo_id).where(card_photo.c.card_id == item.card_id)
                )
            )
        elif scope == DigitalScope.CARD and item.photo_id:
            card_ids = sa.select(card_photo.c.card_id).where(card_photo.c.photo_id == item.photo_id)
            photo_ids.extend(
                db.session.scalars(sa.select(card_photo.c.photo_id).where(card_photo.c.card_id.in_(card_ids)))
            )
        elif scope == DigitalScope.GALLERY and item.gallery_id:
            photo_ids.extend(_gallery_photos_for(order.client_id, item))
    unique = list(dict.fromkeys(photo_ids))
    photos = (
        {photo.id: photo for photo in db.session.scalars(sa.select(Photo).where(Photo.id.in_(unique)))}
        if unique
        else {}
    )
    return [photos[photo_id] for photo_id in unique if photo_id in photos]


class GalleryShop:
    """What the gallery page shows of the shop: products, the running promotion, and whether
    this visitor can order now."""

    def __init__(self, products, promotion, promotion_discount, can_order):
        self.products, self.promotion = products, promotion
        self.promotion_discount, self.can_order = promotion_discount, can_order


def gallery_shop(gallery, client, now):
    """The gallery page's shop panel (a template global: galleries do not import the shop)."""
    from app.shop.cart import gallery_price_list_ids, sale_is_open
    from app.shop.models import DiscountKind, Product, Promotion

    list_ids = gallery_price_list_ids(gallery.id)
    products = (
        db.session.scalars(
            sa.select(Product)
            .where(Product.price_list_id.in_(list_ids), Product.is_active.is_(True))
            .order_by(Product.price_list_id, Product.position, Product.id)
        ).all()
        if list_ids
        else []
    )
    promotion = db.session.scalar(
        sa.select(Promotion)
        .where(
            Promotion.gallery_id == gallery.id,
            Promotion.removed_at.is_(None),
            Promotion.starts_at <= now,
            Promotion.ends_at > now,
        )
        .order_by(Promotion.discount_value.desc())
        .limit(1)
    )
    discount = ""
    if promotion is not None:
        from app.shop.money import current_locale, format_money
        from app.shop.pricing import percent_text

        discount = (
            percent_text(promotion.discount_value, current_locale())
            if promotion.discount_kind == DiscountKind.PERCENT
            else format_money(promotion.discount_value, gallery_currency(gallery))
        )
    can_order = client is not None and bool(products) and sale_is_open(gallery, now)
    return GalleryShop(products, promotion, discount, can_order)


def gallery_currency(gallery):
    from app.accounts.models import Studio

    return db.session.get(Studio, gallery.studio_id).currency
