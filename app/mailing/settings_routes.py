"""Settings → Email: the studio's sender and SMTP server, test connection, test message."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import timeutil
from app.extensions import db
from app.mailing import bp
from app.mailing.dispatch import dispatch
from app.mailing.models import MailKind, MailState
from app.mailing.outbox import queue_message
from app.mailing.services import studio_sender
from app.mailing.settings_forms import MailSettingsForm, TestMessageForm
from app.mailing.studio_settings import check_connection, save_settings, settings_of, smtp_settings


def _owner_only():
    if not current_user.is_owner:
        abort(403)


def _form(row, **kwargs):
    return MailSettingsForm(obj=row, has_password=bool(row and row.password_encrypted), **kwargs)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """The studio's sender identity and SMTP server (owner only)."""
    _owner_only()
    studio_id = current_user.studio_id
    row = settings_of(studio_id)
    form = _form(row)
    if request.method == "POST" and form.validate():
        save_settings(studio_id, form.values(), timeutil.now())
        db.session.commit()
        flash(_("Email settings saved."), "success")
        return redirect(url_for(".settings"))
    return render_template(
        "mailing/settings.html", form=form, row=row, test_form=TestMessageForm(to=current_user.email)
    ), (422 if form.errors else 200)


@bp.post("/settings/test-connection")
@login_required
def test_connection_view():
    """Try the saved server now: connect, TLS, log in; say exactly what failed."""
    _owner_only()
    own = smtp_settings(settings_of(current_user.studio_id))
    if own is None:
        flash(_("No SMTP server saved yet: your emails go through Proofsheet's server."), "warning")
        return redirect(url_for(".settings"))
    ok, message = check_connection(own)
    flash(message, "success" if ok else "error")
    return redirect(url_for(".settings"))


@bp.post("/settings/test-message")
@login_required
def test_message():
    """Send a short message through the studio's settings and the outbox."""
    _owner_only()
    form = TestMessageForm()
    if not form.validate():
        flash(" ".join(map(str, form.to.errors)), "error")
        return redirect(url_for(".settings"))
    studio = current_user.studio
    now = timeutil.now()
    row = queue_message(
        kind=MailKind.TEST,
        studio_id=studio.id,
        sender=studio_sender(studio.id),
        recipient=form.to.data,
        subject=_("Test message from %(studio)s", studio=studio.name),
        html="<p>" + _("Your email settings work.") + "</p>",
        text=_("Your email settings work.") + "\n",
        now=now,
        headers={"X-Proofsheet-Studio": str(studio.id)},
    )
    db.session.commit()
    dispatch(now, worker="settings-test", ids=[row.id])
    db.session.refresh(row)
    if row.state == MailState.SENT:
        flash(_("Test message sent to %(to)s.", to=form.to.data), "success")
    else:
        flash(
            _("The test message was not sent: %(error)s. It stays in Email activity.", error=row.last_error),
            "error",
        )
    return redirect(url_for(".settings"))
