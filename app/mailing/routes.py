"""The in-browser mailbox of the local SMTP sink, for photographers on the embedded default."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import timeutil
from app.extensions import csrf, db
from app.mailing import bp, public_bp
from app.mailing.forms import ResubscribeForm
from app.mailing.sink import read_message, read_messages
from app.mailing.unsubscribe import (
    ONE_CLICK,
    PAGE,
    ResubscribeRefused,
    is_suppressed,
    read_unsubscribe_token,
    resubscribe,
    studio_name,
    suppression_of,
)
from app.mailing.unsubscribe import unsubscribe as unsubscribe_address


def _sink_folder():
    if not current_app.config["MAIL_SINK_ENABLED"]:
        abort(404)
    return current_app.config["MAIL_SINK_FOLDER"]


@bp.get("/")
@login_required
def mailbox():
    """List the messages this studio sent to the local sink, newest first."""
    messages = read_messages(_sink_folder(), studio_id=current_user.studio_id)
    return render_template("mailing/mailbox.html", messages=messages)


@bp.get("/<message_id>")
@login_required
def message(message_id):
    """Show one message of this studio as its recipient would see it."""
    found = read_message(_sink_folder(), message_id)
    if found is None or found.get("X-Proofsheet-Studio") != str(current_user.studio_id):
        abort(404)
    html_part = found.get_body(preferencelist=("html",))
    text_part = found.get_body(preferencelist=("plain",))
    return render_template(
        "mailing/message.html",
        message=found,
        message_id=message_id,
        html=html_part.get_content() if html_part else None,
        text=text_part.get_content() if text_part else "",
    )


@public_bp.get("/unsubscribe/<token>")
def unsubscribe(token):
    """Ask for confirmation: a GET never unsubscribes (mail scanners follow links). The
    footer's "Email preferences" link is this link with ``?page=preferences``."""
    studio_id, email = _token_or_404(token)
    if request.args.get("page") == "preferences":
        return redirect(url_for("mailing_public.preferences", token=token))
    return render_template(
        "mailing/unsubscribe.html",
        token=token,
        email=email,
        claimed=_claimed_message(),
        done=is_suppressed(studio_id, email),
    )


@public_bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe_confirm(token):
    """One-click unsubscribe (RFC 8058 POST from the mail client, or the confirmation form),
    recorded with how and from which message (``?m=``: the message whose header it was)."""
    studio_id, email = _token_or_404(token)
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    unsubscribe_address(
        studio_id, email, ONE_CLICK if one_click else PAGE, timeutil.now(), _claimed_message()
    )
    db.session.commit()
    return render_template("mailing/unsubscribe.html", token=token, email=email, done=True, claimed=None)


@public_bp.route("/unsubscribe/<token>/preferences", methods=["GET", "POST"])
def preferences(token):
    """The client's preferences: what they receive from the studio, and re-subscribing after
    an unsubscribe (never after a bounce or a complaint)."""
    studio_id, email = _token_or_404(token)
    form = ResubscribeForm()
    if form.validate_on_submit():
        try:
            resubscribe(studio_id, email)
        except ResubscribeRefused as refusal:
            flash(str(refusal), "error")
        else:
            db.session.commit()
            flash(_("You are subscribed again."), "success")
        return redirect(url_for("mailing_public.preferences", token=token))
    return render_template(
        "mailing/preferences.html",
        token=token,
        email=email,
        form=form,
        studio_name=studio_name(studio_id),
        suppression=suppression_of(studio_id, email),
    )


def _claimed_message():
    value = request.args.get("m", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def _token_or_404(token):
    found = read_unsubscribe_token(token)
    if found is None:
        abort(404)
    return found
