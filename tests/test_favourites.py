"""Favourites over HTTP: the heart on a photo, the favourites view, the refusals, what the
studio sees on the client page; and the lightbox's "add to cart" answered as JSON."""

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.galleries.favourites import favourite_counts, favourites_by_gallery
from app.galleries.models import AccessCard, CardClaim, Favourite, GalleryStatus, PhotoState
from app.shop.client_services import my_orders_token
from tests import factories
from tests.factories import NOW
from tests.shop_factories import make_price_list, sell_gallery

JSON = {"Accept": "application/json"}


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    return NOW


@pytest.fixture
def site(owner, client, frozen_now):
    """A public gallery with three photos and a signed-in client of the studio."""
    gallery = factories.make_gallery(owner.studio)
    photos = [factories.make_photo(gallery, name=f"p{i}.jpg", position=i) for i in range(3)]
    parent = factories.make_client(owner.studio, gallery=gallery)
    sign_in(client, parent)
    return type("Site", (), dict(studio=owner.studio, gallery=gallery, photos=photos, parent=parent))


def sign_in(client, parent):
    with client.session_transaction() as session:
        session["clients"] = {str(parent.studio_id): [parent.id, 0]}


def heart(client, photo, on=True, headers=JSON):
    return client.post(f"/p/{photo.id}/favourite", data={"favourite": "1" if on else "0"}, headers=headers)


def hearts_of(parent):
    return set(db.session.scalars(sa.select(Favourite.photo_id).where(Favourite.client_id == parent.id)))


def shown_photo_ids(html):
    return [int(found) for found in re.findall(r'<img src="/p/\d+/thumb"[^>]*data-photo-id="(\d+)"', html)]


def gallery_page(client, site, query=""):
    return client.get(f"/g/{site.studio.slug}/{site.gallery.slug}{query}")


def test_a_heart_is_set_and_taken_back_and_sending_it_twice_changes_nothing(client, site):
    photo = site.photos[1]
    answer = heart(client, photo)
    assert answer.status_code == 200 and answer.json["favourite"] is True
    assert heart(client, photo).json["favourite"] is True  # a double tap
    assert hearts_of(site.parent) == {photo.id}
    answer = heart(client, photo, on=False)
    assert answer.status_code == 200 and answer.json["favourite"] is False
    assert hearts_of(site.parent) == set()


def test_without_script_the_form_posts_and_the_page_comes_back(client, site):
    referrer = f"http://localhost/g/{site.studio.slug}/{site.gallery.slug}?view=favourites"
    answer = heart(client, site.photos[0], headers={"Referer": referrer})
    assert answer.status_code == 302
    assert answer.location.endswith(f"?view=favourites#photo-{site.photos[0].id}")
    assert hearts_of(site.parent) == {site.photos[0].id}


def test_the_favourites_view_lists_only_the_hearted_photos_and_the_grid_shows_the_hearts(client, site):
    heart(client, site.photos[2])
    everything = gallery_page(client, site).get_data(as_text=True)
    assert shown_photo_ids(everything) == [photo.id for photo in site.photos]
    pressed = re.findall(r'aria-pressed="(true|false)" data-photo-id="(\d+)"', everything)
    assert [(state, int(pid)) for state, pid in pressed] == [
        ("false", site.photos[0].id),
        ("false", site.photos[1].id),
        ("true", site.photos[2].id),
    ]
    favourites = gallery_page(client, site, "?view=favourites").get_data(as_text=True)
    assert shown_photo_ids(favourites) == [site.photos[2].id]
    assert "data-favourite-count>1<" in favourites


def test_an_empty_favourites_view_says_how_to_fill_it(client, site):
    page = gallery_page(client, site, "?view=favourites").get_data(as_text=True)
    assert shown_photo_ids(page) == []
    assert "No favourites yet: tap the heart on a photo to keep it here." in page


def test_a_visitor_who_has_not_registered_is_asked_to_register(client, site):
    with client.session_transaction() as session:
        session.clear()
    answer = heart(client, site.photos[0])
    assert answer.status_code == 401
    assert "Register with your email to keep your favourites" in answer.json["message"]
    plain = heart(client, site.photos[0], headers={})
    assert plain.status_code == 302 and plain.location.endswith("#register")
    page = client.get(plain.location).get_data(as_text=True)
    assert "Register with your email to keep your favourites" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Favourite)) == 0
    # The visitor's gallery shows the hearts (they say what to do when pressed), no favourites tab.
    assert 'class="heart"' in page and "data-favourite-count" not in page


def test_a_visitor_sees_no_favourites_view_even_when_asking_for_it(client, site):
    heart(client, site.photos[0])
    with client.session_transaction() as session:
        session.clear()
    page = gallery_page(client, site, "?view=favourites").get_data(as_text=True)
    assert shown_photo_ids(page) == [photo.id for photo in site.photos]


def test_photos_the_client_may_not_see_cannot_be_hearted(client, site, owner):
    processing = factories.make_photo(site.gallery, name="processing.jpg", position=5)
    processing.processing_state = PhotoState.PROCESSING
    card_shot = factories.make_photo(site.gallery, name="card.jpg", position=6)
    draft = factories.make_gallery(owner.studio, title="Draft", status=GalleryStatus.DRAFT)
    in_draft = factories.make_photo(draft, name="draft.jpg")
    qr = factories.make_gallery(owner.studio, title="School", is_qr=True)
    card = AccessCard(gallery_id=qr.id, label="Emma", code="ABCDEFGHJK", created_at=NOW)
    other_card = AccessCard(gallery_id=qr.id, label="Noah", code="ABCDEFGHJM", created_at=NOW)
    db.session.add_all([card, other_card])
    db.session.flush()
    card_shot.card_shot_of_id = card.id
    db.session.add(CardClaim(client_id=site.parent.id, card_id=card.id, claimed_at=NOW))
    emma, noah = factories.make_photo(qr, name="emma.jpg"), factories.make_photo(qr, name="noah.jpg")
    emma.cards, noah.cards = [card], [other_card]
    db.session.commit()

    for photo in (processing, card_shot, in_draft, noah):
        assert heart(client, photo).status_code == 404, photo.original_filename
    assert client.post("/p/999999/favourite", data={"favourite": "1"}).status_code == 404
    assert heart(client, emma).status_code == 200  # the card the parent holds
    assert hearts_of(site.parent) == {emma.id}


def test_a_malformed_heart_is_refused_with_a_message(client, site):
    answer = client.post(f"/p/{site.photos[0].id}/favourite", data={"favourite": "maybe"}, headers=JSON)
    assert answer.status_code == 400 and "could not be saved" in answer.json["message"]
    assert hearts_of(site.parent) == set()


def test_the_client_page_shows_the_clients_favourites_per_gallery(client, site, auth, owner):
    second = factories.make_gallery(owner.studio, title="Summer party")
    party_photo = factories.make_photo(second, name="party.jpg")
    heart(client, site.photos[0])
    heart(client, party_photo)
    auth.login(owner)
    page = client.get(f"/admin/clients/{site.parent.id}").get_data(as_text=True)
    section = page[page.index('data-testid="client-favourites"') :]
    section = section[: section.index("</section>")]
    assert "Spring portraits" in section and "Summer party" in section
    assert f"/admin/galleries/{site.gallery.id}/photos/{site.photos[0].id}/thumb" in section
    assert f"/admin/galleries/{second.id}/photos/{party_photo.id}/thumb" in section
    assert "p1.jpg" not in section


def test_another_studios_staff_see_nothing_of_the_favourites(client, site, auth, other_owner):
    heart(client, site.photos[0])
    auth.login(other_owner)
    assert client.get(f"/admin/clients/{site.parent.id}").status_code == 404
    assert favourites_by_gallery(other_owner.studio_id, site.parent.id) == []
    assert [
        (g.id, [p.id for p in photos]) for g, photos in favourites_by_gallery(site.studio.id, site.parent.id)
    ] == [(site.gallery.id, [site.photos[0].id])]


def test_favourite_counts_per_photo(client, site, owner):
    heart(client, site.photos[0])
    other_parent = factories.make_client(owner.studio, email="other@example.com", gallery=site.gallery)
    sign_in(client, other_parent)
    heart(client, site.photos[0])
    heart(client, site.photos[1])
    assert favourite_counts(site.gallery.id) == {site.photos[0].id: 2, site.photos[1].id: 1}


def test_the_gallery_admin_shows_each_photos_hearts(client, site, owner, auth):
    heart(client, site.photos[0])
    other_parent = factories.make_client(owner.studio, email="other@example.com", gallery=site.gallery)
    sign_in(client, other_parent)
    heart(client, site.photos[0])
    auth.login(owner)
    page = client.get(f"/admin/galleries/{site.gallery.id}").get_data(as_text=True)
    hearts = dict(re.findall(r'data-photo-id="(\d+)".*?(?:data-hearts="(\d+)"|</figure>)', page, re.S))
    assert hearts == {str(site.photos[0].id): "2", str(site.photos[1].id): "", str(site.photos[2].id): ""}


# ---------------------------------------------------------------- the lightbox's add to cart


@pytest.fixture
def on_sale(site):
    price_list = make_price_list(site.studio)
    sell_gallery(site.gallery, price_list)
    site.products = price_list.products
    return site


def add(client, site, quantity=2, product=None, headers=JSON):
    return client.post(
        f"/s/{site.studio.slug}/cart/add",
        data={
            "gallery_id": site.gallery.id,
            "photo_id": site.photos[1].id,
            "product_id": (product or site.products[0]).id,
            "quantity": quantity,
        },
        headers=headers,
    )


def test_the_lightbox_adds_to_the_cart_and_reads_the_confirmation_as_json(client, on_sale):
    answer = add(client, on_sale)
    assert answer.status_code == 200
    assert answer.json["ok"] is True
    assert answer.json["message"] == "Added to your cart: Print 13 × 18 cm × 2."
    assert answer.json["cart_url"] == f"/s/{on_sale.studio.slug}/cart"
    cart = client.get(f"/s/{on_sale.studio.slug}/cart").get_data(as_text=True)
    assert "Print 13 × 18 cm" in cart and 'value="2"' in cart


def test_the_lightbox_hears_why_nothing_was_added(client, on_sale):
    answer = add(client, on_sale, quantity=0)
    assert answer.status_code == 422 and answer.json["ok"] is False and answer.json["message"]
    with client.session_transaction() as session:
        session.clear()
    answer = add(client, on_sale)
    assert answer.status_code == 401
    assert answer.json["message"] == "Please open your gallery and register with your email to order."
    sign_in(client, on_sale.parent)
    assert "Your cart is empty" in client.get(f"/s/{on_sale.studio.slug}/cart").get_data(as_text=True)


def test_the_lightbox_offers_the_buy_form_and_the_grid_keeps_its_own(client, on_sale):
    page = gallery_page(client, on_sale).get_data(as_text=True)
    lightbox = page[page.index('class="lightbox"') :]
    assert "data-lightbox-buy" in lightbox and 'name="product_id"' in lightbox
    assert page.count('name="product_id"') == len(on_sale.photos) + 1


# ---------------------------------------------------------------- the studio's accent colour


def test_client_pages_take_the_studios_accent_with_a_readable_text_colour(client, site):
    site.studio.accent_color = "#ffd400"
    db.session.commit()
    orders = f"/my-orders/{my_orders_token(site.studio.id, site.parent.id)}"
    for path in (f"/g/{site.studio.slug}/{site.gallery.slug}", f"/s/{site.studio.slug}/cart", orders):
        page = client.get(path).get_data(as_text=True)
        assert "--accent: #ffd400; --accent-ink: #000000; --accent-text: #1d2025;" in page, path


def test_without_an_accent_the_pages_keep_their_colours(client, site):
    page = gallery_page(client, site).get_data(as_text=True)
    assert "--accent:" not in page
