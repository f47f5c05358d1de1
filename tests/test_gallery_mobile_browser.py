"""The client gallery on a phone (360 × 740, touch) in Chromium: photos in their own shape, the
lightbox (tap, swipe, keys, focus kept inside, a product and quantity added to the cart without
leaving it), hearts and the favourites view, and no sideways scroll on any client page."""

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app import timeutil
from app.accounts import services as accounts
from app.extensions import db
from app.galleries import clients
from app.galleries.models import GalleryAccess, Photo
from app.galleries.storage import photo_file
from app.shop.client_services import my_orders_token
from tests import factories
from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
    "locale": "en-US",
    "timezone_id": "Europe/Paris",
}
LANDSCAPE, PORTRAIT = (1200, 800), (800, 1200)
SHAPES = [LANDSCAPE, PORTRAIT, LANDSCAPE, PORTRAIT]


def make_shaped_photo(gallery, size, position):
    """A photo whose thumbnail and preview have the original's shape (as the pipeline makes)."""
    from PIL import Image

    photo = Photo(
        gallery_id=gallery.id,
        storage_key=uuid.uuid4().hex,
        original_filename=f"photo-{position + 1}.jpg",
        content_type="image/jpeg",
        width=size[0],
        height=size[1],
        byte_size=1,
        position=position,
        created_at=factories.NOW,
    )
    colour = (40 + 50 * position, 120, 200 - 40 * position)
    for variant, scale in (("original", 1), ("preview", 2), ("thumb", 5)):
        path = photo_file(photo, variant, studio_id=gallery.studio_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (size[0] // scale, size[1] // scale), colour).save(path, "JPEG")
    db.session.add(photo)
    db.session.commit()
    return photo


class Shop:
    """What the tests start from: paths and ids, read inside the live server's app."""


@pytest.fixture
def shop(live_server):
    now = timeutil.now()
    with live_server.app.app_context():
        owner = accounts.create_studio(
            name="Northlight Photography for Schools and Families",
            email="owner@example.com",
            password="correct horse battery",
            timezone="Europe/Paris",
            currency="EUR",
            language="en",
            now=now,
        )
        db.session.commit()
        gallery = factories.make_gallery(
            owner.studio,
            title="Spring portraits",
            access=GalleryAccess.REGISTRATION,
            sale_starts_at=now - timedelta(days=1),
            sale_ends_at=now + timedelta(days=10),
            archives_at=now + timedelta(days=40),
        )
        photos = [make_shaped_photo(gallery, size, position) for position, size in enumerate(SHAPES)]
        price_list = make_price_list(owner.studio, allows_pickup=False)
        sell_gallery(gallery, price_list)
        parent = factories.make_client(owner.studio, email="julie.moreau@example.com", gallery=gallery)
        open_day = factories.make_gallery(
            owner.studio,
            title="Open day",
            access=GalleryAccess.PUBLIC,
            sale_starts_at=now - timedelta(days=1),
            sale_ends_at=now + timedelta(days=10),
            archives_at=now + timedelta(days=40),
        )
        make_shaped_photo(open_day, PORTRAIT, 0)
        # An earlier order, so "my orders" has something to show on a phone.
        fill_cart(parent, gallery, photos[0], price_list.products[2], now=now)
        order_now(owner.studio, parent, now=now)
        found = Shop()
        found.gallery_path = f"/g/{owner.studio.slug}/{gallery.slug}"
        found.public_path = f"/g/{owner.studio.slug}/{open_day.slug}"
        found.cart_path = f"/s/{owner.studio.slug}/cart"
        found.checkout_path = f"/s/{owner.studio.slug}/checkout"
        found.orders_path = f"/my-orders/{my_orders_token(owner.studio_id, parent.id)}"
        found.sign_in_link = clients.sign_in_url(parent, gallery)
        found.photo_ids = [photo.id for photo in photos]
        return found


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def page_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def assert_no_sideways_scroll(page, where):
    page.wait_for_load_state("load")
    width = page_width(page)
    assert width <= 360, f"{where}: the page is {width} px wide on a 360 px screen"


def swipe(page, from_x, to_x, y=300):
    """A finger moving sideways across the screen (Chromium's own touch input)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": from_x, "y": y}]})
    for step in range(1, 6):
        x = from_x + (to_x - from_x) * step / 5
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def figure_boxes(page):
    return page.evaluate(
        "[...document.querySelectorAll('.photo-grid figure')].map((f) => {"
        " const r = f.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })"
    )


def test_photos_keep_their_shape_and_nothing_scrolls_sideways(live_server, shop, phone):
    held = []  # thumbnails held back: the page is laid out before they arrive
    phone.route("**/thumb", lambda route: held.append(route))
    phone.goto(shop.sign_in_link, wait_until="domcontentloaded")
    expect(phone.locator(".photo-grid img")).to_have_count(4)
    before = figure_boxes(phone)
    assert len(held) >= 2  # (lazy loading may hold back the ones below the screen)
    for route in held:
        route.continue_()
    phone.unroute("**/thumb")
    # A function, not an expression: the page's CSP forbids evaluating strings.
    phone.wait_for_function(
        "() => [...document.querySelectorAll('.photo-grid img')].every((image) => image.complete)"
    )
    assert figure_boxes(phone) == before, "the photos moved as their thumbnails arrived"
    assert_no_sideways_scroll(phone, "gallery")
    landscape = phone.locator(f"img[data-photo-id='{shop.photo_ids[0]}']")
    portrait = phone.locator(f"img[data-photo-id='{shop.photo_ids[1]}']")
    expect(portrait).to_have_attribute("loading", "lazy")
    # width and height reserve the thumbnail's space before it arrives (no layout shift)
    assert (portrait.get_attribute("width"), portrait.get_attribute("height")) == ("800", "1200")
    wide, tall = landscape.bounding_box(), portrait.bounding_box()
    assert wide["width"] / wide["height"] == pytest.approx(1.5, rel=0.03)
    assert tall["width"] / tall["height"] == pytest.approx(2 / 3, rel=0.03)
    # Justified rows: the two photos of the first row share one height.
    assert wide["y"] == pytest.approx(tall["y"], abs=1)
    assert wide["height"] == pytest.approx(tall["height"], abs=1.5)


def test_the_lightbox_swipes_keys_keeps_focus_and_adds_to_the_cart(live_server, shop, phone):
    phone.goto(shop.sign_in_link)
    grid = phone.locator(".photo-grid img")
    grid.nth(0).tap()
    dialog = phone.get_by_role("dialog", name="Photo viewer")
    expect(dialog).to_be_visible()
    counter = dialog.locator(".lb-caption")
    expect(counter).to_have_text("1 / 4")
    assert_no_sideways_scroll(phone, "lightbox")

    swipe(phone, 300, 60)
    expect(counter).to_have_text("2 / 4")
    swipe(phone, 300, 60)
    expect(counter).to_have_text("3 / 4")
    swipe(phone, 60, 300)
    expect(counter).to_have_text("2 / 4")
    phone.keyboard.press("ArrowRight")
    expect(counter).to_have_text("3 / 4")
    phone.keyboard.press("ArrowLeft")
    expect(counter).to_have_text("2 / 4")
    expect(dialog.locator(".lb-stage img")).to_have_attribute("src", f"/p/{shop.photo_ids[1]}/preview")

    for _ in range(12):  # Tab never leaves the dialog
        phone.keyboard.press("Tab")
        assert phone.evaluate("document.querySelector('.lightbox').contains(document.activeElement)")

    dialog.get_by_label("Product").select_option(label="Print 20 × 30 cm · €15.00")
    dialog.get_by_label("Quantity").fill("2")
    dialog.get_by_role("button", name="Add to cart").tap()
    expect(dialog.get_by_role("status")).to_contain_text("Added to your cart: Print 20 × 30 cm × 2.")
    expect(dialog).to_be_visible()
    expect(counter).to_have_text("2 / 4")
    assert_no_sideways_scroll(phone, "lightbox after adding")

    phone.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert phone.evaluate("document.activeElement.dataset.photoId") == str(shop.photo_ids[0])

    phone.goto(live_server.url + shop.cart_path)
    row = phone.locator(".cart-lines tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Print 20 × 30 cm")
    expect(row.locator("input[name=quantity]")).to_have_value("2")
    expect(row.locator("img.cart-thumb")).to_have_attribute("src", f"/p/{shop.photo_ids[1]}/thumb")
    assert_no_sideways_scroll(phone, "cart")
    phone.get_by_role("link", name="Checkout").tap()
    expect(phone.get_by_role("heading", name="Checkout")).to_be_visible()
    assert_no_sideways_scroll(phone, "checkout")
    phone.goto(live_server.url + shop.orders_path)
    expect(phone.get_by_role("heading", name="My orders")).to_be_visible()
    assert_no_sideways_scroll(phone, "my orders")


def test_a_heart_fills_the_favourites_view_and_stays_after_a_reload(live_server, shop, phone):
    phone.goto(shop.sign_in_link)
    second = phone.locator(f"button.heart[data-photo-id='{shop.photo_ids[1]}']")
    expect(second).to_have_attribute("aria-pressed", "false")
    second.tap()
    expect(second).to_have_attribute("aria-pressed", "true")
    expect(phone.locator("[data-favourite-count]")).to_have_text("1")

    phone.get_by_role("link", name="Favourites").tap()
    shown = phone.locator(".photo-grid img")
    expect(shown).to_have_count(1)
    expect(shown).to_have_attribute("data-photo-id", str(shop.photo_ids[1]))
    phone.reload()
    expect(shown).to_have_count(1)
    expect(shown).to_have_attribute("data-photo-id", str(shop.photo_ids[1]))
    expect(phone.locator("button.heart[aria-pressed=true]")).to_have_count(1)
    assert_no_sideways_scroll(phone, "favourites view")


def test_the_lightbox_heart_is_the_photos_heart(live_server, shop, phone):
    phone.goto(shop.sign_in_link)
    phone.locator(".photo-grid img").nth(2).tap()
    dialog = phone.get_by_role("dialog", name="Photo viewer")
    expect(dialog.locator(".lb-caption")).to_have_text("3 / 4")
    lightbox_heart = dialog.get_by_role("button", name="Favourite", exact=True)
    expect(lightbox_heart).to_have_attribute("aria-pressed", "false")
    lightbox_heart.tap()
    expect(lightbox_heart).to_have_attribute("aria-pressed", "true")
    grid_heart = phone.locator(f"button.heart[data-photo-id='{shop.photo_ids[2]}']")
    expect(grid_heart).to_have_attribute("aria-pressed", "true")
    phone.keyboard.press("ArrowRight")  # the next photo has no heart yet
    expect(lightbox_heart).to_have_attribute("aria-pressed", "false")
    phone.keyboard.press("Escape")
    phone.reload()
    expect(grid_heart).to_have_attribute("aria-pressed", "true")


def test_a_visitor_is_asked_to_register_and_the_door_fits_a_phone(live_server, shop, phone):
    phone.goto(live_server.url + shop.gallery_path)  # a registration gallery: the door first
    expect(phone.get_by_role("heading", name="Register to see the photos")).to_be_visible()
    assert_no_sideways_scroll(phone, "register")


def test_a_visitor_who_hearts_a_photo_is_asked_to_register(live_server, shop, phone):
    phone.goto(live_server.url + shop.public_path)  # a public gallery: photos without registering
    register = phone.locator("details#register")
    expect(register).not_to_have_attribute("open", "")
    phone.locator("button.heart").first.tap()
    expect(phone.locator("[data-favourite-notice]")).to_have_text(
        "Register with your email to keep your favourites: they wait for you on any device."
    )
    expect(register).to_have_attribute("open", "")
    expect(phone.locator("button.heart").first).to_have_attribute("aria-pressed", "false")
    assert_no_sideways_scroll(phone, "public gallery with the registration form open")

    phone.locator(".photo-grid img").first.tap()  # the lightbox's heart says the same
    dialog = phone.get_by_role("dialog", name="Photo viewer")
    expect(dialog.get_by_role("link", name="Register with your email to order this photo")).to_be_visible()
    dialog.get_by_role("button", name="Favourite", exact=True).tap()
    expect(dialog).to_be_hidden()
    expect(phone.locator("details#register input[name=email]")).to_be_in_viewport()


def test_a_mouse_drag_moves_on_and_does_not_close_the_lightbox(live_server, shop, browser):
    desktop = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = desktop.new_page()
    page.goto(shop.sign_in_link)
    page.locator(".photo-grid img").nth(0).click()
    dialog = page.get_by_role("dialog", name="Photo viewer")
    expect(dialog.locator(".lb-caption")).to_have_text("1 / 4")
    image = dialog.locator(".lb-stage img").bounding_box()
    middle_y = image["y"] + image["height"] / 2
    page.mouse.move(image["x"] + image["width"] - 10, middle_y)
    page.mouse.down()
    page.mouse.move(image["x"] - 60, middle_y, steps=8)  # let go beside the photo
    page.mouse.up()
    expect(dialog.locator(".lb-caption")).to_have_text("2 / 4")
    expect(dialog).to_be_visible()
    desktop.close()
