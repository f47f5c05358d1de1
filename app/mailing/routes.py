"""The in-browser mailbox of the local SMTP sink, for photographers on the embedded default."""

from flask import abort, current_app, render_template
from flask_login import current_user, login_required

from app import timeutil
from app.extensions import csrf, db
from app.mailing import bp, public_bp
from app.mailing.sink import read_message, read_messages
from app.mailing.unsubscribe import is_suppressed, read_unsubscribe_token, suppress


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
        "mailing/message.html", message=found, message_id=message_id,
        html=html_part.get_content() if html_part else None,
        text=text_part.get_content() if text_part else "")


@public_bp.get("/unsubscribe/<token>")
def unsubscribe(token):
    """Ask for confirmation: a GET never unsubscribes (mail scanners follow links)."""
    studio_id, email = _token_or_404(token)
    return render_template("mailing/unsubscribe.html", token=token, email=email,
                           done=is_suppressed(studio_id, email))


@public_bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe_confirm(token):
    """One-click unsubscribe (RFC 8058 POST from the mail client, or the confirmation form)."""
    studio_id, email = _token_or_404(token)
    suppress(studio_id, email, "unsubscribed", timeutil.now())
    db.session.commit()
    return render_template("mailing/unsubscribe.html", token=token, email=email, done=True)


def _token_or_404(token):
    found = read_unsubscribe_token(token)
    if found is None:
        abort(404)
    return found
