"""Images in messages: uploaded from the editor, checked with Pillow, stored per studio and
served from a public URL (mail apps load them from outside, without a session)."""

import io
import secrets
from pathlib import Path

from flask import Blueprint, current_app, jsonify, send_from_directory
from flask_babel import gettext as _
from flask_login import current_user, login_required
from PIL import Image, UnidentifiedImageError

from app.urls import external_url
from app.workflows import bp
from app.workflows.forms import ImageForm

media_bp = Blueprint("email_media", __name__)
MAX_IMAGE_BYTES = 5 * 1024 * 1024


def _media_folder(studio_id):
    return Path(current_app.config["UPLOAD_FOLDER"]) / str(studio_id) / "email-images"


@bp.post("/images")
@login_required
def upload_image():
    """An image for a message, checked with Pillow, served from a public URL (email clients
    load images from outside)."""
    form = ImageForm()
    if not form.validate():
        return jsonify(error=_("Choose an image.")), 400
    with form.image.data.stream as stream:  # large uploads are spooled to a temporary file
        data = stream.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        return jsonify(error=_("Images for emails must be under 5 MB.")), 413
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError):
        return jsonify(error=_("This file is not an image we can use (JPEG, PNG or GIF).")), 422
    extension = {"JPEG": "jpg", "PNG": "png", "GIF": "gif"}.get(kind)
    if extension is None:
        return jsonify(error=_("This file is not an image we can use (JPEG, PNG or GIF).")), 422
    folder = _media_folder(current_user.studio_id)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(12)}.{extension}"
    (folder / name).write_bytes(data)
    return jsonify(url=external_url("email_media.image", studio_id=current_user.studio_id, name=name))


@media_bp.get("/media/email/<int:studio_id>/<name>")
def image(studio_id, name):
    """An image used in a studio's emails (unguessable name)."""
    return send_from_directory(_media_folder(studio_id), name, max_age=86400)
