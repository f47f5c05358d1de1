"""Settings → Branding: the accent colour (typed or picked, checked, reset), and the logo and
accent on every kind of email, the gallery's cover in campaign mail, the logo on order PDFs."""

import html
import io
import re

import pytest
import sqlalchemy as sa
from flask import g
from PIL import Image
from pypdf import PdfReader

from app.extensions import db
from app.galleries import branding, cards, services
from app.galleries.storage import photo_file
from app.mailing.models import OutboxMessage
from app.shop.documents import INVOICE, order_pdf
from app.shop.models import OrderStatus
from app.shop.orders import change_status
from app.workflows.rendering import branding_of, prepare
from tests import factories
from tests.client_helpers import confirm_with_code
from tests.factories import NOW
from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery

ACCENT = "#ffcc00"  # a yellow: the text on its buttons must be black


def png(size=(1200, 300), color=(20, 80, 160, 255)):
    buffer = io.BytesIO()
    Image.new("RGBA", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def squeezed(text):
    """``text`` without whitespace: CSS inlining may space a declaration out."""
    return re.sub(r"\s+", "", html.unescape(text))


@pytest.fixture
def branded(owner):
    """The owner's studio with a logo and a yellow accent."""
    studio = owner.studio
    branding.save_logo(studio, png())
    branding.set_accent(studio, ACCENT)
    db.session.commit()
    return studio


# ------------------------------------------------------------------ the settings page


def save(client, typed, picked=None, shown="#2f5bea"):
    return client.post(
        "/admin/galleries/branding/accent",
        data={"accent_color": typed, "accent_picker": picked or typed, "shown": shown},
    )


def test_the_accent_colour_is_saved_normalized_and_shown(client, logged_in):
    response = save(client, " #AbC ")
    assert response.status_code == 302
    assert logged_in.studio.accent_color == "#aabbcc"
    page = client.get("/admin/galleries/branding").get_data(as_text=True)
    assert 'type="color"' in page and 'value="#aabbcc"' in page
    assert "background:#aabbcc;color:#000000" in squeezed(page)


@pytest.mark.parametrize("typed", ["blue", "#12345", "#gggggg", "rgb(1,2,3)", ""])
def test_a_colour_that_is_not_one_is_refused_with_a_clear_message(client, logged_in, typed):
    response = save(client, typed, picked=typed or "#2f5bea", shown="#2f5bea")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "for example #2f5bea" in page and 'aria-invalid="true"' in page
    assert logged_in.studio.accent_color is None


def test_a_colour_picked_without_javascript_wins_over_the_text_left_as_shown(client, logged_in):
    save(client, "#2f5bea", picked="#10a050", shown="#2f5bea")
    assert logged_in.studio.accent_color == "#10a050"
    save(client, "#123456", picked="#10a050", shown="#10a050")  # typed: the text wins
    assert logged_in.studio.accent_color == "#123456"


def test_reset_to_the_default_colour(client, logged_in):
    save(client, "#123456")
    page = client.get("/admin/galleries/branding").get_data(as_text=True)
    assert "data-reset-accent" in page
    client.post("/admin/galleries/branding/accent/reset")
    assert logged_in.studio.accent_color is None
    assert "data-reset-accent" not in client.get("/admin/galleries/branding").get_data(as_text=True)


def test_an_operator_cannot_change_the_branding(client, auth, owner):
    auth.login(factories.make_operator(owner.studio))
    assert save(client, "#123456").status_code == 403
    assert owner.studio.accent_color is None


# ------------------------------------------------------------------ emails


def _assert_branded(message_html, studio):
    flat = squeezed(message_html)
    assert f'src="{branding.logo_url(studio)}"' in message_html, "the logo heads the message"
    assert f"border-top:6pxsolid{ACCENT}" in flat, "the accent band"


def test_sign_in_gallery_link_and_order_emails_carry_the_logo_and_accent(app, branded, mail_outbox):
    gallery = factories.make_gallery(branded, access="registration")
    browser = app.test_client()
    browser.post(
        f"/g/{branded.slug}/{gallery.slug}/register",
        data={"name": "Ada", "email": "ada@example.com", "language": "en"},
    )
    sign_in = mail_outbox.wait_for(1)[0]  # over SMTP, as the parent receives it
    sign_in_html = sign_in.message.get_body(preferencelist=("html",)).get_content()
    _assert_branded(sign_in_html, branded)
    assert f"background:{ACCENT};color:#000000" in squeezed(sign_in_html), "a readable button"

    confirm_with_code(browser, "ada@example.com")
    gallery_link = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.subject.startswith("Your link to"))
    )
    _assert_branded(gallery_link.html, branded)

    price_list = make_price_list(branded)
    sell_gallery(gallery, price_list)
    buyer = factories.make_client(branded, email="buyer@example.com", gallery=gallery)
    fill_cart(buyer, gallery, factories.make_photo(gallery), price_list.products[0])
    order_now(branded, buyer, notify=False)
    g.pop("notification_ids", None)
    placed = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.subject.startswith("Your order")))
    _assert_branded(placed.html, branded)


def test_without_branding_emails_keep_the_name_and_the_default_blue(app, owner):
    from app.galleries.public_routes import send_gallery_link

    gallery = factories.make_gallery(owner.studio)
    parent = factories.make_client(owner.studio, gallery=gallery)
    row = send_gallery_link(owner.studio, gallery, parent, NOW)
    assert "data-brand-logo" not in row.html and owner.studio.name in row.html
    assert "border-top:6pxsolid#2f5bea" in squeezed(row.html)
    assert "background:#2f5bea;color:#ffffff" in squeezed(row.html)


def test_campaign_mail_shows_the_logo_accent_and_the_gallerys_cover(app, branded):
    gallery = factories.make_gallery(branded)
    photos = [factories.make_photo(gallery, position=i) for i in range(2)]
    body = "<p>Your photos are online.</p>"

    without_cover = prepare("Hello", body, "en", branding_of(branded, gallery))
    assert "data-cover" not in without_cover.html

    services.set_cover(gallery, photos[1])
    db.session.commit()
    prepared = prepare("Hello", body, "en", branding_of(branded, gallery))
    _assert_branded(prepared.html, branded)
    cover = re.search(r'<img src="([^"]+)"[^>]*data-cover', prepared.html).group(1)
    served = app.test_client().get(cover.removeprefix("http://localhost"))  # no session: a mail app
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.data == photo_file(photos[1], "preview").read_bytes()
    served.close()

    services.set_cover(gallery, photos[0])  # the old cover's URL stops showing anything
    db.session.commit()
    assert app.test_client().get(cover.removeprefix("http://localhost")).status_code == 404
    assert app.test_client().get("/media/cover/1.forged.jpg").status_code == 404


def test_the_shipped_templates_buttons_take_the_accent_and_the_studios_own_colours_stay(app, branded):
    from app.workflows.templates import BUTTON

    body = BUTTON.format(label="See the photos") + '<p style="color: #2f5bea;">Our own blue</p>'
    prepared = prepare("Hello", body, "en", branding_of(branded))
    assert f"background-color:{ACCENT};color:#000000" in squeezed(prepared.html)
    assert "background-color:#2f5bea" not in squeezed(prepared.html)
    assert "color:#2f5bea" in squeezed(prepared.html)  # a colour the studio wrote itself


def test_a_childs_photo_is_never_the_cover_on_every_familys_mail(app, branded):
    gallery = factories.make_gallery(branded, title="School day", is_qr=True)
    child, group = factories.make_photo(gallery, position=0), factories.make_photo(gallery, position=1)
    card = cards.create_cards(gallery, ["Ada"], NOW)[0]
    cards.assign_photos(card, [child.id])
    services.set_cover(gallery, child)
    db.session.commit()
    assert branding_of(branded, gallery).cover_url is None

    services.set_cover(gallery, group)  # on nobody's card: a class photo, the school
    db.session.commit()
    assert branding_of(branded, gallery).cover_url is not None


# ------------------------------------------------------------------ PDFs


def _images_on_first_page(data):
    return list(PdfReader(io.BytesIO(data)).pages[0].images)


def _paid_order(studio):
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    buyer = factories.make_client(studio, email="buyer@example.com", gallery=gallery)
    fill_cart(buyer, gallery, factories.make_photo(gallery), price_list.products[0])
    order = order_now(studio, buyer, notify=False)
    change_status(order, OrderStatus.PAID, now=NOW)  # paid: no bank transfer QR code on it
    db.session.commit()
    return order


@pytest.mark.parametrize("kind", ["confirmation", INVOICE])
def test_order_pdfs_carry_the_logo_and_the_accent(app, branded, kind):
    order = _paid_order(branded)
    _name, data = order_pdf(order, branded, kind)
    images = _images_on_first_page(data)
    assert len(images) == 1
    with Image.open(branding.logo_path(branded)) as logo:
        assert images[0].image.size == logo.size
    assert b"1 0.8 0 rg" in _page_content(data), "the accent rule is painted in #ffcc00"


def test_order_pdfs_without_a_logo_have_no_image(app, owner):
    order = _paid_order(owner.studio)
    assert _images_on_first_page(order_pdf(order, owner.studio)[1]) == []


def _page_content(data):
    return PdfReader(io.BytesIO(data)).pages[0].get_contents().get_data()


@pytest.mark.no_database
def test_accent_colours_are_normalized_or_refused(app):
    assert branding.normalized_accent("#ABCDEF") == "#abcdef"
    assert branding.normalized_accent("2f5bea") == "#2f5bea"
    assert branding.normalized_accent("#fc0") == "#ffcc00"
    for typed in ("", "#ff", "#ff00zz", "red", "#1234567"):
        with pytest.raises(branding.AccentRefused):
            branding.normalized_accent(typed)


@pytest.mark.no_database
def test_a_pale_accent_keeps_links_readable(app):
    yellow = type("Studio", (), dict(name="S", logo_filename=None, accent_color="#ffee00", id=1))()
    brand = branding.email_brand(yellow)
    assert (brand.accent, brand.on_accent, brand.link) == ("#ffee00", "#000000", branding.DEFAULT_ACCENT)
    navy = type("Studio", (), dict(name="S", logo_filename=None, accent_color="#102a60", id=1))()
    assert branding.email_brand(navy).link == "#102a60"
