"""Helpers for the shop admin tests: a studio with a gallery selling from a price list, and orders."""

from dataclasses import dataclass
from datetime import timedelta

from app.galleries.models import Gallery, Photo
from app.shop.models import Order, PriceList
from tests import factories
from tests.factories import NOW
from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery


@dataclass
class Shop:
    gallery: Gallery
    price_list: PriceList
    photo: Photo


def make_shop(studio, title="Spring portraits", price_list_name="School prints"):
    """A published gallery with one photo, selling from a fresh price list of three products."""
    gallery = factories.make_gallery(studio, title=title)
    price_list = make_price_list(studio, name=price_list_name)
    sell_gallery(gallery, price_list)
    photo = factories.make_photo(gallery)
    return Shop(gallery, price_list, photo)


def place(
    shop,
    studio,
    email="parent@example.com",
    name="Alex Parent",
    at=NOW,
    quantity=1,
    product_index=0,
    **kwargs,
) -> Order:
    """A client of ``shop``'s gallery orders one product at ``at``."""
    client = factories.make_client(studio, email=email, name=name, gallery=shop.gallery)
    fill_cart(client, shop.gallery, shop.photo, shop.price_list.products[product_index], quantity, now=at)
    return order_now(studio, client, now=at, **kwargs)


def days(n):
    return timedelta(days=n)
