"""The client side of galleries: access rules, registration, private links, photo access."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.galleries.models import (
    AccessCard,
    CardClaim,
    Client,
    GalleryAccess,
    GalleryStatus,
    Registration,
)
from tests import factories
from tests.client_helpers import confirm_with_code
from tests.factories import NOW


@pytest.fixture
def frozen_now(monkeypatch):
    """Routes read the clock through app.timeutil.now: pin it to the factories' NOW."""
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    return NOW


def fetch(client, path):
    """GET a photo and close the response (send_file keeps the file open until then)."""
    response = client.get(path)
    response.close()
    return response.status_code


def url(gallery, studio):
    return f"/g/{studio.slug}/{gallery.slug}"


def register(
    client,
    gallery,
    studio,
    email="parent@example.com",
    name="Alex Parent",
    consent=False,
    confirm=True,
    **extra,
):
    """Register and, unless ``confirm`` is False, type the emailed code as the parent would."""
    data = {"name": name, "email": email, "language": "en", **extra}
    if consent:
        data["marketing_consent"] = "y"
    response = client.post(url(gallery, studio) + "/register", data=data)
    if confirm and response.status_code == 302 and response.location.endswith("/sign-in/code"):
        return confirm_with_code(client, email)
    return response


def register_with_card(client, code, email="alex@example.com", name="Alex"):
    response = client.post(f"/c/{code}", data={"name": name, "email": email, "language": "en"})
    if response.status_code == 302 and response.location.endswith("/sign-in/code"):
        return confirm_with_code(client, email)
    return response


def test_public_gallery_shows_photos_to_anyone(client, owner, frozen_now):
    gallery = factories.make_gallery(owner.studio)
    photo = factories.make_photo(gallery)
    page = client.get(url(gallery, owner.studio))
    assert page.status_code == 200
    assert f"/p/{photo.id}/thumb".encode() in page.data
    assert fetch(client, f"/p/{photo.id}/thumb") == 200
    assert fetch(client, f"/p/{photo.id}/preview") == 200
    assert fetch(client, f"/p/{photo.id}/original") == 404


@pytest.mark.parametrize(
    ("change", "status", "text"),
    [
        (dict(status=GalleryStatus.DRAFT), 404, b"This gallery is not available"),
        (dict(status=GalleryStatus.ARCHIVED), 200, b"This gallery has been archived"),
        (dict(archives_at=NOW - timedelta(minutes=1)), 200, b"This gallery has been archived"),
        (dict(sale_starts_at=NOW + timedelta(days=3)), 200, b"The photos will be available on"),
    ],
)
def test_closed_and_upcoming_galleries_get_a_friendly_page_and_no_photos(
    client, owner, frozen_now, change, status, text
):
    gallery = factories.make_gallery(owner.studio, **change)
    photo = factories.make_photo(gallery)
    page = client.get(url(gallery, owner.studio))
    assert page.status_code == status and text in page.data
    assert f"/p/{photo.id}/thumb".encode() not in page.data
    assert fetch(client, f"/p/{photo.id}/thumb") == 404


def test_clients_can_register_before_the_sale_to_be_told(client, owner, frozen_now):
    gallery = factories.make_gallery(owner.studio, sale_starts_at=NOW + timedelta(days=3))
    assert register(client, gallery, owner.studio).status_code == 302
    page = client.get(url(gallery, owner.studio))
    assert b"You are registered" in page.data


def test_after_the_sale_photos_stay_visible_with_a_banner(client, owner, frozen_now):
    gallery = factories.make_gallery(
        owner.studio, sale_starts_at=NOW - timedelta(days=9), sale_ends_at=NOW - timedelta(days=1)
    )
    factories.make_photo(gallery)
    page = client.get(url(gallery, owner.studio))
    assert b"The sale has ended" in page.data and b"/thumb" in page.data


def test_password_gallery_asks_for_its_password(client, owner, frozen_now):
    gallery = factories.make_gallery(
        owner.studio, access=GalleryAccess.PASSWORD, password_hash=generate_password_hash("lighthouse")
    )
    photo = factories.make_photo(gallery)
    assert b"Gallery password" in client.get(url(gallery, owner.studio)).data
    assert fetch(client, f"/p/{photo.id}/thumb") == 404
    wrong = client.post(url(gallery, owner.studio), data={"password": "nope"})
    assert b"This password is not right" in wrong.data
    client.post(url(gallery, owner.studio), data={"password": "lighthouse"})
    assert f"/p/{photo.id}/thumb".encode() in client.get(url(gallery, owner.studio)).data
    assert fetch(client, f"/p/{photo.id}/thumb") == 200


def test_registration_gallery_needs_registering_first(client, owner, frozen_now, mail_outbox):
    gallery = factories.make_gallery(owner.studio, access=GalleryAccess.REGISTRATION)
    photo = factories.make_photo(gallery)
    assert b"Register to see the photos" in client.get(url(gallery, owner.studio)).data
    assert fetch(client, f"/p/{photo.id}/thumb") == 404
    register(client, gallery, owner.studio, email="  Parent@Example.COM ")
    assert f"/p/{photo.id}/thumb".encode() in client.get(url(gallery, owner.studio)).data
    stored = db.session.scalar(sa.select(Client))
    assert stored.email == "parent@example.com"
    assert stored.marketing_consent is False and stored.consent_at is None


def test_registration_form_shows_an_unticked_consent_and_stores_its_text(client, owner, frozen_now):
    gallery = factories.make_gallery(owner.studio, access=GalleryAccess.REGISTRATION)
    page = client.get(url(gallery, owner.studio)).data.decode()
    checkbox = page[
        page.index('name="marketing_consent"') - 200 : page.index('name="marketing_consent"') + 100
    ]
    assert "checked" not in checkbox
    register(client, gallery, owner.studio, consent=True)
    stored = db.session.scalar(sa.select(Client))
    assert stored.marketing_consent is True and stored.consent_at == NOW
    assert "Northlight Studio may email me news and offers" in stored.consent_text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "email": "a@example.com"}, b"Please enter your name."),
        ({"name": "Alex", "email": ""}, b"Please enter your email."),
        ({"name": "Alex", "email": "not-an-email"}, b"An email address must have an @-sign."),
    ],
)
def test_bad_registrations_get_a_clear_message_and_change_nothing(client, owner, frozen_now, data, message):
    gallery = factories.make_gallery(owner.studio, access=GalleryAccess.REGISTRATION)
    response = client.post(url(gallery, owner.studio) + "/register", data={"language": "en", **data})
    assert response.status_code == 422 and message in response.data
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) == 0


def test_registering_again_signs_back_in_without_duplicates(client, owner, frozen_now, mail_outbox, app):
    gallery = factories.make_gallery(owner.studio, access=GalleryAccess.REGISTRATION)
    register(client, gallery, owner.studio)
    other_browser = app.test_client()
    response = register(other_browser, gallery, owner.studio, name="Alex P.")
    assert response.status_code == 302
    # The name typed in the other browser does not rename the client.
    assert b"Welcome, Alex Parent!" in other_browser.get(url(gallery, owner.studio)).data
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 1


def test_the_gallery_link_email_signs_in_on_another_device(client, owner, frozen_now, mail_outbox, app):
    gallery = factories.make_gallery(owner.studio, access=GalleryAccess.REGISTRATION)
    photo = factories.make_photo(gallery)
    register(client, gallery, owner.studio)
    mail = next(mail for mail in mail_outbox.wait_for(2) if "Your link" in mail.subject)
    assert mail.subject == f"Your link to {gallery.title}"
    link = next(word for word in mail.text().split() if "/signin/" in word)
    phone = app.test_client()
    assert fetch(phone, f"/p/{photo.id}/thumb") == 404
    landing = phone.get("/" + link.split("/", 3)[3])
    assert landing.status_code == 302 and landing.location.endswith(url(gallery, owner.studio))
    assert fetch(phone, f"/p/{photo.id}/thumb") == 200
    assert phone.get("/signin/forged-token").status_code == 404


def _qr_gallery(owner):
    gallery = factories.make_gallery(
        owner.studio, title="Maple class", is_qr=True, access=GalleryAccess.REGISTRATION
    )
    photos = [factories.make_photo(gallery, position=i) for i in range(3)]
    cards = []
    for index, code in enumerate(["AAAABBBBCC", "DDDDEEEEFF", "GGGGHHHHJJ"]):
        card = AccessCard(gallery_id=gallery.id, label=f"Child {index}", code=code, created_at=NOW)
        card.photos = [photos[index]]
        db.session.add(card)
        cards.append(card)
    db.session.commit()
    return gallery, photos, cards


def test_a_card_opens_its_registration_and_shows_only_its_photos(client, owner, frozen_now):
    gallery, photos, cards = _qr_gallery(owner)
    assert b"Photo card: Child 0" in client.get("/c/aaaa-bbbb-cc").data  # any case, dashes
    register_with_card(client, "AAAABBBBCC")
    page = client.get(url(gallery, owner.studio)).data
    assert f"/p/{photos[0].id}/thumb".encode() in page
    assert f"/p/{photos[1].id}/thumb".encode() not in page
    assert fetch(client, f"/p/{photos[1].id}/preview") == 404


def test_siblings_one_parent_two_cards_sees_both_and_not_a_third(client, owner, frozen_now):
    gallery, photos, cards = _qr_gallery(owner)
    for code in ("AAAABBBBCC", "DDDDEEEEFF"):  # the second: signed in already, no new code
        register_with_card(client, code)
    page = client.get(url(gallery, owner.studio)).data
    assert f"/p/{photos[0].id}/thumb".encode() in page
    assert f"/p/{photos[1].id}/thumb".encode() in page
    assert f"/p/{photos[2].id}/thumb".encode() not in page
    assert db.session.scalar(sa.select(sa.func.count(CardClaim.card_id))) == 2
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 1


def test_qr_gallery_without_a_card_shows_nothing(client, owner, frozen_now):
    gallery, photos, _ = _qr_gallery(owner)
    page = client.get(url(gallery, owner.studio))
    assert b"Have a photo card?" in page.data and b"/thumb" not in page.data
    assert fetch(client, f"/p/{photos[0].id}/thumb") == 404
    refused = client.post(
        url(gallery, owner.studio) + "/register",
        data={"name": "A", "email": "a@example.com", "language": "en"},
    )
    assert refused.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) == 0


def test_unknown_card_code_gets_a_clear_message(client, owner, frozen_now):
    assert b"We do not know this code" in client.get("/c/ZZZZ-ZZZZ-ZZ").data
    typed = client.post("/c", data={"code": "nope"})
    assert b"We do not know this code" in typed.data


def test_typed_code_leads_to_the_card(client, owner, frozen_now):
    _qr_gallery(owner)
    response = client.post("/c", data={"code": "dddd eeee ff"})
    assert response.status_code == 302 and response.location.endswith("/c/DDDDEEEEFF")


def test_another_studios_client_session_does_not_open_this_gallery(client, owner, other_owner, frozen_now):
    theirs = factories.make_gallery(other_owner.studio, access=GalleryAccess.REGISTRATION)
    mine = factories.make_gallery(owner.studio, access=GalleryAccess.REGISTRATION, slug=theirs.slug)
    photo = factories.make_photo(mine)
    register(client, theirs, other_owner.studio)
    assert fetch(client, f"/p/{photo.id}/thumb") == 404
    assert b"Register to see the photos" in client.get(url(mine, owner.studio)).data
