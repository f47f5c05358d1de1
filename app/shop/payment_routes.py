"""Shop → Payments (owner only): Stripe keys, bank transfer details, pay at pickup; and the
payment methods a gallery offers (on its pricing page)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import timeutil
from app.accounts.access import owner_required
from app.database import get_owned_or_404
from app.extensions import db
from app.galleries.models import Gallery
from app.shop import admin_bp
from app.shop.payment_forms import GalleryPaymentMethodsForm, PaymentSettingsForm
from app.shop.payment_settings import gallery_choice, save_settings, set_gallery_methods, settings_of
from app.shop.payments import PROVIDERS
from app.urls import external_url


def method_labels():
    return {key: provider.label for key, provider in PROVIDERS.items()}


@admin_bp.route("/payments", methods=["GET", "POST"])
@login_required
@owner_required
def payment_settings():
    """The studio's payment methods: Stripe keys (secrets never shown back), bank account,
    pay at pickup. Owner only: the keys move the studio's money."""
    studio_id = current_user.studio_id
    row = settings_of(studio_id)
    form = PaymentSettingsForm(row)
    if request.method == "POST" and form.validate():
        save_settings(studio_id, form.values(), timeutil.now())
        db.session.commit()
        flash(_("Payment settings saved."), "success")
        return redirect(url_for(".payment_settings"))
    return render_template(
        "shop/admin/payment_settings.html",
        form=form,
        row=row,
        webhook_url=external_url("shop.stripe_webhook", studio_id=studio_id),
    ), (422 if form.errors else 200)


def gallery_methods_form(gallery, **kwargs):
    """The form on the gallery's pricing page (shown by ``gallery_pricing.html``)."""
    return GalleryPaymentMethodsForm(method_labels(), gallery_choice(gallery.id), **kwargs)


@admin_bp.post("/galleries/<int:gallery_id>/payment-methods")
@login_required
def gallery_payment_methods(gallery_id):
    """Which payment methods clients of this gallery may use."""
    gallery = get_owned_or_404(Gallery, gallery_id, current_user.studio_id)
    form = gallery_methods_form(gallery)
    if not form.validate():
        flash(" ".join(str(error) for errors in form.errors.values() for error in errors), "error")
        return redirect(url_for(".gallery_pricing", gallery_id=gallery.id))
    set_gallery_methods(gallery.id, form.chosen())
    db.session.commit()
    flash(_("Payment methods of “%(title)s” saved.", title=gallery.title), "success")
    return redirect(url_for(".gallery_pricing", gallery_id=gallery.id))
