"""Whether a campaign email still makes sense: reminders stop once the gallery's sale has
closed, a cart email once its cart is gone, and a reminder waiting in the outbox is dropped when
the client orders before it goes out.

The tick asks ``skip_reason`` for every due (email, occurrence) before it expands recipients;
a reason is recorded on the occurrence (``campaign_occurrence.skip_reason``) and nothing is
queued. The shop's ``order_placed`` signal is connected here (the shop knows nothing of
workflows): ``drop_reminders_after_order`` marks the client's queued reminders skipped.
"""

import sqlalchemy as sa

from app.extensions import db
from app.galleries.models import GalleryStatus
from app.mailing.models import MailKind, MailState, OutboxMessage
from app.reasons import ORDERED_MEANWHILE
from app.shop.orders import order_placed
from app.workflows.models import RecipientFilter, Rule, Trigger, Workflow, WorkflowEmail

SALE_CLOSED, ARCHIVED, UNPUBLISHED = "sale_closed", "archived", "unpublished"
ORDERED, CART_GONE = "ordered", "cart_gone"


def is_reminder(email):
    """A reminder urges the client to buy: emails to those who have not ordered, the cart and
    promotion-expiry emails, and "N days after the sale start"."""
    return (
        email.recipient_filter == RecipientFilter.NOT_ORDERED
        or email.trigger in (Trigger.CART, Trigger.PROMOTION_EXPIRY)
        or (email.trigger == Trigger.SALE_START and email.rule == Rule.DAYS_AFTER)
    )


def _cart_reason(cart, now):
    if cart is None or cart.closed_at is None or cart.closed_at > now:
        return None
    return ORDERED if cart.closed_reason == "ordered" else CART_GONE


def _sale_reason(gallery, now):
    if gallery.status == GalleryStatus.ARCHIVED or (
        gallery.archives_at is not None and gallery.archives_at <= now
    ):
        return ARCHIVED
    if gallery.sale_ends_at is not None and gallery.sale_ends_at <= now:
        return SALE_CLOSED
    if gallery.status != GalleryStatus.PUBLISHED:
        return UNPUBLISHED
    return None


def skip_reason(email, gallery, now, cart=None):
    """Why this email of this occurrence is not sent at ``now`` (None: it is). ``cart``: the
    occurrence's ``values.CartState`` for a cart email."""
    if email.trigger == Trigger.CART:
        reason = _cart_reason(cart, now)
        if reason:
            return reason
    return _sale_reason(gallery, now) if is_reminder(email) else None


def _reminder_sources(studio_id):
    """("workflow_email:<id>" of the studio's not-ordered emails, ... of its cart emails)."""
    rows = db.session.execute(
        sa.select(WorkflowEmail.id, WorkflowEmail.trigger)
        .join(Workflow, Workflow.id == WorkflowEmail.workflow_id)
        .where(
            Workflow.studio_id == studio_id,
            sa.or_(
                WorkflowEmail.recipient_filter == RecipientFilter.NOT_ORDERED,
                WorkflowEmail.trigger == Trigger.CART,
            ),
        )
    ).all()
    not_ordered = [f"workflow_email:{id_}" for id_, trigger in rows if trigger != Trigger.CART]
    cart = [f"workflow_email:{id_}" for id_, trigger in rows if trigger == Trigger.CART]
    return not_ordered, cart


def drop_reminders_after_order(order):
    """Mark skipped ("ordered meanwhile") the client's queued, unsent not-ordered emails of the
    order's galleries and cart emails (their cart is ordered). Flushes only; returns how many."""
    not_ordered, cart = _reminder_sources(order.studio_id)
    if not (not_ordered or cart):
        return 0
    galleries = {item.gallery_id for item in order.items} | {order.gallery_id}
    aimed = []
    if not_ordered:
        aimed.append(sa.and_(OutboxMessage.source.in_(not_ordered), OutboxMessage.gallery_id.in_(galleries)))
    if cart:
        aimed.append(OutboxMessage.source.in_(cart))
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.studio_id == order.studio_id,
            OutboxMessage.kind == MailKind.CAMPAIGN,
            OutboxMessage.state == MailState.QUEUED,
            # The engine's key ends with the recipient: wf<email>:<occurrence>:c<client>.
            OutboxMessage.dedup_key.like(f"%:c{order.client_id}"),
            sa.or_(*aimed),
        )
        .values(state=MailState.SKIPPED, last_error=ORDERED_MEANWHILE)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


@order_placed.connect
def _on_order_placed(order):
    drop_reminders_after_order(order)
