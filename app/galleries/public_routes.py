"""The client side of galleries: the gallery page, QR card pages, registration, private links,
and the photos themselves (thumbnails and watermarked previews only, never originals)."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, send_file, session, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from werkzeug.security import check_password_hash

from app import ratelimits, timeutil
from app.accounts.models import Studio
from app.database import begin_write
from app.extensions import db
from app.galleries import cards as card_service
from app.galleries import clients, favourites, public_bp, signin, signin_routes
from app.galleries.colours import accent_declarations
from app.galleries.models import Gallery, GalleryAccess, GalleryStatus, Photo, card_photo
from app.galleries.public_forms import (
    CardCodeForm,
    GalleryPasswordForm,
    LanguageForm,
    RegistrationForm,
    language_choices,
)
from app.galleries.storage import photo_file
from app.mailing.services import send_email, send_now

_UNLOCKED = "unlocked_galleries"


def _find_gallery(studio_slug, gallery_slug):
    studio = db.session.scalar(sa.select(Studio).where(Studio.slug == studio_slug))
    gallery = studio and db.session.scalar(
        sa.select(Gallery).where(Gallery.studio_id == studio.id, Gallery.slug == gallery_slug)
    )
    if not gallery:
        abort(404)
    g.studio = studio
    return studio, gallery


def gallery_phase(gallery, now):
    """draft / archived / upcoming (before the sale) / open / ended (after the sale)."""
    if gallery.status == GalleryStatus.DRAFT:
        return "draft"
    if gallery.status == GalleryStatus.ARCHIVED or (gallery.archives_at and now >= gallery.archives_at):
        return "archived"
    if gallery.sale_starts_at and now < gallery.sale_starts_at:
        return "upcoming"
    if gallery.sale_ends_at and now >= gallery.sale_ends_at:
        return "ended"
    return "open"


def _unlocked(gallery):
    return gallery.id in session.get(_UNLOCKED, [])


def may_browse(gallery, client):
    """Whether this visitor passed the gallery's door (password, registration, card)."""
    if gallery.is_qr:
        return bool(clients.held_card_ids(client, gallery))
    if gallery.access == GalleryAccess.PASSWORD:
        return _unlocked(gallery) or clients.is_registered(client, gallery)
    if gallery.access == GalleryAccess.REGISTRATION:
        return clients.is_registered(client, gallery)
    return True


def _closed_page(studio, gallery, phase):
    status = 404 if phase == "draft" else 200
    return render_template(
        "galleries/public/closed.html", studio=studio, gallery=gallery, phase=phase
    ), status


@public_bp.route("/g/<studio_slug>/<gallery_slug>", methods=["GET", "POST"])
def gallery(studio_slug, gallery_slug):
    """The gallery: its door (password, registration, card code) or its photos."""
    studio, gallery = _find_gallery(studio_slug, gallery_slug)
    now = timeutil.now()
    phase = gallery_phase(gallery, now)
    if phase in ("draft", "archived"):
        return _closed_page(studio, gallery, phase)
    client = clients.current_client(studio.id)
    if gallery.access == GalleryAccess.PASSWORD and not may_browse(gallery, client):
        form = GalleryPasswordForm()
        if form.validate_on_submit():
            if gallery.password_hash and check_password_hash(gallery.password_hash, form.password.data):
                session[_UNLOCKED] = [*session.get(_UNLOCKED, []), gallery.id]
                return redirect(request.path)
            form.password.errors = [_("This password is not right. Please check it with your photographer.")]
        return render_template("galleries/public/password.html", studio=studio, gallery=gallery, form=form)
    if phase == "upcoming" or not may_browse(gallery, client):
        return _door(studio, gallery, client, phase)
    photos = clients.visible_photos(gallery, client)
    hearted = favourites.favourite_photo_ids(client, gallery)
    only_favourites = client is not None and request.args.get("view") == "favourites"
    form = None if client else RegistrationForm(studio, language=_default_language())
    return render_template(
        "galleries/public/gallery.html",
        studio=studio,
        gallery=gallery,
        client=client,
        photos=[photo for photo in photos if photo.id in hearted] if only_favourites else photos,
        photo_count=len(photos),
        hearted=hearted,
        only_favourites=only_favourites,
        phase=phase,
        now=now,
        form=form,
    )


def _door(studio, gallery, client, phase):
    """Before the sale, or before registering: the registration form (or the card code)."""
    registered = clients.is_registered(client, gallery)
    return render_template(
        "galleries/public/register.html",
        studio=studio,
        gallery=gallery,
        client=client,
        phase=phase,
        registered=registered,
        form=RegistrationForm(studio, language=_default_language()),
        code_form=CardCodeForm(),
        card=None,
    )


def _default_language():
    """The registration form's language: the page's (select_locale keeps it among the studio's
    client languages)."""
    return str(get_locale() or "en")


def _register(studio, gallery, form, card, now):
    """Register from ``form``. This browser's own client adds the gallery or card at once;
    anybody else gets a one-time link and code by email, whether the address is known or not.
    Returns the response."""
    gallery_url = url_for(".gallery", studio_slug=studio.slug, gallery_slug=gallery.slug)
    client = clients.current_client(studio.id)
    session["client_language"] = form.language.data  # the pages follow at once
    if client is not None and client.email == form.email.data:
        newly = not clients.is_registered(client, gallery)
        client.language = form.language.data
        clients.register_client(
            studio.id,
            gallery,
            name=form.name.data,
            email=form.email.data,
            language=form.language.data,
            marketing_consent=form.marketing_consent.data,
            consent_text=form.consent_text,
            now=now,
            card=card,
            phone=form.phone.data,
            sms_consent=form.sms_consent.data,
            sms_consent_text=form.sms_consent_text,
        )
        with force_locale(client.language):
            emails = [send_gallery_link(studio, gallery, client, now)] if newly else []
        db.session.commit()
        send_now(emails, now)
        flash(_("Welcome back, %(name)s.", name=client.name), "success")
        return redirect(gallery_url)
    return email_sign_in(studio, form, gallery=gallery, card=card, now=now)


def email_sign_in(studio, form, *, gallery, now, card=None, next_page="gallery"):
    """Email a one-time link and code to the address typed in ``form`` (a validated
    ``RegistrationForm``), in the language just chosen, and answer with the "check your email"
    page, whether the address is known or not. Commits. Returns the response."""
    request_, token, code = signin.request_from_form(
        studio.id, form, gallery=gallery, card=card, next_page=next_page, now=now
    )
    with force_locale(form.language.data):
        email = signin_routes.send_sign_in_email(studio, request_, token, code, now)
    db.session.commit()
    signin_routes.remember_pending(request_)
    send_now([email], now)
    return redirect(url_for(".check_email"))


def send_gallery_link(studio, gallery, client, now):
    """Queue the "your gallery link" email, with a private sign-in link (a secret: sensitive);
    returns its row for ``send_now`` after the commit."""
    return send_email(
        to=client.email,
        subject=_("Your link to %(gallery)s", gallery=gallery.title),
        template="gallery_link",
        studio_id=studio.id,
        gallery_id=gallery.id,
        studio=studio,
        gallery=gallery,
        client=client,
        link=clients.sign_in_url(client, gallery),
        sensitive=True,
        now=now,
    )


@public_bp.post("/g/<studio_slug>/<gallery_slug>/register")
@ratelimits.per_ip("CLIENT_SIGN_IN_RATE_LIMIT_PER_IP", "client-sign-in")
@ratelimits.per_address("CLIENT_SIGN_IN_RATE_LIMIT_PER_ADDRESS", "client-sign-in")
def register(studio_slug, gallery_slug):
    """Register to a (non-QR) gallery: a sign-in link and code go to the address."""
    begin_write()
    studio, gallery = _find_gallery(studio_slug, gallery_slug)
    now = timeutil.now()
    phase = gallery_phase(gallery, now)
    if phase in ("draft", "archived"):
        return _closed_page(studio, gallery, phase)
    if gallery.is_qr:
        flash(_("Please use the code printed on your card."), "warning")
        return redirect(url_for(".gallery", studio_slug=studio.slug, gallery_slug=gallery.slug))
    form = RegistrationForm(studio)
    if not form.validate():
        db.session.rollback()
        return render_template(
            "galleries/public/register.html",
            studio=studio,
            gallery=gallery,
            client=None,
            phase=phase,
            registered=False,
            form=form,
            code_form=CardCodeForm(),
            card=None,
        ), 422
    return _register(studio, gallery, form, None, now)


@public_bp.route("/c", methods=["GET", "POST"])
def enter_code():
    """Type the code printed on a card."""
    form = CardCodeForm()
    if form.validate_on_submit():
        card = card_service.find_card(form.code.data)
        if card is not None:
            return redirect(url_for(".card", code=card.code))
        form.code.errors = [
            _(
                "We do not know this code. Please check the card: codes use "
                "letters and digits, without O, I or L."
            )
        ]
    return render_template("galleries/public/code.html", form=form), 200


@public_bp.route("/c/<code>", methods=["GET", "POST"])
@ratelimits.per_ip("CLIENT_SIGN_IN_RATE_LIMIT_PER_IP", "client-sign-in")
@ratelimits.per_address("CLIENT_SIGN_IN_RATE_LIMIT_PER_ADDRESS", "client-sign-in")
def card(code):
    """What a QR card opens: register (a sign-in link and code go to the address) and see that
    card's photos."""
    if request.method == "POST":
        begin_write()
    found = card_service.find_card(code)
    if found is None:
        form = CardCodeForm(code=code)
        form.code.errors = [_("We do not know this code. Please check the card.")]
        return render_template("galleries/public/code.html", form=form), 404
    gallery = found.gallery
    studio = db.session.get(Studio, gallery.studio_id)
    g.studio = studio
    now = timeutil.now()
    phase = gallery_phase(gallery, now)
    if phase in ("draft", "archived"):
        return _closed_page(studio, gallery, phase)
    client = clients.current_client(studio.id)
    gallery_url = url_for(".gallery", studio_slug=studio.slug, gallery_slug=gallery.slug)
    if client is not None and found.id in clients.held_card_ids(client, gallery):
        return redirect(gallery_url)
    form = RegistrationForm(
        studio,
        language=_default_language(),
        data=None
        if request.method == "POST"
        else {"name": client.name, "email": client.email}
        if client
        else None,
    )
    if request.method == "POST" and form.validate():
        return _register(studio, gallery, form, found, now)
    db.session.rollback()
    status = 422 if request.method == "POST" else 200
    return render_template(
        "galleries/public/register.html",
        studio=studio,
        gallery=gallery,
        client=client,
        phase=phase,
        registered=False,
        form=form,
        code_form=None,
        card=found,
    ), status


@public_bp.get("/signin/<token>")
def sign_in(token):
    """The private link from an email: sign in on this device and open the gallery (or the
    client's cart or orders)."""
    client = clients.client_for_link(token)
    if client is None:
        return render_template("galleries/public/link_expired.html"), 404
    clients.sign_in(client, timeutil.now())
    studio = db.session.get(Studio, client.studio_id)
    target = request.args.get("next")
    if target == "cart":
        return redirect(url_for("shop.cart", studio_slug=studio.slug))
    if target == "orders":
        from app.shop.client_services import my_orders_token  # noqa: PLC0415 (page of the shop)

        return redirect(url_for("shop.my_orders", token=my_orders_token(studio.id, client.id)))
    gallery = db.session.get(Gallery, request.args.get("gallery", type=int) or 0)
    if gallery is None or gallery.studio_id != studio.id:
        gallery = _latest_gallery(client)
    if gallery is None:
        abort(404)
    return redirect(url_for(".gallery", studio_slug=studio.slug, gallery_slug=gallery.slug))


def _latest_gallery(client):
    from app.galleries.models import Registration

    return db.session.scalar(
        sa.select(Gallery)
        .join(Registration, Registration.gallery_id == Gallery.id)
        .where(Registration.client_id == client.id)
        .order_by(Registration.registered_at.desc())
        .limit(1)
    )


@public_bp.post("/g/<studio_slug>/signout")
def sign_out(studio_slug):
    """Forget the client in this browser."""
    studio = db.session.scalar(sa.select(Studio).where(Studio.slug == studio_slug)) or abort(404)
    clients.sign_out(studio.id)
    flash(_("You are signed out on this device."), "success")
    return redirect(request.referrer or url_for(".enter_code"))


# ------------------------------------------------------------------ the studio's accent colour


@public_bp.app_template_global()
def accent_style(studio):
    """The custom properties that paint a client page in the studio's accent colour
    (galleries/public/_accent.html), or "" to keep the default colours."""
    return accent_declarations(studio.accent_color) if studio is not None else ""


# ------------------------------------------------------------------ the language switcher


@public_bp.app_template_global()
def language_switcher():
    """What the switcher of a studio's page needs (base.html): the studio, its languages and the
    page to come back to; None outside a studio's pages or when it offers a single language."""
    studio = g.get("studio")
    if studio is None:
        return None
    choices = language_choices(studio)
    if len(choices) < 2:
        return None
    # After a form sent with errors, come back to the page the form was on, not its POST address.
    back = request.full_path.rstrip("?") if request.method == "GET" else request.referrer
    return {
        "studio": studio,
        "choices": choices,
        "current": str(get_locale() or "en"),
        "next": local_target(back) or "",
    }


def local_target(target):
    """``target`` as a path of this site, or None: a path, or a full address on this host (a
    referrer). Never an open redirect ("//host", "/\\host", "https://elsewhere")."""
    if not target or "\\" in target or any(ord(char) < 32 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc != request.host:
            return None
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/") or target.startswith("//"):
        return None
    return target


@public_bp.post("/g/<studio_slug>/language")
def change_language(studio_slug):
    """The language switcher: this browser's language for the studio's pages and, for a
    signed-in client, the language of the studio's emails to them."""
    studio = db.session.scalar(sa.select(Studio).where(Studio.slug == studio_slug)) or abort(404)
    g.studio = studio
    form = LanguageForm(studio)
    back = local_target(form.next.data) or url_for(".enter_code")
    if not form.validate():
        for error in form.language.errors:
            flash(error, "error")
        return redirect(back)
    session["client_language"] = form.language.data
    client = clients.current_client(studio.id)
    if client is not None and client.language != form.language.data:
        begin_write()
        client = clients.current_client(studio.id)
        client.language = form.language.data
        db.session.commit()
    return redirect(back)


@public_bp.get("/p/<int:photo_id>/<variant>")
def photo(photo_id, variant):
    """A thumbnail or watermarked preview, for visitors who may see that photo."""
    if variant not in ("thumb", "preview"):
        abort(404)
    found = db.session.get(Photo, photo_id)
    if found is None or not may_see_photo(found):
        abort(404)
    response = send_file(photo_file(found, variant), mimetype="image/jpeg", max_age=3600)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def may_see_photo(photo):
    """Whether this visitor may see ``photo``: the photo file and its heart answer 404 otherwise."""
    if not photo.shown_to_clients:
        return False
    gallery = photo.gallery
    if gallery_phase(gallery, timeutil.now()) not in ("open", "ended"):
        return False
    client = clients.current_client(gallery.studio_id)
    if gallery.is_qr:
        held = clients.held_card_ids(client, gallery)
        return (
            bool(held)
            and db.session.scalar(
                sa.select(card_photo.c.card_id)
                .where(card_photo.c.photo_id == photo.id, card_photo.c.card_id.in_(held))
                .limit(1)
            )
            is not None
        )
    return may_browse(gallery, client)
