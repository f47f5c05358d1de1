"""Shop admin order pages: the filtered, searchable list and an order's detail page, where staff
move its status on and set the expected delivery date.

Orders are reached with ``get_owned_or_404``: another studio's order id answers 404.
"""

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.access import owner_required
from app.database import get_owned_or_404
from app.extensions import db
from app.shop import admin_bp, notifications
from app.shop import admin_forms as forms
from app.shop import admin_services as services
from app.shop.models import Order, Refund
from app.shop.order_email_content import EVENT_LABELS
from app.shop.order_sms import STATE_LABELS as TEXT_STATE_LABELS
from app.shop.order_sms import texts_of
from app.shop.orders import TRACKING_URLS, TransitionRefused, allowed_next_statuses, tracking_url
from app.shop.payment_forms import RefundForm
from app.shop.payment_refunds import refund_order, refundable_minor
from app.shop.payments import PROVIDERS
from app.shop.stripe_checkout import CardPaymentError
from app.templating import money
from app.timeutil import now

ORDERS_PER_PAGE = 25


@admin_bp.get("/orders/")
@login_required
def orders():
    """The studio's orders, newest first, filtered by gallery, status, client and placed dates,
    searched by number, client name or email, 25 to a page."""
    studio = current_user.studio
    galleries, clients = services.order_filter_choices(studio.id)
    form = forms.OrderFilterForm(galleries, clients, formdata=request.args)
    filters = form.filters(studio.timezone)
    page = db.paginate(
        services.orders_query(studio.id, filters),
        page=request.args.get("page", 1, type=int),
        per_page=ORDERS_PER_PAGE,
        error_out=False,
    )
    titles = services.gallery_titles([order.gallery_id for order in page.items if order.gallery_id])
    query_args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "shop/admin/orders.html",
        page=page,
        form=form,
        filters=filters,
        titles=titles,
        query_args=query_args,
        studio=studio,
    )


def _order_or_404(order_id):
    return get_owned_or_404(Order, order_id, current_user.studio_id)


def _render_order(order, status_form=None, delivery_form=None, code=200, refund_form=None):
    delivery_form = delivery_form or forms.ExpectedDeliveryForm(obj=order)
    provider = PROVIDERS.get(order.payment_method)
    refundable = refundable_minor(order)
    return render_template(
        "shop/admin/order.html",
        order=order,
        studio=current_user.studio,
        refundable=refundable,
        refund_form=refund_form or RefundForm(order, refundable),
        refunds=db.session.scalars(
            sa.select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)
        ).all(),
        status_form=status_form or forms.StatusChangeForm(order),
        delivery_form=delivery_form,
        next_statuses=allowed_next_statuses(order),
        tracking_link=tracking_url(order),
        payment_label=provider.label if provider else order.payment_method,
        gallery_titles=services.gallery_titles(
            [item.gallery_id for item in order.items if item.gallery_id] + [order.gallery_id]
        ),
        carriers=list(TRACKING_URLS),
        texts=[(EVENT_LABELS.get(text.source.rsplit(":", 1)[-1], ""), text) for text in texts_of(order)],
        text_states=TEXT_STATE_LABELS,
    ), code


@admin_bp.get("/orders/<int:order_id>")
@login_required
def order(order_id):
    """An order: items with photos, totals and discounts, client, delivery, payment, status
    history, the texts sent to the client, and the forms to move its status on and set the
    expected delivery date."""
    return _render_order(_order_or_404(order_id))


@admin_bp.post("/orders/<int:order_id>/status")
@login_required
def change_status(order_id):
    """Move the order to a new status. A refused change shows why and changes nothing."""
    order = _order_or_404(order_id)
    form = forms.StatusChangeForm(order)
    if not form.validate_on_submit():
        return _render_order(order, status_form=form, code=400)
    try:
        services.change_order_status(
            order,
            form.status.data,
            now=now(),
            user=current_user,
            carrier=form.carrier_name(),
            tracking_number=form.tracking_number.data,
            reason=form.reason.data,
            note=form.note.data or "",
        )
    except TransitionRefused as refused:
        db.session.rollback()  # the rules refuse before changing anything; end the transaction
        form.status.errors = [str(refused)]
        return _render_order(order, status_form=form, code=400)
    db.session.commit()
    notifications.send_queued(now())
    flash(
        _(
            "Order %(number)s is now %(status)s.",
            number=order.number,
            status=forms.STATUS_LABELS[order.status],
        ),
        "success",
    )
    return redirect(url_for(".order", order_id=order.id))


@admin_bp.post("/orders/<int:order_id>/expected-delivery")
@login_required
def expected_delivery(order_id):
    """Set or clear the date the client may expect the order."""
    order = _order_or_404(order_id)
    form = forms.ExpectedDeliveryForm()
    if not form.validate_on_submit():
        return _render_order(order, delivery_form=form, code=400)
    services.set_expected_delivery(order, form.expected_delivery_on.data, now())
    db.session.commit()
    notifications.send_queued(now())
    flash(
        _("Expected delivery date saved.")
        if order.expected_delivery_on
        else _("Expected delivery date cleared."),
        "success",
    )
    return redirect(url_for(".order", order_id=order.id))


@admin_bp.post("/orders/<int:order_id>/refund")
@login_required
@owner_required
def refund(order_id):
    """Refund all or part of the order's card payment through Stripe (owner only: money leaves
    the studio's account). A refusal (ours or Stripe's) shows why and records nothing."""
    order = _order_or_404(order_id)
    form = RefundForm(order, refundable_minor(order))
    if not form.validate_on_submit():
        return _render_order(order, refund_form=form, code=400)
    try:
        done = refund_order(
            order, form.amount.minor, reason=(form.reason.data or "").strip(), user=current_user, now=now()
        )
    except CardPaymentError as error:
        db.session.rollback()
        form.amount.errors = [str(error)]
        return _render_order(_order_or_404(order_id), refund_form=form, code=400)
    db.session.commit()
    notifications.send_queued(now())
    flash(_("Refunded %(amount)s.", amount=money(done.amount_minor, order.currency)), "success")
    return redirect(url_for(".order", order_id=order_id))
