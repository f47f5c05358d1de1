"""The photographer's gallery pages: list, create, edit, delete, photos order and cover, isolation."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from app.extensions import db
from app.galleries import images
from app.galleries.models import AccessCard, Gallery, GalleryAccess, GalleryStatus, Photo, Registration
from app.galleries.storage import gallery_folder, photo_file
from tests import factories
from tests.gallery_admin_helpers import jpeg_bytes


def form_data(**overrides):
    data = {
        "title": "Smith wedding",
        "slug": "",
        "description": "Saturday in Lyon",
        "shoot_date": "2026-06-13",
        "sale_starts_at": "2026-06-20T09:00",
        "sale_ends_at": "2026-07-20T18:00",
        "archives_at": "2026-09-01T00:00",
        "status": "draft",
        "access": "public",
        "password": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def galleries_of(studio):
    return db.session.scalars(
        sa.select(Gallery).where(Gallery.studio_id == studio.id).order_by(Gallery.id)
    ).all()


# ------------------------------------------------------------------ list


def test_empty_list_invites_to_create_a_gallery(client, logged_in):
    page = client.get("/admin/galleries/").get_data(as_text=True)
    assert "Create your first gallery" in page


def test_list_shows_status_counts_and_dates_in_studio_time(client, logged_in):
    gallery = factories.make_gallery(
        logged_in.studio, title="Spring portraits", sale_starts_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    )
    factories.make_photo(gallery)
    factories.make_photo(gallery)
    factories.make_client(logged_in.studio, gallery=gallery)
    factories.make_gallery(logged_in.studio, title="Draft one", status=GalleryStatus.DRAFT)
    page = client.get("/admin/galleries/").get_data(as_text=True)
    assert "Spring portraits" in page and "Draft one" in page
    assert "2 photos" in page and "1 client" in page and "0 photos" in page
    assert "badge-published" in page and "badge-draft" in page
    assert "9:00" in page  # 08:00 UTC is 09:00 in Paris
    assert "Create your first gallery" not in page


def test_list_shows_only_this_studios_galleries(client, logged_in, other_owner):
    factories.make_gallery(other_owner.studio, title="Someone else's")
    assert "Someone else" not in client.get("/admin/galleries/").get_data(as_text=True)


# ------------------------------------------------------------------ create and edit


def test_create_reads_dates_in_studio_time_and_generates_slug(client, logged_in):
    response = client.post("/admin/galleries/new", data=form_data())
    gallery = galleries_of(logged_in.studio)[0]
    assert response.headers["Location"].endswith(f"/admin/galleries/{gallery.id}")
    assert gallery.slug == "smith-wedding"
    assert gallery.sale_starts_at == datetime(2026, 6, 20, 7, 0, tzinfo=UTC)  # Paris is UTC+2 in June
    assert gallery.sale_ends_at == datetime(2026, 7, 20, 16, 0, tzinfo=UTC)
    assert gallery.shoot_date == date(2026, 6, 13)
    assert (gallery.status, gallery.access, gallery.is_qr) == ("draft", "public", False)
    assert gallery.password_hash is None


def test_generated_slug_avoids_the_studios_existing_ones(client, logged_in):
    factories.make_gallery(logged_in.studio, title="Smith wedding")
    client.post("/admin/galleries/new", data=form_data())
    slugs = [gallery.slug for gallery in galleries_of(logged_in.studio)]
    assert slugs == ["smith-wedding", "smith-wedding-2"]


def test_edit_form_shows_dates_in_studio_time(client, logged_in):
    gallery = factories.make_gallery(
        logged_in.studio, sale_ends_at=datetime(2026, 12, 24, 17, 30, tzinfo=UTC)
    )
    page = client.get(f"/admin/galleries/{gallery.id}/edit").get_data(as_text=True)
    assert 'value="2026-12-24T18:30"' in page


def test_edit_changes_fields_and_keeps_password_when_blank(client, logged_in):
    client.post("/admin/galleries/new", data=form_data(access="password", password="s3cret!"))
    gallery = galleries_of(logged_in.studio)[0]
    assert check_password_hash(gallery.password_hash, "s3cret!")
    client.post(
        f"/admin/galleries/{gallery.id}/edit",
        data=form_data(
            title="Smith & Jones wedding",
            slug="smith-jones",
            access="password",
            status="published",
            is_qr="y",
        ),
    )
    db.session.refresh(gallery)
    assert (gallery.title, gallery.slug, gallery.status, gallery.is_qr) == (
        "Smith & Jones wedding",
        "smith-jones",
        "published",
        True,
    )
    assert check_password_hash(gallery.password_hash, "s3cret!")
    client.post(f"/admin/galleries/{gallery.id}/edit", data=form_data(access="password", password="n3w-one"))
    db.session.refresh(gallery)
    assert check_password_hash(gallery.password_hash, "n3w-one")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "Give the gallery a title."),
        ({"slug": "Not A Slug!"}, "Use only lowercase letters, digits and single hyphens"),
        ({"slug": "double--hyphen"}, "Use only lowercase letters, digits and single hyphens"),
        ({"sale_ends_at": "2026-06-20T09:00"}, "The sale must end after it starts."),
        ({"sale_ends_at": "2026-06-01T09:00"}, "The sale must end after it starts."),
        ({"archives_at": "2026-07-20T17:59"}, "Archive the gallery after the sale ends."),
        (
            {"sale_ends_at": "", "archives_at": "2026-06-19T00:00"},
            "Archive the gallery after the sale starts.",
        ),
        ({"access": "password", "password": ""}, "Choose a password: this gallery"),
        ({"access": "password", "password": "abc"}, "Use at least 4 characters."),
        ({"sale_starts_at": "tomorrow"}, "Not a valid datetime value."),
        ({"status": "secret"}, "Not a valid choice."),
    ],
)
def test_create_validations_each_have_a_message(client, logged_in, overrides, message):
    response = client.post("/admin/galleries/new", data=form_data(**overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert galleries_of(logged_in.studio) == []


def test_date_errors_show_on_their_own_field(client, logged_in):
    page = client.post(
        "/admin/galleries/new",
        data=form_data(sale_ends_at="2026-06-01T09:00", archives_at="2026-05-01T00:00"),
    ).get_data(as_text=True)
    ends_field = page[page.index('for="sale_ends_at"') : page.index('for="archives_at"')]
    archive_field = page[page.index('for="archives_at"') : page.index('name="status"')]
    assert "The sale must end after it starts." in ends_field
    assert "Archive the gallery after the sale" in archive_field
    assert "The sale must end" not in archive_field


def test_slug_must_be_unique_within_the_studio_only(client, logged_in, other_owner):
    factories.make_gallery(logged_in.studio, title="Taken", slug="summer")
    factories.make_gallery(other_owner.studio, title="Theirs", slug="autumn")
    page = client.post("/admin/galleries/new", data=form_data(slug="summer")).get_data(as_text=True)
    assert "Another of your galleries already uses this address" in page and "summer-2" in page
    client.post("/admin/galleries/new", data=form_data(slug="autumn"))
    assert [gallery.slug for gallery in galleries_of(logged_in.studio)] == ["summer", "autumn"]


def test_editing_keeps_its_own_slug_without_complaint(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio, title="Summer", slug="summer")
    response = client.post(
        f"/admin/galleries/{gallery.id}/edit", data=form_data(title="Summer", slug="summer")
    )
    assert response.status_code == 302


def test_switching_away_from_password_access_forgets_the_password(client, logged_in):
    client.post("/admin/galleries/new", data=form_data(access="password", password="s3cret!"))
    gallery = galleries_of(logged_in.studio)[0]
    client.post(f"/admin/galleries/{gallery.id}/edit", data=form_data(access="registration"))
    db.session.refresh(gallery)
    assert gallery.access == GalleryAccess.REGISTRATION and gallery.password_hash is None


def test_publish_button(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio, status=GalleryStatus.DRAFT)
    client.post(f"/admin/galleries/{gallery.id}/publish")
    db.session.refresh(gallery)
    assert gallery.status == GalleryStatus.PUBLISHED


def test_detail_page_shows_photos_dates_and_actions(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio, title="Spring portraits", description="Hello")
    photo = factories.make_photo(gallery, name="IMG_42.jpg")
    page = client.get(f"/admin/galleries/{gallery.id}").get_data(as_text=True)
    assert "Spring portraits" in page and "IMG_42.jpg" in page and "Hello" in page
    assert f"/admin/galleries/{gallery.id}/photos/{photo.id}/thumb" in page
    assert "Set as cover" in page and "data-uploader" in page


# ------------------------------------------------------------------ delete


def test_delete_confirmation_names_what_goes(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio, title="Doomed")
    factories.make_photo(gallery)
    factories.make_photo(gallery)
    factories.make_client(logged_in.studio, gallery=gallery)
    db.session.add(
        AccessCard(gallery_id=gallery.id, label="Class A", code="ABCDEF123456", created_at=factories.NOW)
    )
    db.session.commit()
    page = client.get(f"/admin/galleries/{gallery.id}/delete").get_data(as_text=True)
    assert "Delete “Doomed”?" in page
    assert "2 photos" in page and "1 QR access card" in page and "1 client registration" in page
    assert galleries_of(logged_in.studio) != []  # GET only asks


def test_delete_removes_gallery_rows_and_files_and_nothing_else(client, logged_in, other_owner):
    doomed = factories.make_gallery(logged_in.studio, title="Doomed")
    kept = factories.make_gallery(logged_in.studio, title="Kept")
    theirs = factories.make_gallery(other_owner.studio, title="Theirs")
    doomed_photo, kept_photo, their_photo = (factories.make_photo(g) for g in (doomed, kept, theirs))
    client_row = factories.make_client(logged_in.studio, gallery=doomed)
    db.session.add(Registration(client_id=client_row.id, gallery_id=kept.id, registered_at=factories.NOW))
    db.session.commit()
    doomed_files = [photo_file(doomed_photo, variant) for variant in ("original", "thumb", "preview")]
    kept_files = [photo_file(kept_photo, "original"), photo_file(their_photo, "original")]
    doomed_id = doomed.id

    response = client.post(f"/admin/galleries/{doomed_id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Gallery, doomed_id) is None
    assert not any(path.exists() for path in doomed_files)
    assert not gallery_folder(logged_in.studio_id, doomed_id).exists()
    assert all(path.exists() for path in kept_files)
    assert {g.title for g in galleries_of(logged_in.studio)} == {"Kept"}
    assert db.session.scalar(sa.select(sa.func.count(Photo.id))) == 2
    registrations = db.session.scalars(sa.select(Registration)).all()
    assert [r.gallery_id for r in registrations] == [kept.id]


# ------------------------------------------------------------------ photos: order, cover, delete


@pytest.fixture
def gallery_with_photos(logged_in):
    gallery = factories.make_gallery(logged_in.studio)
    photos = [factories.make_photo(gallery, name=f"{n}.jpg", position=n) for n in range(3)]
    return gallery, photos


def positions(gallery):
    return db.session.scalars(
        sa.select(Photo.original_filename)
        .where(Photo.gallery_id == gallery.id)
        .order_by(Photo.position, Photo.id)
    ).all()


def test_reorder_saves_the_new_order(client, gallery_with_photos):
    gallery, photos = gallery_with_photos
    order = ",".join(str(photos[i].id) for i in (2, 0, 1))
    response = client.post(
        f"/admin/galleries/{gallery.id}/reorder",
        data={"order": order},
        headers={"Accept": "application/json"},
    )
    assert response.get_json() == {"ok": True, "message": "Order saved."}
    db.session.expire_all()
    assert positions(gallery) == ["2.jpg", "0.jpg", "1.jpg"]


def test_reorder_refuses_photos_of_another_gallery(client, logged_in, gallery_with_photos, other_owner):
    gallery, photos = gallery_with_photos
    sibling = factories.make_photo(factories.make_gallery(logged_in.studio, title="Sibling"))
    stranger = factories.make_photo(factories.make_gallery(other_owner.studio, title="Theirs"))
    response = client.post(
        f"/admin/galleries/{gallery.id}/reorder",
        data={"order": f"{photos[2].id},{sibling.id},{stranger.id}"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        f"Photos {sibling.id}, {stranger.id} are not in this gallery; reload the page and try again."
    )
    db.session.expire_all()
    assert positions(gallery) == ["0.jpg", "1.jpg", "2.jpg"]


def test_reorder_rejects_garbage(client, gallery_with_photos):
    gallery, _photos = gallery_with_photos
    response = client.post(
        f"/admin/galleries/{gallery.id}/reorder",
        data={"order": "1,two"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400 and "not a list of photo ids" in response.get_json()["message"]


def test_partial_reorder_keeps_unlisted_photos_after(client, gallery_with_photos):
    gallery, photos = gallery_with_photos
    client.post(f"/admin/galleries/{gallery.id}/reorder", data={"order": str(photos[2].id)})
    db.session.expire_all()
    assert positions(gallery) == ["2.jpg", "0.jpg", "1.jpg"]


def test_set_cover_moves_the_cover(client, gallery_with_photos):
    gallery, photos = gallery_with_photos
    client.post(f"/admin/galleries/{gallery.id}/photos/{photos[1].id}/cover")
    client.post(f"/admin/galleries/{gallery.id}/photos/{photos[2].id}/cover")
    db.session.expire_all()
    assert [photo.is_cover for photo in photos] == [False, False, True]
    assert db.session.get(Gallery, gallery.id).cover_photo.id == photos[2].id
    page = client.get("/admin/galleries/").get_data(as_text=True)
    assert f"/photos/{photos[2].id}/thumb" in page


def test_delete_photo_removes_row_and_files(client, gallery_with_photos):
    gallery, photos = gallery_with_photos
    paths = [photo_file(photos[0], variant) for variant in ("original", "thumb", "preview")]
    response = client.post(f"/admin/galleries/{gallery.id}/photos/{photos[0].id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert positions(gallery) == ["1.jpg", "2.jpg"]
    assert not any(path.exists() for path in paths)
    assert photo_file(photos[1], "original").exists()


def test_uploaded_photo_appears_on_the_gallery_page(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio)
    images.add_photo(gallery, jpeg_bytes(), "fresh.jpg", factories.NOW)
    db.session.commit()
    assert "fresh.jpg" in client.get(f"/admin/galleries/{gallery.id}").get_data(as_text=True)


# ------------------------------------------------------------------ tenant isolation


def test_every_route_answers_404_for_another_studios_gallery_or_photo(client, logged_in, other_owner):
    mine = factories.make_gallery(logged_in.studio, title="Mine")
    my_photo = factories.make_photo(mine)
    theirs = factories.make_gallery(other_owner.studio, title="Theirs")
    their_photo = factories.make_photo(theirs)
    t, p = theirs.id, their_photo.id
    requests = [
        ("get", f"/admin/galleries/{t}"),
        ("get", f"/admin/galleries/{t}/edit"),
        ("post", f"/admin/galleries/{t}/edit"),
        ("get", f"/admin/galleries/{t}/delete"),
        ("post", f"/admin/galleries/{t}/delete"),
        ("post", f"/admin/galleries/{t}/publish"),
        ("post", f"/admin/galleries/{t}/upload"),
        ("post", f"/admin/galleries/{t}/reorder"),
        ("post", f"/admin/galleries/{t}/photos/{p}/delete"),
        ("post", f"/admin/galleries/{t}/photos/{p}/cover"),
        # Their photo through my gallery's URL, and my photo through theirs.
        ("post", f"/admin/galleries/{mine.id}/photos/{p}/delete"),
        ("post", f"/admin/galleries/{mine.id}/photos/{p}/cover"),
        ("post", f"/admin/galleries/{t}/photos/{my_photo.id}/cover"),
    ] + [
        ("get", f"/admin/galleries/{g}/photos/{photo}/{variant}")
        for g, photo in ((t, p), (mine.id, p), (t, my_photo.id))
        for variant in ("original", "thumb", "preview")
    ]
    for method, url in requests:
        assert getattr(client, method)(url).status_code == 404, (method, url)
    db.session.expire_all()
    assert db.session.get(Gallery, t) is not None and db.session.get(Photo, p) is not None
    assert not db.session.get(Photo, p).is_cover
    assert photo_file(their_photo, "original").exists()


def test_photos_of_a_gallery_are_reached_through_that_gallery_only(client, logged_in):
    first = factories.make_gallery(logged_in.studio, title="First")
    second = factories.make_gallery(logged_in.studio, title="Second")
    photo = factories.make_photo(first)
    assert client.get(f"/admin/galleries/{second.id}/photos/{photo.id}/thumb").status_code == 404
    response = client.get(f"/admin/galleries/{first.id}/photos/{photo.id}/thumb")
    assert response.status_code == 200
    response.close()


def test_a_qr_gallery_page_links_to_its_cards_and_a_plain_one_does_not(client, logged_in):
    qr = factories.make_gallery(logged_in.studio, title="Maple class", is_qr=True)
    plain = factories.make_gallery(logged_in.studio, title="Wedding")
    page = client.get(f"/admin/galleries/{qr.id}").get_data(as_text=True)
    assert f'href="/admin/galleries/{qr.id}/cards"' in page and "QR gallery" in page
    assert client.get(f"/admin/galleries/{qr.id}/cards").status_code == 200
    plain_page = client.get(f"/admin/galleries/{plain.id}").get_data(as_text=True)
    assert f"/admin/galleries/{plain.id}/cards" not in plain_page


def test_gallery_page_links_to_its_sales_and_email_pages(client, logged_in):
    from tests import factories as _factories

    gallery = _factories.make_gallery(logged_in.studio, title="Linked")
    page = client.get(f"/admin/galleries/{gallery.id}").data.decode()
    for path in (
        f"/admin/shop/galleries/{gallery.id}/pricing",
        f"/admin/workflows/galleries/{gallery.id}",
        f"/admin/activity/?gallery={gallery.id}",
    ):
        assert path in page, path
