"""The in-browser mailbox of the local SMTP sink, for photographers on the embedded default."""

from flask import abort, current_app, render_template
from flask_login import current_user, login_required

from app.mailing import bp
from app.mailing.sink import read_message, read_messages


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
