"""The image pipeline: verify an upload, then keep its original, a thumbnail and a watermarked preview.

An upload is judged by what Pillow reads, never by its name or declared type. Each rejection is a
``PhotoRejected`` whose message names the file, so a batch upload can report every file and carry
on with the others. Files are written under a temporary name and renamed into place when the
photo's row commits (a reader never sees half a file), and removed when it does not.

Memory: a 100-megapixel photo is 400 MB of pixels once decoded. JPEG is decoded straight at the
smallest scale (1/2, 1/4 or 1/8) that still gives a sharp preview (``Image.draft``); PNG and WebP
cannot be, so they are decoded whole and refused when their pixels would take more than
``MAX_PHOTO_DECODE_BYTES`` (bench/photo_memory.py measures it).
"""

import io
import struct
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from app.accounts.models import Studio
from app.extensions import db
from app.galleries.models import Photo
from app.galleries.storage import photo_file, stage_file, unstage
from app.galleries.watermark import apply_watermark

# What Pillow calls the formats we accept. MPO is the multi-picture JPEG some phones write.
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMBNAIL_QUALITY = 82
PREVIEW_QUALITY = 86
# Reduce by a whole factor down to twice the preview's size, then resample (Image.thumbnail's
# default): quick, and as sharp as resampling from full size.
REDUCING_GAP = 2.0
# Bytes per pixel of the full size while an image that cannot be drafted is decoded and scaled
# down: Pillow keeps RGB in 4 bytes; scaling premultiplies alpha into a copy (RGBA, LA: 4 + 4);
# palette and 16-bit images are converted to a copy first (P: 1 + 4, + 4 with transparency;
# I;16: 2 + 4); reducing by 2 (the worst case) adds a quarter of the scaled mode.
DECODE_BYTES_PER_PIXEL = {
    "1": 3,
    "L": 1.5,
    "P": 10,
    "PA": 10,
    "LA": 9,
    "RGB": 5,
    "RGBA": 9,
    "CMYK": 5,
    "I;16": 7,
    "I;16B": 7,
    "I;16L": 7,
    "I": 5,
    "F": 5,
}
# WebP's decoder keeps a canvas of its own (RGBA or RGBX) and hands its pixels over in a buffer.
EXTRA_BYTES_PER_PIXEL = {"WEBP": 9}
DEFAULT_DECODE_BYTES = 256 * 1024 * 1024


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
    max_decoded_bytes: int = DEFAULT_DECODE_BYTES

    @classmethod
    def from_config(cls, config=None):
        config = config or current_app.config
        return cls(
            config["MAX_PHOTO_BYTES"],
            config["MAX_PHOTO_PIXELS"],
            config["THUMBNAIL_SIZE"],
            config["PREVIEW_SIZE"],
            config["MAX_PHOTO_DECODE_BYTES"],
        )


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
    # When the camera took it (EXIF DateTimeOriginal: the camera's own clock, no timezone).
    taken_at: datetime | None = None
    # The upright RGB image at most ``analysis_size`` on its long side, when one was asked for
    # (the QR card matching reads it); None otherwise.
    upright: Image.Image | None = None


# ------------------------------------------------------------------ public services


def add_photo(gallery, file_storage_or_bytes, filename, now, *, watermark=None, limits=None):
    """Verify one upload and add it at the end of ``gallery``; flushes. Raises ``PhotoRejected``.

    ``file_storage_or_bytes`` is a werkzeug ``FileStorage``, a binary file object or ``bytes``.
    ``watermark`` defaults to the gallery's studio watermark (its name unless set otherwise).
    """
    if watermark is None:
        watermark = _studio_watermark(gallery)
    prepared = prepare_photo(file_storage_or_bytes, filename, watermark, limits or Limits.from_config())
    return store_photo(gallery, prepared, now)


def prepare_photo(file_storage_or_bytes, filename, watermark, limits, *, analysis_size=None):
    """Verify an upload and render its thumbnail and preview in memory (no database, no disk).

    With ``analysis_size`` the upright image, at most that size, is kept as ``upright`` (decoded
    once for both: a JPEG is drafted to the larger of the two sizes).
    """
    filename = display_name(filename)
    data = _read_limited(file_storage_or_bytes, filename, limits.max_bytes)
    box = max(limits.preview_size, analysis_size or 0)
    image, content_type = _open_verified(data, filename, limits, box)
    width, height = image.info["original_size"]
    taken_at = _taken_at(image)
    # Keep the colour profile (Adobe RGB, Display P3...) or previews look washed out; a CMYK
    # profile no longer applies once the pixels are converted to RGB.
    icc_profile = image.info.get("icc_profile") if image.mode == "RGB" else None
    # The copy for the QR card matching first (it reads the decoded pixels before the preview
    # scales them in place).
    upright = _analysis_copy(image, analysis_size) if analysis_size else None
    # Scale down first: every later step (turning, converting, marking) copies the image.
    small = _shrunk(image, limits.preview_size)
    try:
        preview = _upright_rgb(small)
        if preview.size != small.size:  # turned a quarter by its EXIF orientation
            width, height = height, width
    finally:
        small.close()
    # The thumbnail comes from the (unmarked) preview.
    thumb = _fitted(preview, limits.thumbnail_size)
    return PreparedPhoto(
        filename=filename,
        content_type=content_type,
        original=data,
        thumb=_jpeg(thumb, THUMBNAIL_QUALITY, icc_profile),
        preview=_jpeg(apply_watermark(preview, watermark), PREVIEW_QUALITY, icc_profile),
        width=width,
        height=height,
        taken_at=taken_at,
        upright=upright,
    )


def check_upload(path, filename, limits):
    """Check an uploaded file's format, pixel count and structure from its header, without
    decoding its pixels (quick enough for a request). Returns its content type; raises
    ``PhotoRejected``. ``prepare_photo`` checks it again, and decodes it, off the request."""
    filename = display_name(filename)
    with _verdicts(filename, limits):
        return _probed(Path(path), filename, limits.max_pixels)


def store_photo(gallery, prepared, now):
    """Add a prepared photo's row at the end of the gallery and write its three files; flushes.

    The files are written under temporary names and take their own when the transaction
    commits; a rollback removes them (``storage.stage_file``). If this photo fails half-way its
    files are removed at once, so a caller going on with the transaction keeps no orphan.
    """
    photo = Photo(
        gallery_id=gallery.id,
        storage_key=uuid.uuid4().hex,
        original_filename=prepared.filename[:255],
        content_type=prepared.content_type,
        width=prepared.width,
        height=prepared.height,
        byte_size=len(prepared.original),
        position=_next_position(gallery),
        created_at=now,
    )
    contents = {"original": prepared.original, "thumb": prepared.thumb, "preview": prepared.preview}
    paths = [photo_file(photo, variant, studio_id=gallery.studio_id) for variant in contents]
    try:
        for path, data in zip(paths, contents.values(), strict=True):
            stage_file(db.session, path, data)
        db.session.add(photo)
        db.session.flush()
    except BaseException:
        unstage(db.session, paths)
        raise
    return photo


def photo_paths(photo, studio_id=None):
    """Every file of ``photo`` on disk (to remove them after the row is gone)."""
    return [photo_file(photo, variant, studio_id=studio_id) for variant in ("original", "thumb", "preview")]


def remove_files(paths):
    """Remove files, ignoring those already gone (a retried delete must not fail)."""
    for path in paths:
        Path(path).unlink(missing_ok=True)


def missing_original_message(filename):
    """Why a photo whose original file is gone cannot be processed."""
    return _(
        "%(name)s could not be processed: its file is missing. Delete it and upload it again.", name=filename
    )


def processing_error_message(filename):
    """Why a photo failed for a reason of ours (logged), not of its file."""
    return _(
        "%(name)s could not be processed because of an error on our side. Delete it and upload it again.",
        name=filename,
    )


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
        raise PhotoRejected(
            _(
                "%(name)s is too large: photos may be up to %(limit)s.",
                name=filename,
                limit=human_size(max_bytes),
            )
        )
    return data


def _open_verified(data, filename, limits, box=None):
    """Open ``data`` as an accepted image, decoded, or raise ``PhotoRejected``.

    ``verify()`` checks the file's structure but leaves the image unusable, so we open it again and
    decode every pixel: a truncated JPEG only shows itself then. A JPEG is decoded at a reduced
    scale (still covering ``box``, by default the preview's size); ``info["original_size"]`` keeps
    the size of the file's own pixels. Sizes are checked from the header, before anything is decoded.
    """
    with _verdicts(filename, limits):
        content_type = _probed(data, filename, limits.max_pixels)
        image = _decoded(data, filename, limits, box or limits.preview_size)
    return image, content_type


@contextmanager
def _verdicts(filename, limits):
    """Turn what Pillow raises on a file it cannot read into a ``PhotoRejected`` for people."""
    with warnings.catch_warnings():
        # Pillow's own bomb limit warns below ours; we enforce MAX_PHOTO_PIXELS ourselves.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            yield
        except PhotoRejected:
            raise
        except Image.DecompressionBombError:
            raise PhotoRejected(_too_many_pixels(filename, limits.max_pixels)) from None
        except UnidentifiedImageError:
            raise PhotoRejected(
                _("%(name)s is not an image we can read: upload JPEG, PNG or WebP photos.", name=filename)
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error):
            raise PhotoRejected(
                _(
                    "%(name)s is damaged or incomplete and cannot be read. Export it again and retry.",
                    name=filename,
                )
            ) from None


def _probed(data, filename, max_pixels):
    """The content type of ``data`` (bytes, or a file's path) once its format, pixel count and
    structure are checked.

    A function of its own so the probe is gone before the image is decoded again (WebP's
    decoder allocates its whole canvas when the file is opened, and keeps it while it lives).
    """
    with Image.open(data if isinstance(data, Path) else io.BytesIO(data)) as probe:
        content_type = ACCEPTED_FORMATS.get(probe.format)
        if content_type is None:
            raise PhotoRejected(
                _(
                    "%(name)s is a %(format)s file: upload JPEG, PNG or WebP photos.",
                    name=filename,
                    format=probe.format,
                )
            )
        _check_pixels(probe.size, filename, max_pixels)
        probe.verify()
    return content_type


def _decoded(data, filename, limits, box):
    """The image in ``data`` decoded (JPEG at a reduced scale covering ``box``), within the memory
    budget."""
    image = Image.open(io.BytesIO(data))
    try:
        image.info["original_size"] = image.size
        # JPEG only (other formats ignore it): DCT scaling to the smallest size that still
        # covers the preview. A 100-megapixel JPEG is then decoded as 6 instead of 100.
        image.draft("RGB", _fitted_size(image.size, box))
        _check_decode_budget(image, filename, limits.max_decoded_bytes)
        image.load()
    except BaseException:
        image.close()
        raise
    return image


def _check_decode_budget(image, filename, max_decoded_bytes):
    """Refuse an image whose decoding (at the size ``draft`` left it) would take too much memory."""
    width, height = image.info["original_size"]
    per_pixel = _decode_bytes(image) / (width * height)  # of the file's own pixels
    if per_pixel * width * height <= max_decoded_bytes:
        return
    most = _figure(max_decoded_bytes / per_pixel / 1_000_000)
    if image.format in ("JPEG", "MPO"):
        raise PhotoRejected(
            _(
                "%(name)s is too large to process as a progressive JPEG: those may be up to "
                "%(megapixels)s megapixels. Save it as a standard (baseline) JPEG, or smaller.",
                name=filename,
                megapixels=most,
            )
        )
    raise PhotoRejected(
        _(
            "%(name)s is too large to process as a %(format)s file: %(format)s photos like this one "
            "may be up to %(megapixels)s megapixels. Save it as a JPEG, or smaller.",
            name=filename,
            format=image.format,
            megapixels=most,
        )
    )


def _decode_bytes(image):
    """About the most memory decoding ``image`` at its (drafted) size and scaling it down takes."""
    pixels = image.width * image.height
    total = pixels * (DECODE_BYTES_PER_PIXEL.get(image.mode, 10) + EXTRA_BYTES_PER_PIXEL.get(image.format, 0))
    if image.format in ("JPEG", "MPO") and image.info.get("progressive"):
        # libjpeg keeps every DCT coefficient of a progressive file until its last scan, at full
        # size whatever the draft: 2 bytes a sample, chroma as subsampled (4:2:0 gives 3 a pixel).
        width, height = image.info["original_size"]
        most_h = max(h for _id, h, _v, _table in image.layer)
        most_v = max(v for _id, _h, v, _table in image.layer)
        samples = sum(h * v for _id, h, v, _table in image.layer) / (most_h * most_v)
        total += width * height * samples * 2
    return total


def _check_pixels(size, filename, max_pixels):
    width, height = size
    if width * height > max_pixels:
        raise PhotoRejected(_too_many_pixels(filename, max_pixels))


def _too_many_pixels(filename, max_pixels):
    return _(
        "%(name)s has too many pixels: photos may be up to %(megapixels)s megapixels.",
        name=filename,
        megapixels=_figure(max_pixels / 1_000_000, digits=6),
    )


def human_size(byte_count):
    """A size for people: 50 MB, 900 KB, 12 bytes."""
    if byte_count >= 1024 * 1024:
        return _("%(n)s MB", n=_figure(byte_count / (1024 * 1024)))
    if byte_count >= 1024:
        return _("%(n)s KB", n=_figure(byte_count / 1024))
    return ngettext("%(num)s byte", "%(num)s bytes", byte_count)


def _figure(value, digits=3):
    """``value`` rounded to ``digits`` significant digits, written as in the current language
    ("1.5" in English, "1,5" in Swedish)."""
    return format_decimal(float(f"{value:.{digits}g}"))


# ------------------------------------------------------------------ rendering


def _taken_at(image):
    """The camera's EXIF DateTimeOriginal ("2026:05:14 09:31:07"), or None when absent or garbled."""
    try:
        value = image.getexif().get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal)
        return datetime.strptime(str(value).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S") if value else None
    except (ValueError, TypeError, OSError, SyntaxError, struct.error):
        return None


def _fitted_size(size, box):
    """``size`` scaled to fit a ``box`` x ``box`` square (never enlarged)."""
    scale = min(1, box / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _shrunk(image, box):
    """``image`` scaled in place to fit a ``box`` x ``box`` square (``Image.thumbnail``: reduce by
    a whole factor, then Lanczos), which frees its full-size pixels at once.

    Palette and 16-bit images are converted first (to a copy: the original is closed), as
    Pillow would scale palette indices with "nearest" and cannot reduce 16 bits.
    """
    if max(image.size) <= box:
        return image
    scalable = image
    if image.mode in ("P", "PA"):
        transparent = image.mode == "PA" or "transparency" in image.info
        scalable = image.convert("RGBA" if transparent else "RGB")
    elif image.mode == "1" or image.mode.startswith("I;16"):
        scalable = image.convert("L" if image.mode == "1" else "I")
    if scalable is not image:
        image.close()
    scalable.thumbnail((box, box), Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    return scalable


def _analysis_copy(image, box):
    """An upright RGB copy of the decoded ``image``, at most ``box`` on its long side, for reading
    QR codes: scaled bilinearly (a code reader needs no Lanczos, and it costs a third as much)."""
    source = image
    if image.mode.startswith("I"):  # 16-bit greyscale: to 8 bits, as ``_upright_rgb`` does
        source = image.convert("I").point(lambda value: value / 256).convert("L")
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):  # palette, bilevel, CMYK
        transparent = image.mode == "PA" or "transparency" in image.info
        source = image.convert("RGBA" if transparent else "RGB")
    copy = source.resize(_fitted_size(source.size, box), Image.Resampling.BILINEAR, reducing_gap=REDUCING_GAP)
    if source is not image:
        source.close()
    copy.info.update(image.info)  # the EXIF orientation, for turning it upright
    upright = _upright_rgb(copy)
    if upright is not copy:
        copy.close()
    return upright


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


# ------------------------------------------------------------------ helpers


def _next_position(gallery):
    last = db.session.scalar(sa.select(sa.func.max(Photo.position)).where(Photo.gallery_id == gallery.id))
    return 0 if last is None else last + 1


def _studio_watermark(gallery):
    return db.session.get(Studio, gallery.studio_id).watermark
