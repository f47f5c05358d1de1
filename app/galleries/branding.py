"""The studio's branding: its logo and accent colour, on its emails, PDFs and client pages.

The logo is checked and resized with Pillow, stored under the uploads folder, served from a
public URL (mail apps load it without a session), named by its content so a new logo is a new
URL that no mail client or browser has cached. The accent colour is a checked ``#rrggbb`` (it is
written into styles), None for the default.
"""

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature
from PIL import Image, ImageOps, UnidentifiedImageError

from app.extensions import db
from app.galleries.colours import WHITE, link_colour_on_white, text_colour_on
from app.galleries.models import GalleryStatus, Photo, card_photo
from app.signing import signer, signing_keys
from app.urls import external_url

MAX_LOGO_BYTES = 5 * 1024 * 1024
MAX_LOGO_PIXELS = 40_000_000  # a 5 MB PNG can claim far more: refused before decoding
LOGO_BOX = (600, 200)  # twice the size it is shown at in mail, for sharp high-DPI screens
LOGO_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}


class LogoRefused(ValueError):
    """The upload is not a logo we can use; the message says why."""


def logo_folder(studio_id):
    return Path(current_app.config["UPLOAD_FOLDER"]) / str(studio_id) / "branding"


def prepared_logo(data):
    """``data`` (an uploaded file's bytes) as a PNG fitted in ``LOGO_BOX``, transparency kept."""
    if len(data) > MAX_LOGO_BYTES:
        raise LogoRefused(_("A logo must be under 5 MB."))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind, size = probe.format, probe.size
            probe.verify()
        if kind not in LOGO_FORMATS:
            raise LogoRefused(_("Use a PNG, JPEG, GIF or WebP image for the logo."))
        if size[0] * size[1] > MAX_LOGO_PIXELS:
            raise LogoRefused(
                _(
                    "This image is too large (%(megapixels)s megapixels) for a logo.",
                    megapixels=size[0] * size[1] // 1_000_000,
                )
            )
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGBA")
            image.thumbnail(LOGO_BOX, Image.Resampling.LANCZOS)
            out = io.BytesIO()
            image.save(out, "PNG", optimize=True)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError):
        raise LogoRefused(_("This file is not an image we can use (PNG, JPEG, GIF or WebP).")) from None
    return out.getvalue()


def save_logo(studio, data):
    """Store the new logo and point the studio at it (flushed by the caller's commit). Returns
    the old file's path to remove after the commit, or None."""
    png = prepared_logo(data)
    name = f"logo-{hashlib.sha256(png).hexdigest()[:16]}.png"
    folder = logo_folder(studio.id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(png)
    old = studio.logo_filename if studio.logo_filename != name else None
    studio.logo_filename = name
    return folder / old if old else None


def remove_logo(studio):
    """Forget the logo; returns its path to remove after the commit."""
    old, studio.logo_filename = studio.logo_filename, None
    return logo_folder(studio.id) / old if old else None


def logo_url(studio):
    """The logo's public URL, or None."""
    if not studio.logo_filename:
        return None
    return external_url("galleries_public.studio_logo", studio_id=studio.id, name=studio.logo_filename)


def logo_path(studio):
    """The logo's file (for PDFs), or None."""
    if not studio.logo_filename:
        return None
    path = logo_folder(studio.id) / studio.logo_filename
    return path if path.is_file() else None


# ------------------------------------------------------------------ the accent colour

DEFAULT_ACCENT = "#2f5bea"  # the buttons' blue of every page and email without a studio's own
_TYPED_COLOUR = re.compile(r"#?([0-9a-f]{6}|[0-9a-f]{3})")


class AccentRefused(ValueError):
    """The typed text is not a colour; the message says how to write one."""


def normalized_accent(typed):
    """``typed`` as ``#rrggbb`` (lower case; "#abc" and "2F5BEA" are accepted), or raise
    ``AccentRefused``."""
    found = _TYPED_COLOUR.fullmatch((typed or "").strip().lower())
    if found is None:
        raise AccentRefused(_("Write the colour as # and six digits or letters a to f, for example #2f5bea."))
    digits = found.group(1)
    return "#" + (digits if len(digits) == 6 else "".join(digit * 2 for digit in digits))


def set_accent(studio, typed):
    """Give ``studio`` the accent colour ``typed`` (None or "": the default again)."""
    studio.accent_color = normalized_accent(typed) if (typed or "").strip() else None


# ------------------------------------------------------------------ branding in mail and PDFs


@dataclass(frozen=True)
class EmailBrand:
    """What an email's layout shows of its studio: the name (the logo's text alternative), the
    logo's public URL, the accent colour, the text colour on it, and a link colour that reads
    on white."""

    name: str
    logo_url: str | None = None
    accent: str = DEFAULT_ACCENT
    on_accent: str = WHITE
    link: str = DEFAULT_ACCENT


def email_brand(studio, fallback_name=None):
    """The ``EmailBrand`` of ``studio`` (None: the platform's mail, named ``fallback_name``)."""
    if studio is None:
        return EmailBrand(fallback_name or current_app.config.get("PLATFORM_NAME") or "Proofsheet")
    accent = studio.accent_color or DEFAULT_ACCENT
    try:
        on_accent = text_colour_on(accent)
    except ValueError:  # not written through set_accent: keep the default rather than fail a send
        accent, on_accent = DEFAULT_ACCENT, WHITE
    # A pale accent (a yellow) makes unreadable links on white: in mail they keep the default blue.
    link = link_colour_on_white(accent, fallback=DEFAULT_ACCENT)
    return EmailBrand(studio.name, logo_url(studio), accent, on_accent, link)


# ------------------------------------------------------------------ the gallery's cover in mail

_COVER_SALT = "proofsheet-gallery-cover"


def _cover_signer():
    return signer(signing_keys(), _COVER_SALT)


def mailable_cover(gallery):
    """The gallery's cover if every recipient of its mail may see it, else None: a photo shown
    to clients and, in a QR gallery, on nobody's card (a child's photo goes to that child's
    family only, never on every family's email)."""
    if gallery is None:
        return None
    # One row, not ``gallery.cover_photo``: that loads every photo of a school day's gallery.
    cover = db.session.scalar(sa.select(Photo).where(Photo.gallery_id == gallery.id, Photo.is_cover))
    if cover is None or not cover.shown_to_clients:
        return None
    if gallery.is_qr:
        on_a_card = db.session.scalar(
            sa.select(card_photo.c.card_id).where(card_photo.c.photo_id == cover.id).limit(1)
        )
        if on_a_card is not None:
            return None
    return cover


def cover_url(gallery):
    """A public URL of the gallery cover's (watermarked) preview for its emails, or None. It
    names the photo, signed: a new cover is a new URL, and no other photo can be asked for."""
    cover = mailable_cover(gallery)
    if cover is None:
        return None
    token = _cover_signer().sign(str(cover.id)).decode("ascii")
    return external_url("galleries_public.gallery_cover", token=token)


def cover_of_token(token):
    """The photo a cover URL names while it is still its gallery's mailable cover, else None."""
    try:
        photo_id = int(_cover_signer().unsign(token))
    except (BadSignature, ValueError):
        return None
    photo = db.session.get(Photo, photo_id)
    if photo is None or photo.gallery.status == GalleryStatus.DRAFT:
        return None
    return photo if mailable_cover(photo.gallery) is photo else None
