"""The image pipeline: verify an upload, then keep its original, a thumbnail and a watermarked preview.

An upload is judged by what Pillow reads, never by its name or declared type. Each rejection is a
``PhotoRejected`` whose message names the file, so a batch upload can report every file and carry
on with the others. Files are written under a temporary name and renamed into place (a reader
never sees half a file), and removed again when the database step fails.
"""

import io
import math
import os
import struct
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from app.accounts.models import Studio
from app.extensions import db
from app.galleries.models import Photo
from app.galleries.storage import photo_file

# What Pillow calls the formats we accept. MPO is the multi-picture JPEG some phones write.
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMBNAIL_QUALITY = 82
PREVIEW_QUALITY = 86


class PhotoRejected(Exception):  # noqa: N818  (a verdict, not a crash)
    """An upload we refuse; ``message`` is written for the photographer and names the file."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass
class Limits:
    max_bytes: int
    max_pixels: int
    thumbnail_size: int
    preview_size: int

    @classmethod
    def from_config(cls, config=None):
        config = config or current_app.config
        return cls(config["MAX_PHOTO_BYTES"], config["MAX_PHOTO_PIXELS"], config["THUMBNAIL_SIZE"],
                   config["PREVIEW_SIZE"])


@dataclass
class PreparedPhoto:
    """A verified upload and its rendered variants, ready to be stored."""

    filename: str
    content_type: str
    original: bytes
    thumb: bytes
    preview: bytes
    width: int
    height: int


# ------------------------------------------------------------------ public services


def add_photo(gallery, file_storage_or_bytes, filename, now, *, watermark=None, limits=None):
    """Verify one upload and add it at the end of ``gallery``; flushes. Raises ``PhotoRejected``.

    ``file_storage_or_bytes`` is a werkzeug ``FileStorage``, a binary file object or ``bytes``.
    ``watermark`` defaults to the gallery's studio watermark (its name unless set otherwise).
    """
    if watermark is None:
        watermark = _studio_watermark(gallery)
    prepared = prepare_photo(file_storage_or_bytes, filename, watermark,
                             limits or Limits.from_config())
    return store_photo(gallery, prepared, now)


def prepare_photo(file_storage_or_bytes, filename, watermark, limits):
    """Verify an upload and render its thumbnail and preview in memory (no database, no disk)."""
    filename = display_name(filename)
    data = _read_limited(file_storage_or_bytes, filename, limits.max_bytes)
    image, content_type = _open_verified(data, filename, limits.max_pixels)
    try:
        # Keep the colour profile (Adobe RGB, Display P3...) or previews look washed out; a CMYK
        # profile no longer applies once the pixels are converted to RGB.
        icc_profile = image.info.get("icc_profile") if image.mode == "RGB" else None
        upright = _upright_rgb(image)
    finally:
        image.close()
    # Scale the full image down once; the thumbnail comes from the (unmarked) preview size.
    preview = _fitted(upright, limits.preview_size)
    thumb = _fitted(preview, limits.thumbnail_size)
    return PreparedPhoto(
        filename=filename, content_type=content_type, original=data,
        thumb=_jpeg(thumb, THUMBNAIL_QUALITY, icc_profile),
        preview=_jpeg(apply_watermark(preview, watermark), PREVIEW_QUALITY, icc_profile),
        width=upright.width, height=upright.height)


def store_photo(gallery, prepared, now):
    """Write a prepared photo's three files and add its row at the end of the gallery; flushes.

    When the flush fails the files are removed again, so no file outlives its row.
    """
    photo = Photo(gallery_id=gallery.id, storage_key=uuid.uuid4().hex,
                  original_filename=prepared.filename[:255], content_type=prepared.content_type,
                  width=prepared.width, height=prepared.height, byte_size=len(prepared.original),
                  position=_next_position(gallery), created_at=now)
    contents = {"original": prepared.original, "thumb": prepared.thumb, "preview": prepared.preview}
    written = []
    try:
        for variant, data in contents.items():
            path = photo_file(photo, variant, studio_id=gallery.studio_id)
            write_atomically(path, data)
            written.append(path)
        db.session.add(photo)
        db.session.flush()
    except BaseException:
        remove_files(written)
        raise
    return photo


def photo_paths(photo, studio_id=None):
    """Every file of ``photo`` on disk (to remove them after the row is gone)."""
    return [photo_file(photo, variant, studio_id=studio_id) for variant in ("original", "thumb", "preview")]


def remove_files(paths):
    """Remove files, ignoring those already gone (a retried delete must not fail)."""
    for path in paths:
        Path(path).unlink(missing_ok=True)


def write_atomically(path, data):
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def display_name(filename):
    """The upload's own name for messages and the photo's caption, without any folder part."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name or _("(unnamed file)")


# ------------------------------------------------------------------ verification


def _read_limited(source, filename, max_bytes):
    """The upload's bytes, refusing more than ``max_bytes`` without reading much further."""
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
    else:
        stream = getattr(source, "stream", source)
        data = stream.read(max_bytes + 1)
    if not data:
        raise PhotoRejected(_("%(name)s is empty.", name=filename))
    if len(data) > max_bytes:
        raise PhotoRejected(_("%(name)s is too large: photos may be up to %(limit)s.", name=filename,
                              limit=human_size(max_bytes)))
    return data


def _open_verified(data, filename, max_pixels):
    """Open ``data`` as an accepted image, fully decoded, or raise ``PhotoRejected``.

    ``verify()`` checks the file's structure but leaves the image unusable, so we open it again and
    decode every pixel: a truncated JPEG only shows itself then.
    """
    with warnings.catch_warnings():
        # Pillow's own bomb limit warns below ours; we enforce MAX_PHOTO_PIXELS ourselves.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                content_type = ACCEPTED_FORMATS.get(probe.format)
                if content_type is None:
                    raise PhotoRejected(_("%(name)s is a %(format)s file: upload JPEG, PNG or WebP photos.",
                                          name=filename, format=probe.format))
                _check_pixels(probe.size, filename, max_pixels)
                probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
        except PhotoRejected:
            raise
        except Image.DecompressionBombError:
            raise PhotoRejected(_too_many_pixels(filename, max_pixels)) from None
        except UnidentifiedImageError:
            raise PhotoRejected(_("%(name)s is not an image we can read: upload JPEG, PNG or WebP photos.",
                                  name=filename)) from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error):
            raise PhotoRejected(_("%(name)s is damaged or incomplete and cannot be read. Export it again "
                                  "and retry.", name=filename)) from None
    return image, content_type


def _check_pixels(size, filename, max_pixels):
    width, height = size
    if width * height > max_pixels:
        raise PhotoRejected(_too_many_pixels(filename, max_pixels))


def _too_many_pixels(filename, max_pixels):
    return _("%(name)s has too many pixels: photos may be up to %(megapixels)s megapixels.",
             name=filename, megapixels=f"{max_pixels / 1_000_000:g}")


def human_size(byte_count):
    """A size for people: 50 MB, 900 KB, 12 bytes."""
    if byte_count >= 1024 * 1024:
        return _("%(n)s MB", n=f"{byte_count / (1024 * 1024):.3g}")
    if byte_count >= 1024:
        return _("%(n)s KB", n=f"{byte_count / 1024:.3g}")
    return _("%(n)s bytes", n=byte_count)


# ------------------------------------------------------------------ rendering


def _upright_rgb(image):
    """The image turned as its EXIF orientation says, in RGB over white (for JPEG variants)."""
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if upright.mode.startswith("I"):
        # 16-bit greyscale (scans): scale to 8 bits, where a plain conversion clips it to white.
        upright = upright.convert("I").point(lambda value: value / 256).convert("L")
    return upright if upright.mode == "RGB" else upright.convert("RGB")


def _fitted(image, box):
    """A copy no larger than ``box`` pixels on its longest side (never enlarged)."""
    copy = image.copy()
    copy.thumbnail((box, box), Image.Resampling.LANCZOS)
    return copy


def _jpeg(image, quality, icc_profile=None):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, progressive=True, icc_profile=icc_profile)
    return buffer.getvalue()


def apply_watermark(image, text):
    """``image`` with ``text`` tiled diagonally across it, light enough to keep the photo readable.

    White letters with a thin dark outline stay visible on both light and dark photos.
    """
    text = (text or "").strip()
    if not text:
        return image
    width, height = image.size
    font = ImageFont.load_default(size=max(14, round(min(width, height) / 14)))
    tile = _watermark_tile(text, font)
    # Tile a square covering the image at any angle, rotate it, then keep the centre.
    side = math.ceil(math.hypot(width, height))
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    for top in range(0, side, tile.height):
        offset = (top // tile.height % 2) * tile.width // 2  # brick pattern: rows shifted by half
        for left in range(-offset, side, tile.width):
            layer.alpha_composite(tile, (max(left, 0), top), (max(-left, 0), 0))
    layer = layer.rotate(30, resample=Image.Resampling.BICUBIC)
    left, top = (side - width) // 2, (side - height) // 2
    layer = layer.crop((left, top, left + width, top + height))
    marked = image.convert("RGBA")
    marked.alpha_composite(layer)
    return marked.convert("RGB")


def _watermark_tile(text, font):
    """One repetition of the watermark: the text with generous space around it."""
    measure = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    stroke = max(1, round(font.size / 24))
    left, top, right, bottom = measure.textbbox((0, 0), text, font=font, stroke_width=stroke)
    text_width, text_height = right - left, bottom - top
    tile = Image.new("RGBA", (text_width + font.size * 3, text_height + font.size * 3), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text(
        (font.size * 1.5 - left, font.size * 1.5 - top), text, font=font,
        fill=(255, 255, 255, 96), stroke_width=stroke, stroke_fill=(0, 0, 0, 48))
    return tile


# ------------------------------------------------------------------ helpers


def _next_position(gallery):
    last = db.session.scalar(sa.select(sa.func.max(Photo.position)).where(Photo.gallery_id == gallery.id))
    return 0 if last is None else last + 1


def _studio_watermark(gallery):
    return db.session.get(Studio, gallery.studio_id).watermark
