"""Share with family: the signed-in client's invitation (from the gallery page) and the page the
invitation opens, where the family member registers (``share.py`` holds the rules)."""

import sqlalchemy as sa
from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from app import ratelimits, timeutil
from app.accounts.models import Studio
from app.database import begin_write
from app.extensions import db, limiter
from app.galleries import clients, public_bp, share
from app.galleries.models import Gallery
from app.galleries.public_forms import RegistrationForm
from app.galleries.public_routes import email_sign_in, gallery_phase, may_browse
from app.galleries.share_forms import FamilyInviteForm
from app.mailing.services import send_email, send_now
from app.urls import external_url


def _inviter_key():
    """Invitations count per signed-in client (the route refuses anybody else)."""
    known = session.get("clients") or {}
    return "inviter:" + ",".join(f"{studio}-{entry[0]}" for studio, entry in sorted(known.items()))


def _per_inviter_limit():
    return current_app.config.get("FAMILY_INVITE_RATE_LIMIT_PER_CLIENT", "10 per hour;30 per day")


def _studio_gallery(studio_slug, gallery_slug):
    """(studio, gallery) of a gallery page's address, or 404."""
    studio = db.session.scalar(sa.select(Studio).where(Studio.slug == studio_slug)) or abort(404)
    gallery = db.session.scalar(
        sa.select(Gallery).where(Gallery.studio_id == studio.id, Gallery.slug == gallery_slug)
    ) or abort(404)
    g.studio = studio
    return studio, gallery


def _gallery_url(studio, gallery):
    return url_for(".gallery", studio_slug=studio.slug, gallery_slug=gallery.slug)


def _sharing_client(studio, gallery):
    """The signed-in client who may share ``gallery`` now, or abort: 403 for a visitor who is
    not signed in or has nothing to share, 404 for a gallery that is not open."""
    if gallery_phase(gallery, timeutil.now()) not in ("open", "ended"):
        abort(404)
    client = clients.current_client(studio.id)
    if client is None or not may_browse(gallery, client) or not share.may_share(client, gallery):
        abort(403)
    return client


@public_bp.route("/g/<studio_slug>/<gallery_slug>/share", methods=["GET", "POST"])
@ratelimits.per_ip("CLIENT_SIGN_IN_RATE_LIMIT_PER_IP", "family-invite")
@ratelimits.per_address("CLIENT_SIGN_IN_RATE_LIMIT_PER_ADDRESS", "family-invite")
@limiter.limit(_per_inviter_limit, key_func=_inviter_key, methods=["POST"])
def share_gallery(studio_slug, gallery_slug):
    """Invite a family member by email to the gallery, with the same cards as this client."""
    studio, gallery = _studio_gallery(studio_slug, gallery_slug)
    inviter = _sharing_client(studio, gallery)
    form = FamilyInviteForm(inviter)
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template(
            "galleries/public/share.html", studio=studio, gallery=gallery, client=inviter, form=form
        ), status
    now = timeutil.now()
    with force_locale(inviter.language):  # the inviter's words, in the inviter's language
        email = send_family_invite(studio, gallery, inviter, form.email.data, now)
    db.session.commit()
    send_now([email], now)
    flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
    return redirect(_gallery_url(studio, gallery))


def send_family_invite(studio, gallery, inviter, email, now):
    """Queue the invitation (it carries a link that gives access: sensitive); returns its row
    for ``send_now`` after the commit."""
    days = share.max_age() // (24 * 60 * 60)
    return send_email(
        to=email,
        subject=_("%(inviter)s shares %(gallery)s with you", inviter=inviter.name, gallery=gallery.title),
        template="family_invite",
        studio_id=studio.id,
        gallery_id=gallery.id,
        studio=studio,
        gallery=gallery,
        inviter=inviter,
        link=_invite_url(inviter, gallery, email),
        days=days,
        sensitive=True,
        now=now,
    )


def _invite_url(inviter, gallery, email):
    return external_url("galleries_public.family_invite", token=share.invite_token(inviter, gallery, email))


@public_bp.route("/family/<token>", methods=["GET", "POST"])
@ratelimits.per_ip("CLIENT_SIGN_IN_RATE_LIMIT_PER_IP", "client-sign-in")
@ratelimits.per_address("CLIENT_SIGN_IN_RATE_LIMIT_PER_ADDRESS", "client-sign-in")
def family_invite(token):
    """What the invitation opens: register with one's own address (a code proves it) and see
    the inviter's photos of the gallery."""
    try:
        invite = share.read_invite(token)
    except share.InviteRefused as refusal:
        return _refused(refusal.reason)
    gallery, inviter = invite.gallery, invite.inviter
    studio = db.session.get(Studio, gallery.studio_id)
    g.studio = studio
    phase = gallery_phase(gallery, timeutil.now())
    if phase in ("draft", "archived"):
        page = render_template("galleries/public/closed.html", studio=studio, gallery=gallery, phase=phase)
        return page, 410
    form = RegistrationForm(studio, language=str(get_locale() or "en"), data=_prefilled(invite))
    if form.validate_on_submit():
        begin_write()
        return _join(studio, gallery, inviter, form)
    db.session.rollback()
    return render_template(
        "galleries/public/family_invite.html",
        studio=studio,
        gallery=gallery,
        inviter=inviter,
        form=form,
        client=clients.current_client(studio.id),
    ), 422 if form.errors else 200


def _prefilled(invite):
    return None if request.method == "POST" else {"email": invite.email}


def _join(studio, gallery, inviter, form):
    """This browser's own client joins at once; anybody else proves the address first."""
    now = timeutil.now()
    session["client_language"] = form.language.data
    client = clients.current_client(studio.id)
    if client is not None and client.email == form.email.data:
        share.join_inviter(client, inviter, gallery, now)
        db.session.commit()
        flash(_("Welcome, %(name)s!", name=client.name), "success")
        return redirect(_gallery_url(studio, gallery))
    return email_sign_in(studio, form, gallery=gallery, next_page=share.next_page_for(inviter), now=now)


def _refused(reason):
    return render_template("galleries/public/family_invite_refused.html", reason=reason, studio=None), (
        404 if reason == "invalid" else 410
    )
