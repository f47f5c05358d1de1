"""The heart on a photo (grid and lightbox): a signed-in client keeps it among their favourites.

The page's script sends the form with ``Accept: application/json`` and gets the new state back;
without script the form posts and the page comes back."""

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from app import timeutil
from app.accounts.models import Studio
from app.database import begin_write
from app.extensions import db
from app.galleries import clients, favourites, public_bp
from app.galleries.favourite_forms import FavouriteForm
from app.galleries.models import Photo
from app.galleries.public_routes import local_target, may_see_photo


def _wants_json():
    return request.accept_mimetypes.best == "application/json"


def _gallery_url(photo, anchor=None):
    gallery = photo.gallery
    studio = db.session.get(Studio, gallery.studio_id)
    return url_for(
        "galleries_public.gallery", studio_slug=studio.slug, gallery_slug=gallery.slug, _anchor=anchor
    )


def _answer(photo, status, message=None, favourite=None, anchor=None):
    """JSON for the page's script; otherwise a flashed message and back to the gallery."""
    if _wants_json():
        return jsonify({"favourite": favourite, "message": message}), status
    if message:
        flash(message, "success" if status == 200 else "warning")
    back = local_target(request.referrer) if anchor is None else None
    if back:  # the same page, scrolled back to the photo
        return redirect(f"{back.split('#')[0]}#photo-{photo.id}")
    return redirect(_gallery_url(photo, anchor or f"photo-{photo.id}"))


@public_bp.post("/p/<int:photo_id>/favourite")
def favourite(photo_id):
    """Heart or un-heart a photo this client may see (404 for any other photo)."""
    begin_write()
    photo = db.session.get(Photo, photo_id)
    if photo is None or not may_see_photo(photo):
        abort(404)
    client = clients.current_client(photo.gallery.studio_id)
    if client is None:
        db.session.rollback()
        message = _("Register with your email to keep your favourites: they wait for you on any device.")
        return _answer(photo, 401, message, anchor="register")
    form = FavouriteForm()
    if not form.validate():
        db.session.rollback()
        return _answer(photo, 400, _("This heart could not be saved. Please reload the page and try again."))
    state = favourites.set_favourite(client, photo, form.favourite.data == "1", timeutil.now())
    db.session.commit()
    return _answer(photo, 200, favourite=state)
