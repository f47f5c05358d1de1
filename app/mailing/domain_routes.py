"""Settings → Email → Sender domain: publish DKIM, DMARC and SPF records, then check them."""

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import timeutil
from app.extensions import db
from app.mailing import bp, sender_domains
from app.mailing.identity import studio_identity
from app.mailing.settings_forms import SenderDomainForm
from app.mailing.settings_routes import _owner_only
from app.mailing.studio_settings import settings_of


def _page(form=None, status=200):
    studio_id = current_user.studio_id
    row = sender_domains.domain_of(studio_id)
    mail_settings = settings_of(studio_id)
    sender_email = mail_settings.sender_email if mail_settings else None
    if form is None:
        suggested = row.domain if row else (sender_email or "").rpartition("@")[2]
        form = SenderDomainForm(domain=suggested)
    return render_template(
        "mailing/sender_domain.html",
        form=form,
        row=row,
        records=sender_domains.records(row, current_app.config) if row else [],
        identity=studio_identity(studio_id),
        sender_email=sender_email,
        sender_aligned=row is not None and sender_domains.is_aligned(sender_email, row.domain),
        own_server=bool(mail_settings and mail_settings.smtp_host),
    ), status


@bp.get("/settings/domain")
@login_required
def sender_domain():
    """The studio's sender domain, the records to publish and what DNS says of them."""
    _owner_only()
    return _page()


@bp.post("/settings/domain")
@login_required
def set_sender_domain():
    """Start (or change) the sender domain: a new DKIM key, records to publish."""
    _owner_only()
    form = SenderDomainForm()
    if not form.validate():
        return _page(form, 422)
    try:
        domain = sender_domains.normalize_domain(form.domain.data, current_app.config)
    except sender_domains.DomainRefused as refusal:
        form.domain.errors = [str(refusal)]
        return _page(form, 422)
    sender_domains.set_domain(current_user.studio_id, domain, timeutil.now())
    db.session.commit()
    flash(_("Publish the records below at your DNS provider, then check them."), "success")
    return redirect(url_for(".sender_domain"))


@bp.post("/settings/domain/check")
@login_required
def check_sender_domain():
    """Look the records up now."""
    _owner_only()
    row = sender_domains.domain_of(current_user.studio_id)
    if row is None:
        return redirect(url_for(".sender_domain"))
    was_verified = row.verified_at is not None
    answered = sender_domains.check(row, current_app.config, timeutil.now())
    db.session.commit()
    if not answered:
        flash(_("DNS did not answer. Nothing changed; try again in a minute."), "error")
    elif row.verified_at is not None:
        flash(
            _("%(domain)s is verified: your emails now come from your own address.", domain=row.domain)
            if not was_verified
            else _("%(domain)s is still verified.", domain=row.domain),
            "success",
        )
    else:
        flash(_("%(domain)s is not verified yet: see what is missing below.", domain=row.domain), "warning")
    return redirect(url_for(".sender_domain"))


@bp.post("/settings/domain/remove")
@login_required
def remove_sender_domain():
    """Stop sending from the domain: its key is deleted, mail goes "via Proofsheet" again."""
    _owner_only()
    sender_domains.remove_domain(current_user.studio_id)
    db.session.commit()
    flash(_("The sender domain was removed. You may delete its DNS records."), "success")
    return redirect(url_for(".sender_domain"))
