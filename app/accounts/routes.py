"""Sign-up, log-in and log-out, password reset, the studio profile and operator invitations."""

from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.security import check_password_hash

from app import ratelimits, timeutil
from app.accounts import bp, services
from app.accounts.access import owner_required
from app.accounts.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ConfirmSignupForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    SignupForm,
    StudioSettingsForm,
)
from app.accounts.models import Invitation, Role, User
from app.database import begin_write, get_owned_or_404
from app.extensions import db, limiter, login_manager
from app.i18n import client_languages_setting
from app.mailing.services import send_email, send_now
from app.urls import external_url

login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Please log in to continue.")
login_manager.login_message_category = "warning"


@login_manager.user_loader
def load_user(identity):
    """The user of this session, unless it was ended (log-out elsewhere, new password)."""
    return services.user_for_session(identity)


def _start_session(user, remember=False):
    """Log in on a fresh session (no fixation): keep only the language choice."""
    language = session.get("client_language")
    session.clear()
    if language:
        session["client_language"] = language
    session.permanent = True
    login_user(user, remember=remember)


def _safe_next(target):
    """Only a path on this site: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/")
def home():
    """Staff land on their galleries; everyone else on the log-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("galleries_admin.index"))
    return redirect(url_for("accounts.login"))


def signups_confirmed_by_email():
    """Whether a sign-up waits for its emailed link (SIGNUP_EMAIL_CONFIRMATION; by default
    whenever mail really goes out: with the embedded sink nobody could read the link)."""
    setting = current_app.config["SIGNUP_EMAIL_CONFIRMATION"]
    if setting is None or setting == "":
        return not current_app.config["MAIL_SINK_ENABLED"]
    if isinstance(setting, str):  # from PROOFSHEET_SIGNUP_EMAIL_CONFIRMATION
        return setting.strip().lower() in ("1", "true", "yes", "on")
    return bool(setting)


@bp.route("/signup", methods=["GET", "POST"])
@ratelimits.per_ip("PASSWORD_RESET_RATE_LIMIT_PER_IP", "signup")
@ratelimits.per_address("PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS", "signup")
def signup():
    """Create a studio and its owner: at once on the embedded default, else from the link
    emailed to the address (the same answer whether it has an account or not)."""
    confirmed_by_email = signups_confirmed_by_email()
    form = SignupForm(reveal_taken_email=not confirmed_by_email)
    if not form.validate_on_submit():
        return render_template("accounts/signup.html", form=form)
    if confirmed_by_email:
        return _email_signup_link(form)
    owner = services.create_studio(
        name=form.studio_name.data.strip(),
        email=form.email.data,
        password=form.password.data,
        timezone=form.timezone.data,
        currency=form.currency.data,
        language=form.language.data,
        owner_name=form.name.data.strip(),
        now=timeutil.now(),
    )
    db.session.commit()
    _start_session(owner)
    flash(_("Welcome to Proofsheet, %(name)s! Create your first gallery.", name=owner.name), "success")
    return redirect(url_for("galleries_admin.index"))


def _email_signup_link(form):
    """Email the link that creates the studio, or tell an existing account's owner so."""
    email = form.email.data
    hours = current_app.config["SIGNUP_LINK_MAX_AGE"] // 3600
    now = timeutil.now()
    if services.find_user_by_email(email) is not None:
        services.same_work_as_a_signup(form.password.data)
        message = send_email(
            to=email,
            subject=_("You already have a Proofsheet account"),
            template="signup_existing",
            link=external_url("accounts.login"),
            reset_link=external_url("accounts.forgot_password"),
            sensitive=True,
            now=now,
        )
    else:
        _pending, token = services.request_signup(
            studio_name=form.studio_name.data.strip(),
            owner_name=form.name.data.strip(),
            email=email,
            password=form.password.data,
            timezone=form.timezone.data,
            currency=form.currency.data,
            language=form.language.data,
            now=now,
            lifetime=timedelta(seconds=current_app.config["SIGNUP_LINK_MAX_AGE"]),
        )
        message = send_email(
            to=email,
            subject=_("Confirm your email to create %(studio)s", studio=form.studio_name.data.strip()),
            template="signup_confirm",
            studio_name=form.studio_name.data.strip(),
            link=external_url("accounts.confirm_signup", token=token),
            hours=hours,
            sensitive=True,
            now=now,
        )
    db.session.commit()
    send_now([message], now)
    session["signup_email"] = email
    return redirect(url_for("accounts.signup_sent"))


@bp.get("/signup/sent")
def signup_sent():
    """ "Check your email": the same page for every address."""
    return render_template(
        "accounts/signup_sent.html",
        email=session.get("signup_email", ""),
        hours=current_app.config["SIGNUP_LINK_MAX_AGE"] // 3600,
    )


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
def confirm_signup(token):
    """The emailed sign-up link: a button (mail scanners follow links), then the studio."""
    try:
        pending = services.pending_signup_for(token, timeutil.now())
    except services.LinkProblem as problem:
        return render_template("accounts/link_problem.html", reason=problem.reason, kind="signup"), 400
    form = ConfirmSignupForm()
    if not form.validate_on_submit():
        return render_template("accounts/signup_confirm.html", pending=pending, form=form)
    begin_write()
    try:
        owner = services.complete_signup(services.pending_signup_for(token, timeutil.now()), timeutil.now())
    except services.LinkProblem as problem:
        db.session.rollback()
        return render_template("accounts/link_problem.html", reason=problem.reason, kind="signup"), 400
    db.session.commit()
    _start_session(owner)
    flash(_("Welcome to Proofsheet, %(name)s! Create your first gallery.", name=owner.name), "success")
    return redirect(url_for("galleries_admin.index"))


def _login_key():
    return f"{request.remote_addr}|{(request.form.get('email') or '').strip().lower()}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    methods=["POST"],
    key_func=_login_key,
    error_message=_l("Too many attempts. Please wait a minute and try again."),
)
def login():
    """Log in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("galleries_admin.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            # The password hash is checked before the write lock is taken (app/database.py).
            begin_write()
            services.record_login(db.session.get(User, user.id), timeutil.now())
            db.session.commit()
            _start_session(user, remember=form.remember.data)
            return redirect(_safe_next(form.next.data) or url_for("galleries_admin.index"))
        form.password.errors = [_("Email or password is incorrect.")]
    return render_template("accounts/login.html", form=form)


@bp.app_errorhandler(429)
def too_many_requests(error):
    """A friendly page when the login rate limit is reached."""
    return render_template("accounts/too_many.html", message=str(error.description)), 429


@bp.app_errorhandler(CSRFError)
def csrf_failed(_error):
    """A form sent without a valid token (often: the page stayed open for hours)."""
    return render_template("accounts/csrf_failed.html", back=request.referrer), 400


@bp.app_errorhandler(403)
def forbidden(_error):
    return render_template("accounts/forbidden.html"), 403


def _end_every_session(message):
    """End every session of the current user (a copied cookie too), this one included."""
    if current_user.is_authenticated:
        begin_write()
        services.end_all_sessions(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash(message, "success")
    return redirect(url_for("accounts.login"))


@bp.post("/logout")
def logout():
    """Log out: this session and every other session of the user end."""
    return _end_every_session(_("You are logged out."))


@bp.post("/profile/sessions/end")
@login_required
def sign_out_everywhere():
    """End every session of the current user, on every device, this one included."""
    return _end_every_session(_("You are signed out on every device. Log in again to continue."))


@bp.route("/forgot-password", methods=["GET", "POST"])
@ratelimits.per_ip("PASSWORD_RESET_RATE_LIMIT_PER_IP", "password-reset")
@ratelimits.per_address("PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS", "password-reset")
def forgot_password():
    """Send a reset link; the answer is the same whether the account exists or not."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.find_user_by_email(form.email.data)
        if user is not None:
            link = external_url("accounts.reset_password", token=services.password_reset_token(user))
            now = timeutil.now()
            message = send_email(
                to=user.email,
                subject=_("Reset your Proofsheet password"),
                template="password_reset",
                studio_id=user.studio_id,
                user=user,
                link=link,
                hours=current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600,
                sensitive=True,
                now=now,
            )
            db.session.commit()
            send_now([message], now)
        flash(
            _(
                "If an account uses this email, a reset link is on its way. It works for %(hours)d hours.",
                hours=current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600,
            ),
            "success",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token):
    """Choose a new password from a reset link (single use, time-limited)."""
    try:
        user = services.user_for_reset_token(token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    except services.LinkProblem as problem:
        return render_template("accounts/link_problem.html", reason=problem.reason, kind="reset"), 400
    form = ResetPasswordForm(email=user.email)
    if form.validate_on_submit():
        services.set_password(user, form.password.data)
        db.session.commit()
        _start_session(user)
        flash(_("Your password was changed."), "success")
        return redirect(url_for("galleries_admin.index"))
    return render_template("accounts/reset_password.html", form=form)


# ------------------------------------------------------------------ profile and staff


def _profile_page(**forms):
    studio = current_user.studio
    # formdata=None: a form sent to another section must not fill this one's fields.
    defaults = {
        "studio_form": StudioSettingsForm(formdata=None, obj=studio, prefix="studio"),
        "profile_form": ProfileForm(
            formdata=None, obj=current_user, prefix="profile", studio_language=studio.language
        ),
        "password_form": ChangePasswordForm(prefix="password"),
        "invite_form": InviteForm(prefix="invite"),
    }
    defaults.update(forms)
    staff = db.session.scalars(
        sa.select(User).where(User.studio_id == studio.id).order_by(User.role.desc(), User.name)
    ).all()
    status = 422 if any(form.errors for form in forms.values()) else 200
    return render_template(
        "accounts/profile.html",
        studio=studio,
        staff=staff,
        invitations=services.pending_invitations(studio.id),
        **defaults,
    ), status


@bp.get("/profile")
@login_required
def profile():
    """The studio's settings, your profile and password, and the studio's staff."""
    return _profile_page()


@bp.post("/profile/studio")
@login_required
@owner_required
def update_studio():
    """Save the studio's settings (owner only)."""
    form = StudioSettingsForm(
        prefix="studio", campaign_galleries=services.galleries_sending_campaigns(current_user.studio_id)
    )
    if not form.validate():
        return _profile_page(studio_form=form)
    studio = current_user.studio
    studio.name, studio.email = form.name.data.strip(), form.email.data
    studio.timezone, studio.currency = form.timezone.data, form.currency.data
    studio.language = form.language.data
    studio.client_languages = client_languages_setting(form.client_languages.data, form.language.data)
    studio.country = form.country.data or None
    studio.watermark_text = (form.watermark_text.data or "").strip() or None
    studio.postal_address = form.postal_address.data or None
    db.session.commit()
    with force_locale(current_user.language or studio.language):  # the page's next language
        flash(_("Studio settings saved."), "success")
    return redirect(url_for(".profile"))


@bp.post("/profile/me")
@login_required
def update_profile():
    """Save your own name and language."""
    form = ProfileForm(prefix="profile", studio_language=current_user.studio.language)
    if not form.validate():
        return _profile_page(profile_form=form)
    current_user.name = form.name.data.strip()
    current_user.language = form.language.data or None
    db.session.commit()
    with force_locale(current_user.language or current_user.studio.language):
        flash(_("Profile saved."), "success")
    return redirect(url_for(".profile"))


@bp.post("/profile/password")
@login_required
def change_password():
    """Change your password (the current one is required)."""
    form = ChangePasswordForm(prefix="password")
    if form.validate() and not check_password_hash(current_user.password_hash, form.current.data):
        form.current.errors = [_("This is not your current password.")]
    if form.errors:
        return _profile_page(password_form=form)
    services.set_password(current_user, form.password.data)
    db.session.commit()
    _start_session(current_user._get_current_object())  # this session goes on; the others end
    flash(_("Your password was changed. You were signed out on your other devices."), "success")
    return redirect(url_for(".profile"))


@bp.post("/profile/invitations")
@login_required
@owner_required
def invite():
    """Invite an operator by email."""
    form = InviteForm(prefix="invite")
    if not form.validate():
        return _profile_page(invite_form=form)
    studio = current_user.studio
    now = timeutil.now()
    invitation = services.invite_operator(studio, form.email.data, current_user, now)
    message = send_email(
        to=invitation.email,
        subject=_("%(name)s invites you to Proofsheet", name=studio.name),
        template="invitation",
        studio_id=studio.id,
        studio=studio,
        inviter=current_user,
        link=external_url("accounts.accept_invitation", token=services.invitation_token(invitation)),
        days=current_app.config["INVITATION_MAX_AGE"] // 86400,
        sensitive=True,
        now=now,
    )
    db.session.commit()
    send_now([message], now)
    flash(_("Invitation sent to %(email)s.", email=invitation.email), "success")
    return redirect(url_for(".profile"))


@bp.post("/profile/invitations/<int:invitation_id>/revoke")
@login_required
@owner_required
def revoke_invitation(invitation_id):
    """Withdraw a pending invitation: its link stops working."""
    invitation = get_owned_or_404(Invitation, invitation_id, current_user.studio_id)
    if invitation.accepted_at is not None:
        abort(404)
    db.session.delete(invitation)
    db.session.commit()
    flash(_("Invitation withdrawn."), "success")
    return redirect(url_for(".profile"))


@bp.post("/profile/staff/<int:user_id>/remove")
@login_required
@owner_required
def remove_operator(user_id):
    """Remove an operator from the studio (the owner cannot remove themself)."""
    user = get_owned_or_404(User, user_id, current_user.studio_id)
    if user.role == Role.OWNER:
        flash(_("The studio's owner cannot be removed."), "error")
        return redirect(url_for(".profile"))
    db.session.delete(user)
    db.session.commit()
    flash(_("%(name)s no longer has access to the studio.", name=user.name), "success")
    return redirect(url_for(".profile"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    """An invited operator chooses a name and password and joins the studio."""
    try:
        invitation = services.invitation_for_token(token, current_app.config["INVITATION_MAX_AGE"])
    except services.LinkProblem as problem:
        return render_template("accounts/link_problem.html", reason=problem.reason, kind="invitation"), 400
    if services.find_user_by_email(invitation.email) is not None:
        return render_template("accounts/link_problem.html", reason="used", kind="invitation"), 400
    form = AcceptInvitationForm(email=invitation.email)
    if form.validate_on_submit():
        user = services.accept_invitation(invitation, form.name.data, form.password.data, timeutil.now())
        db.session.commit()
        _start_session(user)
        flash(_("Welcome to %(studio)s!", studio=user.studio.name), "success")
        return redirect(url_for("galleries_admin.index"))
    return render_template("accounts/accept_invitation.html", form=form, invitation=invitation)
