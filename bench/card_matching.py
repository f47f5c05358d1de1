"""What the photo-to-card matching costs per photo (issue 20).

1. Reading QR codes (zxing-cpp, QR only) on 2,048 px photo-like images: one without a code
   (most of a school day), one with a card held slightly rotated.
2. ``on_photo_processed`` in a QR gallery of 2,000 processed photos and 300 cards (every 7th
   photo a card photo), with the codes already read: a plain photo and a card photo, each with
   its commit; and the review screen's data for that gallery.

Prints the figures (medians); asserts nothing.
Usage (from the project root): .venv/bin/python -m bench.card_matching [--db postgresql]
"""

import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qrcode  # noqa: E402
from PIL import Image, ImageDraw, ImageFilter  # noqa: E402

from bench.common import bench_app, parse_args  # noqa: E402

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY = datetime(2026, 11, 20, 9, 0)
PHOTOS, CARDS, RUNS = 2000, 300, 9


def photo_like(seed, qr_text=None, size=(2048, 1365)):
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
        image.paste(card.rotate(7, expand=True, fillcolor=(90, 80, 70)), (size[0] // 2 - 190, size[1] // 4))
    return image.filter(ImageFilter.GaussianBlur(0.8))


def median_ms(action, runs=RUNS):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def decoding():
    from app.galleries.card_matching import qr_texts

    plain, card = photo_like(1), photo_like(2, "https://photos.example.com/c/CODE000007")
    assert qr_texts(card), "the card's code was not read"
    print(f"QR reading, 2,048 px photo without a code: {median_ms(lambda: qr_texts(plain)):.1f} ms")
    print(f"QR reading, 2,048 px photo with a card:    {median_ms(lambda: qr_texts(card)):.1f} ms")


def school_day_gallery():
    from app.accounts import services as accounts
    from app.extensions import db
    from app.galleries.card_matching import match_gallery
    from app.galleries.models import AccessCard, Gallery, Photo, PhotoState

    owner = accounts.create_studio(
        name="Bench", email="bench@example.com", password="correct horse battery",
        timezone="Europe/Paris", currency="EUR", language="en", now=NOW,
    )  # fmt: skip
    gallery = Gallery(
        studio_id=owner.studio_id, title="School", slug="school", is_qr=True, created_at=NOW, updated_at=NOW
    )
    db.session.add(gallery)
    db.session.flush()
    cards = [
        AccessCard(gallery_id=gallery.id, label=f"Child {i}", code=f"CODE{i:06d}", created_at=NOW)
        for i in range(CARDS)
    ]
    db.session.add_all(cards)
    db.session.flush()
    db.session.add_all(
        _photo(gallery, i, cards[(i // 7) % CARDS].id if i % 7 == 0 else None, PhotoState.READY, Photo)
        for i in range(PHOTOS)
    )
    db.session.commit()
    match_gallery(gallery, NOW)
    db.session.commit()
    return gallery


def _photo(gallery, i, card_id, state, photo_class, seconds=None):
    return photo_class(
        gallery_id=gallery.id, storage_key=uuid.uuid4().hex, original_filename=f"IMG_{i:05d}.jpg",
        content_type="image/jpeg", width=1, height=1, byte_size=1, created_at=NOW,
        taken_at=DAY + timedelta(seconds=seconds if seconds is not None else i * 10),
        processing_state=state, card_shot_of_id=card_id,
    )  # fmt: skip


def matching():
    from app.extensions import db
    from app.galleries import card_matching
    from app.galleries.models import Photo, PhotoState

    gallery = school_day_gallery()
    counter = iter(range(PHOTOS, PHOTOS + 1000))

    def one(texts):
        number = next(counter)
        photo = _photo(
            gallery, number, None, PhotoState.PROCESSING, Photo, seconds=(number * 37) % (PHOTOS * 10)
        )
        db.session.add(photo)
        db.session.commit()
        start = time.perf_counter()
        photo.processing_state = PhotoState.READY
        card_matching.on_photo_processed(photo, None, NOW, texts_read=texts)
        db.session.commit()
        return (time.perf_counter() - start) * 1000

    plain = statistics.median(one([]) for _ in range(RUNS))
    card = statistics.median(one(["https://photos.example.com/c/CODE000042"]) for _ in range(RUNS))
    print(f"Matching a plain photo in a {PHOTOS:,}-photo gallery (with its commit): {plain:.1f} ms")
    print(f"Matching a card photo in a {PHOTOS:,}-photo gallery (with its commit):  {card:.1f} ms")
    review = median_ms(lambda: card_matching.review(gallery))
    print(f"The review screen's data for that gallery: {review:.1f} ms")


def main():
    args = parse_args(__doc__.splitlines()[0])
    with bench_app(args.db):
        decoding()
        matching()


if __name__ == "__main__":
    main()
