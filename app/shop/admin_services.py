"""The photographer's shop operations: price lists and products, gallery pricing, promotions,
coupons, and order administration.

Every function takes rows already checked to belong to the current studio (the routes fetch them
with ``get_owned_or_404``) or a ``studio_id`` to scope its queries. Nothing here reads the clock
(``now`` is a parameter) or commits: the request commits once.
"""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.galleries.models import Client, Gallery
from app.shop import orders as order_rules
from app.shop.models import (
    Cart,
    CartItem,
    Coupon,
    GalleryPricing,
    Order,
    PriceList,
    Product,
    Promotion,
)


class ShopAdminError(ValueError):
    """A refused operation; the message says why, for the page. Nothing was changed."""


# ------------------------------------------------------------------ price lists


@dataclass
class PriceListData:
    name: str
    shipping_minor: int
    allows_pickup: bool
    pickup_instructions: str


@dataclass
class PriceListRow:
    price_list: PriceList
    product_count: int
    galleries: list[Gallery]


def list_price_lists(studio_id):
    """The studio's price lists by name, with their product counts and the galleries using them."""
    counts = dict(
        db.session.execute(
            sa.select(Product.price_list_id, sa.func.count(Product.id))
            .join(PriceList)
            .where(PriceList.studio_id == studio_id)
            .group_by(Product.price_list_id)
        ).all()
    )
    price_lists = db.session.scalars(
        sa.select(PriceList)
        .where(PriceList.studio_id == studio_id)
        .order_by(sa.func.lower(PriceList.name), PriceList.id)
    ).all()
    users = galleries_using(studio_id)
    return [
        PriceListRow(price_list, counts.get(price_list.id, 0), users.get(price_list.id, []))
        for price_list in price_lists
    ]


def galleries_using(studio_id, price_list_id=None):
    """Galleries selling from each price list (as main or group list): {price list id: [gallery]}."""
    query = (
        sa.select(GalleryPricing, Gallery)
        .join(Gallery, Gallery.id == GalleryPricing.gallery_id)
        .where(Gallery.studio_id == studio_id)
        .order_by(Gallery.title, Gallery.id)
    )
    using = {}
    for pricing, gallery in db.session.execute(query):
        for list_id in {pricing.price_list_id, pricing.group_price_list_id} - {None}:
            if price_list_id is None or list_id == price_list_id:
                using.setdefault(list_id, []).append(gallery)
    return using


def create_price_list(studio_id, data: PriceListData, now):
    """A new, empty price list of the studio."""
    price_list = PriceList(studio_id=studio_id, created_at=now)
    _apply_price_list(price_list, data)
    db.session.add(price_list)
    db.session.flush()
    return price_list


def update_price_list(price_list, data: PriceListData):
    """Change a price list's name, shipping cost and pickup option."""
    _apply_price_list(price_list, data)
    db.session.flush()


def _apply_price_list(price_list, data):
    price_list.name = data.name
    price_list.shipping_minor = data.shipping_minor
    price_list.allows_pickup = data.allows_pickup
    price_list.pickup_instructions = data.pickup_instructions if data.allows_pickup else ""


def open_cart_count(product_ids):
    """How many open carts hold one of these products (deleting them would empty those lines)."""
    if not product_ids:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(CartItem.cart_id)))
        .join(Cart)
        .where(Cart.closed_at.is_(None), CartItem.product_id.in_(product_ids))
    )


def delete_price_list(price_list):
    """Delete a price list that no gallery and no open cart uses.

    Refused otherwise: silently unassigning it would stop a running sale, and deleting its products
    would take items out of clients' carts. Orders keep their own copy of names and prices.
    """
    users = galleries_using(price_list.studio_id, price_list.id).get(price_list.id, [])
    if users:
        raise ShopAdminError(
            _l(
                "“%(name)s” is still used by %(galleries)s. Choose another price list for them first.",
                name=price_list.name,
                galleries=", ".join(gallery.title for gallery in users),
            )
        )
    carts = open_cart_count([product.id for product in price_list.products])
    if carts:
        raise ShopAdminError(
            _l(
                "Clients have products of “%(name)s” in %(count)d open cart(s). Deactivate its products "
                "instead, or wait until those carts are ordered or emptied.",
                name=price_list.name,
                count=carts,
            )
        )
    db.session.delete(price_list)
    db.session.flush()


# ------------------------------------------------------------------ products


@dataclass
class ProductData:
    kind: str
    name: str
    description: str
    print_size: str | None
    paper: str | None
    digital_scope: str | None
    includes_download: bool
    price_minor: int
    is_active: bool = True


def add_product(price_list, data: ProductData):
    """Add a product at the end of the price list."""
    last = max((product.position for product in price_list.products), default=0)
    product = Product(position=last + 1)
    _apply_product(product, data)
    price_list.products.append(product)
    db.session.flush()
    return product


def update_product(product, data: ProductData):
    """Change a product; carts price it anew, placed orders keep what they were charged."""
    _apply_product(product, data)
    db.session.flush()


def _apply_product(product, data):
    product.kind, product.name, product.description = data.kind, data.name, data.description
    product.price_minor, product.is_active = data.price_minor, data.is_active
    # Only the fields of the product's kind are kept, so a kind change leaves nothing stale.
    product.print_size = data.print_size if data.kind == "print" else None
    product.paper = data.paper if data.kind == "print" else None
    product.digital_scope = data.digital_scope if data.kind == "digital" else None
    product.includes_download = data.includes_download if data.kind == "package" else False


def delete_product(product):
    """Delete a product no open cart holds (deactivate it otherwise)."""
    carts = open_cart_count([product.id])
    if carts:
        raise ShopAdminError(
            _l(
                "“%(name)s” is in %(count)d open cart(s). Deactivate it instead: clients will no longer "
                "be able to order it.",
                name=product.name,
                count=carts,
            )
        )
    price_list = product.price_list
    price_list.products.remove(product)
    db.session.flush()
    _renumber(price_list)


def move_product(product, offset):
    """Move a product up (-1) or down (+1) in its price list; at either end nothing moves."""
    products = list(product.price_list.products)
    index = products.index(product)
    target = index + offset
    if 0 <= target < len(products):
        products[index], products[target] = products[target], products[index]
        _renumber(product.price_list, products)


def _renumber(price_list, ordered=None):
    for position, item in enumerate(ordered or price_list.products, start=1):
        item.position = position
    db.session.flush()
    db.session.expire(price_list, ["products"])


def set_product_active(product, active):
    """Deactivated products stay in the list for the photographer but are no longer sold."""
    product.is_active = active
    db.session.flush()


# ------------------------------------------------------------------ gallery pricing


def gallery_pricing(gallery):
    return db.session.get(GalleryPricing, gallery.id)


def set_gallery_pricing(gallery, price_list_id, group_price_list_id=None):
    """Choose the price list a gallery sells from (and, for QR galleries, one for group photos).

    Only the gallery's studio's price lists may be chosen; anything else is refused.
    """
    for list_id in (price_list_id, group_price_list_id):
        if list_id is not None:
            price_list = db.session.get(PriceList, list_id)
            if price_list is None or price_list.studio_id != gallery.studio_id:
                raise ShopAdminError(_l("Please choose one of your price lists."))
    if not gallery.is_qr:
        group_price_list_id = None
    pricing = gallery_pricing(gallery)
    if pricing is None:
        pricing = GalleryPricing(gallery_id=gallery.id)
        db.session.add(pricing)
    pricing.price_list_id, pricing.group_price_list_id = price_list_id, group_price_list_id
    db.session.flush()
    return pricing


# ------------------------------------------------------------------ promotions


@dataclass
class PromotionData:
    name: str
    discount_kind: str
    discount_value: int
    minimum_order_minor: int
    starts_at: datetime
    ends_at: datetime


def promotion_state(promotion, now):
    """removed, upcoming, active or ended at ``now``."""
    if promotion.removed_at is not None:
        return "removed"
    if now < promotion.starts_at:
        return "upcoming"
    return "active" if now < promotion.ends_at else "ended"


def list_promotions(studio_id, gallery_id=None, include_removed=False):
    """The studio's promotions (or one gallery's), latest end first, with their galleries."""
    query = (
        sa.select(Promotion, Gallery)
        .join(Gallery, Gallery.id == Promotion.gallery_id)
        .where(Promotion.studio_id == studio_id, Gallery.studio_id == studio_id)
        .order_by(Promotion.ends_at.desc(), Promotion.id.desc())
    )
    if gallery_id is not None:
        query = query.where(Promotion.gallery_id == gallery_id)
    if not include_removed:
        query = query.where(Promotion.removed_at.is_(None))
    return db.session.execute(query).all()


def create_promotion(gallery, data: PromotionData, now):
    """A new promotion of the gallery; its end is the "promotion expiry" email occurrence."""
    promotion = Promotion(studio_id=gallery.studio_id, gallery_id=gallery.id, created_at=now)
    _apply_promotion(promotion, data)
    db.session.add(promotion)
    db.session.flush()
    return promotion


def update_promotion(promotion, data: PromotionData):
    """Change a promotion; moving its end moves the expiry emails not sent yet."""
    if promotion.removed_at is not None:
        raise ShopAdminError(_l("This promotion was removed and can no longer be changed."))
    _apply_promotion(promotion, data)
    db.session.flush()


def _apply_promotion(promotion, data):
    promotion.name, promotion.discount_kind = data.name, data.discount_kind
    promotion.discount_value, promotion.minimum_order_minor = data.discount_value, data.minimum_order_minor
    promotion.starts_at, promotion.ends_at = data.starts_at, data.ends_at


def remove_promotion(promotion, now):
    """Soft delete: orders keep referring to it, but it no longer applies or triggers email."""
    if promotion.removed_at is None:
        promotion.removed_at = now
        db.session.flush()


# ------------------------------------------------------------------ coupons


@dataclass
class CouponData:
    code: str
    discount_kind: str
    discount_value: int
    minimum_order_minor: int
    valid_from: datetime | None
    valid_until: datetime | None
    usage_limit: int | None


def normalize_code(code):
    return (code or "").strip().upper()


def coupon_code_taken(studio_id, code, exclude_id=None):
    query = sa.select(Coupon.id).where(Coupon.studio_id == studio_id, Coupon.code == normalize_code(code))
    if exclude_id is not None:
        query = query.where(Coupon.id != exclude_id)
    return db.session.scalar(query) is not None


def list_coupons(studio_id):
    """The studio's coupons, active ones first, then by code."""
    return db.session.scalars(
        sa.select(Coupon).where(Coupon.studio_id == studio_id).order_by(Coupon.is_active.desc(), Coupon.code)
    ).all()


def coupon_state(coupon, now):
    """inactive, upcoming, expired, used_up or valid at ``now`` (what checkout would say)."""
    if not coupon.is_active:
        return "inactive"
    if coupon.valid_from and now < coupon.valid_from:
        return "upcoming"
    if coupon.valid_until and now >= coupon.valid_until:
        return "expired"
    if coupon.usage_limit is not None and coupon.times_used >= coupon.usage_limit:
        return "used_up"
    return "valid"


def create_coupon(studio_id, data: CouponData, now):
    """A new studio-wide coupon; its code is stored upper-case and unique in the studio."""
    if coupon_code_taken(studio_id, data.code):
        raise ShopAdminError(_l("You already have a coupon %(code)s.", code=normalize_code(data.code)))
    coupon = Coupon(studio_id=studio_id, created_at=now, times_used=0)
    _apply_coupon(coupon, data)
    db.session.add(coupon)
    db.session.flush()
    return coupon


def update_coupon(coupon, data: CouponData):
    """Change a coupon. Its limit cannot go below the uses already counted."""
    if coupon_code_taken(coupon.studio_id, data.code, exclude_id=coupon.id):
        raise ShopAdminError(_l("You already have a coupon %(code)s.", code=normalize_code(data.code)))
    if data.usage_limit is not None and data.usage_limit < coupon.times_used:
        raise ShopAdminError(
            lazy_ngettext(
                "This coupon was already used %(num)d time: the limit cannot be lower.",
                "This coupon was already used %(num)d times: the limit cannot be lower.",
                coupon.times_used,
            )
        )
    _apply_coupon(coupon, data)
    db.session.flush()


def _apply_coupon(coupon, data):
    coupon.code, coupon.discount_kind = normalize_code(data.code), data.discount_kind
    coupon.discount_value, coupon.minimum_order_minor = data.discount_value, data.minimum_order_minor
    coupon.valid_from, coupon.valid_until = data.valid_from, data.valid_until
    coupon.usage_limit = data.usage_limit


def set_coupon_active(coupon, active):
    """Deactivated coupons are refused at checkout as unknown; they can be reactivated."""
    coupon.is_active = active
    db.session.flush()


# ------------------------------------------------------------------ orders


@dataclass
class OrderFilters:
    search: str = ""
    gallery_id: int | None = None
    status: str | None = None
    client_id: int | None = None
    placed_from: datetime | None = None  # inclusive UTC instant
    placed_before: datetime | None = None  # exclusive UTC instant

    @property
    def active(self):
        return bool(
            self.search
            or self.gallery_id
            or self.status
            or self.client_id
            or self.placed_from
            or self.placed_before
        )


def orders_query(studio_id, filters: OrderFilters):
    """The studio's orders matching ``filters``, newest first, as a select for pagination."""
    query = sa.select(Order).where(Order.studio_id == studio_id).options(selectinload(Order.items))
    if filters.gallery_id:
        query = query.where(Order.gallery_id == filters.gallery_id)
    if filters.status:
        query = query.where(Order.status == filters.status)
    if filters.client_id:
        query = query.where(Order.client_id == filters.client_id)
    if filters.placed_from:
        query = query.where(Order.placed_at >= filters.placed_from)
    if filters.placed_before:
        query = query.where(Order.placed_at < filters.placed_before)
    if filters.search.strip():
        query = query.where(_search_clause(filters.search.strip().lower()))
    return query.order_by(Order.placed_at.desc(), Order.id.desc())


def _search_clause(term):
    """Order number, contact name or email, or the client's own name or email (case-insensitive;
    ``%`` and ``_`` typed by the user are taken literally)."""
    client_ids = sa.select(Client.id).where(
        sa.or_(
            sa.func.lower(Client.name).contains(term, autoescape=True),
            sa.func.lower(Client.email).contains(term, autoescape=True),
        )
    )
    return sa.or_(
        sa.func.lower(Order.number).contains(term, autoescape=True),
        sa.func.lower(Order.contact_name).contains(term, autoescape=True),
        sa.func.lower(Order.contact_email).contains(term, autoescape=True),
        Order.client_id.in_(client_ids),
    )


def order_filter_choices(studio_id):
    """Galleries and clients that have orders in the studio, for the list's filter selects."""
    galleries = db.session.execute(
        sa.select(Gallery.id, Gallery.title)
        .where(
            Gallery.studio_id == studio_id,
            Gallery.id.in_(sa.select(Order.gallery_id).where(Order.studio_id == studio_id)),
        )
        .order_by(Gallery.title)
    ).all()
    clients = db.session.execute(
        sa.select(Client.id, Client.name, Client.email)
        .where(
            Client.studio_id == studio_id,
            Client.id.in_(sa.select(Order.client_id).where(Order.studio_id == studio_id)),
        )
        .order_by(Client.name, Client.email)
    ).all()
    return galleries, clients


def gallery_titles(gallery_ids):
    if not gallery_ids:
        return {}
    return dict(
        db.session.execute(sa.select(Gallery.id, Gallery.title).where(Gallery.id.in_(set(gallery_ids)))).all()
    )


def count_orders(studio_id, status=None):
    query = sa.select(sa.func.count(Order.id)).where(Order.studio_id == studio_id)
    if status:
        query = query.where(Order.status == status)
    return db.session.scalar(query)


def change_order_status(
    order, new_status, *, now, user, carrier=None, tracking_number=None, reason=None, note=""
):
    """Move an order to ``new_status`` through the shop's status rules (``orders.change_status``).

    Raises ``orders.TransitionRefused`` with a message for the page; nothing changes then.
    """
    return order_rules.change_status(
        order,
        new_status,
        now=now,
        user=user,
        carrier=carrier,
        tracking_number=tracking_number,
        reason=reason,
        note=note,
    )


def set_expected_delivery(order, day: date | None, now):
    """Set or clear the date the client may expect the order (shown on their orders page); a new
    date is an event the client may be emailed about."""
    changed = order.expected_delivery_on != day
    order.expected_delivery_on = day
    db.session.flush()
    if changed:
        order_rules.expected_delivery_changed.send(order, now=now)
