"""Every purchased file of a paid order as one zip, from "My orders"."""

import io
import re
import zipfile

import pytest

from app.extensions import db
from app.galleries.storage import photo_file
from app.shop.client_services import my_orders_token
from app.shop.download_routes import _serializer, archive_names, zip_stream
from app.shop.models import OrderStatus
from app.shop.orders import change_status
from tests import factories
from tests.factories import NOW
from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery


@pytest.fixture
def purchase(owner, app):
    """A client's order of two digital files (both named photo.jpg) and a print of a third
    photo, not paid yet."""
    studio = owner.studio
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    print_product, digital = price_list.products[0], price_list.products[2]
    photos = [
        factories.make_photo(gallery, name="photo.jpg", color=(200, 10, 10), position=0),
        factories.make_photo(gallery, name="photo.jpg", color=(10, 200, 10), position=1),
        factories.make_photo(gallery, name="third.jpg", color=(10, 10, 200), position=2),
    ]
    buyer = factories.make_client(studio, gallery=gallery)
    fill_cart(buyer, gallery, photos[0], digital)
    fill_cart(buyer, gallery, photos[1], digital)
    fill_cart(buyer, gallery, photos[2], print_product)
    order = order_now(studio, buyer, notify=False)
    return type("Purchase", (), dict(studio=studio, photos=photos, buyer=buyer, order=order))


def _zip_link(page_html):
    found = re.search(r'href="(/download-all/[^"]+)"', page_html)
    return found and found.group(1)


def _my_orders(purchase, app):
    return app.test_client().get(f"/my-orders/{my_orders_token(purchase.studio.id, purchase.buyer.id)}")


def test_the_zip_holds_exactly_the_paid_originals_byte_for_byte(purchase, app):
    change_status(purchase.order, OrderStatus.PAID, now=NOW)
    db.session.commit()
    link = _zip_link(_my_orders(purchase, app).get_data(as_text=True))
    assert link, "My orders offers the zip of a paid order with downloads"

    response = app.test_client().get(link)

    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert (
        response.headers["Content-Disposition"] == f'attachment; filename="order-{purchase.order.number}.zip"'
    )
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["photo.jpg", "photo (2).jpg"]  # the print is no file
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
        for photo, name in zip(purchase.photos[:2], archive.namelist(), strict=True):
            assert archive.read(name) == photo_file(photo, "original").read_bytes()


def test_an_unpaid_order_has_no_zip(purchase, app):
    assert _zip_link(_my_orders(purchase, app).get_data(as_text=True)) is None
    token = _serializer().dumps([purchase.order.id, purchase.buyer.id])

    refused = app.test_client().get(f"/download-all/{token}")

    assert refused.status_code == 403
    assert "once the order is paid" in refused.get_data(as_text=True)


def test_a_link_for_another_client_or_tampered_is_refused(purchase, app):
    change_status(purchase.order, OrderStatus.PAID, now=NOW)
    db.session.commit()
    stranger = factories.make_client(purchase.studio, email="stranger@example.com")
    other_clients = _serializer().dumps([purchase.order.id, stranger.id])
    link = _zip_link(_my_orders(purchase, app).get_data(as_text=True))

    for refused in (f"/download-all/{other_clients}", link[:-3] + "abc"):
        response = app.test_client().get(refused)
        assert response.status_code == 410
        assert "The link is not valid" in response.get_data(as_text=True)


def test_revoked_links_stop_the_zip(purchase, app):
    from app.galleries.clients import revoke_links

    change_status(purchase.order, OrderStatus.PAID, now=NOW)
    db.session.commit()
    link = _zip_link(_my_orders(purchase, app).get_data(as_text=True))
    revoke_links(purchase.buyer, NOW.replace(year=2100))
    db.session.commit()

    assert app.test_client().get(link).status_code == 410


@pytest.mark.no_database
def test_archive_names_keep_the_files_names_without_clashes_or_folders():
    names = archive_names(["a.jpg", "A.jpg", "a.jpg", "../../etc/x.jpg", "C:\\dir\\y.JPG", "", "noext"])
    assert names == ["a.jpg", "A (2).jpg", "a (3).jpg", "x.jpg", "y.JPG", "photo.jpg", "noext"]


@pytest.mark.no_database
def test_the_stream_never_holds_more_than_a_chunk_of_a_photo(tmp_path, monkeypatch):
    monkeypatch.setattr("app.shop.download_routes.CHUNK_SIZE", 1000)
    big = tmp_path / "big.jpg"
    big.write_bytes(bytes(range(256)) * 40)  # 10,240 bytes: eleven chunks

    pieces = list(zip_stream([(big, "big.jpg")]))

    assert max(len(piece) for piece in pieces) < 1200  # a chunk and a header, never the file
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as archive:
        assert archive.read("big.jpg") == big.read_bytes()
