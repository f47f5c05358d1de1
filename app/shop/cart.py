"""The client's cart: one open cart per client across the studio's galleries.

Its first item opens the "product added to cart" occurrence (``first_item_at``); each addition
moves ``last_item_at``; ordering or emptying closes it. Every input is checked here, whatever the
form said: quantities, the product's price list, the photo's gallery and card, the sale window.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.galleries.models import CardClaim, Gallery, GalleryStatus, Photo, card_photo
from app.shop.models import Cart, CartItem, GalleryPricing, Product

MAX_QUANTITY = 99


class CartError(ValueError):
    """Bad cart input; the message is for the client and nothing was changed."""


def open_cart(client, now, create=True):
    """The client's open cart (created empty when missing and ``create``)."""
    cart = db.session.scalar(sa.select(Cart).where(Cart.client_id == client.id, Cart.closed_at.is_(None)))
    if cart is None and create:
        cart = Cart(studio_id=client.studio_id, client_id=client.id, created_at=now)
        db.session.add(cart)
        db.session.flush()
    return cart


def sale_is_open(gallery, now):
    """Orders are taken while the gallery is published and inside its sale window."""
    if gallery.status != GalleryStatus.PUBLISHED:
        return False
    if gallery.archives_at and now >= gallery.archives_at:
        return False
    if gallery.sale_starts_at and now < gallery.sale_starts_at:
        return False
    return not (gallery.sale_ends_at and now >= gallery.sale_ends_at)


def gallery_price_list_ids(gallery_id):
    pricing = db.session.get(GalleryPricing, gallery_id)
    if pricing is None:
        return set()
    return {pricing.price_list_id, pricing.group_price_list_id} - {None}


def client_may_buy_photo(client, gallery, photo):
    """The photo is in the gallery and, in a QR gallery, on a card the client holds."""
    if photo is None or photo.gallery_id != gallery.id:
        return False
    if not gallery.is_qr:
        return True
    held = (
        sa.select(card_photo.c.photo_id)
        .join(CardClaim, CardClaim.card_id == card_photo.c.card_id)
        .where(CardClaim.client_id == client.id, card_photo.c.photo_id == photo.id)
    )
    return db.session.scalar(held) is not None


def _checked_quantity(quantity):
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        raise CartError(_l("Please enter a quantity between 1 and %(max)d.", max=MAX_QUANTITY)) from None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(_l("Please enter a quantity between 1 and %(max)d.", max=MAX_QUANTITY))
    return quantity


def add_to_cart(client, *, gallery_id, photo_id, product_id, quantity, now):
    """Add ``quantity`` of a product for a photo; the same photo and product add up.

    Raises ``CartError`` with a message for the client; nothing is written then.
    """
    quantity = _checked_quantity(quantity)
    gallery = db.session.get(Gallery, gallery_id)
    if gallery is None or gallery.studio_id != client.studio_id:
        raise CartError(_l("This gallery does not exist."))
    if not sale_is_open(gallery, now):
        raise CartError(_l("Orders are not open for this gallery at the moment."))
    product = db.session.get(Product, product_id)
    on_sale = (
        product is not None
        and product.is_active
        and (product.price_list_id in gallery_price_list_ids(gallery.id))
    )
    if not on_sale:
        raise CartError(_l("This product is not available in this gallery."))
    photo = db.session.get(Photo, photo_id) if photo_id is not None else None
    if not client_may_buy_photo(client, gallery, photo):
        raise CartError(_l("This photo is not available to you."))
    cart = open_cart(client, now)
    item = next(
        (line for line in cart.items if line.photo_id == photo.id and line.product_id == product.id), None
    )
    if item is not None:
        item.quantity = min(item.quantity + quantity, MAX_QUANTITY)
        item.added_at = now
    else:
        item = CartItem(
            gallery_id=gallery.id, photo_id=photo.id, product_id=product.id, quantity=quantity, added_at=now
        )
        cart.items.append(item)
    if cart.first_item_at is None:
        cart.first_item_at, cart.gallery_id = now, gallery.id
    cart.last_item_at = now
    db.session.flush()
    return item


def _item_of_cart(cart, item_id):
    item = next((line for line in cart.items if line.id == item_id), None) if cart else None
    if item is None:
        raise CartError(_l("This item is no longer in your cart."))
    return item


def update_quantity(cart, item_id, quantity, now):
    """Set a line's quantity; 0 removes it. Only lines of ``cart`` can be touched."""
    item = _item_of_cart(cart, item_id)
    if str(quantity).strip() in ("0", "0.0"):
        return remove_item(cart, item_id, now)
    item.quantity = _checked_quantity(quantity)
    db.session.flush()
    return item


def remove_item(cart, item_id, now):
    """Remove a line; removing the last one closes the cart as emptied."""
    item = _item_of_cart(cart, item_id)
    cart.items.remove(item)
    if not cart.items:
        close_cart(cart, "emptied", now)
    db.session.flush()


def close_cart(cart, reason, now):
    cart.closed_at, cart.closed_reason = now, reason
