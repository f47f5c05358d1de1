"""What the client page shows. Every query is scoped to the studio; ``now`` is a parameter."""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import Studio
from app.extensions import db
from app.galleries.favourites import favourites_by_gallery
from app.galleries.models import AccessCard, CardClaim, Client, Gallery, Registration
from app.mailing.models import MailState, OutboxMessage
from app.shop.models import Cart, Order
from app.workflows.due import due_occurrences
from app.workflows.models import (
    CampaignOccurrence,
    OccurrenceKind,
    Purpose,
    RecipientFilter,
    WorkflowEmail,
)
from app.workflows.preview import subject_for
from app.workflows.relevance import skip_reason
from app.workflows.values import cart_states

# Why the engine did not send an email (CampaignOccurrence.skip_reason), in the studio's words.
SKIP_REASONS = {
    "sale_closed": _l("the sale had closed"),
    "archived": _l("the gallery was archived"),
    "unpublished": _l("the gallery was not published"),
    "ordered": _l("the client had ordered meanwhile"),
    "cart_gone": _l("the cart was emptied or ordered"),
    "no_consent": _l("no consent to news and offers"),
}
WAITING = (MailState.QUEUED, MailState.HELD, MailState.SENDING)
PROBLEMS = (MailState.FAILED, MailState.UNKNOWN, MailState.SKIPPED, MailState.CANCELLED, MailState.MISSED)
PER_CLIENT_KINDS = (OccurrenceKind.REGISTRATION, OccurrenceKind.ORDER, OccurrenceKind.CART)


def find_clients(studio_id, query="", limit=200):
    """The studio's clients whose name or email contains ``query``, newest first, with how many
    galleries each is registered to."""
    registrations = (
        sa.select(sa.func.count(Registration.id)).where(Registration.client_id == Client.id).scalar_subquery()
    )
    statement = sa.select(Client, registrations).where(Client.studio_id == studio_id)
    query = (query or "").strip().lower()
    if query:
        pattern = f"%{query.replace('%', '').replace('_', '')}%"
        statement = statement.where(
            sa.or_(sa.func.lower(Client.name).like(pattern), Client.email.like(pattern))
        )
    return db.session.execute(
        statement.order_by(Client.created_at.desc(), Client.id.desc()).limit(limit)
    ).all()


@dataclass
class Upcoming:
    """A workflow email this client is due to get (its subject as they will read it), and what
    may still stop it."""

    email: WorkflowEmail
    gallery: Gallery
    due_at: object
    subject: str
    conditions: list = field(default_factory=list)


@dataclass
class ClientPage:
    client: Client
    galleries: list
    cards: list
    orders: list
    received: list
    waiting: list
    problems: list
    upcoming: list
    skipped: list
    favourites: list = field(default_factory=list)


def client_page(studio_id, client, now):
    """Everything the client page shows for ``client`` (already checked to be the studio's)."""
    galleries = db.session.scalars(
        sa.select(Gallery)
        .join(Registration, Registration.gallery_id == Gallery.id)
        .where(Registration.client_id == client.id, Gallery.studio_id == studio_id)
        .order_by(Registration.registered_at)
    ).all()
    cards = db.session.scalars(
        sa.select(AccessCard)
        .join(CardClaim, CardClaim.card_id == AccessCard.id)
        .where(CardClaim.client_id == client.id)
        .order_by(AccessCard.id)
    ).all()
    orders = db.session.scalars(
        sa.select(Order)
        .where(Order.studio_id == studio_id, Order.client_id == client.id)
        .order_by(Order.placed_at.desc())
    ).all()
    mail = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.studio_id == studio_id, OutboxMessage.recipient == client.email)
        .order_by(OutboxMessage.due_at.desc(), OutboxMessage.id.desc())
        .limit(500)
    ).all()
    return ClientPage(
        client=client,
        galleries=galleries,
        cards=cards,
        orders=orders,
        received=[row for row in mail if row.state == MailState.SENT],
        waiting=[row for row in mail if row.state in WAITING],
        problems=[row for row in mail if row.state in PROBLEMS],
        upcoming=_upcoming(client, galleries, now),
        skipped=_skipped(client, galleries),
        favourites=favourites_by_gallery(studio_id, client.id),
    )


def _upcoming(client, galleries, now):
    """The workflow emails still to come for ``client``, from the engine's own schedule (the
    timeline and the tick read the same ``due_occurrences``)."""
    found = []
    studio = db.session.get(Studio, client.studio_id)
    for gallery in galleries:
        occurrences = [
            o
            for o in due_occurrences(gallery_id=gallery.id)
            if o.due_at > now and o.client_id in (None, client.id)
        ]
        emails = (
            {
                email.id: email
                for email in db.session.scalars(
                    sa.select(WorkflowEmail).where(WorkflowEmail.id.in_({o.email_id for o in occurrences}))
                )
            }
            if occurrences
            else {}
        )
        carts = cart_states([o.occurrence_id for o in occurrences if o.kind == OccurrenceKind.CART])
        for occurrence in occurrences:
            email = emails[occurrence.email_id]
            # What the tick will skip at the due time, as things stand (a closed cart, a sale
            # over by then) is not coming.
            if skip_reason(email, gallery, occurrence.due_at, carts.get(occurrence.occurrence_id)):
                continue
            subject = subject_for(email, studio, gallery, client)
            found.append(Upcoming(email, gallery, occurrence.due_at, subject, _conditions(email, client)))
    return sorted(found, key=lambda item: item.due_at)


def _conditions(email, client):
    """What is decided only when the email is queued (filters are read then, not now)."""
    conditions = []
    if email.recipient_filter == RecipientFilter.NOT_ORDERED:
        conditions.append(_l("only if they have not ordered by then"))
    elif email.recipient_filter == RecipientFilter.ORDERED:
        conditions.append(_l("only if they have ordered by then"))
    if email.purpose == Purpose.MARKETING and not client.marketing_consent:
        conditions.append(_l("not sent: no consent to news and offers"))
    return conditions


def _skipped(client, galleries):
    """The engine's records of emails not sent on purpose or missed, for this client: their own
    registrations, orders and carts, and their galleries' dates."""
    gallery_ids = [gallery.id for gallery in galleries]
    if not gallery_ids:
        return []
    own = {
        OccurrenceKind.REGISTRATION: sa.select(Registration.id).where(Registration.client_id == client.id),
        OccurrenceKind.ORDER: sa.select(Order.id).where(Order.client_id == client.id),
        OccurrenceKind.CART: sa.select(Cart.id).where(Cart.client_id == client.id),
    }
    mine = sa.or_(
        CampaignOccurrence.occurrence_kind.not_in(PER_CLIENT_KINDS),
        *[
            sa.and_(CampaignOccurrence.occurrence_kind == kind, CampaignOccurrence.occurrence_id.in_(ids))
            for kind, ids in own.items()
        ],
    )
    rows = db.session.execute(
        sa.select(CampaignOccurrence, WorkflowEmail, Gallery)
        .join(WorkflowEmail, WorkflowEmail.id == CampaignOccurrence.workflow_email_id)
        .join(Gallery, Gallery.id == CampaignOccurrence.gallery_id)
        .where(
            CampaignOccurrence.gallery_id.in_(gallery_ids),
            mine,
            sa.or_(CampaignOccurrence.skip_reason.is_not(None), CampaignOccurrence.missed),
        )
        .order_by(CampaignOccurrence.due_at.desc())
        .limit(200)
    ).all()
    return [
        (
            record,
            email,
            gallery,
            SKIP_REASONS.get(record.skip_reason, record.skip_reason)
            if record.skip_reason
            else _l("missed: its moment passed while the gallery took no campaign mail"),
        )
        for record, email, gallery in rows
    ]
