"""Take the README's screenshots: the demo studio in Chromium (python scripts/screenshots.py)."""

import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app import create_app, timeutil  # noqa: E402
from app.demo import DEMO_EMAIL, DEMO_PASSWORD, create_demo, sample_photo  # noqa: E402
from app.extensions import db  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "has_touch": True,
    "is_mobile": True,
}
# Every image in the viewport has arrived (thumbnails load lazily, the viewer's photo on open).
IMAGES_LOADED = """() => Array.from(document.images)
    .filter((img) => img.getClientRects().length && img.getBoundingClientRect().top < innerHeight)
    .every((img) => img.complete && img.naturalWidth > 0)"""


def _emailed_code(app, email):
    """The sign-in code a parent reads in their email (here: from the outbox)."""
    import re

    import sqlalchemy as sa

    from app.mailing.models import OutboxMessage

    with app.app_context():
        text = db.session.scalar(
            sa.select(OutboxMessage.text)
            .where(OutboxMessage.recipient == email, OutboxMessage.is_sensitive.is_(True))
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    return re.search(r"^\s*(\d{6})\s*$", text, re.M).group(1)


def _add_portraits(app):
    """Portrait photos among Emma's and Lucas's (the demo's are all landscape), so the phone
    grid shows photos in their own shape. Returns the id of the first portrait."""
    import sqlalchemy as sa

    from app.galleries import images
    from app.galleries.models import AccessCard, Photo

    with app.app_context():
        cards = {card.code: card for card in db.session.scalars(sa.select(AccessCard))}
        emma, lucas = cards["DEMO1KDGN"], cards["DEMO2KDGN"]
        gallery = emma.gallery
        added = {}
        for card, label, colour in [(emma, "Emma 4", 6), (emma, "Emma 5", 1), (lucas, "Lucas 4", 4)]:
            photo = images.add_photo(
                gallery, sample_photo(label, colour, size=(800, 1200)), f"{label}.jpg", timeutil.now()
            )
            card.photos.append(photo)
            added[label] = photo
        # Each portrait right after its child's first photo, as a photographer would sort them.
        photos = db.session.scalars(
            sa.select(Photo).where(Photo.gallery_id == gallery.id).order_by(Photo.position, Photo.id)
        ).all()
        order = [photo for photo in photos if photo not in added.values()]
        for after, label in [("Emma 1.jpg", "Emma 4"), ("Emma 1.jpg", "Emma 5"), ("Lucas 1.jpg", "Lucas 4")]:
            anchor = next(i for i, photo in enumerate(order) if photo.original_filename == after)
            while order[anchor + 1] in added.values():
                anchor += 1
            order.insert(anchor + 1, added[label])
        for position, photo in enumerate(order, start=1):
            photo.position = position
        db.session.commit()
        return added["Emma 4"].id


def _save_small(page, name):
    """The viewport only, as an optimised PNG (these files are committed)."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(page.screenshot()))
    image.save(OUT / name, optimize=True)


def _phone_shots(browser, storage_state, portrait_id):
    """The parent's gallery on a phone: the grid with a heart, then the viewer with ordering."""
    context = browser.new_context(storage_state=storage_state, **PHONE)
    phone = context.new_page()
    phone.goto("http://127.0.0.1:5077/c/DEMO1KDGN")
    phone.wait_for_load_state("networkidle")
    figure = phone.locator(f"#photo-{portrait_id}")
    figure.locator("button.heart").tap()
    figure.locator("button.heart[aria-pressed=true]").wait_for()
    phone.evaluate("document.activeElement && document.activeElement.blur()")
    # The grid up to the top of the screen, under the "All photos / Favourites" choice.
    phone.evaluate(
        "scrollTo(0, document.querySelector('.gallery-views').getBoundingClientRect().top + scrollY - 12)"
    )
    phone.wait_for_timeout(1000)  # the tap's highlight fades
    phone.wait_for_function(IMAGES_LOADED)
    _save_small(phone, "phone-gallery.png")
    figure.locator("img").tap()
    viewer = phone.locator(".lightbox.open")
    viewer.wait_for()
    product = viewer.locator("option", has_text="Print 20 × 30 cm").get_attribute("value")
    viewer.locator("select[name=product_id]").select_option(product)
    viewer.locator("input[name=quantity]").fill("2")
    phone.evaluate("document.activeElement && document.activeElement.blur()")
    phone.wait_for_function(IMAGES_LOADED)
    _save_small(phone, "phone-lightbox.png")
    context.close()


def main():
    import socket

    from app.mailing.sink import start_sink

    folder = tempfile.mkdtemp()
    with socket.socket() as probe:  # a free port for the local mail sink: mail really goes out
        probe.bind(("127.0.0.1", 0))
        mail_port = probe.getsockname()[1]
    app = create_app(
        {"SECRET_KEY": "screens", "BASE_URL": "http://127.0.0.1:5077", "MAIL_PORT": mail_port},
        instance_path=folder,
    )
    start_sink(app.config["MAIL_SINK_FOLDER"], port=mail_port)
    with app.app_context():
        upgrade()
        create_demo(timeutil.now())
        db.session.commit()
    server = make_server("127.0.0.1", 5077, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto("http://127.0.0.1:5077/login")
        page.fill("input[name=email]", DEMO_EMAIL)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/admin/**")
        page.goto("http://127.0.0.1:5077/admin/workflows/")
        page.locator("a", has_text="Spring 2027 school").first.click()
        page.screenshot(path=str(OUT / "workflow.png"))
        page.get_by_role("link", name="timeline").first.click()
        page.screenshot(path=str(OUT / "timeline.png"), full_page=True)
        client = browser.new_page(viewport={"width": 1280, "height": 860})
        client.goto("http://127.0.0.1:5077/c/DEMO1KDGN")
        client.fill("input[name=name]", "Julie Moreau")
        client.fill("input[name=email]", "julie.moreau@example.com")
        client.get_by_role("button", name="See my photos").click()
        client.fill("input[name=code]", _emailed_code(app, "julie.moreau@example.com"))
        client.get_by_role("button", name="Continue").click()
        client.wait_for_load_state("networkidle")
        client.screenshot(path=str(OUT / "client-gallery.png"))
        page.goto("http://127.0.0.1:5077/admin/clients/?q=julie")
        page.get_by_role("link", name="Julie Moreau").click()
        page.screenshot(path=str(OUT / "client-page.png"), full_page=True)
        _phone_shots(browser, client.context.storage_state(), _add_portraits(app))
        browser.close()
    server.shutdown()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
