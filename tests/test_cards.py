"""QR cards: codes, creating many, CSV import, photo assignment, print sheet, isolation."""

import io

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.galleries import cards as card_service
from app.galleries.models import AccessCard
from app.urls import external_url
from tests import factories


@pytest.fixture
def qr_gallery(logged_in):
    return factories.make_gallery(logged_in.studio, title="Maple class", is_qr=True)


def card_count():
    return db.session.scalar(sa.select(sa.func.count(AccessCard.id)))


def test_codes_are_unguessable_and_easy_to_type():
    codes = {card_service.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == 10 and not set(code) & set("0O1IL") for code in codes)
    assert card_service.normalize_code(" abcd-efgh jk ") == "ABCDEFGHJK"
    assert card_service.display_code("ABCDEFGHJK") == "ABCD-EFGH-JK"


def test_create_n_cards_with_a_prefix(client, qr_gallery):
    response = client.post(
        f"/admin/galleries/{qr_gallery.id}/cards", data={"create-count": "3", "create-prefix": "Class 3B"}
    )
    assert response.status_code == 302
    labels = db.session.scalars(sa.select(AccessCard.label).order_by(AccessCard.id)).all()
    assert labels == ["Class 3B – 1", "Class 3B – 2", "Class 3B – 3"]


@pytest.mark.parametrize(
    ("count", "message"),
    [("0", b"Between 1 and 1000"), ("1001", b"Between 1 and 1000"), ("", b"Say how many cards")],
)
def test_bad_counts_are_refused(client, qr_gallery, count, message):
    page = client.post(f"/admin/galleries/{qr_gallery.id}/cards", data={"create-count": count})
    assert message in page.data and card_count() == 0


def _import(client, gallery, content, name="labels.csv"):
    return client.post(
        f"/admin/galleries/{gallery.id}/cards",
        data={"import-file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    "content",
    [
        b"Name\nEmma Martin\nLucas Martin\n",
        "\ufeffEmma Martin;3B\nLucas Martin;3B\n".encode(),
        b"Emma Martin,3B\r\nLucas Martin,3B\r\n",
    ],
)
def test_csv_import_with_header_bom_or_semicolons(client, qr_gallery, content):
    assert _import(client, qr_gallery, content).status_code == 302
    assert db.session.scalars(sa.select(AccessCard.label).order_by(AccessCard.id)).all() == [
        "Emma Martin",
        "Lucas Martin",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Emma\n\nLucas\n", b"Row 2 has no label"),
        (b"Emma\n" + b"x" * 201 + b"\n", b"Row 2: the label is longer than 200"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", b"not a"),
        (b"", b"no labels"),
    ],
)
def test_bad_csv_files_name_the_problem_and_create_nothing(client, qr_gallery, content, message):
    page = _import(client, qr_gallery, content)
    assert page.status_code == 200 and message in page.data
    assert card_count() == 0


def test_assign_photos_only_from_the_cards_gallery(client, qr_gallery, logged_in):
    card = card_service.create_cards(qr_gallery, ["Emma"], factories.NOW)[0]
    db.session.commit()
    mine = [factories.make_photo(qr_gallery, position=i) for i in range(2)]
    other_gallery = factories.make_gallery(logged_in.studio, title="Other")
    foreign = factories.make_photo(other_gallery)
    client.post(
        f"/admin/galleries/{qr_gallery.id}/cards/{card.id}",
        data={"photo_ids": [str(mine[1].id), str(foreign.id)]},
    )
    db.session.expire_all()
    assert [photo.id for photo in db.session.get(AccessCard, card.id).photos] == [mine[1].id]


def test_print_sheet_has_each_cards_qr_code_for_its_url(client, qr_gallery, app):
    created = card_service.create_cards(qr_gallery, ["Emma", "Lucas"], factories.NOW)
    db.session.commit()
    page = client.get(f"/admin/galleries/{qr_gallery.id}/cards/print").data.decode()
    assert "@page { size: A4" in page
    assert "break-inside: avoid" in page
    with app.test_request_context():
        for card in created:
            expected = card_service.qr_svg(external_url("galleries_public.card", code=card.code))
            path = expected[expected.index("<path") :]
            assert path[:200] in page  # the same QR drawing: it encodes the card's URL
            assert card_service.display_code(card.code) in page
    letter = client.get(f"/admin/galleries/{qr_gallery.id}/cards/print?paper=letter").data
    assert b"@page { size: letter" in letter


def test_card_qr_svg_download(client, qr_gallery):
    card = card_service.create_cards(qr_gallery, ["Emma"], factories.NOW)[0]
    db.session.commit()
    response = client.get(f"/admin/galleries/{qr_gallery.id}/cards/{card.id}/qr.svg")
    assert response.mimetype == "image/svg+xml" and b"<svg" in response.data


def test_delete_card_keeps_the_photos_but_not_the_photo_of_the_card_itself(client, qr_gallery):
    from app.galleries.storage import photo_file

    card = card_service.create_cards(qr_gallery, ["Emma"], factories.NOW)[0]
    photo = factories.make_photo(qr_gallery)
    shot = factories.make_photo(qr_gallery, name="card.jpg")
    shot.card_shot_of_id = card.id
    card.photos = [photo]
    db.session.commit()
    shot_id, shot_file = shot.id, photo_file(shot, "thumb")
    assert shot_file.exists()
    client.post(f"/admin/galleries/{qr_gallery.id}/cards/{card.id}/delete")
    db.session.expire_all()
    assert card_count() == 0 and db.session.get(type(photo), photo.id) is not None
    # Without its card, nothing would keep the card's photo from every parent: it goes too.
    assert db.session.get(type(photo), shot_id) is None and not shot_file.exists()


def test_another_studios_cards_answer_404(client, logged_in, other_owner):
    theirs = factories.make_gallery(other_owner.studio, title="Theirs", is_qr=True)
    card = card_service.create_cards(theirs, ["Their child"], factories.NOW)[0]
    mine = factories.make_gallery(logged_in.studio, title="Mine", is_qr=True)
    db.session.commit()
    for method, path in [
        ("get", f"/admin/galleries/{theirs.id}/cards"),
        ("post", f"/admin/galleries/{theirs.id}/cards"),
        ("get", f"/admin/galleries/{theirs.id}/cards/{card.id}"),
        ("post", f"/admin/galleries/{theirs.id}/cards/{card.id}"),
        ("post", f"/admin/galleries/{theirs.id}/cards/{card.id}/delete"),
        ("get", f"/admin/galleries/{theirs.id}/cards/print"),
        ("get", f"/admin/galleries/{theirs.id}/cards/{card.id}/qr.svg"),
        ("get", f"/admin/galleries/{mine.id}/cards/{card.id}"),  # their card through my gallery
        ("post", f"/admin/galleries/{mine.id}/cards/{card.id}/delete"),
    ]:
        assert getattr(client, method)(path).status_code == 404, path
    assert card_count() == 1
