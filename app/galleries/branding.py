"""The studio's logo: checked and resized with Pillow, stored under the uploads folder, served
from a public URL (mail apps load it without a session), named by its content so a new logo is
a new URL that no mail client or browser has cached."""

import hashlib
import io
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

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
