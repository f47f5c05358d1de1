"""Settings → Text messages: the studio's SMS provider (Proofsheet's, 46elks or Twilio), the
inbound webhook URL to paste in the provider's console, and a test text (owner only)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import timeutil
from app.extensions import db
from app.reasons import shown_reason
from app.sms import bp
from app.sms.dispatch import dispatch_sms
from app.sms.inbound import inbound_token
from app.sms.models import SmsMessage, SmsState
from app.sms.outbox import queue_sms
from app.sms.phone import PhoneRefused, normalize_phone
from app.sms.settings_forms import DEFAULT, SmsSettingsForm, TestTextForm
from app.sms.studio_settings import remove_sms_settings, save_sms_settings, sms_settings_of
from app.urls import external_url

INBOUND_ENDPOINTS = {"46elks": "sms_public.inbound_46elks", "twilio": "sms_public.inbound_twilio"}


def _owner_only():
    if not current_user.is_owner:
        abort(403)


def inbound_url(studio_id, provider):
    """The URL the studio pastes in its provider's console for replies (STOP), or None."""
    endpoint = INBOUND_ENDPOINTS.get(provider)
    return external_url(endpoint, token=inbound_token(studio_id)) if endpoint else None


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    _owner_only()
    studio_id = current_user.studio_id
    row = sms_settings_of(studio_id)
    form = SmsSettingsForm(
        obj=row,
        saved_provider=row.provider if row else None,
        has_password=bool(row and row.password_encrypted),
    )
    if request.method == "POST" and form.validate():
        if form.provider.data == DEFAULT:
            remove_sms_settings(studio_id)
            db.session.commit()
            flash(_("Your texts now go through Proofsheet’s provider."), "success")
        else:
            save_sms_settings(studio_id, form.values(), timeutil.now())
            db.session.commit()
            flash(_("Text message settings saved."), "success")
        return redirect(url_for(".settings"))
    return render_template(
        "sms/settings.html",
        form=form,
        row=row,
        inbound_url=inbound_url(studio_id, row.provider) if row else None,
        test_form=TestTextForm(),
    ), (422 if form.errors else 200)


@bp.post("/settings/remove")
@login_required
def remove_settings():
    """Forget the studio's provider: its texts go through Proofsheet's again."""
    _owner_only()
    remove_sms_settings(current_user.studio_id)
    db.session.commit()
    flash(_("Your texts now go through Proofsheet’s provider."), "success")
    return redirect(url_for(".settings"))


@bp.post("/settings/test-text")
@login_required
def test_text():
    """Queue a short text through the studio's provider and send it now; say what happened."""
    _owner_only()
    form = TestTextForm()
    studio = current_user.studio
    if not form.validate():
        flash(" ".join(map(str, form.to.errors)), "error")
        return redirect(url_for(".settings"))
    try:
        number = normalize_phone(form.to.data, studio.country)
    except PhoneRefused as refusal:
        flash(str(refusal), "error")
        return redirect(url_for(".settings"))
    now = timeutil.now()
    message_id = queue_sms(
        studio_id=studio.id,
        kind="test",
        recipient=number,
        body=_("Test text from %(studio)s: your text message settings work.", studio=studio.name),
        now=now,
    )
    db.session.commit()
    dispatch_sms(now, worker="settings-test", ids=[message_id])
    row = db.session.get(SmsMessage, message_id)
    db.session.refresh(row)
    if row.state == SmsState.SENT:
        flash(_("Test text sent to %(to)s.", to=number), "success")
    elif row.state == SmsState.QUEUED and row.last_error:
        flash(
            _(
                "The test text was not sent yet: %(error)s. It will be tried again in a few minutes.",
                error=row.last_error,
            ),
            "warning",
        )
    elif row.state == SmsState.UNKNOWN:
        flash(shown_reason(row.last_error), "warning")
    elif row.last_error:
        flash(_("The test text was not sent: %(error)s", error=row.last_error), "error")
    else:
        flash(
            _("The test text waits for your rate per minute and goes out within a minute."),
            "warning",
        )
    return redirect(url_for(".settings"))
