"""Branding: the studio's logo (in its campaign emails), and the public URL it is served at."""

from flask import current_app, flash, redirect, render_template, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.access import owner_required
from app.extensions import db
from app.galleries import admin_bp, branding, public_bp
from app.galleries.forms import ConfirmForm, LogoForm


def _page(form=None, status=200):
    studio = current_user.studio
    return render_template(
        "galleries/admin/branding.html",
        studio=studio,
        form=form or LogoForm(),
        remove_form=ConfirmForm(),
        logo_url=branding.logo_url(studio),
    ), status


@admin_bp.get("/branding")
@login_required
@owner_required
def branding_page():
    """The studio's logo."""
    return _page()


@admin_bp.post("/branding")
@login_required
@owner_required
def upload_logo():
    """Replace the studio's logo with the uploaded image (checked and resized)."""
    form = LogoForm()
    if not form.validate():
        return _page(form, 422)
    with form.logo.data.stream as stream:
        data = stream.read(branding.MAX_LOGO_BYTES + 1)
    try:
        old = branding.save_logo(current_user.studio, data)
    except branding.LogoRefused as refusal:
        form.logo.errors = [str(refusal)]
        return _page(form, 422)
    db.session.commit()
    _remove_quietly(old)
    flash(_("Logo saved. Your campaign emails show it from now on."), "success")
    return redirect(url_for(".branding_page"))


@admin_bp.post("/branding/remove")
@login_required
@owner_required
def remove_logo():
    """Emails show the studio's name instead of a logo."""
    old = branding.remove_logo(current_user.studio)
    db.session.commit()
    _remove_quietly(old)
    flash(_("Logo removed. Your emails show your studio's name instead."), "success")
    return redirect(url_for(".branding_page"))


def _remove_quietly(path):
    """The old file, once the database no longer names it (mail already sent may still link
    to it: it goes only when a new logo replaces it)."""
    if path is not None:
        try:
            path.unlink()
        except OSError:
            current_app.logger.warning("could not remove old logo %s", path)


@public_bp.get("/media/logo/<int:studio_id>/<name>")
def studio_logo(studio_id, name):
    """A studio's logo, for its emails and pages (public: mail apps load it without a session)."""
    return send_from_directory(branding.logo_folder(studio_id), name, max_age=31536000)
