"""Where a photo's files live on disk.

Layout: ``<UPLOAD_FOLDER>/<studio id>/<gallery id>/<variant>/<storage key>.<ext>``. The original
keeps its format; thumbnails and watermarked previews are always JPEG. Originals are never served
to the public: only staff (and, later, paid download links) may read them.
"""

from pathlib import Path

from flask import current_app

VARIANTS = ("original", "thumb", "preview")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def gallery_folder(studio_id, gallery_id):
    return Path(current_app.config["UPLOAD_FOLDER"]) / str(studio_id) / str(gallery_id)


def photo_file(photo, variant, studio_id=None):
    """The path of one variant of ``photo`` (``studio_id`` saves a lookup when known)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown photo variant {variant!r}")
    studio_id = studio_id if studio_id is not None else photo.gallery.studio_id
    extension = EXTENSIONS[photo.content_type] if variant == "original" else "jpg"
    return gallery_folder(studio_id, photo.gallery_id) / variant / f"{photo.storage_key}.{extension}"
