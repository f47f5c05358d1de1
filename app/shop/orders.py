"""Order status changes: the allowed transitions, their history, and the domain event.

``order_status_changed`` is a blinker signal sent *after* the change is flushed, with the order id,
old and new status and the instant; the notification issue turns it into emails. Listeners must
not commit: the request that changed the status commits once.
"""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from blinker import Namespace
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.shop.models import DeliveryMethod, Order, OrderStatus, OrderStatusChange

signals = Namespace()
order_status_changed = signals.signal("order-status-changed")
order_placed = signals.signal("order-placed")
expected_delivery_changed = signals.signal("expected-delivery-changed")  # sender: order; now=
order_refunded = signals.signal("order-refunded")  # sender: order; refund=, now=

S = OrderStatus
TRANSITIONS = {
    S.NEW: {S.PAID, S.CANCELLED},
    S.PAID: {S.IN_PRODUCTION, S.SHIPPED, S.READY_FOR_PICKUP, S.DELIVERED, S.CANCELLED},
    S.IN_PRODUCTION: {S.SHIPPED, S.READY_FOR_PICKUP, S.CANCELLED},
    S.SHIPPED: {S.DELIVERED},
    S.READY_FOR_PICKUP: {S.DELIVERED},
    S.DELIVERED: set(),
    S.CANCELLED: set(),
}

STATUS_LABELS = {
    S.NEW: _l("New"),
    S.PAID: _l("Paid"),
    S.IN_PRODUCTION: _l("In production"),
    S.SHIPPED: _l("Shipped"),
    S.READY_FOR_PICKUP: _l("Ready for pickup"),
    S.DELIVERED: _l("Delivered"),
    S.CANCELLED: _l("Cancelled"),
}


class TransitionRefused(ValueError):
    """A status change that is not allowed; the message says why, for the page."""


@dataclass(frozen=True)
class StatusChangeEvent:
    order_id: int
    old_status: str
    new_status: str
    at: datetime


def allowed_next_statuses(order):
    """The statuses an operator may move ``order`` to now, in workflow order."""
    allowed = TRANSITIONS[OrderStatus(order.status)]
    if order.delivery_method != DeliveryMethod.SHIPPING:
        allowed = allowed - {S.SHIPPED}
    if order.delivery_method != DeliveryMethod.PICKUP:
        allowed = allowed - {S.READY_FOR_PICKUP}
    return [status for status in OrderStatus if status in allowed]


def _check(order, new_status, carrier, tracking_number, reason):
    label = STATUS_LABELS[OrderStatus(order.status)]
    if new_status == order.status:
        raise TransitionRefused(_l("The order is already %(status)s.", status=label))
    if new_status not in allowed_next_statuses(order):
        raise TransitionRefused(
            _l("An order that is %(old)s cannot become %(new)s.", old=label, new=STATUS_LABELS[new_status])
        )
    if new_status == S.SHIPPED and not (carrier and tracking_number):
        raise TransitionRefused(_l("A shipped order needs a carrier and a tracking number."))
    if new_status == S.CANCELLED and not reason:
        raise TransitionRefused(_l("Please give a reason for the cancellation."))


def change_status(
    order: Order, new_status, *, now, user=None, carrier=None, tracking_number=None, reason=None, note=""
):
    """Move ``order`` to ``new_status`` if allowed, record who and when, and emit the event.

    Raises ``TransitionRefused`` (nothing changed) otherwise.
    """
    new_status = OrderStatus(new_status)
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    reason = (reason or "").strip()
    _check(order, new_status, carrier, tracking_number, reason)
    old_status = order.status
    order.status = new_status
    if new_status == S.PAID:
        order.paid_at = now
    if new_status == S.SHIPPED:
        order.carrier, order.tracking_number = carrier, tracking_number
        note = note or f"{carrier} {tracking_number}"
    if new_status == S.CANCELLED:
        order.cancel_reason = reason
        note = note or reason
    order.history.append(
        OrderStatusChange(
            from_status=old_status,
            to_status=new_status,
            changed_at=now,
            changed_by_id=user.id if user else None,
            note=note,
        )
    )
    db.session.flush()
    order_status_changed.send(order, event=StatusChangeEvent(order.id, old_status, new_status, now))
    return order


# The carriers offered where an order is marked shipped (the name is stored on the order and
# shown to the client as is), with their public tracking page; "{number}" is the tracking number,
# URL-encoded. "Other" (a name typed by the studio) has no link.
TRACKING_URLS = {
    "PostNord": "https://www.postnord.se/en/our-tools/track-and-trace?shipmentId={number}",
    "Bring": "https://tracking.bring.com/tracking/{number}",
    "DHL": "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id={number}",
    "UPS": "https://www.ups.com/track?tracknum={number}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "GLS": "https://gls-group.com/track/{number}",
    "DPD": "https://tracking.dpd.de/status/en_US/parcel/{number}",
    "La Poste / Colissimo": "https://www.laposte.fr/outils/suivre-vos-envois?code={number}",
    "Chronopost": "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={number}",
    "Deutsche Post": "https://www.deutschepost.de/de/s/sendungsverfolgung.html?piececode={number}",
    "Russian Post": "https://www.pochta.ru/tracking#{number}",
    "CDEK": "https://www.cdek.ru/ru/tracking?order_id={number}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
    "PostNL": "https://postnl.nl/tracktrace/?B={number}",
}
# Names orders were shipped with before a carrier was renamed: their links keep working.
FORMER_NAMES = {"La Poste": "La Poste / Colissimo"}


def tracking_url(order):
    """A link to the carrier's tracking page, when we know the carrier; the tracking number is
    URL-encoded whole (a "/" or "#" in it cannot change the page the link opens)."""
    carrier = order.carrier or ""
    template = TRACKING_URLS.get(FORMER_NAMES.get(carrier, carrier))
    if template and order.tracking_number:
        return template.format(number=quote(order.tracking_number, safe=""))
    return None
