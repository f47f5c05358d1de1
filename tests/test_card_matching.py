"""Photo-to-card matching: generated school-day photos (some showing a card's QR code) go
through the processing hook out of order; the runs, the hidden card photos, the fixes by hand,
the review screen."""

import functools
import io
import random
from datetime import datetime, timedelta

import pytest
import qrcode
import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from app.extensions import db
from app.galleries import card_matching, clients
from app.galleries import cards as card_service
from app.galleries.models import AccessCard, Photo, PhotoState, card_photo
from app.urls import external_url
from tests import factories

DAY = datetime(2026, 11, 20, 9, 0)  # the camera's clock, naive


# ------------------------------------------------------------------ generated photos


@functools.cache  # the same seed and text give the same photo: made once per test run
def photo_like(seed, qr_text=None, size=(2048, 1365), angle=6):
    """A 2,048 px "photo": noise and blobs, and when ``qr_text`` is given a white card with its
    QR code held slightly rotated in the middle of the frame, a little blurred as a lens does."""
    rng = random.Random(seed)
    image = Image.effect_noise((size[0] // 8, size[1] // 8), 50).convert("RGB").resize(size)
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x, y, x + rng.randrange(60, 500), y + rng.randrange(60, 500)), fill=colour)
    if qr_text:
        code = qrcode.make(qr_text, border=4).get_image().convert("RGB").resize((300, 300), Image.NEAREST)
        card = Image.new("RGB", (380, 520), "white")
        card.paste(code, (40, 40))
        card = card.rotate(angle, expand=True, fillcolor=(90, 80, 70))
        image.paste(card, (size[0] // 2 - 190, size[1] // 4))
    return image.filter(ImageFilter.GaussianBlur(0.8))


@pytest.fixture
def qr_gallery(logged_in):
    return factories.make_gallery(logged_in.studio, title="Maple class", is_qr=True)


def make_card(gallery, label):
    """A card with a fixed code (its label's letters), so its photos are made once a run."""
    card = AccessCard(
        gallery_id=gallery.id, label=label, code=(label.upper() + "2345678")[:10], created_at=factories.NOW
    )
    db.session.add(card)
    db.session.commit()
    return card


def card_url(app, card):
    with app.test_request_context():
        return external_url("galleries_public.card", code=card.code)


class Day:
    """A school day: photos in the order they were shot, each with the image the camera made."""

    def __init__(self, gallery):
        self.gallery, self.photos, self.images = gallery, [], {}

    def shoot(self, name, image):
        photo = factories.make_photo(self.gallery, name=name)
        photo.taken_at = DAY + timedelta(seconds=20 * len(self.photos))
        photo.processing_state = PhotoState.PROCESSING
        db.session.commit()
        self.photos.append(photo)
        self.images[photo.id] = image
        return photo

    def process(self, photo):
        """What the processing does once a photo is ready: the hook, then one commit."""
        photo.processing_state = PhotoState.READY
        card_matching.on_photo_processed(photo, self.images[photo.id], factories.NOW)
        db.session.commit()


def cards_of(photo):
    return set(db.session.scalars(sa.select(card_photo.c.card_id).where(card_photo.c.photo_id == photo.id)))


@pytest.fixture
def school_day(app, qr_gallery):
    """stray, [Emma's card], emma1, emma2, [Lucas's card], lucas1, [Mia's card], mia1, mia2."""
    emma, lucas, mia = (make_card(qr_gallery, label) for label in ["Emma", "Lucas", "Mia"])
    day = Day(qr_gallery)
    shots = {}
    plan = [
        ("stray", None),
        ("emma-card", emma),
        ("emma1", None),
        ("emma2", None),
        ("lucas-card", lucas),
        ("lucas1", None),
        ("mia-card", mia),
        ("mia1", None),
        ("mia2", None),
    ]
    for seed, (name, card) in enumerate(plan):
        text = card_url(app, card) if card else None
        shots[name] = day.shoot(f"{name}.jpg", photo_like(seed, text, angle=4 + seed))
    return day, shots, {"emma": emma, "lucas": lucas, "mia": mia}


def expect_runs(shots, cards):
    assert shots["emma-card"].card_shot_of_id == cards["emma"].id
    assert shots["lucas-card"].card_shot_of_id == cards["lucas"].id
    assert shots["mia-card"].card_shot_of_id == cards["mia"].id
    expected = {
        "stray": set(),
        "emma-card": set(),
        "emma1": {cards["emma"].id},
        "emma2": {cards["emma"].id},
        "lucas-card": set(),
        "lucas1": {cards["lucas"].id},
        "mia-card": set(),
        "mia1": {cards["mia"].id},
        "mia2": {cards["mia"].id},
    }
    assert {name: cards_of(photo) for name, photo in shots.items()} == expected


# ------------------------------------------------------------------ reading codes


@pytest.mark.no_database
@pytest.mark.parametrize(
    "spoil",
    [
        lambda image: image,
        lambda image: ImageEnhance.Brightness(image).enhance(0.25),  # a dim corner of the gym
        lambda image: ImageEnhance.Contrast(image).enhance(0.3),
        lambda image: image.filter(ImageFilter.GaussianBlur(2.5)),  # focused on the child behind
    ],
    ids=["sharp", "dim", "low-contrast", "blurred"],
)
def test_qr_codes_are_read_on_a_rotated_card_in_a_2048_px_photo(spoil):
    url = "https://photos.example/c/ABCDEFGHJK"
    assert card_matching.qr_texts(spoil(photo_like(1, url, angle=9))) == [url]
    assert card_matching.qr_texts(spoil(photo_like(2))) == []


def test_a_code_or_an_url_ending_in_it_names_the_card():
    known = {"ABCDEFGHJK": 7}
    assert card_matching.card_in_texts(["https://x.example/c/ABCDEFGHJK"], known) == 7
    assert card_matching.card_in_texts(["abcdefghjk"], known) == 7
    assert card_matching.card_in_texts(["https://x.example/c/ZZZZZZZZZZ", "hello"], known) is None


# ------------------------------------------------------------------ runs


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_out_of_order_processing_gives_each_card_its_run(school_day, seed):
    day, shots, cards = school_day
    order = list(day.photos)
    random.Random(seed).shuffle(order)
    for photo in order:
        day.process(photo)
    expect_runs(shots, cards)


def test_a_photo_processed_before_its_card_photo_moves_to_it(school_day):
    day, shots, cards = school_day
    for name in ["emma-card", "emma1", "lucas1", "mia2", "stray"]:
        day.process(shots[name])
    assert cards_of(shots["lucas1"]) == {cards["emma"].id}  # Lucas's card is not read yet
    assert cards_of(shots["mia2"]) == {cards["emma"].id}
    for name in ["mia-card", "lucas-card", "emma2", "mia1"]:
        day.process(shots[name])
    expect_runs(shots, cards)


def test_card_photos_are_hidden_and_a_parent_sees_only_their_childs_photos(
    client, logged_in, school_day, monkeypatch
):
    monkeypatch.setattr("app.timeutil.now", lambda: factories.NOW)  # inside the sale
    day, shots, cards = school_day
    for photo in day.photos:
        day.process(photo)
    parent = factories.make_client(logged_in.studio, email="emma.parent@example.com")
    clients.claim_card(parent, cards["emma"], factories.NOW)
    db.session.commit()
    assert [p.original_filename for p in clients.visible_photos(day.gallery, parent)] == [
        "emma1.jpg",
        "emma2.jpg",
    ]
    with client.session_transaction() as session:
        session["clients"] = {str(day.gallery.studio_id): [parent.id, int(factories.NOW.timestamp())]}
    assert thumb_status(client, shots["emma1"]) == 200
    assert thumb_status(client, shots["emma-card"]) == 404
    assert thumb_status(client, shots["lucas1"]) == 404


def thumb_status(client, photo):
    response = client.get(f"/p/{photo.id}/thumb")
    response.close()  # the file it sends
    return response.status_code


def test_a_card_of_another_gallery_is_ignored(app, logged_in, qr_gallery):
    other = factories.make_gallery(logged_in.studio, title="Birch class", is_qr=True)
    theirs, mine = make_card(other, "Noah"), make_card(qr_gallery, "Emma")
    day = Day(qr_gallery)
    first = day.shoot("emma-card.jpg", photo_like(1, card_url(app, mine)))
    foreign = day.shoot("noah-card.jpg", photo_like(2, card_url(app, theirs)))
    after = day.shoot("after.jpg", photo_like(3))
    for photo in (after, foreign, first):
        day.process(photo)
    assert foreign.card_shot_of_id is None and first.card_shot_of_id == mine.id
    assert cards_of(foreign) == cards_of(after) == {mine.id}


def test_a_gallery_without_qr_cards_is_left_alone(app, logged_in):
    gallery = factories.make_gallery(logged_in.studio, title="Wedding")
    day = Day(gallery)
    photo = day.shoot("a.jpg", photo_like(1, "https://photos.example/c/ABCDEFGHJK"))
    day.process(photo)
    assert photo.card_shot_of_id is None and cards_of(photo) == set()


def test_fixes_by_hand_survive_processing_and_match_again(school_day):
    day, shots, cards = school_day
    for name in ["emma-card", "emma1", "emma2", "lucas1"]:
        day.process(shots[name])
    # The photographer puts emma2 on Mia's card and takes lucas1 off every card.
    card_matching.move_photos(day.gallery, [shots["emma2"].id], cards["mia"].id)
    card_matching.move_photos(day.gallery, [shots["lucas1"].id], None)
    db.session.commit()
    for name in ["lucas-card", "mia-card", "mia1", "mia2", "stray"]:
        day.process(shots[name])
    assert cards_of(shots["emma2"]) == {cards["mia"].id}
    assert cards_of(shots["lucas1"]) == set()  # taken off by hand: the new card photo leaves it
    card_matching.match_gallery(day.gallery, factories.NOW)
    db.session.commit()
    assert cards_of(shots["emma2"]) == {cards["mia"].id}  # placed by hand: stays
    assert cards_of(shots["lucas1"]) == set()  # taken off by hand: stays off
    card_matching.match_gallery(day.gallery, factories.NOW, start_over=True)
    db.session.commit()
    expect_runs(shots, cards)  # start over: the runs alone decide, hand fixes forgotten
    assert card_matching.placed_by_hand(day.gallery.id) == set()


def test_matching_one_photo_costs_a_few_queries_whatever_the_gallery_size(school_day):
    day, shots, cards = school_day
    for photo in day.photos[:-1]:
        day.process(photo)
    statements = []
    engine = db.engine

    def count(*_args):
        statements.append(1)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        day.process(day.photos[-1])
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 12  # the same for 9 photos or 2,000: no query per photo


# ------------------------------------------------------------------ the review screen


def processed_day(school_day):
    day, shots, cards = school_day
    for photo in day.photos:
        day.process(photo)
    return day, shots, cards


def review_url(gallery):
    return f"/admin/galleries/{gallery.id}/cards/review"


def test_review_shows_the_runs_in_order_and_the_photos_on_no_card(client, school_day):
    day, shots, cards = processed_day(school_day)
    card_matching.move_photos(day.gallery, [shots["lucas1"].id], None)
    db.session.commit()
    page = client.get(review_url(day.gallery)).data.decode()
    positions = [page.index(f"{name}.jpg") for name in ["stray", "emma-card", "emma1", "lucas-card", "mia2"]]
    assert positions == sorted(positions)
    assert "Before the first card photo" in page and page.count("Card photo<") == 3
    on_no_card = page[page.index('id="unassigned"') :]
    assert "lucas1.jpg" in on_no_card and "stray.jpg" not in on_no_card  # shown once, above
    assert "Cards without a card photo" not in page


def test_review_moves_a_photo_and_marks_card_photos(client, school_day):
    day, shots, cards = processed_day(school_day)
    url = review_url(day.gallery)
    moved = client.post(
        url, data={"photo_ids": [shots["emma2"].id], "action": "move", "card": str(cards["lucas"].id)}
    )
    assert moved.status_code == 302
    assert cards_of(shots["emma2"]) == {cards["lucas"].id}
    assert "1 photo put on “Lucas”." in client.get(url).data.decode()
    # Lucas's card photo was a child's photo after all: its run joins Emma's again.
    client.post(url, data={"photo_ids": [shots["lucas-card"].id], "action": "not_card_photo"})
    db.session.expire_all()
    assert shots["lucas-card"].card_shot_of_id is None
    assert cards_of(shots["lucas1"]) == cards_of(shots["lucas-card"]) == {cards["emma"].id}
    assert cards_of(shots["emma2"]) == {cards["lucas"].id}  # placed by hand: stays
    # And the stray photo shows Mia's card (unreadable): it starts a run, the next photos follow.
    client.post(
        url, data={"photo_ids": [shots["stray"].id], "action": "card_photo", "card": str(cards["mia"].id)}
    )
    db.session.expire_all()
    assert shots["stray"].card_shot_of_id == cards["mia"].id
    assert cards_of(shots["stray"]) == set()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "move", "card": "CARD"}, "Tick the photos to change first."),
        ({"photo_ids": ["EMMA1"], "action": "move", "card": ""}, "Choose the card."),
        ({"photo_ids": ["EMMACARD"], "action": "unassign"}, "mark them as “not card photos” first"),
        ({"photo_ids": ["EMMA1"], "action": "not_card_photo"}, "Only card photos can be marked"),
        ({"photo_ids": ["999999"], "action": "unassign"}, "no longer in this gallery"),
    ],
)
def test_review_fixes_that_cannot_be_done_say_why_and_change_nothing(client, school_day, data, message):
    day, shots, cards = processed_day(school_day)
    names = {"EMMA1": str(shots["emma1"].id), "EMMACARD": str(shots["emma-card"].id)}
    data = {
        key: [names.get(v, v) for v in value] if isinstance(value, list) else value
        for key, value in data.items()
    }
    if data.get("card") == "CARD":
        data["card"] = str(cards["mia"].id)
    page = client.post(review_url(day.gallery), data=data)
    assert page.status_code == 200 and message in page.data.decode()
    expect_runs(shots, cards)


def test_match_again_from_the_review_screen(client, school_day):
    from app.galleries.models import card_photo

    day, shots, cards = processed_day(school_day)
    card_matching.move_photos(day.gallery, [shots["mia1"].id], None)  # by hand
    # mia2 on no card without anyone deciding it (say, processed before a crash recorded it).
    db.session.execute(sa.delete(card_photo).where(card_photo.c.photo_id == shots["mia2"].id))
    db.session.commit()
    response = client.post(f"{review_url(day.gallery)}/match", data={})
    assert response.status_code == 302 and cards_of(shots["mia2"]) == {cards["mia"].id}
    assert cards_of(shots["mia1"]) == set()  # taken off by hand: Match again leaves it off
    assert "Matched again: 1 photo put on" in client.get(review_url(day.gallery)).data.decode()


def test_another_studios_review_answers_404(client, logged_in, other_owner):
    theirs = factories.make_gallery(other_owner.studio, title="Theirs", is_qr=True)
    (card,) = card_service.create_cards(theirs, ["Their child"], factories.NOW)
    photo = factories.make_photo(theirs)
    db.session.commit()
    assert client.get(review_url(theirs)).status_code == 404
    assert client.post(f"{review_url(theirs)}/match").status_code == 404
    fix = {"photo_ids": [photo.id], "action": "move", "card": str(card.id)}
    assert client.post(review_url(theirs), data=fix).status_code == 404
    mine = factories.make_gallery(logged_in.studio, title="Mine", is_qr=True)
    page = client.post(review_url(mine), data=fix)  # their photo and card through my gallery
    assert page.status_code == 200 and cards_of(photo) == set()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessCard)) == 1
    assert db.session.get(Photo, photo.id).card_shot_of_id is None


# ------------------------------------------------------------------ the printed cards


def test_printed_cards_carry_the_studio_brand_a_consent_slip_and_optionally_the_first_photo(
    client, logged_in, school_day
):
    day, shots, cards = processed_day(school_day)
    logged_in.studio.logo_filename = "logo-0123456789abcdef.png"
    logged_in.studio.accent_color = "#aa3300"
    db.session.commit()
    url = f"/admin/galleries/{day.gallery.id}/cards/print"
    page = client.get(url).data.decode()
    assert 'logo-0123456789abcdef.png" alt="Northlight Studio">' in page
    assert "--accent: #aa3300" in page
    assert page.count("Cut here and give this part back to the photographer") == 3
    assert "I agree that Northlight Studio may photograph my child" in page
    assert "Signature" in page and "@page { size: A4" in page
    assert "/preview" not in page  # no photos unless asked
    with_photos = client.get(url + "?photo=y").data.decode()
    first = f"/photos/{shots['emma1'].id}/preview"
    assert first in with_photos and f"/photos/{shots['emma2'].id}/preview" not in with_photos
    assert f"/photos/{shots['emma-card'].id}/preview" not in with_photos  # never the card photo
    assert with_photos.count('class="child-photo"') == 3


# ------------------------------------------------------------------ through the real processing


def camera_file(image, taken):
    """``image`` as a camera's JPEG with its EXIF DateTimeOriginal."""
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken  # Exif IFD, DateTimeOriginal
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def test_uploaded_camera_files_are_matched_by_the_photo_processing(app, client, qr_gallery):
    from app.galleries import processing
    from tests.upload_helpers import upload_whole

    card = make_card(qr_gallery, "Emma")
    big = (3000, 2000)  # larger than the 2,048 px the processing hands over: read after its downscale
    files = [
        ("IMG_0002.jpg", camera_file(photo_like(11, size=big), "2026:11:20 09:00:20")),
        ("IMG_0001.jpg", camera_file(photo_like(12, card_url(app, card), size=big), "2026:11:20 09:00:00")),
    ]
    ids = {name: upload_whole(client, qr_gallery.id, name, data).json["photo_id"] for name, data in files}
    assert processing.process_pending(factories.NOW).ready == 2
    db.session.expire_all()
    shot, child = db.session.get(Photo, ids["IMG_0001.jpg"]), db.session.get(Photo, ids["IMG_0002.jpg"])
    assert shot.card_shot_of_id == card.id and not shot.shown_to_clients
    assert cards_of(child) == {card.id} and cards_of(shot) == set()


def test_a_card_photo_cannot_be_ticked_onto_a_card_on_the_cards_page(client, school_day):
    day, shots, cards = processed_day(school_day)
    url = f"/admin/galleries/{day.gallery.id}/cards/{cards['emma'].id}"
    page = client.get(url).data.decode()
    assert f'value="{shots["emma-card"].id}"' not in page and f'value="{shots["emma1"].id}"' in page
    client.post(url, data={"photo_ids": [shots["emma-card"].id, shots["emma1"].id]})
    assert cards_of(shots["emma-card"]) == set() and cards_of(shots["emma1"]) == {cards["emma"].id}


# ------------------------------------------------------------------ two workers at once


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_photo_recorded_while_its_card_photo_is_being_recorded_waits_for_it(app, school_day):
    """Two processes record a card photo and a photo of its run at the same moment: without the
    gallery's lock each would miss the other (neither is committed) and the photo would stay on
    the previous child's card."""
    import threading
    import time

    day, shots, cards = school_day
    for name in ["emma-card", "emma1"]:
        day.process(shots[name])
    lucas_card, lucas1 = shots["lucas-card"].id, shots["lucas1"].id
    lucas_url = card_url(app, cards["lucas"])
    card_recorded, errors = threading.Event(), []

    def record(photo_id, texts, hold=0.0):
        try:
            with app.app_context():
                photo = db.session.get(Photo, photo_id)
                photo.processing_state = PhotoState.READY
                card_matching.on_photo_processed(photo, None, factories.NOW, texts_read=texts)
                if hold:
                    card_recorded.set()
                    time.sleep(hold)  # the other worker records its photo meanwhile
                db.session.commit()
                db.session.remove()
        except Exception as error:  # surfaced in the test's thread
            errors.append(error)

    first = threading.Thread(target=record, args=(lucas_card, [lucas_url], 0.6))
    first.start()
    card_recorded.wait(10)
    second = threading.Thread(target=record, args=(lucas1, []))
    second.start()
    first.join(20)
    second.join(20)
    assert errors == []
    db.session.expire_all()
    assert db.session.get(Photo, lucas_card).card_shot_of_id == cards["lucas"].id
    assert cards_of(db.session.get(Photo, lucas1)) == {cards["lucas"].id}
