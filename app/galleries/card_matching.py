"""Photo-to-card matching on a school day: the photographer shoots each child's QR card, then
the child; a photo whose QR code is a card of the gallery starts that card's run.

A *card photo* (``Photo.card_shot_of_id``) is never shown to clients. The photos after it, in
the order they were taken, up to the next card photo, are its *run*: they go to that card
(``card_photo``). Photos before the first card photo stay on no card, for the review screen.

What the photographer fixed by hand is kept. No column says "placed by hand", so the rules
only ever *add* a photo to a card when it is on none, with one exception that cannot undo a
fix: when a card photo appears inside a run (uploads arrive out of order, or the photographer
marks one), the photos after it that are exactly on the run's previous card move to the new
card, as they would have had the card photo been known first.

The photo processing calls ``on_photo_processed`` once per photo; the review screen calls
``match_gallery`` ("Match again") and the fixes below. All of them flush only.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import zxingcpp

from app.accounts.models import Studio
from app.extensions import db
from app.galleries.models import AccessCard, Gallery, Photo, PhotoState, card_photo

QR_ONLY = zxingcpp.BarcodeFormat.QRCode


# ------------------------------------------------------------------ reading the QR codes


def qr_texts(image):
    """The texts of the QR codes on ``image`` (a PIL image), the largest code first.

    One pass on the grey image, zxing-cpp's defaults (any rotation, downscaled copies, inverted
    codes): 15-30 ms on a 2,048 px photo. A second pass with the global binarizer was tried: it
    read nothing the local one missed (dim, low-contrast, blurred, half-shaded photos, a code of
    90 px) and doubled the cost of every photo without a card."""
    found = zxingcpp.read_barcodes(image.convert("L"), formats=QR_ONLY)
    return [barcode.text for barcode in sorted(found, key=_area, reverse=True)]


def _area(barcode):
    """Roughly the code's size on the photo: the card closest to the camera wins."""
    position = barcode.position
    width = abs(position.top_right.x - position.top_left.x) + abs(
        position.bottom_right.x - position.bottom_left.x
    )
    height = abs(position.bottom_left.y - position.top_left.y) + abs(
        position.bottom_right.y - position.top_right.y
    )
    return width * height


def card_in_texts(texts, card_ids_by_code):
    """The card (id) whose code a QR text is or contains (the card's URL ends in its code), or
    None. Codes of other galleries are not in ``card_ids_by_code``: they are ignored."""
    for text in texts:
        for word in _words(text):
            if word in card_ids_by_code:
                return card_ids_by_code[word]
    return None


def _words(text):
    word = []
    for ch in (text or "").upper():
        if ch.isalnum():
            word.append(ch)
        elif word:
            yield "".join(word)
            word = []
    if word:
        yield "".join(word)


def _card_ids_by_code(gallery_id, texts):
    """{code: card id} of the gallery's cards whose code is a word of ``texts`` (no query when
    nothing was read, as on most photos)."""
    words = {word for text in texts for word in _words(text)}
    if not words:
        return {}
    rows = db.session.execute(
        sa.select(AccessCard.code, AccessCard.id).where(
            AccessCard.gallery_id == gallery_id, AccessCard.code.in_(words)
        )
    )
    return {code: card_id for code, card_id in rows}


def has_cards(gallery_id):
    return db.session.scalar(sa.select(AccessCard.id).where(AccessCard.gallery_id == gallery_id).limit(1))


# ------------------------------------------------------------------ the order and the runs


class Shot(NamedTuple):
    """What the matching needs of a photo: where it falls in the day and what it shows. Tuples
    compare field by field: sorting shots sorts by (moment, filename, id), as a camera shot them
    (a tuple, not a dataclass: a 2,000-photo gallery is read and sorted in a few milliseconds)."""

    moment: datetime  # the camera's wall clock, else the upload time in the studio's zone
    filename: str
    id: int
    card_shot_of_id: int | None


def ordered_shots(gallery, *, also_id=None, card_photos_only=False):
    """The gallery's processed photos in the order they were taken (one query).

    ``taken_at`` is the camera's naive wall clock; a photo without it falls back on its upload
    time read in the studio's timezone, the clock cameras are set to. ``also_id``: a photo to
    count as processed even if its state is not flushed as such yet. ``card_photos_only``: the
    card photos (and ``also_id``) alone, enough to tell which run one photo falls in."""
    zone = ZoneInfo(db.session.get(Studio, gallery.studio_id).timezone)
    wanted = Photo.processing_state == PhotoState.READY
    if card_photos_only:
        wanted = sa.and_(wanted, Photo.card_shot_of_id.is_not(None))
    if also_id is not None:
        wanted = sa.or_(wanted, Photo.id == also_id)
    rows = db.session.execute(
        sa.select(
            Photo.id, Photo.taken_at, Photo.created_at, Photo.original_filename, Photo.card_shot_of_id
        ).where(Photo.gallery_id == gallery.id, wanted)
    )
    return sorted(
        Shot(taken_at or created_at.astimezone(zone).replace(tzinfo=None), filename, photo_id, card_id)
        for photo_id, taken_at, created_at, filename, card_id in rows
    )


def run_cards(shots):
    """{photo id: the card of its run} for the photos after a card photo (``shots`` ordered)."""
    current, result = None, {}
    for shot in shots:
        if shot.card_shot_of_id is not None:
            current = shot.card_shot_of_id
        elif current is not None:
            result[shot.id] = current
    return result


def runs(shots):
    """(photos before the first card photo, [(card photo, the photos of its run)...])."""
    leading, found = [], []
    for shot in shots:
        if shot.card_shot_of_id is not None:
            found.append((shot, []))
        elif found:
            found[-1][1].append(shot)
        else:
            leading.append(shot)
    return leading, found


def card_sets(gallery_id):
    """{photo id: set of card ids} for the gallery's photos that are on a card (one query)."""
    result: dict[int, set[int]] = {}
    rows = db.session.execute(
        sa.select(card_photo.c.photo_id, card_photo.c.card_id)
        .join(AccessCard, AccessCard.id == card_photo.c.card_id)
        .where(AccessCard.gallery_id == gallery_id)
    )
    for photo_id, card_id in rows:
        result.setdefault(photo_id, set()).add(card_id)
    return result


# ------------------------------------------------------------------ changing the runs


def _lock_gallery(gallery_id):
    """Matching one gallery goes one photo at a time: two workers finishing a card photo and a
    photo of its run at once would each miss the other; a fix on the review screen waits too.
    (PostgreSQL; SQLite has one writer.) NO KEY UPDATE does not wait for uploads inserting
    photos that point at the gallery, and taking it again in one transaction costs nothing."""
    db.session.execute(sa.select(Gallery.id).where(Gallery.id == gallery_id).with_for_update(key_share=True))


def _add(pairs):
    if pairs:
        db.session.execute(
            sa.insert(card_photo), [{"card_id": card, "photo_id": photo} for card, photo in pairs]
        )


def _remove(photo_ids):
    if photo_ids:
        db.session.execute(sa.delete(card_photo).where(card_photo.c.photo_id.in_(photo_ids)))


def placed_by_hand(gallery_id):
    """The ids of the gallery's photos the photographer placed by hand (one query)."""
    return set(
        db.session.scalars(sa.select(Photo.id).where(Photo.gallery_id == gallery_id, Photo.placed_by_hand))
    )


def _mark_by_hand(photo_ids, by_hand=True):
    if photo_ids:
        db.session.execute(
            sa.update(Photo)
            .where(Photo.id.in_(photo_ids))
            .values(placed_by_hand=by_hand)
            .execution_options(synchronize_session=False)
        )


def on_photo_processed(photo, image, now, *, texts_read=None):
    """Called once per photo, right after processing made it "ready". Flushes only.

    ``texts_read``: what ``qr_texts`` read on the upright photo (at most 2,048 px on its long
    side), in the processing's worker (reading costs 15-30 ms, better spent outside the writer's
    transaction); else ``image``, that upright photo, is read here.

    A photo showing a card of its gallery becomes that card's photo and starts its run;
    another photo joins the run it falls in, unless it is already on a card."""
    gallery = db.session.get(Gallery, photo.gallery_id)
    if gallery is None or not gallery.is_qr:
        return
    if not has_cards(gallery.id):
        return
    texts = qr_texts(image) if texts_read is None else texts_read
    card_id = card_in_texts(texts, _card_ids_by_code(gallery.id, texts))
    _lock_gallery(gallery.id)  # after reading the codes: the lock is held until the commit
    if card_id is not None:
        mark_card_photo(gallery, photo, card_id)
        return
    db.session.flush()
    if photo.placed_by_hand or db.session.scalar(
        sa.select(card_photo.c.card_id).where(card_photo.c.photo_id == photo.id).limit(1)
    ):
        return  # placed by hand while it was processing
    # Which run it falls in: the card photos alone tell (a few hundred rows, not the day's 2,000).
    run_card = run_cards(ordered_shots(gallery, also_id=photo.id, card_photos_only=True)).get(photo.id)
    if run_card is not None:
        _add([(run_card, photo.id)])
    db.session.flush()


def _run_after(shots, photo_id):
    """(the card of the card photo before ``photo_id``, the photos after it up to the next
    card photo)."""
    index = next(i for i, shot in enumerate(shots) if shot.id == photo_id)
    before = next((s.card_shot_of_id for s in reversed(shots[:index]) if s.card_shot_of_id is not None), None)
    after = []
    for shot in shots[index + 1 :]:
        if shot.card_shot_of_id is not None:
            break
        after.append(shot.id)
    return before, after


def mark_card_photo(gallery, photo, card_id):
    """``photo`` shows card ``card_id``: hidden from clients, off every card, and the start of
    the card's run. The photos after it that went with the run it split (exactly on that run's
    card), or on no card when no run came before, now go to this card."""
    _lock_gallery(gallery.id)
    photo.card_shot_of_id = card_id
    db.session.flush()
    _remove([photo.id])
    shots = ordered_shots(gallery, also_id=photo.id)
    previous, after = _run_after(shots, photo.id)
    by_hand = placed_by_hand(gallery.id)
    _regroup([pid for pid in after if pid not in by_hand], card_sets(gallery.id), previous, card_id)


def unmark_card_photo(gallery, photo):
    """``photo`` is not a card photo after all: it shows to clients again, its run joins the run
    before it (the photos exactly on its card go to the previous card, or to none before the
    first card photo), and the photo itself goes with them."""
    card_id = photo.card_shot_of_id
    if card_id is None:
        return
    _lock_gallery(gallery.id)
    shots = ordered_shots(gallery, also_id=photo.id)
    previous, after = _run_after(shots, photo.id)
    photo.card_shot_of_id = None
    db.session.flush()
    sets = card_sets(gallery.id)
    by_hand = placed_by_hand(gallery.id)
    _regroup([pid for pid in after if pid not in by_hand], sets, card_id, previous)
    if previous is not None and photo.id not in sets:
        _add([(previous, photo.id)])
    db.session.flush()


def _regroup(photo_ids, sets, old_card, new_card):
    """Move the photos that are exactly on ``old_card`` (or on none, when ``old_card`` is None)
    to ``new_card`` (or to none); any other placement was chosen by hand and stays."""
    moving = [
        pid for pid in photo_ids if sets.get(pid, set()) == ({old_card} if old_card is not None else set())
    ]
    _remove([pid for pid in moving if pid in sets])
    if new_card is not None:
        _add([(new_card, pid) for pid in moving])
    db.session.flush()
    return len(moving)


def match_gallery(gallery, now, *, start_over=False):
    """ "Match again": every processed photo on no card joins the run it falls in (card photos
    are taken off any card), but for the photos placed by hand (taken off every card on the
    review screen stays taken off). ``start_over`` first takes every photo off its cards and
    forgets what was placed by hand, so the runs alone decide. Returns how many photos were
    added to a card."""
    _lock_gallery(gallery.id)
    shots = ordered_shots(gallery)
    card_photo_ids = [shot.id for shot in shots if shot.card_shot_of_id is not None]
    if start_over:
        _remove([shot.id for shot in shots])
        _mark_by_hand([shot.id for shot in shots], False)
    else:
        _remove(card_photo_ids)
    db.session.flush()
    sets = card_sets(gallery.id)
    keep = set(sets) | (set() if start_over else placed_by_hand(gallery.id))
    pairs = [(card, photo_id) for photo_id, card in run_cards(shots).items() if photo_id not in keep]
    _add(pairs)
    db.session.flush()
    return len(pairs)


# ------------------------------------------------------------------ fixes from the review screen


def move_photos(gallery, photo_ids, card_id):
    """Put these photos (not card photos) on card ``card_id`` alone, or on none (None): placed
    by hand, the automatic matching leaves them there."""
    _lock_gallery(gallery.id)
    _remove(photo_ids)
    _mark_by_hand(photo_ids)
    if card_id is not None:
        _add([(card_id, photo_id) for photo_id in photo_ids])
    db.session.flush()


# ------------------------------------------------------------------ what the review screen shows


@dataclass
class Review:
    """The gallery's day as the matching sees it, for the review screen."""

    leading: list[Shot]  # before the first card photo
    runs: list[tuple[Shot, list[Shot]]]  # (card photo, the photos after it)
    unassigned: list[Shot]  # in a run but on no card (taken off by hand)
    cards_of: dict[int, set[int]]  # photo id -> the cards it is on
    cards: dict[int, AccessCard]
    not_photographed: list[AccessCard]  # cards with no card photo: a child who was missed?
    waiting: int  # photos still being processed

    def elsewhere(self, shot, run_card_id=None):
        """The labels of the cards ``shot`` is on when that is not just its run's card, else ""."""
        on = self.cards_of.get(shot.id, set())
        if shot.card_shot_of_id is not None or not on or on == {run_card_id}:
            return ""
        return ", ".join(sorted(self.cards[card_id].label for card_id in on))


def review(gallery):
    """Everything the review screen shows, in five queries (the timezone, the shots, the card
    sets, the cards, the photos still processing)."""
    shots = ordered_shots(gallery)
    leading, found = runs(shots)
    sets = card_sets(gallery.id)
    cards = {
        card.id: card
        for card in db.session.scalars(
            sa.select(AccessCard).where(AccessCard.gallery_id == gallery.id).order_by(AccessCard.id)
        )
    }
    photographed = {shot.card_shot_of_id for shot, _ in found}
    waiting = db.session.scalar(
        sa.select(sa.func.count(Photo.id)).where(
            Photo.gallery_id == gallery.id, Photo.processing_state == PhotoState.PROCESSING
        )
    )
    return Review(
        leading=leading,
        runs=found,
        unassigned=[s for _, run in found for s in run if s.id not in sets],
        cards_of=sets,
        cards=cards,
        not_photographed=[card for card_id, card in cards.items() if card_id not in photographed],
        waiting=waiting or 0,
    )


def first_photos(gallery):
    """{card id: the id of its first photo in the order taken}, for the printed cards (two
    queries)."""
    order = {
        shot.id: index for index, shot in enumerate(ordered_shots(gallery)) if shot.card_shot_of_id is None
    }
    first: dict[int, int] = {}
    for photo_id, card_ids in card_sets(gallery.id).items():
        if photo_id not in order:
            continue  # still processing, or failed
        for card_id in card_ids:
            if card_id not in first or order[photo_id] < order[first[card_id]]:
                first[card_id] = photo_id
    return first
