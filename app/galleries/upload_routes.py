"""The browser uploader's API: upload sessions sent in chunks (resumable), and photos' processing
states for the gallery page to follow.

    POST  /admin/galleries/<id>/uploads          {"filename", "size"} -> 201 the session's state
    HEAD  /admin/galleries/<id>/uploads/<sid>    Upload-Offset: what arrived (also GET, as JSON)
    PATCH /admin/galleries/<id>/uploads/<sid>    Upload-Offset: n, the bytes from n -> its state,
                                                 409 with the state when n is not where it stands
    GET   /admin/galleries/<id>/photos/states?ids=1,2 -> each photo's state, and its grid HTML

Every route is for logged-in staff, CSRF-protected where it changes something (the X-CSRFToken
header), and reaches sessions and photos through the current studio: another studio's answer 404.
"""

import sqlalchemy as sa
from flask import abort, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from app.database import begin_write, get_owned_or_404
from app.extensions import db
from app.galleries import admin_bp, images, processing, uploads
from app.galleries.models import Gallery, Photo, PhotoState
from app.timeutil import now

# How many photos' states one poll may ask for.
MAX_POLLED = 200


class UploadSessionForm(FlaskForm):
    """A new upload session (JSON from the uploader: Flask-WTF reads a JSON body as form data)."""

    filename = StringField(_l("File name"), validators=[InputRequired(), Length(max=1000)])
    size = IntegerField(
        _l("Size"), validators=[NumberRange(min=0)]
    )  # 0 is a value (InputRequired refuses it)


def _gallery_or_404(gallery_id):
    return get_owned_or_404(Gallery, gallery_id, current_user.studio_id)


def _session_or_404(gallery_id, session_id, *, for_update=False):
    upload = uploads.owned_session(session_id, current_user.studio_id, gallery_id, for_update=for_update)
    if upload is None:
        abort(404)
    return upload


def _state(upload, status=200, photo=None):
    """The session's state as the uploader reads it, with the new photo's grid HTML when done."""
    body = {
        "id": upload.id,
        "offset": upload.received_size,
        "size": upload.total_size,
        "complete": upload.photo_id is not None,
        "photo_id": upload.photo_id,
        "url": url_for(".upload_chunk", gallery_id=upload.gallery_id, session_id=upload.id),
    }
    if photo is not None:
        body["html"] = render_template("galleries/admin/_photo.html", photo=photo, gallery=photo.gallery)
        body["message"] = _("%(name)s uploaded: processing…", name=photo.original_filename)
    response = jsonify(body)
    response.status_code = status
    response.headers["Upload-Offset"] = str(upload.received_size)
    response.headers["Upload-Length"] = str(upload.total_size)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refusal(message, status):
    return jsonify(ok=False, message=message), status


@admin_bp.post("/<int:gallery_id>/uploads")
@login_required
def create_upload(gallery_id):
    """Open an upload session for one file; the uploader opens them in the order chosen."""
    _gallery_or_404(gallery_id)  # another studio's gallery: 404 whatever was sent
    db.session.rollback()  # no read transaction held into the write below
    form = UploadSessionForm()
    if not form.validate_on_submit():
        field, errors = next(iter(form.errors.items()))
        return _refusal(f"{form[field].label.text}: {errors[0]}", 400)
    begin_write()
    gallery = _gallery_or_404(gallery_id)
    try:
        upload = uploads.create_session(
            gallery, form.filename.data, form.size.data, now(), images.Limits.from_config()
        )
    except uploads.UploadRefused as refused:
        db.session.rollback()
        return _refusal(refused.message, refused.status)
    db.session.commit()
    response = _state(upload, 201)
    response.headers["Location"] = response.json["url"]
    return response


@admin_bp.route("/<int:gallery_id>/uploads/<session_id>", methods=["GET", "HEAD"])
@login_required
def upload_offset(gallery_id, session_id):
    """How much of the file arrived: where the uploader goes on after a dropped connection."""
    return _state(_session_or_404(gallery_id, session_id))


@admin_bp.route("/<int:gallery_id>/uploads/<session_id>", methods=["PATCH"])
@login_required
def upload_chunk(gallery_id, session_id):
    """Write one chunk at the offset in the Upload-Offset header; the last one adds the photo."""
    _session_or_404(gallery_id, session_id)  # another studio's upload: 404 whatever was sent
    db.session.rollback()  # no read transaction held while the chunk arrives
    offset = request.headers.get("Upload-Offset", type=int)
    if offset is None or offset < 0:
        return _refusal(_("The upload's offset is missing."), 400)
    if (request.content_length or 0) > uploads.MAX_CHUNK_BYTES:
        return _refusal(_("This piece of the upload is too large."), 413)
    data = request.get_data(cache=False)  # read before taking the write lock: the network is slow
    begin_write()
    upload = _session_or_404(gallery_id, session_id, for_update=True)
    try:
        photo = uploads.write_chunk(upload, offset, data, now(), images.Limits.from_config())
    except uploads.OffsetMismatch:
        db.session.rollback()
        return _state(_session_or_404(gallery_id, session_id), 409)
    except uploads.UploadRefused as refused:
        db.session.rollback()
        return _refusal(refused.message, refused.status)
    except images.PhotoRejected as rejected:
        db.session.rollback()
        _discard(gallery_id, session_id)
        return _refusal(rejected.message, 422)
    db.session.commit()
    if photo is None:
        return _state(upload)
    uploads.remove_files([uploads.finished_file(upload)])  # the original is a link of its own now
    processing.kick(current_app._get_current_object(), now())
    return _state(upload, photo=photo)


def _discard(gallery_id, session_id):
    """Forget a refused file's session and its bytes."""
    begin_write()
    upload = _session_or_404(gallery_id, session_id, for_update=True)
    path = uploads.discard_session(upload)
    db.session.commit()
    uploads.remove_files([path])


@admin_bp.get("/<int:gallery_id>/photos/states")
@login_required
def photo_states(gallery_id):
    """The processing state of the given photos of this gallery, with their grid HTML once
    processed (the page swaps the "processing" tile for it)."""
    gallery = _gallery_or_404(gallery_id)
    ids = [int(part) for part in request.args.get("ids", "").split(",") if part.strip().isdigit()][
        :MAX_POLLED
    ]
    photos = db.session.scalars(
        sa.select(Photo).where(Photo.gallery_id == gallery.id, Photo.id.in_(ids)).order_by(Photo.id)
    ).all()
    return jsonify(photos=[_photo_state(photo, gallery) for photo in photos])


def _photo_state(photo, gallery):
    state = {"id": photo.id, "state": photo.processing_state}
    if photo.processing_state == PhotoState.FAILED:
        state["message"] = photo.processing_error
    if photo.processing_state != PhotoState.PROCESSING:
        state["html"] = render_template("galleries/admin/_photo.html", photo=photo, gallery=gallery)
    return state
