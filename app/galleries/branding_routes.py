"""Branding: the studio's logo and accent colour (its emails, PDFs and client pages), and the
public URLs of the logo and of a gallery's cover in mail."""

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.access import owner_required
from app.extensions import db
from app.galleries import admin_bp, branding, public_bp
from app.galleries.branding_forms import AccentColourForm
from app.galleries.forms import ConfirmForm, LogoForm
from app.galleries.storage import photo_file


def _accent_form():
    shown = current_user.studio.accent_color or branding.DEFAULT_ACCENT
    return AccentColourForm(data={"accent_color": shown, "accent_picker": shown, "shown": shown})


def _page(form=None, accent_form=None, status=200):
    studio = current_user.studio
    return render_template(
        "galleries/admin/branding.html",
        studio=studio,
        form=form or LogoForm(),
        accent_form=accent_form or _accent_form(),
        remove_form=ConfirmForm(),
        reset_form=ConfirmForm(),
        logo_url=branding.logo_url(studio),
        brand=branding.email_brand(studio),
    ), status


@admin_bp.get("/branding")
@login_required
@owner_required
def branding_page():
    """The studio's logo and accent colour."""
    return _page()


@admin_bp.post("/branding/accent")
@login_required
@owner_required
def save_accent():
    """Save the accent colour (typed or picked)."""
    form = AccentColourForm()
    if not form.validate():
        return _page(accent_form=form, status=422)
    branding.set_accent(current_user.studio, form.accent_color.data)
    db.session.commit()
    flash(_("Accent colour saved: your emails, documents and client pages use it from now on."), "success")
    return redirect(url_for(".branding_page"))


@admin_bp.post("/branding/accent/reset")
@login_required
@owner_required
def reset_accent():
    """Back to Proofsheet's own blue."""
    if ConfirmForm().validate():
        branding.set_accent(current_user.studio, None)
        db.session.commit()
        flash(_("Accent colour reset to the default blue."), "success")
    return redirect(url_for(".branding_page"))


@admin_bp.post("/branding")
@login_required
@owner_required
def upload_logo():
    """Replace the studio's logo with the uploaded image (checked and resized)."""
    form = LogoForm()
    if not form.validate():
        return _page(form, status=422)
    with form.logo.data.stream as stream:
        data = stream.read(branding.MAX_LOGO_BYTES + 1)
    try:
        old = branding.save_logo(current_user.studio, data)
    except branding.LogoRefused as refusal:
        form.logo.errors = [str(refusal)]
        return _page(form, status=422)
    db.session.commit()
    _remove_quietly(old)
    flash(_("Logo saved. Your emails and documents show it from now on."), "success")
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


@public_bp.get("/media/cover/<token>.jpg")
def gallery_cover(token):
    """A gallery's cover in its emails (public: mail apps load it without a session), the
    watermarked preview, while it is still the gallery's cover."""
    photo = branding.cover_of_token(token) or abort(404)
    return send_file(photo_file(photo, "preview"), mimetype="image/jpeg", max_age=86400)


@public_bp.app_template_global("email_brand")
def email_brand(studio=None, fallback_name=None):
    """The studio's logo and colours for the email layouts (templates/email/)."""
    return branding.email_brand(studio, fallback_name)
