"""QR access cards: unguessable, easy-to-type codes; creating many at once (from a class list:
card_import.py); assigning photos; the QR code that opens a card's page."""

import secrets

import qrcode
import qrcode.image.svg
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.galleries.models import AccessCard, Photo

# No 0/O, 1/I/L: a code is read from paper and typed by a parent.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
MAX_CARDS_AT_ONCE = 1000
MAX_LABEL_LENGTH = 200


def new_code():
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(typed):
    """What a parent typed, as stored: upper-case, without spaces or dashes."""
    return "".join(ch for ch in (typed or "").upper() if ch.isalnum())


def display_code(code):
    """ABCD-EFGH-JK: easier to read aloud and to type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _unique_code(taken):
    while True:
        code = new_code()
        if code not in taken:
            taken.add(code)
            return code


def _taken_codes(candidates):
    return set(db.session.scalars(sa.select(AccessCard.code).where(AccessCard.code.in_(candidates))))


def create_cards(gallery, labels, now):
    """One card per label, each with a fresh unique code. Flushes; returns the cards."""
    taken = set()
    codes = [_unique_code(taken) for _ in labels]
    clashes = _taken_codes(codes)  # astronomically rare, but a unique index must never fail
    codes = [code if code not in clashes else _unique_code(taken | clashes) for code in codes]
    cards = [
        AccessCard(gallery_id=gallery.id, label=label, code=code, created_at=now)
        for label, code in zip(labels, codes, strict=True)
    ]
    db.session.add_all(cards)
    db.session.flush()
    return cards


def numbered_labels(count, prefix):
    prefix = (prefix or "").strip()
    return [
        f"{prefix} – {n}" if prefix else str(_l("Card %(number)d", number=n)) for n in range(1, count + 1)
    ]


def assign_photos(card, photo_ids):
    """Make ``photo_ids`` (photos of the card's gallery only, never a photo of a QR card) the
    card's photos."""
    photos = db.session.scalars(
        sa.select(Photo).where(
            Photo.gallery_id == card.gallery_id,
            Photo.id.in_(photo_ids or [-1]),
            Photo.card_shot_of_id.is_(None),
        )
    ).all()
    card.photos = sorted(photos, key=lambda photo: (photo.position, photo.id))
    db.session.flush()
    return len(photos)


def find_card(code):
    return db.session.scalar(sa.select(AccessCard).where(AccessCard.code == normalize_code(code)))


def qr_svg(url):
    """The QR code of ``url`` as an inline SVG document (vector: prints sharp at any size)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return image.to_string(encoding="unicode")
