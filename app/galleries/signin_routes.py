"""The client's side of a one-time sign-in: the "check your email" page where the code is typed,
and the emailed link (``signin.py`` holds the rules)."""

from flask import current_app, flash, g, redirect, render_template, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from app import ratelimits, timeutil
from app.accounts.models import Studio
from app.database import begin_write
from app.extensions import db
from app.galleries import clients, public_bp, signin
from app.galleries.models import ClientSignInRequest
from app.galleries.signin_forms import ConfirmSignInForm, SignInCodeForm
from app.mailing.services import send_email, send_now
from app.urls import external_url

_PENDING = "client_sign_in"  # the request this browser waits for, so the code alone is not enough


def remember_pending(request_):
    """This browser may type the code of ``request_`` (and of no other request)."""
    session[_PENDING] = request_.id


def send_sign_in_email(studio, request_, token, code, now):
    """Queue the one-time link and code: the same message whether the address is a client yet
    or not, through the platform's server (it is a secret). Returns its row for ``send_now``
    after the commit."""
    minutes = current_app.config["CLIENT_SIGN_IN_CODE_MAX_AGE"] // 60
    gallery = request_.card.gallery if request_.card is not None else request_.gallery
    where = gallery.title if gallery is not None else studio.name
    return send_email(
        to=request_.email,
        # The code stays out of the subject: subjects show in lists (Email
        # activity, the client page, a phone's lock screen); the body is hidden
        # from staff.
        subject=_("Your sign-in code for %(where)s", where=where),
        template="client_sign_in",
        studio_id=studio.id,
        gallery_id=gallery.id if gallery else None,
        studio=studio,
        where=where,
        code=code,
        minutes=minutes,
        link=external_url("galleries_public.confirm_sign_in", token=token),
        sensitive=True,
        now=now,
    )


def _pending_request():
    request_id = session.get(_PENDING)
    return db.session.get(ClientSignInRequest, request_id) if request_id else None


@public_bp.route("/sign-in/code", methods=["GET", "POST"])
@ratelimits.per_ip("CLIENT_SIGN_IN_CODE_RATE_LIMIT", "client-sign-in-code")
def check_email():
    """ "Check your email": type the emailed code here, or open the link on any device."""
    request_ = _pending_request()
    if request_ is None:
        return render_template("galleries/public/sign_in_refused.html", reason="expired", studio=None), 404
    studio = db.session.get(Studio, request_.studio_id)
    g.studio = studio
    form = SignInCodeForm()
    if form.validate_on_submit():
        begin_write()
        request_ = _pending_request()
        try:
            signin.check_code(request_, form.code.data, timeutil.now())
        except signin.SignInRefused as refusal:
            db.session.commit()  # a wrong code counts, even though nothing else changes
            if refusal.reason != "wrong":
                return _refused(studio, request_, refusal.reason)
            form.code.errors = [
                _("This code is not right. Please check the latest email we sent and type its 6 digits.")
            ]
        else:
            return _finish(studio, request_)
    return render_template(
        "galleries/public/check_email.html", studio=studio, request_=request_, form=form
    ), 422 if form.errors else 200


@public_bp.route("/sign-in/link/<token>", methods=["GET", "POST"])
@ratelimits.per_ip("CLIENT_SIGN_IN_CODE_RATE_LIMIT", "client-sign-in-code")
def confirm_sign_in(token):
    """The emailed link: a button to press (a GET never signs in: mail scanners follow links),
    then the same completion as the code."""
    request_ = signin.find_by_token(token)
    if request_ is None:
        return render_template("galleries/public/sign_in_refused.html", reason="invalid", studio=None), 404
    studio = db.session.get(Studio, request_.studio_id)
    g.studio = studio
    try:
        signin.check_usable(request_, timeutil.now())
    except signin.SignInRefused as refusal:
        return _refused(studio, request_, refusal.reason)
    form = ConfirmSignInForm()
    if form.validate_on_submit():
        begin_write()
        return _finish(studio, signin.find_by_token(token))
    return render_template(
        "galleries/public/confirm_sign_in.html", studio=studio, request_=request_, form=form
    )


def _finish(studio, request_):
    """Complete ``request_``, sign this browser in and go where the visitor was going."""
    now = timeutil.now()
    try:
        client, newly_registered = signin.complete(request_, now)
    except signin.SignInRefused as refusal:
        db.session.rollback()
        return _refused(studio, request_, refusal.reason)
    if client is not None and (request_.gallery_id or request_.card_id) and request_.language:
        client.language = request_.language  # chosen on the registration form just now
    db.session.commit()
    session.pop(_PENDING, None)
    if client is None:
        return render_template("galleries/public/no_orders.html", studio=studio, email=request_.email)
    clients.sign_in(client, now)
    gallery = request_.card.gallery if request_.card is not None else request_.gallery
    if newly_registered:
        from app.galleries.public_routes import send_gallery_link  # noqa: PLC0415 (cycle)

        with force_locale(client.language):
            email = send_gallery_link(studio, gallery, client, now)
        db.session.commit()
        send_now([email], now)
    flash(_("Welcome, %(name)s!", name=client.name), "success")
    if request_.next_page == "orders" or gallery is None:
        from app.shop.client_services import my_orders_token  # noqa: PLC0415 (page of the shop)

        return redirect(url_for("shop.my_orders", token=my_orders_token(studio.id, client.id)))
    return redirect(url_for(".gallery", studio_slug=studio.slug, gallery_slug=gallery.slug))


def _refused(studio, request_, reason):
    gallery = None
    if request_ is not None:
        gallery = request_.card.gallery if request_.card is not None else request_.gallery
    return render_template(
        "galleries/public/sign_in_refused.html",
        reason=reason,
        studio=studio,
        gallery=gallery,
        request_=request_,
    ), 410
