"""The photographer's gallery pages: list, create, edit, delete; upload, order and cover photos.

Every view is for logged-in staff and reaches rows through ``get_owned_or_404``, so another
studio's gallery or photo id answers 404.
"""

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BuildError

from app import request_limits
from app.database import begin_write, get_owned_or_404
from app.extensions import db
from app.galleries import admin_bp, favourites, images, services, storage, uploads
from app.galleries.forms import ConfirmForm, GalleryForm, ReorderForm, UploadForm
from app.galleries.models import Gallery, GalleryStatus, Photo
from app.timeutil import now


def _gallery_or_404(gallery_id):
    return get_owned_or_404(Gallery, gallery_id, current_user.studio_id)


def _photo_or_404(gallery_id, photo_id):
    """A photo of this studio reached through its own gallery's URL (any other pair is a 404)."""
    photo = get_owned_or_404(Photo, photo_id, current_user.studio_id)
    if photo.gallery_id != gallery_id:
        abort(404)
    return photo


def _wants_json():
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def public_url(gallery, studio):
    """The gallery's address for clients, or None while the public pages are not installed."""
    return _optional_url(
        "galleries_public.gallery", studio_slug=studio.slug, gallery_slug=gallery.slug, _external=True
    )


def _optional_url(endpoint, **values):
    """A URL of a page built by another area, or None while that page does not exist yet."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


# ------------------------------------------------------------------ galleries


@admin_bp.get("/")
@login_required
def index():
    """The studio's galleries with cover, status, dates and counts."""
    rows = services.list_galleries(current_user.studio_id)
    return render_template("galleries/admin/index.html", rows=rows, studio=current_user.studio)


@admin_bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Create a gallery, then go to its page to upload photos."""
    studio = current_user.studio
    form = GalleryForm(studio)
    if form.validate_on_submit():
        gallery = services.create_gallery(studio.id, form.to_data(), now())
        db.session.commit()
        flash(_("Gallery “%(title)s” created. Add its photos below.", title=gallery.title), "success")
        return redirect(url_for(".detail", gallery_id=gallery.id))
    return render_template("galleries/admin/form.html", form=form, gallery=None, studio=studio)


@admin_bp.get("/<int:gallery_id>")
@login_required
def detail(gallery_id):
    """A gallery's page: status, link, dates, the upload area and the photos grid."""
    gallery = _gallery_or_404(gallery_id)
    studio = current_user.studio
    return render_template(
        "galleries/admin/detail.html",
        gallery=gallery,
        studio=studio,
        photos=gallery.photos,
        favourite_counts=favourites.favourite_counts(gallery.id),
        public_url=public_url(gallery, studio),
        upload_form=UploadForm(),
        reorder_form=ReorderForm(),
        counts=services.deletion_summary(gallery),
        cards_url=_optional_url(".cards", gallery_id=gallery.id),
        max_photo_bytes=current_app.config["MAX_PHOTO_BYTES"],
        max_photo_size=images.human_size(current_app.config["MAX_PHOTO_BYTES"]),
        max_request_bytes=current_app.config["MAX_UPLOAD_REQUEST_BYTES"],
        max_request_size=request_limits.megabytes(current_app.config["MAX_UPLOAD_REQUEST_BYTES"]),
        # A piece is one request: never more than the site accepts in one (a proxy's limit too).
        chunk_bytes=min(uploads.CHUNK_BYTES, current_app.config["MAX_UPLOAD_REQUEST_BYTES"]),
        retry_backoff=",".join(str(seconds) for seconds in uploads.RETRY_BACKOFF_SECONDS),
    )


@admin_bp.route("/<int:gallery_id>/edit", methods=["GET", "POST"])
@login_required
def edit(gallery_id):
    """Change a gallery's settings."""
    gallery = _gallery_or_404(gallery_id)
    studio = current_user.studio
    form = GalleryForm(studio, gallery)
    if form.validate_on_submit():
        services.update_gallery(gallery, form.to_data(), now())
        db.session.commit()
        flash(_("Changes to “%(title)s” saved.", title=gallery.title), "success")
        return redirect(url_for(".detail", gallery_id=gallery.id))
    return render_template("galleries/admin/form.html", form=form, gallery=gallery, studio=studio)


@admin_bp.post("/<int:gallery_id>/publish")
@login_required
def publish(gallery_id):
    """Publish a draft or archived gallery in one click from its page."""
    gallery = _gallery_or_404(gallery_id)
    if ConfirmForm().validate_on_submit():
        gallery.status = GalleryStatus.PUBLISHED
        gallery.updated_at = now()
        db.session.commit()
        flash(
            _("“%(title)s” is published: clients with the link can open it.", title=gallery.title), "success"
        )
    return redirect(url_for(".detail", gallery_id=gallery.id))


@admin_bp.route("/<int:gallery_id>/delete", methods=["GET", "POST"])
@login_required
def delete(gallery_id):
    """Confirm, then delete a gallery with its photos, cards and registrations."""
    gallery = _gallery_or_404(gallery_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        title = gallery.title
        folder = services.delete_gallery(gallery)
        db.session.commit()
        services.remove_gallery_files(folder)  # only once the rows are surely gone
        flash(_("Gallery “%(title)s” deleted.", title=title), "success")
        return redirect(url_for(".index"))
    return render_template(
        "galleries/admin/delete.html", gallery=gallery, form=form, summary=services.deletion_summary(gallery)
    )


# ------------------------------------------------------------------ photos


@admin_bp.post("/<int:gallery_id>/upload")
@login_required
def upload(gallery_id):
    """Add one or many photos. Each file is judged on its own: a refused file stops no other.

    The plain form without JavaScript posts here (processed at once, redirected with one message
    per file), as may any client that reads JSON; the browser uploader sends files in resumable
    chunks instead (upload_routes.py), processed off the request.
    """
    gallery = _gallery_or_404(gallery_id)
    form = UploadForm()
    if not form.validate_on_submit():
        message = next(iter(form.errors.values()))[0]
        return _upload_answer(gallery_id, [{"ok": False, "filename": "", "message": message}], 400)
    watermark, limits = current_user.studio.watermark, images.Limits.from_config()
    results = [
        _upload_one(gallery.id, upload, watermark, limits)
        for upload in form.photos.data
        if upload and upload.filename
    ]
    status = 200 if all(result["ok"] for result in results) else 422
    return _upload_answer(gallery_id, results, status)


def _upload_one(gallery_id, upload, watermark, limits):
    """Verify, render and store one upload; its result for the answer."""
    try:
        prepared = images.prepare_photo(upload, upload.filename, watermark, limits)
    except images.PhotoRejected as rejected:
        return {"ok": False, "filename": images.display_name(upload.filename), "message": rejected.message}
    photo = _store_committed(gallery_id, prepared)
    result = {
        "ok": True,
        "filename": prepared.filename,
        "photo_id": photo.id,
        "message": _("%(name)s uploaded.", name=prepared.filename),
    }
    if _wants_json():  # the uploader adds the photo to the grid without reloading the page
        result["html"] = render_template("galleries/admin/_photo.html", photo=photo, gallery=photo.gallery)
    return result


def _store_committed(gallery_id, prepared):
    """Store one prepared photo in its own write transaction and commit it.

    Rendering took seconds without holding any lock; only now do we take SQLite's write lock
    (PostgreSQL needs none). Each photo commits on its own so a later failure never undoes a
    photo the photographer was already told had arrived.
    """
    db.session.rollback()  # end the read transaction opened by the login and the lookups
    begin_write()
    gallery = _gallery_or_404(gallery_id)
    photo = images.store_photo(gallery, prepared, now())
    try:
        db.session.commit()  # the photo's files take their names here (storage.stage_file)
    except BaseException:
        db.session.rollback()  # and are removed here
        raise
    return photo


def _upload_answer(gallery_id, results, status):
    if _wants_json():
        return jsonify(results=results), status
    for result in results:
        flash(result["message"], "success" if result["ok"] else "error")
    return redirect(url_for(".detail", gallery_id=gallery_id))


@admin_bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """A request over its route's limit: the uploader gets its JSON, pages the site's 413 page."""
    if request.endpoint != "galleries_admin.upload":
        return request_limits.too_large(error)
    message = _(
        "This upload is too large (more than %(limit)s at once). Upload fewer photos at a time.",
        limit=request_limits.megabytes(request.max_content_length),
    )
    if _wants_json():
        return jsonify(results=[{"ok": False, "filename": "", "message": message}]), 413
    return request_limits.too_large(error, message)


@admin_bp.post("/<int:gallery_id>/reorder")
@login_required
def reorder(gallery_id):
    """Save the photos' order from the drag-and-drop grid (ids, comma-separated)."""
    gallery = _gallery_or_404(gallery_id)
    form = ReorderForm()
    if not form.validate_on_submit():
        return _reorder_answer(gallery_id, next(iter(form.errors.values()))[0], ok=False)
    try:
        services.reorder_photos(gallery, form.photo_ids)
    except services.ReorderRefused as refused:
        db.session.rollback()
        return _reorder_answer(gallery_id, refused.message, ok=False)
    db.session.commit()
    return _reorder_answer(gallery_id, _("Order saved."), ok=True)


def _reorder_answer(gallery_id, message, ok):
    if _wants_json():
        return jsonify(ok=ok, message=message), 200 if ok else 400
    flash(message, "success" if ok else "error")
    return redirect(url_for(".detail", gallery_id=gallery_id))


@admin_bp.post("/<int:gallery_id>/photos/<int:photo_id>/delete")
@login_required
def delete_photo(gallery_id, photo_id):
    """Delete one photo and its files."""
    photo = _photo_or_404(gallery_id, photo_id)
    if ConfirmForm().validate_on_submit():
        name = photo.original_filename
        paths = services.delete_photo(photo)
        db.session.commit()
        images.remove_files(paths)
        flash(_("%(name)s deleted.", name=name), "success")
    return redirect(url_for(".detail", gallery_id=gallery_id) + "#photos")


@admin_bp.post("/<int:gallery_id>/photos/<int:photo_id>/cover")
@login_required
def set_cover(gallery_id, photo_id):
    """Make a photo the gallery's cover."""
    photo = _photo_or_404(gallery_id, photo_id)
    if ConfirmForm().validate_on_submit():
        services.set_cover(photo.gallery, photo)
        db.session.commit()
        flash(_("%(name)s is now the cover.", name=photo.original_filename), "success")
    return redirect(url_for(".detail", gallery_id=gallery_id) + "#photos")


@admin_bp.get("/<int:gallery_id>/photos/<int:photo_id>/<variant>")
@login_required
def photo_file(gallery_id, photo_id, variant):
    """One of a photo's files, for this studio's staff only (originals as a download)."""
    if variant not in storage.VARIANTS:
        abort(404)
    photo = _photo_or_404(gallery_id, photo_id)
    path = _photo_path(photo, variant)
    original = variant == "original"
    response = send_file(
        path,
        mimetype=photo.content_type if original else "image/jpeg",
        as_attachment=original,
        download_name=photo.original_filename if original else None,
        max_age=3600,
    )
    response.cache_control.private = True  # staff-only: shared caches must not keep it
    return response


def _photo_path(photo, variant):
    path = storage.photo_file(photo, variant, studio_id=current_user.studio_id)
    if not path.is_file():
        abort(404)
    return path
