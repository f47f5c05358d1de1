"""QR access cards: unguessable, easy-to-type codes; creating many at once or from a CSV of
labels; assigning photos; the QR code that opens a card's page."""

import csv
import io
import secrets

import qrcode
import qrcode.image.svg
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.forms_common import single_line_problem
from app.galleries.models import AccessCard, Photo

# No 0/O, 1/I/L: a code is read from paper and typed by a parent.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
MAX_CARDS_AT_ONCE = 1000
MAX_LABEL_LENGTH = 200


class CardImportError(ValueError):
    """A CSV that cannot be imported; the message names the row. Nothing was created."""


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


def labels_from_csv(data):
    """Labels from an uploaded CSV: first column, UTF-8 (with or without BOM), comma or
    semicolon, an optional header row. Raises ``CardImportError`` naming the bad row."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CardImportError(_l("The file is not a UTF-8 text (CSV) file.")) from None
    if "\x00" in text:
        raise CardImportError(_l("The file is not a text (CSV) file."))
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if (
        rows
        and rows[0]
        and rows[0][0].strip().lower() in {"label", "name", "child", "nom", "student", "client"}
    ):
        rows = rows[1:]
    labels = []
    for number, row in enumerate(rows, start=1):
        label = row[0].strip() if row else ""
        if not label:
            raise CardImportError(_l("Row %(row)d has no label.", row=number))
        if len(label) > MAX_LABEL_LENGTH:
            raise CardImportError(
                _l(
                    "Row %(row)d: the label is longer than %(max)d characters.",
                    row=number,
                    max=MAX_LABEL_LENGTH,
                )
            )
        if single_line_problem(label, "label"):  # a quoted cell may hold a line break
            raise CardImportError(
                _l("Row %(row)d: a label cannot contain line breaks or control characters.", row=number)
            )
        labels.append(label)
    if not labels:
        raise CardImportError(_l("The file has no labels."))
    if len(labels) > MAX_CARDS_AT_ONCE:
        raise CardImportError(_l("At most %(max)d cards at once.", max=MAX_CARDS_AT_ONCE))
    return labels


def assign_photos(card, photo_ids):
    """Make ``photo_ids`` (photos of the card's gallery only) the card's photos."""
    photos = db.session.scalars(
        sa.select(Photo).where(Photo.gallery_id == card.gallery_id, Photo.id.in_(photo_ids or [-1]))
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
