"""Download all purchased files as one zip, from "My orders" on a phone in Chromium."""

import zipfile

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.galleries.storage import photo_file
from app.shop.client_services import my_orders_token
from app.shop.models import OrderStatus
from app.shop.orders import change_status
from tests import factories
from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def _paid_order_of_two_files(app):
    """Returns (the My orders path, the originals' bytes by file name)."""
    from app import timeutil

    with app.app_context():
        owner, gallery = factories.make_studio_on_sale("correct horse battery", photos=0)
        price_list = make_price_list(owner.studio)
        sell_gallery(gallery, price_list)
        photos = [
            factories.make_photo(gallery, name="IMG_0001.jpg", color=(200, 30, 30), position=0),
            factories.make_photo(gallery, name="IMG_0002.jpg", color=(30, 200, 30), position=1),
        ]
        buyer = factories.make_client(owner.studio, gallery=gallery)
        now = timeutil.now()
        for photo in photos:
            fill_cart(buyer, gallery, photo, price_list.products[2], now=now)  # the digital file
        order = order_now(owner.studio, buyer, now=now, notify=False)
        change_status(order, OrderStatus.PAID, now=now)
        db.session.commit()
        originals = {photo.original_filename: photo_file(photo, "original").read_bytes() for photo in photos}
        return f"/my-orders/{my_orders_token(owner.studio.id, buyer.id)}", originals


def test_a_parent_downloads_every_purchased_file_in_one_zip_on_a_phone(live_server, browser, tmp_path):
    path, originals = _paid_order_of_two_files(live_server.app)
    context = browser.new_context(viewport=PHONE, locale="en-US", accept_downloads=True, has_touch=True)
    page = context.new_page()

    page.goto(live_server.url + path)
    button = page.get_by_role("link", name="Download all (zip)")
    expect(button).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with page.expect_download() as waiting:
        button.click()
    download = waiting.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    assert saved.name.startswith("order-") and saved.suffix == ".zip"
    with zipfile.ZipFile(saved) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == originals
    context.close()
